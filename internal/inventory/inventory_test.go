package inventory

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestCreateInputValidate(t *testing.T) {
	cases := []struct {
		name   string
		in     CreateInput
		fields []string
	}{
		{"minimal", CreateInput{SKU: "A-1", Name: "Widget"}, nil},
		{"all fields", CreateInput{SKU: "a.b_c-1", Name: "W", Description: "d", Quantity: 3, Tags: []string{"x"}, ReorderPoint: ptr[int64](0)}, nil},
		{"missing sku and name", CreateInput{}, []string{"/sku", "/name"}},
		{"sku with space", CreateInput{SKU: "A 1", Name: "W"}, []string{"/sku"}},
		{"sku 64", CreateInput{SKU: strings.Repeat("A", 64), Name: "W"}, nil},
		{"sku 65", CreateInput{SKU: strings.Repeat("A", 65), Name: "W"}, []string{"/sku"}},
		{"name 200 runes", CreateInput{SKU: "A", Name: strings.Repeat("é", 200)}, nil},
		{"name 201", CreateInput{SKU: "A", Name: strings.Repeat("n", 201)}, []string{"/name"}},
		{"name control char", CreateInput{SKU: "A", Name: "a\x00b"}, []string{"/name"}},
		{"negative quantity", CreateInput{SKU: "A", Name: "W", Quantity: -1}, []string{"/quantity"}},
		{"negative reorder", CreateInput{SKU: "A", Name: "W", ReorderPoint: ptr[int64](-1)}, []string{"/reorderPoint"}},
		{"20 tags, duplicates collapse", CreateInput{SKU: "A", Name: "W", Tags: strings.Split(strings.Repeat("t,", 19)+"u", ",")}, nil},
		{"21 tags, duplicates count", CreateInput{SKU: "A", Name: "W", Tags: strings.Split(strings.Repeat("t,", 20)+"u", ",")}, []string{"/tags"}},
		{"blank tag", CreateInput{SKU: "A", Name: "W", Tags: []string{" "}}, []string{"/tags/0"}},
		{"long tag", CreateInput{SKU: "A", Name: "W", Tags: []string{"ok", strings.Repeat("t", 51)}}, []string{"/tags/1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.in.Validate()
			got := fieldsOf(err)
			if strings.Join(got, ",") != strings.Join(c.fields, ",") {
				t.Fatalf("fields %v, want %v (err %v)", got, c.fields, err)
			}
		})
	}
}

func TestTooManyDistinctTags(t *testing.T) {
	var tags []string
	for i := range 21 {
		tags = append(tags, strings.Repeat("t", i+1))
	}
	in := CreateInput{SKU: "A", Name: "W", Tags: tags}
	if got := fieldsOf(in.Validate()); len(got) != 1 || got[0] != "/tags" {
		t.Fatalf("fields %v, want [/tags]", got)
	}
}

