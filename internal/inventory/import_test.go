package inventory

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A location where the fixture item has no level.
const locNew = "01JDQ4A2B3C4D5E6F7G8H9J0K5"

func target(loc, code string, onHand int64) ImportLevel {
	return ImportLevel{LocationID: loc, Code: code, OnHand: onHand}
}

// importFixture is item A as read with levels: its totals are theirs.
func importFixture(levels []Level) Item {
	it := Item{ID: itemA, SKU: "A", Name: "Widget", Description: "Zinc", Tags: []string{"x"}, ReorderPoint: ptr[int64](2),
		CreatedAt: tRead, CreatedBy: "alice", UpdatedAt: tRead, UpdatedBy: "alice", Version: 3}
	for _, l := range levels {
		it.Quantity += l.OnHand
		it.Committed += l.Committed
	}
	return it
}

func TestImportItem(t *testing.T) {
	level := func(loc string, onHand, committed int64) Level {
		l := fixtureLevel(itemA, loc, onHand, committed, 0)
		l.SKU = "A"
		return l
	}
	// 10 at default (4 committed).
	oneLevel := func() []Level { return []Level{level(DefaultLocation, 10, 4)} }
	// 10 at default (4 committed), 3 at L1 (all committed), 5 at L3.
	threeLevels := func() []Level {
		return []Level{level(DefaultLocation, 10, 4), level(locL1, 3, 3), level(locL3, 5, 0)}
	}
	same := ItemImport{SKU: "A", Name: ptr("Widget"), Description: ptr("Zinc"), Tags: &[]string{"x"},
		ReorderPoint: ptr[int64](2), ReorderPointSet: true}
	row := func(edit func(*ItemImport)) ItemImport {
		in := same
		edit(&in)
		return in
	}
	cases := []struct {
		name   string
		levels func() []Level // the existing item's; nil: a new item
		in     ItemImport
		// A change: the fields of its updated activity, its ledger lines
		// ("location:delta:onHandAfter") and the item's quantity after.
		changes []string
		lines   []string
		qty     int64
		// Or an error: its code and fields ("field:code").
		code   string
		fields []string
		// Or neither: the row changes nothing.
		unchanged bool
	}{
		// New items.
		{name: "new, quantity at the default location", in: ItemImport{SKU: "N", Name: ptr("New"), Quantity: ptr[int64](5)},
			lines: []string{"default:5:5"}, qty: 5},
		{name: "new, no quantity", in: ItemImport{SKU: "N", Name: ptr("New")},
			lines: []string{"default:0:0"}, qty: 0},
		{name: "new, every field", in: ItemImport{SKU: "N", Name: ptr("New"), Description: ptr("d"), Tags: &[]string{"b", "a", "b"},
			ReorderPoint: ptr[int64](3), ReorderPointSet: true, Quantity: ptr[int64](1)},
			lines: []string{"default:1:1"}, qty: 1},
		{name: "new, targets: a level each, in file order, none for 0", in: ItemImport{SKU: "N", Name: ptr("New"),
			OnHand: []ImportLevel{target(locL1, "L1", 4), target(locL3, "L3", 0), target(DefaultLocation, "DEFAULT", 2)}},
			lines: []string{locL1 + ":4:4", "default:2:2"}, qty: 6},
		{name: "new, targets all 0: opens at the default location", in: ItemImport{SKU: "N", Name: ptr("New"),
			OnHand: []ImportLevel{target(locL1, "L1", 0)}},
			lines: []string{"default:0:0"}, qty: 0},
		{name: "new, quantity that is the targets' total", in: ItemImport{SKU: "N", Name: ptr("New"), Quantity: ptr[int64](7),
			OnHand: []ImportLevel{target(locL1, "L1", 4), target(locL3, "L3", 3)}},
			lines: []string{locL1 + ":4:4", locL3 + ":3:3"}, qty: 7},
		{name: "new, quantity that is not the targets' total", in: ItemImport{SKU: "N", Name: ptr("New"), Quantity: ptr[int64](5),
			OnHand: []ImportLevel{target(locL1, "L1", 4)}},
			code: CodeValidationFailed, fields: []string{"/quantity:mismatch"}},
		{name: "new, no name", in: ItemImport{SKU: "N"}, code: CodeValidationFailed, fields: []string{"/name:required"}},
		{name: "new, empty name", in: ItemImport{SKU: "N", Name: ptr("")}, code: CodeValidationFailed, fields: []string{"/name:required"}},
		{name: "new, invalid fields", in: ItemImport{SKU: "N 1", Name: ptr(" "), Description: ptr("a\x00"), Quantity: ptr[int64](-1),
			Tags: &[]string{"ok", ""}, ReorderPoint: ptr[int64](-2), OnHand: []ImportLevel{target(locL1, "L1", -1)}},
			code: CodeValidationFailed, fields: []string{"/sku:pattern", "/name:required", "/description:control_character",
				"/quantity:minimum", "/tags:required", "/reorderPoint:minimum", "/onHand:L1:range"}},
		{name: "new, two columns of one location", in: ItemImport{SKU: "N", Name: ptr("New"),
			OnHand: []ImportLevel{target(locL1, "L1", 1), target(locL1, "l1", 2)}},
			code: CodeValidationFailed, fields: []string{"/onHand:l1:duplicate"}},
		{name: "new, a target over the limit", in: ItemImport{SKU: "N", Name: ptr("New"),
			OnHand: []ImportLevel{target(locL1, "L1", MaxStockDelta+1)}},
			code: CodeValidationFailed, fields: []string{"/onHand:L1:range"}},

		// Existing items: fields.
		{name: "unchanged row", levels: oneLevel, in: row(func(in *ItemImport) { in.Quantity = ptr[int64](10) }), unchanged: true},
		{name: "columns the file lacks", levels: oneLevel, in: ItemImport{SKU: "A"}, unchanged: true},
		{name: "no reorderPoint column keeps it", levels: oneLevel, in: row(func(in *ItemImport) { in.ReorderPoint, in.ReorderPointSet = nil, false }), unchanged: true},
		{name: "tags as the item has them, repeated", levels: oneLevel, in: row(func(in *ItemImport) { in.Tags = &[]string{"x", "x"} }), unchanged: true},
		{name: "name", levels: oneLevel, in: row(func(in *ItemImport) { in.Name = ptr("Gadget") }), changes: []string{"name"}, qty: 10},
		{name: "description", levels: oneLevel, in: row(func(in *ItemImport) { in.Description = ptr("") }), changes: []string{"description"}, qty: 10},
		{name: "tags", levels: oneLevel, in: row(func(in *ItemImport) { in.Tags = &[]string{"y", "x", "y"} }), changes: []string{"tags"}, qty: 10},
		{name: "no tags", levels: oneLevel, in: row(func(in *ItemImport) { in.Tags = &[]string{} }), changes: []string{"tags"}, qty: 10},
		{name: "reorderPoint", levels: oneLevel, in: row(func(in *ItemImport) { in.ReorderPoint = ptr[int64](0) }), changes: []string{"reorderPoint"}, qty: 10},
		{name: "reorderPoint removed", levels: oneLevel, in: row(func(in *ItemImport) { in.ReorderPoint = nil }), changes: []string{"reorderPoint"}, qty: 10},
		{name: "every field", levels: oneLevel, in: ItemImport{SKU: "A", Name: ptr("Gadget"), Description: ptr("Brass"), Tags: &[]string{"y"},
			ReorderPointSet: true}, changes: []string{"name", "description", "tags", "reorderPoint"}, qty: 10},
		{name: "invalid fields", levels: oneLevel, in: row(func(in *ItemImport) {
			in.Name, in.Description, in.Quantity, in.Tags = ptr(""), ptr(strings.Repeat("d", MaxDescriptionLen+1)), ptr[int64](-1), &[]string{"x", " "}
		}), code: CodeValidationFailed, fields: []string{"/name:required", "/description:too_long", "/quantity:minimum", "/tags:required"}},

		// Existing items: quantity without targets, as PATCH.
		{name: "quantity, one level", levels: oneLevel, in: ItemImport{SKU: "A", Quantity: ptr[int64](12)},
			lines: []string{"default:2:12"}, qty: 12},
		{name: "quantity down to what is committed", levels: oneLevel, in: ItemImport{SKU: "A", Quantity: ptr[int64](4)},
			lines: []string{"default:-6:4"}, qty: 4},
		{name: "quantity below what is committed", levels: oneLevel, in: ItemImport{SKU: "A", Quantity: ptr[int64](3)},
			code: CodeInsufficientStock, fields: []string{"/quantity:insufficient_stock"}},
		{name: "quantity with stock at several locations", levels: threeLevels, in: ItemImport{SKU: "A", Quantity: ptr[int64](20)},
			code: CodeUseAdjustments},
		{name: "quantity as it is, several locations", levels: threeLevels, in: ItemImport{SKU: "A", Quantity: ptr[int64](18)}, unchanged: true},
		{name: "quantity and name", levels: oneLevel, in: row(func(in *ItemImport) { in.Name, in.Quantity = ptr("Gadget"), ptr[int64](11) }),
			changes: []string{"name"}, lines: []string{"default:1:11"}, qty: 11},

		// Existing items: onHand targets.
		{name: "targets: a line where on hand differs, a new level where there is none", levels: threeLevels,
			in:    ItemImport{SKU: "A", OnHand: []ImportLevel{target(DefaultLocation, "DEFAULT", 7), target(locL3, "L3", 5), target(locNew, "NEW", 6)}},
			lines: []string{"default:-3:7", locNew + ":6:6"}, qty: 21},
		{name: "targets as they are", levels: threeLevels,
			in:        ItemImport{SKU: "A", OnHand: []ImportLevel{target(DefaultLocation, "DEFAULT", 10), target(locL1, "L1", 3), target(locNew, "NEW", 0)}},
			unchanged: true},
		{name: "targets as they are, and the quantity", levels: threeLevels,
			in: ItemImport{SKU: "A", Quantity: ptr[int64](18), OnHand: []ImportLevel{target(locL3, "L3", 5)}}, unchanged: true},
		{name: "a target empties a level", levels: threeLevels,
			in: ItemImport{SKU: "A", OnHand: []ImportLevel{target(locL3, "L3", 0)}}, lines: []string{locL3 + ":-5:0"}, qty: 13},
		{name: "targets with stock at several locations need no adjustments", levels: threeLevels,
			in: ItemImport{SKU: "A", Quantity: ptr[int64](20), OnHand: []ImportLevel{target(locL3, "L3", 7)}}, lines: []string{locL3 + ":2:7"}, qty: 20},
		{name: "targets and the quantity they make", levels: oneLevel,
			in:    ItemImport{SKU: "A", Quantity: ptr[int64](15), OnHand: []ImportLevel{target(DefaultLocation, "DEFAULT", 9), target(locL1, "L1", 6)}},
			lines: []string{"default:-1:9", locL1 + ":6:6"}, qty: 15},
		{name: "targets and another quantity", levels: oneLevel,
			in:   ItemImport{SKU: "A", Quantity: ptr[int64](10), OnHand: []ImportLevel{target(DefaultLocation, "DEFAULT", 9)}},
			code: CodeValidationFailed, fields: []string{"/quantity:mismatch"}},
		{name: "targets below what is committed", levels: threeLevels,
			in:   ItemImport{SKU: "A", OnHand: []ImportLevel{target(DefaultLocation, "DEFAULT", 3), target(locL1, "L1", 2), target(locL3, "L3", 0)}},
			code: CodeInsufficientStock, fields: []string{"/onHand:DEFAULT:insufficient_stock", "/onHand:L1:insufficient_stock"}},
		{name: "targets and fields", levels: threeLevels,
			in:      row(func(in *ItemImport) { in.Tags, in.OnHand = &[]string{"x", "z"}, []ImportLevel{target(locL1, "L1", 4)} }),
			changes: []string{"tags"}, lines: []string{locL1 + ":1:4"}, qty: 19},
		{name: "invalid target", levels: oneLevel,
			in:   ItemImport{SKU: "A", OnHand: []ImportLevel{target(locL1, "L1", -1), target("", "X", 1)}},
			code: CodeValidationFailed, fields: []string{"/onHand:L1:range", "/onHand:X:required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var old *Item
			var levels []Level
			if c.levels != nil {
				levels = c.levels()
				it := importFixture(levels)
				old = &it
			}
			oldCopy, levelsCopy := clonedItem(old), slices.Clone(levels)
			ch, ok, err := ImportItem(old, c.in, levels, "bob", tNow)
			if !equalItems(old, oldCopy) || !slices.EqualFunc(levels, levelsCopy, func(a, b Level) bool { return a == b }) {
				t.Fatal("ImportItem changed its input")
			}
			switch {
			case c.code != "":
				kind := KindConflict
				if c.code == CodeValidationFailed {
					kind = KindInvalid
				}
				e := wantErr(t, err, kind, c.code, c.fields...)
				for _, f := range e.Fields {
					if f.Code == CodeInsufficientStock && f.Available == nil {
						t.Errorf("%s: no available", f.Field)
					}
				}
				if ok || ch.Next.ID != "" {
					t.Fatalf("an error with a change: %v %+v", ok, ch)
				}
				return
			case err != nil:
				t.Fatal(err)
			case c.unchanged:
				if ok || ch.Next.ID != "" || ch.Old != nil || len(ch.Ledger) != 0 {
					t.Fatalf("an unchanged row changes %+v (ok %v)", ch, ok)
				}
				return
			case !ok:
				t.Fatal("no change")
			}
			checkImport(t, old, levels, ch, "bob")
			var lines []string
			for _, e := range ch.Ledger {
				lines = append(lines, fmt.Sprintf("%s:%d:%d", e.LocationID, e.Delta, e.OnHandAfter))
			}
			if !slices.Equal(lines, c.lines) {
				t.Errorf("lines %v, want %v", lines, c.lines)
			}
			if ch.Next.Quantity != c.qty {
				t.Errorf("quantity %d, want %d", ch.Next.Quantity, c.qty)
			}
			var changes []string
			for _, a := range ch.Activity {
				if a.Type == ActivityUpdated {
					for _, f := range a.Changes {
						changes = append(changes, f.Field)
					}
				}
			}
			if !slices.Equal(changes, c.changes) {
				t.Errorf("changed fields %v, want %v", changes, c.changes)
			}
		})
	}
}

