package inventory

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// Ids of the fixtures: items and locations.
const (
	itemA    = "01JDQ3ZK7X9V4M2N8P6R5T3W1A"
	itemB    = "01JDQ3ZK7X9V4M2N8P6R5T3W1B"
	itemGone = "01JDQ3ZK7X9V4M2N8P6R5T3W1C" // deleted
	itemNone = "01JDQ3ZK7X9V4M2N8P6R5T3W1D" // no such item
	locL1    = "01JDQ4A2B3C4D5E6F7G8H9J0K1"
	locL3    = "01JDQ4A2B3C4D5E6F7G8H9J0K3"
	locGone  = "01JDQ4A2B3C4D5E6F7G8H9J0K2" // deleted
	locNone  = "01JDQ4A2B3C4D5E6F7G8H9J0K9" // no such location
)

var (
	tRead = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) // when the fixture's levels last changed
	tNow  = tRead.Add(time.Hour)
)

// fixtureLevel is a level whose last line was made at tRead.
func fixtureLevel(item, loc string, onHand, committed, incoming int64) Level {
	return Level{ItemID: item, LocationID: loc, OnHand: onHand, Committed: committed, Incoming: incoming,
		UpdatedAt: tRead, LastLedgerID: NewID(tRead)}
}

// stockState: item A is 10 on hand (4 committed) at default, 3 (all
// committed) at L1, 5 at L3; item B has no levels; one item and one
// location are deleted.
func stockState() StockState {
	item := func(id, sku string, qty, committed int64) Item {
		return Item{ID: id, SKU: sku, Name: sku, Quantity: qty, Committed: committed, Tags: []string{},
			CreatedAt: tRead, CreatedBy: "alice", UpdatedAt: tRead, UpdatedBy: "alice", Version: 3}
	}
	gone := item(itemGone, "GONE", 0, 0)
	gone.Deleted = &Deletion{At: tRead, By: "alice"}
	loc := func(id, code string) Location {
		return Location{ID: id, Code: code, Name: code, CreatedAt: tRead, UpdatedAt: tRead, Version: 1}
	}
	deadLoc := loc(locGone, "GONE")
	deadLoc.Deleted = &Deletion{At: tRead, By: "alice"}
	st := StockState{
		Items: map[string]Item{itemA: item(itemA, "A", 18, 7), itemB: item(itemB, "B", 0, 0), itemGone: gone},
		Levels: map[LevelKey]Level{
			{itemA, DefaultLocation}: fixtureLevel(itemA, DefaultLocation, 10, 4, 0),
			{itemA, locL1}:           fixtureLevel(itemA, locL1, 3, 3, 0),
			{itemA, locL3}:           fixtureLevel(itemA, locL3, 5, 0, 0),
		},
		Locations: map[string]Location{locL1: loc(locL1, "L1"), locL3: loc(locL3, "L3"), locGone: deadLoc},
	}
	return st
}

// wantErr checks an *Error's kind, code and fields (as "field:code").
func wantErr(t *testing.T, err error, kind Kind, code string, fields ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != kind || e.Code != code {
		t.Fatalf("error %v, want %v %s", err, kind, code)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field+":"+f.Code)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("fields %v, want %v", got, fields)
	}
	return e
}

func line(item, loc string, delta int64) AdjustmentLine {
	return AdjustmentLine{ItemID: item, LocationID: loc, Delta: delta}
}

func TestAdjustRefusals(t *testing.T) {
	cases := []struct {
		name   string
		lines  []AdjustmentLine
		kind   Kind
		code   string
		fields []string
		avail  []int64 // Available of each field, for insufficient_stock
	}{
		{"short lines all listed", []AdjustmentLine{line(itemA, DefaultLocation, -7), line(itemB, DefaultLocation, 5), line(itemA, locL1, -1)},
			KindConflict, CodeInsufficientStock, []string{"/lines/0/delta:insufficient_stock", "/lines/2/delta:insufficient_stock"}, []int64{6, 0}},
		{"below committed by one", []AdjustmentLine{line(itemA, DefaultLocation, -6), line(itemA, locL3, -6)},
			KindConflict, CodeInsufficientStock, []string{"/lines/1/delta:insufficient_stock"}, []int64{5}},
		{"a new level cannot go below 0", []AdjustmentLine{line(itemB, locL1, -1)},
			KindConflict, CodeInsufficientStock, []string{"/lines/0/delta:insufficient_stock"}, []int64{0}},
		{"deleted item", []AdjustmentLine{line(itemA, DefaultLocation, 1), line(itemGone, DefaultLocation, 1)},
			KindNotFound, CodeItemDeleted, []string{"/lines/1/itemId:item_deleted"}, nil},
		{"unknown item", []AdjustmentLine{line(itemNone, DefaultLocation, 1)},
			KindNotFound, CodeItemNotFound, []string{"/lines/0/itemId:item_not_found"}, nil},
		{"deleted location", []AdjustmentLine{line(itemA, locGone, 1)},
			KindNotFound, CodeLocationDeleted, []string{"/lines/0/locationId:location_deleted"}, nil},
		{"unknown location", []AdjustmentLine{line(itemA, DefaultLocation, 1), line(itemA, locNone, 1)},
			KindNotFound, CodeLocationNotFound, []string{"/lines/1/locationId:location_not_found"}, nil},
		{"overflow", []AdjustmentLine{line(itemA, DefaultLocation, 9_223_372_036_854_775_800)},
			KindInvalid, CodeValidationFailed, []string{"/lines/0/delta:range"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := stockState()
			_, _, err := Adjust(AdjustmentInput{Reason: ReasonDamaged, Lines: c.lines}, st, "bob", tNow)
			e := wantErr(t, err, c.kind, c.code, c.fields...)
			for i, want := range c.avail {
				if a := e.Fields[i].Available; a == nil || *a != want {
					t.Errorf("field %d available %v, want %d", i, a, want)
				}
			}
		})
	}
}

