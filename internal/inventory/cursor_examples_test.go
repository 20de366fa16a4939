package inventory

import "testing"

// TestCursorExamples: every cursor format's example matches its pattern
// (init checked it while the patterns were compiled at init; they are
// compiled on first use now) and decodes to a position of one field per
// pattern that encodes back to it.
func TestCursorExamples(t *testing.T) {
	if len(cursorFormats) < 13 {
		t.Fatalf("only %d cursor formats registered; the check would miss some", len(cursorFormats))
	}
	for _, f := range cursorFormats {
		p, err := f.Decode(f.Example)
		if err != nil || len(p) != len(f.Patterns) || f.Encode(p) != f.Example {
			t.Errorf("%s: example %q decodes to %v (%v), want %d fields that encode back to it", f.Name, f.Example, p, err, len(f.Patterns))
		}
	}
}