// checkImport checks what every change an import makes must be: what
// storage commits for an item's change, its lines all imports, and the
// item's quantity the sum of its levels.
func checkImport(t *testing.T, old *Item, levels []Level, c ItemChange, actor string) {
	t.Helper()
	if old == nil {
		if c.Old != nil || c.Next.Version != 1 || c.Next.CreatedBy != actor || !IsValidID(c.Next.ID) || c.Next.Tags == nil {
			t.Fatalf("new item %+v (old %v)", c.Next, c.Old)
		}
		if len(c.Activity) != 1 || c.Activity[0].Type != ActivityCreated || c.Activity[0].ItemID != c.Next.ID {
			t.Fatalf("activity %+v", c.Activity)
		}
	} else {
		if c.Old == nil || !equalItems(c.Old, old) || c.Next.ID != old.ID || c.Next.Version != old.Version+1 ||
			c.Next.UpdatedBy != actor || c.Next.CreatedBy != old.CreatedBy || c.Next.UpdatedAt.Before(tNow) || c.Next.Committed != old.Committed {
			t.Fatalf("next %+v, old %+v", c.Next, c.Old)
		}
		for _, a := range c.Activity {
			if a.Type != ActivityUpdated || len(a.Changes) == 0 || a.Actor != actor {
				t.Fatalf("activity %+v", a)
			}
		}
	}
	if len(c.Activity) == 0 && len(c.Ledger) == 0 {
		t.Fatal("a change with neither activity nor ledger")
	}
	// Levels after the change, by location: those read, then those written.
	after := map[string]Level{}
	read := map[string]Level{}
	for _, l := range levels {
		after[l.LocationID], read[l.LocationID] = l, l
	}
	written := map[string]bool{}
	for _, l := range c.Levels {
		loc := l.Next.LocationID
		if written[loc] {
			t.Fatalf("level at %s written twice", loc)
		}
		written[loc] = true
		was, existed := read[loc]
		if (l.Old == nil) == existed || (existed && *l.Old != was) {
			t.Fatalf("level at %s: old %+v, read %+v", loc, l.Old, was)
		}
		if l.Next.ItemID != c.Next.ID || l.Next.SKU != c.Next.SKU || l.Next.OnHand < l.Next.Committed {
			t.Fatalf("level %+v", l.Next)
		}
		after[loc] = l.Next
	}
	var sum int64
	for _, l := range after {
		sum += l.OnHand
	}
	if sum != c.Next.Quantity {
		t.Fatalf("quantity %d, its levels hold %d", c.Next.Quantity, sum)
	}
	last := map[string]LedgerEntry{}
	for _, e := range c.Ledger {
		if e.Reason != ReasonImport || e.ItemID != c.Next.ID || e.Actor != actor || !written[e.LocationID] {
			t.Fatalf("ledger line %+v", e)
		}
		last[e.LocationID] = e
	}
	for _, l := range c.Levels {
		e, ok := last[l.Next.LocationID]
		if !ok || l.Next.LastLedgerID != e.ID || l.Next.OnHand != e.OnHandAfter {
			t.Fatalf("level %+v, its last line %+v", l.Next, e)
		}
	}
	if n := c.Actions(); n > MaxTransactionActions {
		t.Fatalf("%d actions", n)
	}
}