func TestAdjust(t *testing.T) {
	st := stockState()
	before := st.Levels[LevelKey{itemA, DefaultLocation}]
	in := AdjustmentInput{Reason: ReasonReceived, Note: "dock 4", Lines: []AdjustmentLine{
		line(itemA, DefaultLocation, 5), line(itemB, locL1, 7), line(itemA, locL3, -2)}}
	c, adj, err := Adjust(in, st, "bob", tNow)
	if err != nil {
		t.Fatal(err)
	}
	if !IsValidID(adj.ID) || adj.Reason != ReasonReceived || adj.Note != "dock 4" || adj.Reference != "" || adj.Actor != "bob" || !adj.At.Equal(tNow) {
		t.Fatalf("adjustment = %+v", adj)
	}
	wantLines := []AdjustedLine{{itemA, DefaultLocation, 5, 15}, {itemB, locL1, 7, 7}, {itemA, locL3, -2, 3}}
	if !slices.Equal(adj.Lines, wantLines) {
		t.Fatalf("lines = %+v", adj.Lines)
	}
	if len(c.Ledger) != 3 {
		t.Fatalf("ledger = %+v", c.Ledger)
	}
	for i, e := range c.Ledger {
		// With no reference given, the lines reference the adjustment.
		if e.Reason != ReasonReceived || e.Reference != adj.ID || e.Note != "dock 4" || e.Actor != "bob" || !e.At.Equal(tNow) ||
			e.Delta != wantLines[i].Delta || e.OnHandAfter != wantLines[i].OnHandAfter || e.ItemID != wantLines[i].ItemID {
			t.Errorf("line %d = %+v", i, e)
		}
	}
	if len(c.Levels) != 3 {
		t.Fatalf("levels = %+v", c.Levels)
	}
	if l := c.Levels[0]; l.Old == nil || *l.Old != before || l.Next.OnHand != 15 || l.Next.Committed != 4 || l.Next.LastLedgerID != c.Ledger[0].ID {
		t.Errorf("level at default = %+v", l)
	}
	// B had no level at L1: it is created, from nothing.
	if l := c.Levels[1]; l.Old != nil || l.Next.ItemID != itemB || l.Next.LocationID != locL1 || l.Next.OnHand != 7 || l.Next.LastLedgerID != c.Ledger[1].ID {
		t.Errorf("new level = %+v", l)
	}
	// One revision per item whose total changed, from the item as read.
	if len(c.Items) != 2 {
		t.Fatalf("items = %+v", c.Items)
	}
	a, b := c.Items[0], c.Items[1]
	if a.Old.ID != itemA || a.Old.Version != 3 || a.Next.Version != 4 || a.Next.Quantity != 21 || a.Next.Committed != 7 || a.Next.UpdatedBy != "bob" {
		t.Errorf("item A revision = %+v", a)
	}
	if b.Old.ID != itemB || b.Next.Quantity != 7 || b.Next.Version != 4 {
		t.Errorf("item B revision = %+v", b)
	}
	if st.Levels[LevelKey{itemA, DefaultLocation}] != before || st.Items[itemA].Quantity != 18 {
		t.Error("Adjust changed the state it was given")
	}

	// A reference given is the lines' reference; an item whose total does
	// not change is not written.
	ref := "PO-77"
	c, adj, err = Adjust(AdjustmentInput{Reason: ReasonCorrection, Reference: &ref, Lines: []AdjustmentLine{
		line(itemA, DefaultLocation, 2), line(itemA, locL3, -2)}}, stockState(), "bob", tNow)
	if err != nil || adj.Reference != ref || c.Ledger[0].Reference != ref || c.Ledger[1].Reference != ref {
		t.Fatalf("with a reference: %+v %+v %v", adj, c.Ledger, err)
	}
	if len(c.Items) != 0 || len(c.Levels) != 2 {
		t.Fatalf("a net-zero adjustment revised %+v", c.Items)
	}
}

