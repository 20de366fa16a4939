package inventory

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
)

// fuzzCursorFormats are the lists' cursor formats, in a fixed order for
// the fuzzer's format byte.
var fuzzCursorFormats = []*CursorFormat{
	ItemsCursor, DeletedItemsCursor, LedgerCursor, ActivityCursor, LocationsCursor, DeletedLocationsCursor,
	LocationStockCursor, GroupsCursor, DeletedGroupsCursor, TagsCursor, LocationLedgerCursor, ExportsCursor, ImportsCursor,
}

// cursorBound: decoding a cursor allocates the position (a slice header
// per field and the fields' bytes) and, when the measured call does not
// find the warm-up call's regexp machine in its sync.Pool
// (fuzzcheck.Bound.CheckWarm), one machine: about 82 KB for the patterns
// with a NameKey field.
var cursorBound = fuzzcheck.Bound{PerByte: 16, Fixed: 128 << 10}

// FuzzCursor: Range on any limit and cursor, for every list. An error is
// invalid_parameter (a limit outside 1..MaxPageSize, checked first) or
// invalid_cursor; a cursor that decodes is a position of one field per
// pattern, each valid UTF-8 (storage keys are UTF-8), which encodes back
// to the cursor itself; memory is bounded by the cursor's length.
func FuzzCursor(f *testing.F) {
	for i, cf := range fuzzCursorFormats {
		f.Add(uint8(i), cf.Example, 25)
		f.Add(uint8(i), "", 1)
		f.Add(uint8(i), cf.Example+"~", 100)
		f.Add(uint8(i), cf.Example, 0)
	}
	for _, c := range []string{"~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "a b~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "\xff~01JDQ3ZK7X9V4M2N8P6R5T3W1Y",
		"caf\u00e9!cr\u00e8me~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "BOLT~01JDQ3ZK7X9V4M2N8P6R5T3W1I", strings.Repeat("x", 801) + "~01JDQ3ZK7X9V4M2N8P6R5T3W1Y"} {
		f.Add(uint8(0), c, 25)
	}
	f.Add(uint8(9), "66ff", 25)
	f.Add(uint8(9), "7E", 25)
	f.Add(uint8(4), "RTM-1~default", 101)
	f.Fuzz(func(t *testing.T, format uint8, cursor string, limit int) {
		cf := fuzzCursorFormats[int(format)%len(fuzzCursorFormats)]
		req := PageRequest{Limit: limit, Cursor: cursor}
		var r Range
		var err error
		cursorBound.CheckWarm(t, cf.Name+" Range", len(cursor), func() { r, err = cf.Range(req) })
		if limit < 1 || limit > MaxPageSize {
			if KindOf(err) != KindInvalid || CodeOf(err) != CodeInvalidParameter {
				t.Fatalf("%s: limit %d gave %v, want invalid_parameter", cf.Name, limit, err)
			}
			return
		}
		if err != nil {
			if KindOf(err) != KindInvalid || CodeOf(err) != CodeInvalidCursor || cursor == "" {
				t.Fatalf("%s: cursor %q gave %v, want invalid_cursor", cf.Name, cursor, err)
			}
			return
		}
		if r.Limit != limit {
			t.Fatalf("%s: limit %d became %d", cf.Name, limit, r.Limit)
		}
		if cursor == "" {
			if r.After != nil {
				t.Fatalf("%s: no cursor gave the position %q", cf.Name, r.After)
			}
			return
		}
		if len(r.After) != len(cf.Patterns) {
			t.Fatalf("%s: cursor %q gave %d fields %q for %d patterns", cf.Name, cursor, len(r.After), r.After, len(cf.Patterns))
		}
		for _, field := range r.After {
			if !utf8.ValidString(field) || strings.Contains(field, cursorSep) {
				t.Fatalf("%s: cursor %q gave the field %q", cf.Name, cursor, field)
			}
		}
		if back := cf.Encode(r.After); back != cursor {
			t.Fatalf("%s: cursor %q decoded to %q, encoded back as %q", cf.Name, cursor, r.After, back)
		}
		again, err := cf.Decode(cf.Encode(r.After))
		if err != nil || !slices.Equal(again, r.After) {
			t.Fatalf("%s: position %q encoded and decoded again: %q, %v", cf.Name, r.After, again, err)
		}
	})
}