func clonedItem(it *Item) *Item {
	if it == nil {
		return nil
	}
	c := *it
	c.Tags = slices.Clone(it.Tags)
	if it.ReorderPoint != nil {
		c.ReorderPoint = ptr(*it.ReorderPoint)
	}
	return &c
}

func equalItems(a, b *Item) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(*a, *b)
}

// TestImportTagErrorsNameTheTag: the tags column is one cell; the message
// says which of its tags is wrong.
func TestImportTagErrorsNameTheTag(t *testing.T) {
	_, _, err := ImportItem(nil, ItemImport{SKU: "N", Name: ptr("New"), Tags: &[]string{"ok", strings.Repeat("t", MaxTagLen+1)}}, nil, "bob", tNow)
	e := wantErr(t, err, KindInvalid, CodeValidationFailed, "/tags:too_long")
	if !strings.HasPrefix(e.Fields[0].Message, "tag 2: ") {
		t.Errorf("message %q", e.Fields[0].Message)
	}
}

// TestImportTooLarge: a row whose change is more than one transaction
// holds is change_too_large, as PATCH is.
func TestImportTooLarge(t *testing.T) {
	var many []ImportLevel
	for i := range 32 { // a level, a line and a location guard each: 3 × 32 + 6
		many = append(many, target(NewID(tNow), fmt.Sprintf("L%d", i), 1))
	}
	_, _, err := ImportItem(nil, ItemImport{SKU: "N", Name: ptr("New"), OnHand: many}, nil, "bob", tNow)
	wantErr(t, err, KindConflict, CodeChangeTooLarge)
	if _, ok, err := ImportItem(nil, ItemImport{SKU: "N", Name: ptr("New"), OnHand: many[:31]}, nil, "bob", tNow); !ok || err != nil {
		t.Fatalf("31 locations: %v %v", ok, err)
	}

	// Twenty tags replaced by twenty others.
	old := importFixture(nil)
	var tags, others []string
	for i := range MaxTags {
		tags, others = append(tags, fmt.Sprintf("t%d", i)), append(others, fmt.Sprintf("u%d", i))
	}
	old.Tags = tags
	_, _, err = ImportItem(&old, ItemImport{SKU: "A", Tags: &others}, nil, "bob", tNow)
	wantErr(t, err, KindConflict, CodeChangeTooLarge)
}