// Lines that name one level apply in order, each its own ledger line; the
// level is written once, from the level as read.
func TestAdjustOneLevelTwice(t *testing.T) {
	st := stockState()
	before := st.Levels[LevelKey{itemA, DefaultLocation}]
	c, adj, err := Adjust(AdjustmentInput{Reason: ReasonOther, Lines: []AdjustmentLine{
		line(itemA, DefaultLocation, 5), line(itemB, locL1, 1), line(itemA, DefaultLocation, -9)}}, st, "bob", tNow)
	if err != nil {
		t.Fatal(err)
	}
	if adj.Lines[0].OnHandAfter != 15 || adj.Lines[2].OnHandAfter != 6 {
		t.Fatalf("lines = %+v", adj.Lines)
	}
	if len(c.Ledger) != 3 || c.Ledger[0].ID >= c.Ledger[2].ID || c.Ledger[2].OnHandAfter != 6 {
		t.Fatalf("ledger = %+v", c.Ledger)
	}
	if len(c.Levels) != 2 || *c.Levels[0].Old != before || c.Levels[0].Next.OnHand != 6 || c.Levels[0].Next.LastLedgerID != c.Ledger[2].ID {
		t.Fatalf("levels = %+v", c.Levels)
	}
	if len(c.Items) != 2 || c.Items[0].Next.Quantity != 14 || c.Items[0].Next.Version != 4 {
		t.Fatalf("items = %+v", c.Items)
	}
	// In order: a line is short on what the lines before it left.
	for _, c := range []struct {
		name  string
		lines []AdjustmentLine
		short []string
		avail []int64
	}{
		{"the first line short", []AdjustmentLine{line(itemA, DefaultLocation, -7), line(itemA, DefaultLocation, 5)}, []string{"/lines/0/delta:insufficient_stock"}, []int64{6}},
		{"the second line short", []AdjustmentLine{line(itemA, DefaultLocation, -5), line(itemA, DefaultLocation, -2)}, []string{"/lines/1/delta:insufficient_stock"}, []int64{1}},
		// After line 0 leaves 3 on hand with 4 committed, nothing is
		// available to line 1 (FieldError.available is ≥ 0 in openapi.yaml).
		{"both short", []AdjustmentLine{line(itemA, DefaultLocation, -7), line(itemA, DefaultLocation, -1)},
			[]string{"/lines/0/delta:insufficient_stock", "/lines/1/delta:insufficient_stock"}, []int64{6, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Adjust(AdjustmentInput{Reason: ReasonOther, Lines: c.lines}, stockState(), "bob", tNow)
			e := wantErr(t, err, KindConflict, CodeInsufficientStock, c.short...)
			for i, want := range c.avail {
				got := e.Fields[i].Available
				if got == nil || *got != want {
					t.Errorf("field %d available %v, want %d", i, got, want)
				}
			}
		})
	}
}