func fieldsOf(err error) []string {
	if err == nil {
		return nil
	}
	e := err.(*Error)
	if e.Code != CodeValidationFailed || e.Kind != KindInvalid {
		panic(e.Code)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestApplyPatch(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	created := NewItem(CreateInput{SKU: "A", Name: "W", Quantity: 5, Tags: []string{"x"}, ReorderPoint: ptr[int64](2)}, "alice", t0)
	old := created.Next
	levels := []Level{created.Levels[0].Next}

	c, ok, err := ApplyPatch(old, Patch{Quantity: ptr[int64](3), Name: ptr("Widget")}, levels, "bob", t0.Add(time.Hour))
	next := c.Next
	if err != nil || !ok || next.Quantity != 3 || next.Name != "Widget" || next.Version != 2 || next.UpdatedBy != "bob" || next.CreatedBy != "alice" {
		t.Fatalf("next = %+v, %v", next, err)
	}
	if c.Old == nil || c.Old.Version != 1 {
		t.Fatalf("change does not name the item as read: %+v", c.Old)
	}
	if len(c.Ledger) != 1 || c.Ledger[0].Delta != -2 || c.Ledger[0].OnHandAfter != 3 || c.Ledger[0].Actor != "bob" ||
		c.Ledger[0].Reason != ReasonQuantitySet || c.Ledger[0].LocationID != DefaultLocation {
		t.Fatalf("ledger = %+v", c.Ledger)
	}
	if len(c.Levels) != 1 || c.Levels[0].Old == nil || c.Levels[0].Old.LastLedgerID != levels[0].LastLedgerID ||
		c.Levels[0].Next.OnHand != 3 || c.Levels[0].Next.LastLedgerID != c.Ledger[0].ID {
		t.Fatalf("levels = %+v", c.Levels)
	}
	// The stock change is the ledger line; the activity records the rest.
	if len(c.Activity) != 1 {
		t.Fatalf("activity = %+v", c.Activity)
	}
	upd := c.Activity[0]
	if upd.Type != ActivityUpdated || len(upd.Changes) != 1 || upd.Changes[0].Field != "name" ||
		string(upd.Changes[0].From) != `"W"` || string(upd.Changes[0].To) != `"Widget"` {
		t.Errorf("updated = %+v", upd)
	}
	if stock := StockActivity(c.Ledger[0]); stock.Type != ActivityStockChanged || stock.LedgerID != c.Ledger[0].ID ||
		stock.ID != c.Ledger[0].ID || stock.Delta != -2 || stock.OnHandAfter != 3 || stock.Reason != ReasonQuantitySet || stock.LocationID != DefaultLocation {
		t.Errorf("stock_changed = %+v", stock)
	}

	if _, ok, err := ApplyPatch(old, Patch{Quantity: ptr[int64](5), Tags: &[]string{"x"}}, levels, "bob", t0); ok || err != nil {
		t.Fatalf("a patch that changes nothing is a change (%v)", err)
	}

	cleared, ok, err := ApplyPatch(old, Patch{ReorderPointSet: true}, nil, "bob", t0)
	if err != nil || !ok || cleared.Next.ReorderPoint != nil || len(cleared.Ledger) != 0 || len(cleared.Levels) != 0 {
		t.Fatalf("clearing reorderPoint: %+v, %v", cleared, err)
	}
	if ch := cleared.Activity[0].Changes[0]; ch.Field != "reorderPoint" || string(ch.From) != "2" || string(ch.To) != "null" {
		t.Errorf("reorderPoint change = %+v", ch)
	}
	if old.ReorderPoint == nil || *old.ReorderPoint != 2 {
		t.Fatal("ApplyPatch changed its input")
	}
	tags, _, _ := ApplyPatch(old, Patch{Tags: &[]string{"x", "y"}}, nil, "bob", t0)
	if ch := tags.Activity[0].Changes[0]; ch.Field != "tags" || string(ch.From) != `["x"]` || string(ch.To) != `["x","y"]` {
		t.Errorf("tags change = %+v", ch)
	}
}

func TestNewItemRecordsItsOpening(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600_700_800, time.UTC)
	c := NewItem(CreateInput{SKU: "A", Name: "W", Quantity: 4}, "alice", t0)
	if c.Old != nil || c.Next.Version != 1 || !c.Next.CreatedAt.Equal(t0.Truncate(time.Millisecond)) || c.Next.Tags == nil {
		t.Fatalf("item = %+v", c.Next)
	}
	if len(c.Ledger) != 1 || c.Ledger[0].Reason != ReasonItemCreated || c.Ledger[0].OnHandAfter != 4 || c.Ledger[0].Delta != 4 ||
		c.Ledger[0].LocationID != DefaultLocation || !c.Ledger[0].At.Equal(c.Next.CreatedAt) {
		t.Fatalf("ledger = %+v", c.Ledger)
	}
	if len(c.Levels) != 1 || c.Levels[0].Old != nil || c.Levels[0].Next.OnHand != 4 || c.Levels[0].Next.LastLedgerID != c.Ledger[0].ID ||
		c.Levels[0].Next.ItemID != c.Next.ID || c.Levels[0].Next.LocationID != DefaultLocation {
		t.Fatalf("levels = %+v", c.Levels)
	}
	// The created record comes before the opening ledger line.
	if len(c.Activity) != 1 || c.Activity[0].Type != ActivityCreated || c.Activity[0].ID >= c.Ledger[0].ID {
		t.Fatalf("activity = %+v", c.Activity)
	}
	at := NewItem(CreateInput{SKU: "B", Name: "W", LocationID: "01JDQ3ZK7X9V4M2N8P6R5T3W1Y"}, "alice", t0)
	if len(at.Levels) != 1 || at.Levels[0].Next.LocationID != "01JDQ3ZK7X9V4M2N8P6R5T3W1Y" || at.Ledger[0].Delta != 0 {
		t.Fatalf("opening at a location: %+v %+v", at.Levels, at.Ledger)
	}
}

func TestDeleteRestore(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	it := NewItem(CreateInput{SKU: "A", Name: "W"}, "alice", t0).Next
	del := Delete(it, "bob", "broken", t0.Add(time.Minute))
	if d := del.Next.Deleted; d == nil || d.By != "bob" || d.Comment != "broken" || del.Next.Version != 2 {
		t.Fatalf("deleted = %+v", del.Next)
	}
	if a := del.Activity; len(a) != 1 || a[0].Type != ActivityDeleted || a[0].Comment != "broken" || a[0].Actor != "bob" {
		t.Fatalf("activity = %+v", a)
	}
	back := Restore(del.Next, "carol", t0.Add(2*time.Minute))
	if back.Next.Deleted != nil || back.Next.Version != 3 || back.Next.UpdatedBy != "carol" || back.Next.SKU != "A" {
		t.Fatalf("restored = %+v", back.Next)
	}
	if a := back.Activity; len(a) != 1 || a[0].Type != ActivityRestored {
		t.Fatalf("activity = %+v", a)
	}
}

func TestUploadStartAndFinish(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	it := NewItem(CreateInput{SKU: "A", Name: "W"}, "alice", t0).Next
	ready := &Image{Status: ImageReady, UploadID: "U0", Original: "o0", Thumbnails: []Thumbnail{{Key: "t0"}}}
	it.Image = ready
	start := StartUpload(it, "U1", "image/png", "bob", t0.Add(time.Minute))
	im := start.Next.Image
	if im.Status != ImagePending || im.UploadID != "U1" || im.RequestedBy != "bob" || !slices.Equal(im.Replaces, []string{"o0", "t0"}) {
		t.Fatalf("pending image = %+v", im)
	}
	if start.Next.Version != 2 || start.Next.UpdatedBy != "bob" {
		t.Fatalf("item = %+v", start.Next)
	}
	if ch := start.Activity[0].Changes[0]; start.Activity[0].Type != ActivityUpdated || ch.Field != "image" ||
		string(ch.From) != `{"status":"ready","uploadId":"U0"}` || string(ch.To) != `{"status":"pending","uploadId":"U1"}` {
		t.Fatalf("activity = %+v", start.Activity)
	}
	// A second upload asked before the first is processed keeps what the
	// last ready image left to replace.
	again := StartUpload(start.Next, "U2", "image/jpeg", "carol", t0.Add(2*time.Minute))
	if !slices.Equal(again.Next.Image.Replaces, []string{"o0", "t0"}) {
		t.Fatalf("replaces = %v", again.Next.Image.Replaces)
	}
	done := FinishUpload(again.Next, Image{Status: ImageFailed, UploadID: "U2", Reason: "not an image"}, t0.Add(3*time.Minute))
	if done.Next.UpdatedBy != "carol" || done.Next.Version != 4 || done.Next.Image.RequestedBy != "carol" {
		t.Fatalf("finished = %+v", done.Next)
	}
	if a := done.Activity[0]; a.Type != ActivityImageFailed || a.Actor != "carol" || a.ImageReason != "not an image" || a.UploadID != "U2" {
		t.Fatalf("activity = %+v", a)
	}
}

func TestIfMatch(t *testing.T) {
	var none *IfMatch
	for _, c := range []struct {
		m    *IfMatch
		v    int64
		want bool
	}{
		{none, 3, true}, {&IfMatch{Any: true}, 3, true}, {&IfMatch{Versions: []int64{2, 3}}, 3, true},
		{&IfMatch{Versions: []int64{2}}, 3, false}, {&IfMatch{}, 1, false},
	} {
		if got := c.m.Matches(c.v); got != c.want {
			t.Errorf("%+v.Matches(%d) = %v", c.m, c.v, got)
		}
	}
}

func TestIdempotencyScopesNeverMeet(t *testing.T) {
	// The collision a probe found with actor + "#" + key.
	if IdempotencyScope("a@x#k", "1") == IdempotencyScope("a@x", "k#1") {
		t.Fatal("two (actor, key) pairs share a scope")
	}
	seen := map[string][2]string{}
	for _, actor := range []string{"", "a", "a#", "#a", "a@x", "a@x#k", "ä"} {
		for _, key := range []string{"1", "#", "k#1", "a#1", "#1"} {
			s := IdempotencyScope(actor, key)
			if prev, dup := seen[s]; dup {
				t.Fatalf("%q/%q and %q/%q share scope %q", actor, key, prev[0], prev[1], s)
			}
			seen[s] = [2]string{actor, key}
		}
	}
}

func TestCursorFormats(t *testing.T) {
	for _, f := range []*CursorFormat{ItemsCursor, DeletedItemsCursor, LedgerCursor, ActivityCursor} {
		p, err := f.Decode(f.Example)
		if err != nil || f.Encode(p) != f.Example || len(p) != len(f.Patterns) {
			t.Errorf("%s: example %q decodes to %v, %v", f.Name, f.Example, p, err)
		}
		if p, err := f.Decode(""); p != nil || err != nil {
			t.Errorf("%s: empty cursor = %v, %v", f.Name, p, err)
		}
		if f.Encode(nil) != "" {
			t.Errorf("%s: no position must give no cursor", f.Name)
		}
	}
	for _, c := range []struct {
		f      *CursorFormat
		cursor string
	}{
		{ItemsCursor, "not-a-cursor"},
		{ItemsCursor, "A~01JDQ3ZK7X9V4M2N8P6R5T3W1Y~x"},
		{ItemsCursor, "A B~01JDQ3ZK7X9V4M2N8P6R5T3W1Y"},
		{ItemsCursor, "BOLT-M8-40~01JDQ3ZK7X9V4M2N8P6R5T3W1Y~"},
		{ItemsCursor, LedgerCursor.Example}, // another list's
		{DeletedItemsCursor, ItemsCursor.Example},
		{LedgerCursor, "01jdq4a2b3c4d5e6f7g8h9j0km"},
		{LedgerCursor, "eyJQSyI6IklURU0jMDFKRFEzWks3WDlWNE0yTjhQNlI1VDNXMVkifQ"},
	} {
		_, err := c.f.Decode(c.cursor)
		if CodeOf(err) != CodeInvalidCursor || KindOf(err) != KindInvalid {
			t.Errorf("%s.Decode(%q) = %v, want invalid_cursor", c.f.Name, c.cursor, err)
		}
	}
	for _, limit := range []int{0, -1, MaxPageSize + 1} {
		if _, err := ItemsCursor.Range(PageRequest{Limit: limit}); CodeOf(err) != CodeInvalidParameter {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
	r, err := ItemsCursor.Range(PageRequest{Limit: 7, Cursor: ItemsCursor.Example})
	if err != nil || r.Limit != 7 || r.After[0] != "BOLT-M8-40" {
		t.Errorf("Range = %+v, %v", r, err)
	}
}

// TestTextPatternsAreTheUnicodeRules: the patterns openapi.yaml states are
// exactly unicode.IsControl (but tab, LF, CR) and strings.TrimSpace.
func TestTextPatternsAreTheUnicodeRules(t *testing.T) {
	for r := rune(0); r <= 0x3100; r++ {
		s := "a" + string(r) + "b"
		control := unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
		if textRE.MatchString(s) == control {
			t.Errorf("U+%04X: TextPattern matches %v, IsControl (but tab, LF, CR) %v", r, textRE.MatchString(s), control)
		}
		if control {
			continue
		}
		one := string(r)
		if nonBlankRE.MatchString(one) != (strings.TrimSpace(one) != "") {
			t.Errorf("U+%04X: NonBlankTextPattern %v, TrimSpace non-empty %v", r, nonBlankRE.MatchString(one), strings.TrimSpace(one) != "")
		}
	}
	if !blank("") || !blank(" \t\u3000") || blank(" x ") || blank("\x00") {
		t.Error("blank is wrong")
	}
}

func TestImageKeys(t *testing.T) {
	if got := UploadKey("I1", "U1"); got != "uploads/I1/U1" {
		t.Errorf("UploadKey = %q", got)
	}
	if got := ThumbnailKey("I1", "U1", 160, "jpg"); got != "thumbnails/I1/U1/160.jpg" {
		t.Errorf("ThumbnailKey = %q", got)
	}
	if got := OriginalKey("I1", "U1"); got != "thumbnails/I1/U1/original" {
		t.Errorf("OriginalKey = %q", got)
	}
	if got := ProcessedKeys("I", "U"); len(got) != 1+len(ThumbnailSizes)*len(ThumbnailExts) || got[0] != "thumbnails/I/U/original" {
		t.Errorf("ProcessedKeys = %v", got)
	}
	if i, u, ok := ParseUploadKey("uploads/I1/U1"); !ok || i != "I1" || u != "U1" {
		t.Errorf("ParseUploadKey = %q, %q, %v", i, u, ok)
	}
	for _, key := range []string{"", "uploads/", "uploads/I1", "uploads/I1/", "uploads//U1", "uploads/I1/U1/x",
		"thumbnails/I1/U1/160.jpg", "Uploads/I1/U1", "x/uploads/I1/U1"} {
		if i, u, ok := ParseUploadKey(key); ok {
			t.Errorf("ParseUploadKey(%q) = %q, %q, true", key, i, u)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", Errorf(KindConflict, CodeSKUConflict, "taken"))
	if KindOf(err) != KindConflict || CodeOf(err) != CodeSKUConflict {
		t.Errorf("KindOf/CodeOf through wrapping: %v %q", KindOf(err), CodeOf(err))
	}
	if KindOf(errors.New("boom")) != KindInternal || CodeOf(errors.New("boom")) != "" {
		t.Error("a plain error must be internal, with no code")
	}
	cause := errors.New("throttled")
	if u := Unavailable(cause); !errors.Is(u, cause) || u.Kind != KindUnavailable || u.Code != CodeServiceUnavailable {
		t.Errorf("Unavailable = %+v", u)
	}
}

func TestIDsAreSortableAndValid(t *testing.T) {
	now := time.Now()
	a, b := NewID(now), NewID(now)
	if !(a < b) || !IsValidID(a) || IsValidID("not-an-id") || IsValidID(strings.ToLower(a)+"x") {
		t.Fatalf("ids %s %s", a, b)
	}
}

func TestIsLowStock(t *testing.T) {
	cases := []struct {
		qty   int64
		point *int64
		want  bool
	}{{1, ptr[int64](2), true}, {2, ptr[int64](2), false}, {0, nil, false}}
	for _, c := range cases {
		if got := (Item{Quantity: c.qty, ReorderPoint: c.point}).IsLowStock(); got != c.want {
			t.Errorf("qty %d point %v: %v", c.qty, c.point, got)
		}
	}
}