// TestImportRowOfAnotherItem: a row is imported into the live item with
// its SKU; anything else is the caller's mistake.
func TestImportRowOfAnotherItem(t *testing.T) {
	old := importFixture(nil)
	if _, _, err := ImportItem(&old, ItemImport{SKU: "B", Name: ptr("x")}, nil, "bob", tNow); err == nil || KindOf(err) != KindInternal {
		t.Fatalf("another SKU: %v", err)
	}
	old.Deleted = &Deletion{At: tRead, By: "alice"}
	if _, _, err := ImportItem(&old, ItemImport{SKU: "A", Name: ptr("x")}, nil, "bob", tNow); err == nil || KindOf(err) != KindInternal {
		t.Fatalf("a deleted item: %v", err)
	}
}

// TestImportReason: import is a reason a ledger line can have, never one
// an adjustment can give.
func TestImportReason(t *testing.T) {
	if !slices.Contains(LedgerReasons, ReasonImport) || slices.Contains(AdjustmentReasons, ReasonImport) {
		t.Fatalf("ledger reasons %v, adjustment reasons %v", LedgerReasons, AdjustmentReasons)
	}
	in := AdjustmentInput{Reason: ReasonImport, Lines: []AdjustmentLine{line(itemA, DefaultLocation, 1)}}
	var e *Error
	if err := in.Validate(); !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "/reason" {
		t.Fatalf("an adjustment with reason import: %v", err)
	}
}