func TestCountStock(t *testing.T) {
	cases := []struct {
		name     string
		in       CountInput
		code     string
		fields   []string
		onHand   *int64 // count_mismatch's OnHand
		avail    *int64 // insufficient_stock's Available
		delta    int64
		after    int64
		newLevel bool
		revised  *int64 // the item's new quantity; nil: not revised
	}{
		{name: "expected mismatch", in: CountInput{ItemID: itemA, LocationID: DefaultLocation, Counted: ptr[int64](12), Expected: ptr[int64](9)},
			code: CodeCountMismatch, fields: []string{"/expected:count_mismatch"}, onHand: ptr[int64](10)},
		{name: "below committed", in: CountInput{ItemID: itemA, LocationID: DefaultLocation, Counted: ptr[int64](3)},
			code: CodeInsufficientStock, fields: []string{"/counted:insufficient_stock"}, avail: ptr[int64](6)},
		{name: "deleted item", in: CountInput{ItemID: itemGone, LocationID: DefaultLocation, Counted: ptr[int64](1)},
			code: CodeItemDeleted, fields: []string{"/itemId:item_deleted"}},
		{name: "deleted location", in: CountInput{ItemID: itemA, LocationID: locGone, Counted: ptr[int64](1)},
			code: CodeLocationDeleted, fields: []string{"/locationId:location_deleted"}},
		{name: "found more", in: CountInput{ItemID: itemA, LocationID: DefaultLocation, Counted: ptr[int64](12), Expected: ptr[int64](10)},
			delta: 2, after: 12, revised: ptr[int64](20)},
		{name: "found less, down to committed", in: CountInput{ItemID: itemA, LocationID: DefaultLocation, Counted: ptr[int64](4)},
			delta: -6, after: 4, revised: ptr[int64](12)},
		{name: "confirmed", in: CountInput{ItemID: itemA, LocationID: locL3, Counted: ptr[int64](5)}, delta: 0, after: 5},
		{name: "first count of a level", in: CountInput{ItemID: itemB, LocationID: locL1, Counted: ptr[int64](4), Expected: ptr[int64](0)},
			delta: 4, after: 4, newLevel: true, revised: ptr[int64](4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := stockState()
			ch, count, err := CountStock(c.in, st, "carol", tNow)
			if c.code != "" {
				kind := KindConflict
				if strings.HasPrefix(c.code, "item_") || strings.HasPrefix(c.code, "location_") {
					kind = KindNotFound
				}
				e := wantErr(t, err, kind, c.code, c.fields...)
				if c.onHand != nil && (e.Fields[0].OnHand == nil || *e.Fields[0].OnHand != *c.onHand) {
					t.Errorf("onHand %v, want %d", e.Fields[0].OnHand, *c.onHand)
				}
				if c.avail != nil && (e.Fields[0].Available == nil || *e.Fields[0].Available != *c.avail) {
					t.Errorf("available %v, want %d", e.Fields[0].Available, *c.avail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if count.Delta != c.delta || count.OnHandAfter != c.after || count.Counted != *c.in.Counted || !IsValidID(count.ID) || count.Actor != "carol" {
				t.Fatalf("count = %+v", count)
			}
			if (count.Expected == nil) != (c.in.Expected == nil) {
				t.Errorf("expected = %v", count.Expected)
			}
			// A count always writes its line, even of 0: it confirms the level.
			if len(ch.Ledger) != 1 || ch.Ledger[0].Reason != ReasonCycleCount || ch.Ledger[0].Delta != c.delta ||
				ch.Ledger[0].OnHandAfter != c.after || ch.Ledger[0].Reference != count.ID {
				t.Fatalf("ledger = %+v", ch.Ledger)
			}
			if len(ch.Levels) != 1 || (ch.Levels[0].Old == nil) != c.newLevel || ch.Levels[0].Next.OnHand != c.after ||
				ch.Levels[0].Next.LastLedgerID != ch.Ledger[0].ID {
				t.Fatalf("levels = %+v", ch.Levels)
			}
			switch {
			case c.revised == nil && len(ch.Items) != 0:
				t.Fatalf("items revised: %+v", ch.Items)
			case c.revised != nil && (len(ch.Items) != 1 || ch.Items[0].Next.Quantity != *c.revised || ch.Items[0].Next.Version != 4):
				t.Fatalf("items = %+v, want quantity %d", ch.Items, *c.revised)
			}
		})
	}
}

func TestTransferStock(t *testing.T) {
	cases := []struct {
		name   string
		in     TransferInput
		kind   Kind
		code   string
		fields []string
		avail  int64
	}{
		{"more than available", TransferInput{ItemID: itemA, FromLocationID: DefaultLocation, ToLocationID: locL1, Quantity: 7},
			KindConflict, CodeInsufficientStock, []string{"/quantity:insufficient_stock"}, 6},
		{"all committed", TransferInput{ItemID: itemA, FromLocationID: locL1, ToLocationID: locL3, Quantity: 1},
			KindConflict, CodeInsufficientStock, []string{"/quantity:insufficient_stock"}, 0},
		{"from nothing", TransferInput{ItemID: itemB, FromLocationID: DefaultLocation, ToLocationID: locL3, Quantity: 1},
			KindConflict, CodeInsufficientStock, []string{"/quantity:insufficient_stock"}, 0},
		{"to a deleted location", TransferInput{ItemID: itemA, FromLocationID: DefaultLocation, ToLocationID: locGone, Quantity: 1},
			KindNotFound, CodeLocationDeleted, []string{"/toLocationId:location_deleted"}, 0},
		{"from an unknown location", TransferInput{ItemID: itemA, FromLocationID: locNone, ToLocationID: locL1, Quantity: 1},
			KindNotFound, CodeLocationNotFound, []string{"/fromLocationId:location_not_found"}, 0},
		{"deleted item", TransferInput{ItemID: itemGone, FromLocationID: DefaultLocation, ToLocationID: locL1, Quantity: 1},
			KindNotFound, CodeItemDeleted, []string{"/itemId:item_deleted"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := TransferStock(c.in, stockState(), "dan", tNow)
			e := wantErr(t, err, c.kind, c.code, c.fields...)
			if c.code == CodeInsufficientStock && (e.Fields[0].Available == nil || *e.Fields[0].Available != c.avail) {
				t.Errorf("available %v, want %d", e.Fields[0].Available, c.avail)
			}
		})
	}

	st := stockState()
	from := st.Levels[LevelKey{itemA, DefaultLocation}]
	in := TransferInput{ItemID: itemA, FromLocationID: DefaultLocation, ToLocationID: locL1, Quantity: 6, Note: "rebalance"}
	c, tr, err := TransferStock(in, st, "dan", tNow)
	if err != nil {
		t.Fatal(err)
	}
	if !IsValidID(tr.ID) || tr.Quantity != 6 || tr.FromOnHand != 4 || tr.ToOnHand != 9 || tr.Note != "rebalance" || tr.Actor != "dan" || !tr.At.Equal(tNow) {
		t.Fatalf("transfer = %+v", tr)
	}
	if len(c.Ledger) != 2 {
		t.Fatalf("ledger = %+v", c.Ledger)
	}
	out, inn := c.Ledger[0], c.Ledger[1]
	if out.Reason != ReasonTransferOut || out.Delta != -6 || out.OnHandAfter != 4 || out.LocationID != DefaultLocation ||
		inn.Reason != ReasonTransferIn || inn.Delta != 6 || inn.OnHandAfter != 9 || inn.LocationID != locL1 {
		t.Fatalf("lines = %+v", c.Ledger)
	}
	for _, e := range c.Ledger {
		if e.Reference != tr.ID || e.Note != "rebalance" || !e.At.Equal(tr.At) || e.CommittedAfter != map[string]int64{DefaultLocation: 4, locL1: 3}[e.LocationID] {
			t.Errorf("line %+v", e)
		}
	}
	if len(c.Levels) != 2 || *c.Levels[0].Old != from || c.Levels[1].Old == nil || c.Levels[1].Next.OnHand != 9 {
		t.Fatalf("levels = %+v", c.Levels)
	}
	// The item's total does not change: it is not written.
	if len(c.Items) != 0 {
		t.Fatalf("items = %+v", c.Items)
	}
	// To a location where the item has no level yet: the level is created.
	c, _, err = TransferStock(TransferInput{ItemID: itemA, FromLocationID: locL3, ToLocationID: DefaultLocation, Quantity: 5}, stockState(), "dan", tNow)
	if err != nil || c.Levels[0].Next.OnHand != 0 || c.Levels[1].Next.OnHand != 15 {
		t.Fatalf("transfer of everything = %+v, %v", c.Levels, err)
	}
	// Into a level whose stock is all committed: on hand grows, committed stays.
	c, _, err = TransferStock(TransferInput{ItemID: itemA, FromLocationID: locL3, ToLocationID: locL1, Quantity: 1}, stockState(), "dan", tNow)
	if err != nil || len(c.Levels) != 2 || c.Levels[1].Next.OnHand != 4 || c.Levels[1].Next.Committed != 3 || c.Levels[1].Next.Available() != 1 {
		t.Fatalf("transfer into a committed level = %+v, %v", c.Levels, err)
	}
	st = stockState()
	delete(st.Levels, LevelKey{itemA, locL1})
	c, _, err = TransferStock(TransferInput{ItemID: itemA, FromLocationID: DefaultLocation, ToLocationID: locL1, Quantity: 1}, st, "dan", tNow)
	if err != nil || c.Levels[1].Old != nil || c.Levels[1].Next.OnHand != 1 {
		t.Fatalf("transfer to a new level = %+v, %v", c.Levels, err)
	}
}

func TestApplyPatchQuantityAtLevels(t *testing.T) {
	old := Item{ID: itemA, SKU: "A", Name: "A", Quantity: 10, Committed: 2, Tags: []string{}, Version: 5}
	stocked := func(loc string, onHand, committed, incoming int64) Level {
		return fixtureLevel(itemA, loc, onHand, committed, incoming)
	}
	empty := func(loc string) Level { return fixtureLevel(itemA, loc, 0, 0, 0) }
	cases := []struct {
		name    string
		levels  []Level
		qty     int64
		code    string
		avail   int64
		at      string // the location corrected
		created bool   // the level did not exist
	}{
		{"one stocked level elsewhere", []Level{empty(DefaultLocation), stocked(locL1, 10, 2, 0)}, 12, "", 0, locL1, false},
		{"two stocked levels", []Level{stocked(DefaultLocation, 4, 0, 0), stocked(locL1, 6, 2, 0)}, 12, CodeUseAdjustments, 0, "", false},
		{"incoming is stock too", []Level{stocked(DefaultLocation, 10, 2, 0), stocked(locL1, 0, 0, 3)}, 12, CodeUseAdjustments, 0, "", false},
		{"no stocked level: the default's", []Level{empty(locL1), empty(DefaultLocation)}, 1, "", 0, DefaultLocation, false},
		{"no level at all: a new default level", nil, 1, "", 0, DefaultLocation, true},
		{"below committed", []Level{stocked(locL1, 10, 2, 0)}, 1, CodeInsufficientStock, 8, "", false},
		{"down to committed", []Level{stocked(locL1, 10, 2, 0)}, 2, "", 0, locL1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := old
			old.Quantity = 0
			for _, l := range c.levels {
				old.Quantity += l.OnHand
			}
			ch, ok, err := ApplyPatch(old, Patch{Quantity: &c.qty}, c.levels, "bob", tNow)
			switch c.code {
			case CodeUseAdjustments:
				wantErr(t, err, KindConflict, c.code)
				return
			case CodeInsufficientStock:
				e := wantErr(t, err, KindConflict, c.code, "/quantity:insufficient_stock")
				if e.Fields[0].Available == nil || *e.Fields[0].Available != c.avail {
					t.Fatalf("available %v, want %d", e.Fields[0].Available, c.avail)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("ok %v, %v", ok, err)
			}
			if len(ch.Levels) != 1 || len(ch.Ledger) != 1 {
				t.Fatalf("levels %+v ledger %+v", ch.Levels, ch.Ledger)
			}
			l, e := ch.Levels[0], ch.Ledger[0]
			if l.Next.LocationID != c.at || e.LocationID != c.at || (l.Old == nil) != c.created {
				t.Fatalf("corrected %+v (old %v), want at %s", l.Next, l.Old, c.at)
			}
			if e.Delta != c.qty-old.Quantity || e.Reason != ReasonQuantitySet || ch.Next.Quantity != c.qty || ch.Next.Version != 6 || len(ch.Activity) != 0 {
				t.Fatalf("change = %+v", ch)
			}
		})
	}
}

func TestNextLedgerIDOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ms := func(id string) uint64 { return ulid.MustParseStrict(id).Time() }
	// Many lines of one level in one millisecond: each after the last.
	last := ""
	for range 1000 {
		id := nextLedgerID(t0, last)
		if id <= last || !IsValidID(id) || ms(id) != ulid.Timestamp(t0) {
			t.Fatalf("%s after %s (ms %d)", id, last, ms(id))
		}
		last = id
	}
	// The last line is from another process, in the same millisecond, with
	// a larger random part than ours will have.
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t0))
	for i := 6; i < 11; i++ {
		u[i] = 0xFF
	}
	high := u.String()
	if id := nextLedgerID(t0, high); id <= high || ms(id) != ulid.Timestamp(t0) {
		t.Fatalf("%s after %s", id, high)
	}
	// The clock went back: the id still follows the last one.
	if id := nextLedgerID(t0.Add(-time.Second), last); id <= last {
		t.Fatalf("%s after %s with the clock back", id, last)
	}
	// A last id that is no ULID (a level stored by hand): ordered by time.
	if id := nextLedgerID(t0, "legacy"); !IsValidID(id) {
		t.Fatalf("%s", id)
	}

	// A change whose clock is behind the level's last line happens at that
	// line's time, so the level's lines never go back in time.
	lv := Level{ItemID: itemA, LocationID: DefaultLocation, OnHand: 5, UpdatedAt: t0.Add(3 * time.Second), LastLedgerID: NewID(t0.Add(3 * time.Second))}
	m := newMoves("bob", t0, []Level{lv})
	e := m.move(0, 1, ReasonOther, "", "")
	if !e.At.Equal(lv.UpdatedAt) || e.ID <= lv.LastLedgerID || ms(e.ID) != ulid.Timestamp(lv.UpdatedAt) {
		t.Fatalf("line %+v after %s", e, lv.LastLedgerID)
	}
	// The same through Adjust: the adjustment is stamped with that time.
	st := stockState()
	l := st.Levels[LevelKey{itemA, locL3}]
	l.UpdatedAt, l.LastLedgerID = tNow.Add(time.Minute), NewID(tNow.Add(time.Minute))
	st.Levels[LevelKey{itemA, locL3}] = l
	c, adj, err := Adjust(AdjustmentInput{Reason: ReasonOther, Lines: []AdjustmentLine{line(itemA, DefaultLocation, 1), line(itemA, locL3, 1)}}, st, "bob", tNow)
	if err != nil || !adj.At.Equal(l.UpdatedAt) || c.Ledger[1].ID <= l.LastLedgerID || !c.Items[0].Next.UpdatedAt.Equal(l.UpdatedAt) {
		t.Fatalf("adjustment at %v, lines %+v, %v", adj.At, c.Ledger, err)
	}
	// Two lines of one change at two levels share its time.
	if !c.Ledger[0].At.Equal(c.Ledger[1].At) {
		t.Fatalf("lines at %v and %v", c.Ledger[0].At, c.Ledger[1].At)
	}
}

