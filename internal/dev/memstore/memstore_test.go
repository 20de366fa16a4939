package memstore_test

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
	"github.com/oklog/ulid/v2"
)

var _ usecase.Store = (*memstore.Store)(nil)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

func mustSave(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantStale(t *testing.T, s *memstore.Store, err error, saves int) {
	t.Helper()
	if !errors.Is(err, inventory.ErrStale) {
		t.Fatalf("error %v, want ErrStale", err)
	}
	if s.Saves() != saves {
		t.Fatalf("%d saves, want %d: a refused change wrote", s.Saves(), saves)
	}
}

func newLocation(t *testing.T, s *memstore.Store, code string) inventory.Location {
	t.Helper()
	loc := inventory.NewLocation(inventory.LocationInput{Code: code, Name: code}, "alice", t0)
	mustSave(t, s.SaveLocation(ctx, inventory.LocationChange{Next: loc}))
	return loc
}

func newItem(t *testing.T, s *memstore.Store, sku, loc string, qty int64) inventory.ItemChange {
	t.Helper()
	c := inventory.NewItem(inventory.CreateInput{SKU: sku, Name: sku, Quantity: qty, LocationID: loc}, "alice", t0)
	mustSave(t, s.SaveItem(ctx, c))
	return c
}

func adjust(t *testing.T, s *memstore.Store, lines ...inventory.AdjustmentLine) (inventory.StockChange, error) {
	t.Helper()
	in := inventory.AdjustmentInput{Reason: inventory.ReasonOther, Lines: lines}
	st, err := s.ReadStock(ctx, in.Keys())
	mustSave(t, err)
	c, _, err := inventory.Adjust(in, st, "bob", t0.Add(time.Minute))
	mustSave(t, err)
	return c, s.SaveStock(ctx, c)
}

func TestSeededDefaultLocation(t *testing.T) {
	s := memstore.New()
	def, err := s.GetLocation(ctx, inventory.DefaultLocation)
	if err != nil || def.Code != inventory.DefaultLocationCode || s.Saves() != 0 {
		t.Fatalf("default = %+v, %v", def, err)
	}
	// Its code is taken, as a seeded deployment's is.
	err = s.SaveLocation(ctx, inventory.LocationChange{Next: inventory.NewLocation(inventory.LocationInput{Code: "DEFAULT", Name: "x"}, "a", t0)})
	if inventory.CodeOf(err) != inventory.CodeLocationCodeConflict {
		t.Fatalf("error %v", err)
	}
	bare := memstore.NewUnseeded()
	if _, err := bare.GetLocation(ctx, inventory.DefaultLocation); inventory.CodeOf(err) != inventory.CodeLocationNotFound {
		t.Fatalf("unseeded: %v", err)
	}
	svc := &usecase.Service{Store: bare, Now: func() time.Time { return t0 }}
	if err := svc.SeedDefaultLocation(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.SeedDefaultLocation(ctx); err != nil || bare.Saves() != 1 {
		t.Fatalf("seeding twice: %v, %d saves", err, bare.Saves())
	}
}

func TestLevelConditions(t *testing.T) {
	s := memstore.New()
	item := newItem(t, s, "A", "", 5)
	id := item.Next.ID
	lv, ok := s.Stock(id, inventory.DefaultLocation)
	if !ok || lv.OnHand != 5 || lv.LastLedgerID != item.Ledger[0].ID {
		t.Fatalf("level %+v %v", lv, ok)
	}
	// Computed on the level as read; then another change commits first.
	in := inventory.AdjustmentInput{Reason: inventory.ReasonOther, Lines: []inventory.AdjustmentLine{{ItemID: id, LocationID: inventory.DefaultLocation, Delta: 1}}}
	st, _ := s.ReadStock(ctx, in.Keys())
	late, _, err := inventory.Adjust(in, st, "bob", t0.Add(time.Minute))
	mustSave(t, err)
	if _, err := adjust(t, s, in.Lines...); err != nil {
		t.Fatal(err)
	}
	// Stale on the item's version and the level's last line; with the item
	// current, the level alone makes it stale.
	wantStale(t, s, s.SaveStock(ctx, late), 2)
	cur, _ := s.GetItem(ctx, id)
	late.Items[0].Old = cur
	late.Items[0].Next.Version = cur.Version + 1
	wantStale(t, s, s.SaveStock(ctx, late), 2)
	if lv, _ := s.Stock(id, inventory.DefaultLocation); lv.OnHand != 6 || len(s.Ledger(id)) != 2 {
		t.Fatalf("level %+v after a refused change", lv)
	}
	// A level "created" where one exists is stale too.
	created := late
	created.Items = nil
	created.Levels = []inventory.LevelChange{{Next: late.Levels[0].Next}}
	wantStale(t, s, s.SaveStock(ctx, created), 2)
	// And a ledger id an item already has.
	dup := newItem(t, s, "B", "", 0)
	again := dup
	again.Old, again.Next.Version = &dup.Next, 2
	again.Levels = []inventory.LevelChange{{Old: &dup.Levels[0].Next, Next: dup.Levels[0].Next}}
	again.Activity = nil
	wantStale(t, s, s.SaveItem(ctx, again), 3)
	// Two writes of one record in one change are refused outright.
	twice := inventory.StockChange{Levels: []inventory.LevelChange{late.Levels[0], late.Levels[0]}}
	if err := s.SaveStock(ctx, twice); err == nil || errors.Is(err, inventory.ErrStale) {
		t.Fatalf("two writes of a level: %v", err)
	}
}

func TestLocationGuards(t *testing.T) {
	s := memstore.New()
	loc := newLocation(t, s, "L1")
	stockedLevels := func() int64 {
		l, err := s.GetLocation(ctx, loc.ID)
		mustSave(t, err)
		return l.StockedLevels
	}
	a := newItem(t, s, "A", loc.ID, 5)
	newItem(t, s, "B", loc.ID, 0)
	if n := stockedLevels(); n != 1 {
		t.Fatalf("stocked levels %d, want 1 (an empty level is not stocked)", n)
	}
	// The count changes without a new version: a delete read before fails.
	read, _ := s.GetLocation(ctx, loc.ID)
	c := newItem(t, s, "C", loc.ID, 2)
	if n := stockedLevels(); n != 2 {
		t.Fatalf("stocked levels %d", n)
	}
	read.StockedLevels = 0
	del, err := inventory.DeleteLocation(read, "bob", "", t0)
	mustSave(t, err)
	saves := s.Saves()
	wantStale(t, s, s.SaveLocation(ctx, inventory.LocationChange{Old: &read, Next: del}), saves)

	// Emptying the levels brings the count back to 0.
	_, err = adjust(t, s, inventory.AdjustmentLine{ItemID: a.Next.ID, LocationID: loc.ID, Delta: -5},
		inventory.AdjustmentLine{ItemID: c.Next.ID, LocationID: loc.ID, Delta: -2})
	mustSave(t, err)
	if n := stockedLevels(); n != 0 {
		t.Fatalf("stocked levels %d after emptying", n)
	}
	read, _ = s.GetLocation(ctx, loc.ID)
	del, err = inventory.DeleteLocation(read, "bob", "", t0)
	mustSave(t, err)
	mustSave(t, s.SaveLocation(ctx, inventory.LocationChange{Old: &read, Next: del}))

	// At a deleted location (read while it was live): a level may not
	// become stocked, nor be created; and the change is all or nothing.
	other := newItem(t, s, "D", "", 0).Next.ID
	for name, line := range map[string]inventory.AdjustmentLine{
		"becomes stocked": {ItemID: a.Next.ID, LocationID: loc.ID, Delta: 1},
		"new level":       {ItemID: other, LocationID: loc.ID, Delta: 1},
	} {
		saves := s.Saves()
		in := inventory.AdjustmentInput{Reason: inventory.ReasonOther, Lines: []inventory.AdjustmentLine{
			{ItemID: a.Next.ID, LocationID: inventory.DefaultLocation, Delta: 1}, line}}
		st, _ := s.ReadStock(ctx, in.Keys())
		st.Locations[loc.ID] = loc
		ch, _, err := inventory.Adjust(in, st, "bob", t0.Add(time.Hour))
		mustSave(t, err)
		if err := s.SaveStock(ctx, ch); !errors.Is(err, inventory.ErrStale) || s.Saves() != saves {
			t.Fatalf("%s: %v", name, err)
		}
		if lv, ok := s.Stock(a.Next.ID, inventory.DefaultLocation); ok {
			t.Fatalf("%s: another line of the change was written: %+v", name, lv)
		}
	}
	// An empty level written again (a count of 0) needs the location live.
	in := inventory.CountInput{ItemID: a.Next.ID, LocationID: loc.ID, Counted: new(int64)}
	st, _ := s.ReadStock(ctx, in.Keys())
	st.Locations[loc.ID] = loc
	ch, _, err := inventory.CountStock(in, st, "bob", t0.Add(time.Hour))
	mustSave(t, err)
	wantStale(t, s, s.SaveStock(ctx, ch), s.Saves())
	// Unknown locations are never written to.
	ghost := inventory.NewID(t0)
	in = inventory.CountInput{ItemID: a.Next.ID, LocationID: ghost, Counted: new(int64)}
	st, _ = s.ReadStock(ctx, in.Keys())
	st.Locations[ghost] = inventory.Location{ID: ghost}
	ch, _, err = inventory.CountStock(in, st, "bob", t0.Add(time.Hour))
	mustSave(t, err)
	wantStale(t, s, s.SaveStock(ctx, ch), s.Saves())
}

func TestLocationCodesAndVersions(t *testing.T) {
	s := memstore.New()
	l1 := newLocation(t, s, "L1")
	dup := inventory.NewLocation(inventory.LocationInput{Code: "L1", Name: "again"}, "alice", t0)
	if err := s.SaveLocation(ctx, inventory.LocationChange{Next: dup}); inventory.CodeOf(err) != inventory.CodeLocationCodeConflict {
		t.Fatalf("error %v", err)
	}
	l2 := newLocation(t, s, "L2")
	recode, _, _ := inventory.ApplyLocationPatch(l2, inventory.LocationPatch{Code: &l1.Code}, "bob", t0)
	if err := s.SaveLocation(ctx, inventory.LocationChange{Old: &l2, Next: recode}); inventory.CodeOf(err) != inventory.CodeLocationCodeConflict {
		t.Fatalf("recode onto a taken code: %v", err)
	}
	del, _ := inventory.DeleteLocation(l1, "bob", "", t0)
	mustSave(t, s.SaveLocation(ctx, inventory.LocationChange{Old: &l1, Next: del}))
	wantStale(t, s, s.SaveLocation(ctx, inventory.LocationChange{Old: &l1, Next: del}), s.Saves())
	mustSave(t, s.SaveLocation(ctx, inventory.LocationChange{Old: &l2, Next: recode}))
	back := inventory.RestoreLocation(del, "bob", t0)
	if err := s.SaveLocation(ctx, inventory.LocationChange{Old: &del, Next: back}); inventory.CodeOf(err) != inventory.CodeLocationCodeConflict {
		t.Fatalf("restore onto a taken code: %v", err)
	}
	live, next, err := s.ListLocations(ctx, inventory.Range{Limit: 10})
	if err != nil || next != nil || len(live) != 2 || live[0].ID != inventory.DefaultLocation || live[1].ID != l2.ID || live[1].Code != "L1" {
		t.Fatalf("live = %+v %v %v", live, next, err)
	}
	dead, _, _ := s.ListDeletedLocations(ctx, inventory.Range{Limit: 10})
	if len(dead) != 1 || dead[0].ID != l1.ID {
		t.Fatalf("deleted = %+v", dead)
	}
}

func TestIdempotencyRecords(t *testing.T) {
	s := memstore.New()
	rec := &inventory.IdempotencyRecord{Scope: "a#k", Operation: "X", Result: []byte(`1`), CreatedAt: t0, ExpiresAt: t0.Add(inventory.IdempotencyTTL)}
	c := inventory.NewItem(inventory.CreateInput{SKU: "A", Name: "A"}, "a", t0)
	c.Idempotency = rec
	mustSave(t, s.SaveItem(ctx, c))
	other := inventory.NewItem(inventory.CreateInput{SKU: "B", Name: "B"}, "a", t0)
	r2 := *rec
	r2.CreatedAt = t0.Add(time.Hour)
	other.Idempotency = &r2
	if err := s.SaveItem(ctx, other); !errors.Is(err, inventory.ErrIdempotencyRace) || s.Saves() != 1 {
		t.Fatalf("error %v", err)
	}
	if _, err := s.GetItem(ctx, other.Next.ID); err == nil {
		t.Fatal("the item of a refused change was written")
	}
	got, _ := s.GetIdempotency(ctx, "a#k", t0.Add(time.Hour))
	if got == nil || string(got.Result) != "1" {
		t.Fatalf("record %+v", got)
	}
	r2.CreatedAt = t0.Add(inventory.IdempotencyTTL + time.Second)
	r2.ExpiresAt = r2.CreatedAt.Add(inventory.IdempotencyTTL)
	mustSave(t, s.SaveItem(ctx, other))
	if got, _ := s.GetIdempotency(ctx, "a#k", t0.Add(inventory.IdempotencyTTL+2*time.Second)); got == nil || !got.CreatedAt.Equal(r2.CreatedAt) {
		t.Fatalf("an expired record is not replaced: %+v", got)
	}
}

func TestLogsStartAfterAnyPosition(t *testing.T) {
	s := memstore.New()
	c := newItem(t, s, "A", "", 1)
	id := c.Next.ID
	var all []string
	for i := range 6 {
		ch, err := adjust(t, s, inventory.AdjustmentLine{ItemID: id, LocationID: inventory.DefaultLocation, Delta: int64(i + 1)})
		mustSave(t, err)
		all = append(all, ch.Ledger[0].ID)
	}
	all = append([]string{c.Ledger[0].ID}, all...)
	slices.Reverse(all) // newest first
	ids := func(es []inventory.LedgerEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	// From an id of its own, and from one between two of its ids.
	got, next, _ := s.ListLedger(ctx, id, inventory.Range{Limit: 2, After: inventory.Position{all[1]}})
	if !slices.Equal(ids(got), all[2:4]) || next[0] != all[3] {
		t.Fatalf("after %s: %v %v", all[1], ids(got), next)
	}
	between := midpoint(t, all[3], all[2])
	got, _, _ = s.ListLedger(ctx, id, inventory.Range{Limit: 3, After: inventory.Position{between}})
	if !slices.Equal(ids(got), all[3:6]) {
		t.Fatalf("after %s: %v, want %v", between, ids(got), all[3:6])
	}
	got, next, _ = s.ListLedger(ctx, id, inventory.Range{Limit: 10, After: inventory.Position{all[4]}})
	if !slices.Equal(ids(got), all[5:]) || next != nil {
		t.Fatalf("last page %v %v", ids(got), next)
	}
	// The level's ledger and the location's list the same lines.
	lv, next, _ := s.ListLevelLedger(ctx, id, inventory.DefaultLocation, inventory.Range{Limit: 3})
	if !slices.Equal(ids(lv), all[:3]) || next[0] != all[2] {
		t.Fatalf("level ledger %v %v", ids(lv), next)
	}
	at, next, _ := s.ListLocationLedger(ctx, inventory.DefaultLocation, inventory.Range{Limit: 3, After: next2(next, id)})
	if !slices.Equal(ids(at), all[3:6]) || next[0] != all[5] || next[1] != id {
		t.Fatalf("location ledger %v %v", ids(at), next)
	}
	// The newest line at or before a bound.
	e, _ := s.LastLedgerEntry(ctx, id, inventory.DefaultLocation, all[3])
	if e == nil || e.ID != all[3] {
		t.Fatalf("last entry %+v", e)
	}
	if e, _ := s.LastLedgerEntry(ctx, id, inventory.DefaultLocation, "0"); e != nil {
		t.Fatalf("last entry before everything %+v", e)
	}
}

// midpoint returns a ULID strictly between a and b.
func midpoint(t *testing.T, a, b string) string {
	t.Helper()
	ua, ub := ulid.MustParseStrict(a), ulid.MustParseStrict(b)
	m := new(big.Int).Add(new(big.Int).SetBytes(ua[:]), new(big.Int).SetBytes(ub[:]))
	m.Rsh(m, 1)
	var u ulid.ULID
	m.FillBytes(u[:])
	if s := u.String(); a < s && s < b {
		return s
	}
	t.Fatalf("no ULID between %s and %s", a, b)
	return ""
}

func next2(p inventory.Position, itemID string) inventory.Position {
	return inventory.Position{p[0], itemID}
}

func TestLowStockAndLevels(t *testing.T) {
	s := memstore.New()
	loc := newLocation(t, s, "L1")
	point := int64(3)
	low := inventory.NewItem(inventory.CreateInput{SKU: "B-LOW", Name: "x", Quantity: 2, ReorderPoint: &point}, "a", t0)
	ok := inventory.NewItem(inventory.CreateInput{SKU: "A-OK", Name: "x", Quantity: 3, ReorderPoint: &point}, "a", t0)
	low2 := inventory.NewItem(inventory.CreateInput{SKU: "A-LOW", Name: "x", ReorderPoint: &point, LocationID: loc.ID}, "a", t0)
	for _, c := range []inventory.ItemChange{low, ok, low2} {
		mustSave(t, s.SaveItem(ctx, c))
	}
	items, next, _ := s.ListLowStock(ctx, inventory.Range{Limit: 1})
	if len(items) != 1 || items[0].SKU != "A-LOW" || next == nil {
		t.Fatalf("low stock %+v", items)
	}
	items, _, _ = s.ListLowStock(ctx, inventory.Range{Limit: 5, After: next})
	if len(items) != 1 || items[0].SKU != "B-LOW" {
		t.Fatalf("low stock page 2 %+v", items)
	}
	levels, next, _ := s.ListLocationLevels(ctx, inventory.DefaultLocation, inventory.Range{Limit: 5})
	if len(levels) != 2 || levels[0].ItemID >= levels[1].ItemID || next != nil {
		t.Fatalf("levels at default %+v", levels)
	}
	all, _ := s.ListLevels(ctx, low2.Next.ID)
	if len(all) != 1 || all[0].LocationID != loc.ID {
		t.Fatalf("levels of an item %+v", all)
	}
	got, _ := s.GetItems(ctx, []string{low.Next.ID, "01JDQ3ZK7X9V4M2N8P6R5T3W1D"})
	if len(got) != 1 || got[low.Next.ID].SKU != "B-LOW" {
		t.Fatalf("items %+v", got)
	}
}