func TestLedgerIDBound(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 250_000_000, time.UTC)
	b := LedgerIDBound(t0)
	if !IsValidID(b) || LedgerIDBound(t0.Add(999*time.Microsecond)) != b || LedgerIDBound(t0.In(time.FixedZone("X", 3600))) != b {
		t.Fatalf("bound %s", b)
	}
	for _, at := range []time.Time{t0, t0.Add(-time.Millisecond), t0.Add(500 * time.Microsecond), t0.Add(-time.Hour)} {
		if id := NewID(at); id > b {
			t.Errorf("a line at %v (%s) is after the bound %s", at, id, b)
		}
		if id := nextLedgerID(at, NewID(at)); id > b {
			t.Errorf("a fallback line at %v (%s) is after the bound %s", at, id, b)
		}
	}
	for _, at := range []time.Time{t0.Add(time.Millisecond), t0.Add(time.Hour)} {
		if id := NewID(at); id <= b {
			t.Errorf("a line at %v (%s) is within the bound %s", at, id, b)
		}
	}
}

func TestLocationRules(t *testing.T) {
	def := DefaultLocationRecord(tRead)
	if def.ID != DefaultLocation || def.Code != DefaultLocationCode || def.Version != 1 {
		t.Fatalf("default = %+v", def)
	}
	_, err := DeleteLocation(def, "bob", "", tNow)
	wantErr(t, err, KindConflict, CodeLocationProtected)
	_, _, err = ApplyLocationPatch(def, LocationPatch{Code: ptr("MAIN")}, "bob", tNow)
	wantErr(t, err, KindConflict, CodeLocationProtected)
	renamed, ok, err := ApplyLocationPatch(def, LocationPatch{Name: ptr("Main"), Address: ptr("1 Dock St"), AddressSet: true, Code: ptr(DefaultLocationCode)}, "bob", tNow)
	if err != nil || !ok || renamed.Name != "Main" || renamed.Address != "1 Dock St" || renamed.Code != DefaultLocationCode || renamed.Version != 2 || renamed.UpdatedBy != "bob" {
		t.Fatalf("renamed default = %+v, %v %v", renamed, ok, err)
	}
	if _, ok, err := ApplyLocationPatch(renamed, LocationPatch{Name: ptr("Main")}, "bob", tNow); ok || err != nil {
		t.Fatalf("a patch that changes nothing: %v %v", ok, err)
	}
	cleared, ok, _ := ApplyLocationPatch(renamed, LocationPatch{AddressSet: true}, "bob", tNow)
	if !ok || cleared.Address != "" {
		t.Fatalf("cleared = %+v", cleared)
	}

	loc := NewLocation(LocationInput{Code: "RTM-DC1", Name: "Rotterdam"}, "alice", tRead)
	if !IsValidID(loc.ID) || loc.Version != 1 || loc.Address != "" || loc.StockedLevels != 0 {
		t.Fatalf("new = %+v", loc)
	}
	loc.StockedLevels = 2
	_, err = DeleteLocation(loc, "bob", "", tNow)
	wantErr(t, err, KindConflict, CodeLocationNotEmpty)
	loc.StockedLevels = 0
	del, err := DeleteLocation(loc, "bob", "closed", tNow)
	if err != nil || del.Deleted == nil || del.Deleted.Comment != "closed" || del.Deleted.By != "bob" || del.Version != 2 || loc.Deleted != nil {
		t.Fatalf("deleted = %+v, %v", del, err)
	}
	back := RestoreLocation(del, "carol", tNow.Add(time.Minute))
	if back.Deleted != nil || back.Version != 3 || back.UpdatedBy != "carol" {
		t.Fatalf("restored = %+v", back)
	}
	recoded, ok, err := ApplyLocationPatch(loc, LocationPatch{Code: ptr("RTM-DC2")}, "bob", tNow)
	if err != nil || !ok || recoded.Code != "RTM-DC2" {
		t.Fatalf("recoded = %+v, %v", recoded, err)
	}
}

func TestLocationValidation(t *testing.T) {
	for _, c := range []struct {
		in     LocationInput
		fields []string
	}{
		{LocationInput{Code: "AB", Name: "x"}, nil},
		{LocationInput{Code: "0-9", Name: "x", Address: ptr("a\tb")}, nil},
		{LocationInput{Code: "ABCDEFGHIJKLMNOP", Name: "x"}, nil},
		{LocationInput{Code: "ABCDEFGHIJKLMNOPQ", Name: "x"}, []string{"/code"}},
		{LocationInput{Code: "A", Name: "x"}, []string{"/code"}},
		{LocationInput{Code: "-AB", Name: "x"}, []string{"/code"}},
		{LocationInput{Code: "ab", Name: "x"}, []string{"/code"}},
		{LocationInput{Code: "A_B", Name: "x"}, []string{"/code"}},
		{LocationInput{Code: "A~B", Name: "x"}, []string{"/code"}},
		{LocationInput{Name: " "}, []string{"/code", "/name"}},
		{LocationInput{Code: "AB", Name: "x", Address: ptr(" ")}, []string{"/address"}},
		{LocationInput{Code: "AB", Name: "x", Address: ptr(strings.Repeat("a", 501))}, []string{"/address"}},
	} {
		if got := fieldsOf(c.in.Validate()); !slices.Equal(got, c.fields) {
			t.Errorf("%+v: fields %v, want %v", c.in, got, c.fields)
		}
	}
	p := LocationPatch{Code: ptr("x")}
	if got := fieldsOf(p.Validate()); !slices.Equal(got, []string{"/code"}) {
		t.Errorf("patch fields %v", got)
	}
	for id, want := range map[string]bool{DefaultLocation: true, locL1: true, "DEFAULT": false, "": false, "default2": false, locL1 + "0": false} {
		if IsValidLocationID(id) != want {
			t.Errorf("IsValidLocationID(%q) = %v", id, !want)
		}
	}
}

func TestStockInputValidation(t *testing.T) {
	lines := func(n int) []AdjustmentLine {
		out := make([]AdjustmentLine, n)
		for i := range out {
			out[i] = line(itemA, NewID(tNow), 1)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		in     interface{ Validate() error }
		fields []string
	}{
		{"adjustment", &AdjustmentInput{Reason: ReasonReceived, Lines: []AdjustmentLine{line(itemA, DefaultLocation, -1)}}, nil},
		{"adjustment 30 lines", &AdjustmentInput{Reason: ReasonReceived, Lines: lines(30)}, nil},
		{"adjustment 31 lines", &AdjustmentInput{Reason: ReasonReceived, Lines: lines(31)}, []string{"/lines"}},
		{"adjustment no lines", &AdjustmentInput{Reason: ReasonReceived}, []string{"/lines"}},
		{"adjustment by a written reason", &AdjustmentInput{Reason: ReasonTransferIn, Lines: lines(1)}, []string{"/reason"}},
		{"adjustment line faults", &AdjustmentInput{Reason: ReasonOther, Lines: []AdjustmentLine{
			{ItemID: "x", LocationID: "DEFAULT", Delta: 0}, line(itemA, DefaultLocation, MaxStockDelta+1)}},
			[]string{"/lines/0/itemId", "/lines/0/locationId", "/lines/0/delta", "/lines/1/delta"}},
		{"adjustment naming a pair twice", &AdjustmentInput{Reason: ReasonOther, Lines: []AdjustmentLine{
			line(itemA, DefaultLocation, 1), line(itemB, DefaultLocation, 1), line(itemA, DefaultLocation, 2)}}, nil},
		{"adjustment blank reference", &AdjustmentInput{Reason: ReasonOther, Reference: ptr(" "), Lines: lines(1)}, []string{"/reference"}},
		{"count", &CountInput{ItemID: itemA, LocationID: locL1, Counted: ptr[int64](0)}, nil},
		{"count without counted", &CountInput{ItemID: itemA, LocationID: locL1}, []string{"/counted"}},
		{"count negative", &CountInput{ItemID: itemA, LocationID: locL1, Counted: ptr[int64](-1), Expected: ptr[int64](-1)}, []string{"/counted", "/expected"}},
		{"transfer", &TransferInput{ItemID: itemA, FromLocationID: DefaultLocation, ToLocationID: locL1, Quantity: 1}, nil},
		{"transfer to itself", &TransferInput{ItemID: itemA, FromLocationID: locL1, ToLocationID: locL1, Quantity: 1}, []string{"/toLocationId"}},
		{"transfer of 0", &TransferInput{ItemID: itemA, FromLocationID: DefaultLocation, ToLocationID: locL1}, []string{"/quantity"}},
	} {
		if got := fieldsOf(c.in.Validate()); !slices.Equal(got, c.fields) {
			t.Errorf("%s: fields %v, want %v", c.name, got, c.fields)
		}
	}
	var dup *Error
	in := AdjustmentInput{Reason: ReasonOther, Lines: []AdjustmentLine{line(itemA, DefaultLocation, 1), line(itemA, DefaultLocation, 2)}}
	same := TransferInput{ItemID: itemA, FromLocationID: locL1, ToLocationID: locL1, Quantity: 1}
	if errors.As(same.Validate(), &dup); dup.Fields[0].Code != "same_location" {
		t.Errorf("same location = %+v", dup)
	}
	k := in.Keys()
	if !slices.Equal(k.Items, []string{itemA}) || len(k.Levels) != 1 || len(k.Locations) != 0 {
		t.Errorf("keys = %+v", k)
	}
	k = TransferInput{ItemID: itemA, FromLocationID: locL1, ToLocationID: DefaultLocation}.Keys()
	if !slices.Equal(k.Locations, []string{locL1}) || len(k.Levels) != 2 {
		t.Errorf("transfer keys = %+v (the default location is never read)", k)
	}
}

func TestLowStockIsAvailableBelowReorderPoint(t *testing.T) {
	for _, c := range []struct {
		qty, committed int64
		point          *int64
		deleted        bool
		want           bool
	}{
		{10, 9, ptr[int64](2), false, true}, // 1 available
		{10, 8, ptr[int64](2), false, false},
		{10, 9, ptr[int64](2), true, false}, // deleted
		{0, 0, ptr[int64](0), false, false},
		{0, 0, nil, false, false},
	} {
		it := Item{Quantity: c.qty, Committed: c.committed, ReorderPoint: c.point}
		if c.deleted {
			it.Deleted = &Deletion{}
		}
		if got := it.IsLowStock(); got != c.want || it.Available() != c.qty-c.committed {
			t.Errorf("%+v: low %v", c, got)
		}
	}
}

func TestStockCursorFormats(t *testing.T) {
	for _, f := range []*CursorFormat{LocationsCursor, DeletedLocationsCursor, LocationStockCursor, LocationLedgerCursor} {
		p, err := f.Decode(f.Example)
		if err != nil || f.Encode(p) != f.Example || len(p) != len(f.Patterns) {
			t.Errorf("%s: example %q decodes to %v, %v", f.Name, f.Example, p, err)
		}
	}
	if p, err := LocationsCursor.Decode("DEFAULT~default"); err != nil || p[1] != DefaultLocation {
		t.Errorf("the default location's position: %v %v", p, err)
	}
	for _, c := range []struct {
		f      *CursorFormat
		cursor string
	}{
		{LocationsCursor, "rtm~" + locL1},
		{LocationStockCursor, DefaultLocation},
		{LocationLedgerCursor, locL1},
		{DeletedLocationsCursor, LocationsCursor.Example},
	} {
		if _, err := c.f.Decode(c.cursor); CodeOf(err) != CodeInvalidCursor {
			t.Errorf("%s.Decode(%q) = %v", c.f.Name, c.cursor, err)
		}
	}
}

func TestLocationGuards(t *testing.T) {
	stocked := &Level{ItemID: "I", LocationID: "A", OnHand: 2, LastLedgerID: "x"}
	empty := &Level{ItemID: "I", LocationID: "A", LastLedgerID: "x"}
	at := func(loc string, old *Level, onHand, incoming int64) LevelChange {
		var o *Level
		if old != nil {
			c := *old
			c.LocationID = loc
			o = &c
		}
		return LevelChange{Old: o, Next: Level{ItemID: "I", LocationID: loc, OnHand: onHand, Incoming: incoming}}
	}
	for _, c := range []struct {
		name   string
		levels []LevelChange
		want   []LocationGuard
	}{
		{"a new stocked level", []LevelChange{at("A", nil, 3, 0)}, []LocationGuard{{"A", 1, true}}},
		{"stocked stays stocked", []LevelChange{at("A", stocked, 5, 0)}, nil},
		{"stocked becomes empty", []LevelChange{at("A", stocked, 0, 0)}, []LocationGuard{{"A", -1, false}}},
		{"empty stays empty", []LevelChange{at("A", empty, 0, 0)}, []LocationGuard{{"A", 0, true}}},
		{"a new empty level", []LevelChange{at("A", nil, 0, 0)}, []LocationGuard{{"A", 0, true}}},
		{"incoming only is stocked", []LevelChange{at("A", empty, 0, 4)}, []LocationGuard{{"A", 1, true}}},
		{"the default is never counted", []LevelChange{at(DefaultLocation, nil, 3, 0), at(DefaultLocation, stocked, 0, 0)}, nil},
		{"one emptied, one filled at one location", []LevelChange{at("A", stocked, 0, 0), at("A", nil, 1, 0)}, []LocationGuard{{"A", 0, true}}},
		{"two locations, in order", []LevelChange{at("B", stocked, 0, 0), at("A", nil, 1, 0)}, []LocationGuard{{"B", -1, false}, {"A", 1, true}}},
	} {
		if got := LocationGuards(c.levels); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
