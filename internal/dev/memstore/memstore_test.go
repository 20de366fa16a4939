package memstore_test

import (
	"context"
	"errors"
	"maps"
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
	lowStock := inventory.ItemSource{Sort: inventory.SortSKU, LowStock: true}
	items, next, _ := s.ListItemSource(ctx, lowStock, inventory.Range{Limit: 1})
	if len(items) != 1 || items[0].SKU != "A-LOW" || !slices.Equal(next, inventory.Position{"A-LOW", low2.Next.ID}) {
		t.Fatalf("low stock %+v %v", items, next)
	}
	items, next, _ = s.ListItemSource(ctx, lowStock, inventory.Range{Limit: 5, After: next})
	if len(items) != 1 || items[0].SKU != "B-LOW" || next != nil {
		t.Fatalf("low stock page 2 %+v %v", items, next)
	}
	// A location's levels are in the SKU order of their items, and a new
	// SKU rewrites the item's levels, which moves them.
	levels, next, _ := s.ListLocationLevels(ctx, inventory.DefaultLocation, inventory.Range{Limit: 1})
	if len(levels) != 1 || levels[0].SKU != "A-OK" || !slices.Equal(next, inventory.Position{"A-OK", ok.Next.ID}) {
		t.Fatalf("levels at default %+v %v", levels, next)
	}
	levels, next, _ = s.ListLocationLevels(ctx, inventory.DefaultLocation, inventory.Range{Limit: 5, After: next})
	if len(levels) != 1 || levels[0].ItemID != low.Next.ID || next != nil {
		t.Fatalf("levels at default, page 2 %+v %v", levels, next)
	}
	cur, _ := s.GetItem(ctx, ok.Next.ID)
	all, _ := s.ListLevels(ctx, cur.ID)
	resku, _, err := inventory.ApplyPatch(cur, inventory.Patch{SKU: ptr("C-OK")}, all, "a", t0)
	mustSave(t, err)
	mustSave(t, s.SaveItem(ctx, resku))
	levels, _, _ = s.ListLocationLevels(ctx, inventory.DefaultLocation, inventory.Range{Limit: 5})
	if len(levels) != 2 || levels[0].SKU != "B-LOW" || levels[1].SKU != "C-OK" || levels[1].ItemID != ok.Next.ID {
		t.Fatalf("levels at default after a new SKU %+v", levels)
	}
	all, _ = s.ListLevels(ctx, low2.Next.ID)
	if len(all) != 1 || all[0].LocationID != loc.ID {
		t.Fatalf("levels of an item %+v", all)
	}
	got, _ := s.GetItems(ctx, []string{low.Next.ID, "01JDQ3ZK7X9V4M2N8P6R5T3W1D"})
	if len(got) != 1 || got[low.Next.ID].SKU != "B-LOW" {
		t.Fatalf("items %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

func newGroup(t *testing.T, s *memstore.Store, name string) inventory.Group {
	t.Helper()
	g := inventory.NewGroup(inventory.GroupInput{Name: name}, "alice", t0)
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Next: g}))
	return g
}

func getGroup(t *testing.T, s *memstore.Store, id string) inventory.Group {
	t.Helper()
	g, err := s.GetGroup(ctx, id)
	mustSave(t, err)
	return g
}

func getItem(t *testing.T, s *memstore.Store, id string) inventory.Item {
	t.Helper()
	it, err := s.GetItem(ctx, id)
	mustSave(t, err)
	return it
}

// membership returns the change that makes item id a member of group gid
// (or not), on the item as stored.
func membership(t *testing.T, s *memstore.Store, id, gid string, member bool) inventory.ItemChange {
	t.Helper()
	c, ok, err := inventory.SetMembership(getItem(t, s, id), gid, member, "bob", t0.Add(time.Hour))
	if err != nil || !ok {
		t.Fatalf("membership of %s in %s: %v %v", id, gid, ok, err)
	}
	return c
}

func TestGroupNames(t *testing.T) {
	s := memstore.New()
	g1 := newGroup(t, s, "Spring Sale")
	conflict := func(what string, err error) {
		t.Helper()
		if inventory.CodeOf(err) != inventory.CodeGroupNameConflict {
			t.Fatalf("%s: error %v, want group_name_conflict", what, err)
		}
	}
	// Names clash without regard to case, accents, spacing or punctuation.
	same := inventory.NewGroup(inventory.GroupInput{Name: "spring-sâle"}, "bob", t0)
	saves := s.Saves()
	conflict("create", s.SaveGroup(ctx, inventory.GroupChange{Next: same}))
	g2 := newGroup(t, s, "Autumn")
	renamed, _ := inventory.ApplyGroupPatch(g2, inventory.GroupPatch{Name: ptr("SPRING  sale!")}, "bob", t0)
	conflict("rename", s.SaveGroup(ctx, inventory.GroupChange{Old: &g2, Next: renamed}))
	if s.Saves() != saves+1 {
		t.Fatalf("%d saves, want %d: a refused change wrote", s.Saves(), saves+1)
	}
	// A rename within one name key keeps the group's marker.
	recased, _ := inventory.ApplyGroupPatch(g1, inventory.GroupPatch{Name: ptr("SPRING sale")}, "bob", t0)
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Old: &g1, Next: recased}))
	wantStale(t, s, s.SaveGroup(ctx, inventory.GroupChange{Old: &g1, Next: recased}), s.Saves())
	g1 = recased
	// A delete releases the name; a restore takes it again, unless another
	// live group has taken it meanwhile.
	del := inventory.DeleteGroup(g1, "bob", "over", t0.Add(time.Minute))
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Old: &g1, Next: del}))
	g3 := inventory.NewGroup(inventory.GroupInput{Name: "spring-sâle"}, "bob", t0)
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Next: g3}))
	back := inventory.RestoreGroup(del, "bob", t0.Add(2*time.Minute))
	conflict("restore", s.SaveGroup(ctx, inventory.GroupChange{Old: &del, Next: back}))
	if got := getGroup(t, s, g1.ID); got.Deleted == nil || got.Version != del.Version {
		t.Fatalf("a refused restore wrote: %+v", got)
	}
	del3 := inventory.DeleteGroup(g3, "bob", "", t0.Add(3*time.Minute))
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Old: &g3, Next: del3}))
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Old: &del, Next: back}))

	// Lists: live groups by name key, deleted ones newest deletion first.
	live, next, err := s.ListGroups(ctx, inventory.Range{Limit: 1})
	if err != nil || len(live) != 1 || live[0].ID != g2.ID || !slices.Equal(next, inventory.Position{"autumn", g2.ID}) {
		t.Fatalf("groups %+v %v %v", live, next, err)
	}
	live, next, _ = s.ListGroups(ctx, inventory.Range{Limit: 5, After: next})
	if len(live) != 1 || live[0].ID != g1.ID || live[0].Name != "SPRING sale" || next != nil {
		t.Fatalf("groups, page 2 %+v %v", live, next)
	}
	dead, _, _ := s.ListDeletedGroups(ctx, inventory.Range{Limit: 5})
	if len(dead) != 1 || dead[0].ID != g3.ID {
		t.Fatalf("deleted groups %+v", dead)
	}
	got, _ := s.GetGroups(ctx, []string{g1.ID, g3.ID, inventory.NewID(t0)})
	if len(got) != 2 || got[g3.ID].Deleted == nil || got[g1.ID].Deleted != nil {
		t.Fatalf("GetGroups %+v", got)
	}
	if _, err := s.GetGroup(ctx, inventory.NewID(t0)); inventory.CodeOf(err) != inventory.CodeGroupNotFound {
		t.Fatalf("missing group: %v", err)
	}
	// A group's idempotency record is checked first.
	rec := &inventory.IdempotencyRecord{Scope: "a#g", CreatedAt: t0, ExpiresAt: t0.Add(inventory.IdempotencyTTL)}
	g4 := inventory.NewGroup(inventory.GroupInput{Name: "Winter"}, "alice", t0)
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Next: g4, Idempotency: rec}))
	g5 := inventory.NewGroup(inventory.GroupInput{Name: "Winter"}, "alice", t0)
	if err := s.SaveGroup(ctx, inventory.GroupChange{Next: g5, Idempotency: rec}); !errors.Is(err, inventory.ErrIdempotencyRace) {
		t.Fatalf("a recorded scope: %v", err)
	}
}

func TestGroupMemberCounts(t *testing.T) {
	s := memstore.New()
	g := newGroup(t, s, "Sale")
	a := newItem(t, s, "A", "", 1).Next.ID
	b := newItem(t, s, "B", "", 1).Next.ID
	count := func() int64 { return getGroup(t, s, g.ID).MemberCount }
	for _, step := range []struct {
		name  string
		do    func() inventory.ItemChange
		count int64
	}{
		{"join a", func() inventory.ItemChange { return membership(t, s, a, g.ID, true) }, 1},
		{"join b", func() inventory.ItemChange { return membership(t, s, b, g.ID, true) }, 2},
		{"delete a", func() inventory.ItemChange { return inventory.Delete(getItem(t, s, a), "bob", "", t0) }, 1},
		{"patch deleted a's tags", func() inventory.ItemChange {
			c, _, _ := inventory.ApplyPatch(getItem(t, s, a), inventory.Patch{Tags: &[]string{"x"}}, nil, "bob", t0)
			return c
		}, 1},
		{"restore a", func() inventory.ItemChange { return inventory.Restore(getItem(t, s, a), "bob", t0) }, 2},
		{"leave b", func() inventory.ItemChange { return membership(t, s, b, g.ID, false) }, 1},
	} {
		mustSave(t, s.SaveItem(ctx, step.do()))
		if n := count(); n != step.count {
			t.Fatalf("after %s: %d members, want %d", step.name, n, step.count)
		}
	}
	// The count changes without a new version of the group: a change of the
	// group read before a membership change is stale.
	read := getGroup(t, s, g.ID)
	mustSave(t, s.SaveItem(ctx, membership(t, s, b, g.ID, true)))
	renamed, _ := inventory.ApplyGroupPatch(read, inventory.GroupPatch{Name: ptr("Big sale")}, "bob", t0)
	wantStale(t, s, s.SaveGroup(ctx, inventory.GroupChange{Old: &read, Next: renamed}), s.Saves())
	if got := getGroup(t, s, g.ID); got.MemberCount != 2 || got.Name != "Sale" {
		t.Fatalf("group %+v", got)
	}
	// A deleted group's count still follows its members, so that a restore
	// brings it back exact; but a membership change needs it live.
	cur := getGroup(t, s, g.ID)
	del := inventory.DeleteGroup(cur, "bob", "", t0)
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Old: &cur, Next: del}))
	mustSave(t, s.SaveItem(ctx, inventory.Delete(getItem(t, s, a), "bob", "", t0)))
	if n := count(); n != 1 {
		t.Fatalf("deleted group: %d members, want 1", n)
	}
	wantStale(t, s, s.SaveItem(ctx, membership(t, s, b, g.ID, false)), s.Saves())
	// The delete's record is stale now (its count is): restore the group
	// as it is.
	wantStale(t, s, s.SaveGroup(ctx, inventory.GroupChange{Old: &del, Next: inventory.RestoreGroup(del, "bob", t0)}), s.Saves())
	del = getGroup(t, s, g.ID)
	back := inventory.RestoreGroup(del, "bob", t0)
	mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Old: &del, Next: back}))
	mustSave(t, s.SaveItem(ctx, inventory.Restore(getItem(t, s, a), "bob", t0)))
	if n := count(); n != 2 {
		t.Fatalf("restored: %d members, want 2", n)
	}
	// A membership of a group that does not exist counts nothing (and,
	// without LiveGroup, is not refused); one with LiveGroup is stale.
	ghost := inventory.NewID(t0)
	c := membership(t, s, b, ghost, true)
	wantStale(t, s, s.SaveItem(ctx, c), s.Saves())
	c.LiveGroup = ""
	mustSave(t, s.SaveItem(ctx, c))
	if _, err := s.GetGroup(ctx, ghost); inventory.CodeOf(err) != inventory.CodeGroupNotFound {
		t.Fatalf("a count made a group: %v", err)
	}
}

func tagCounts(t *testing.T, s *memstore.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	tags, next, err := s.ListTags(ctx, inventory.Range{Limit: 100})
	if err != nil || next != nil {
		t.Fatalf("tags %v %v", next, err)
	}
	for _, tc := range tags {
		if tc.Count <= 0 {
			t.Fatalf("tag %q with count %d listed", tc.Tag, tc.Count)
		}
		out[tc.Tag] = tc.Count
	}
	return out
}

func TestTagCounts(t *testing.T) {
	s := memstore.New()
	create := func(sku string, tags ...string) string {
		c := inventory.NewItem(inventory.CreateInput{SKU: sku, Name: sku, Tags: tags}, "alice", t0)
		mustSave(t, s.SaveItem(ctx, c))
		return c.Next.ID
	}
	a := create("A", "x", "y")
	b := create("B", "y")
	retag := func(id string, tags ...string) inventory.ItemChange {
		c, _, err := inventory.ApplyPatch(getItem(t, s, id), inventory.Patch{Tags: &tags}, nil, "bob", t0)
		mustSave(t, err)
		return c
	}
	for _, step := range []struct {
		name string
		c    func() inventory.ItemChange
		want map[string]int64
	}{
		{"created", nil, map[string]int64{"x": 1, "y": 2}},
		{"a retagged", func() inventory.ItemChange { return retag(a, "y", "z") }, map[string]int64{"y": 2, "z": 1}},
		{"b deleted", func() inventory.ItemChange { return inventory.Delete(getItem(t, s, b), "bob", "", t0) }, map[string]int64{"y": 1, "z": 1}},
		{"deleted b retagged", func() inventory.ItemChange { return retag(b, "q") }, map[string]int64{"y": 1, "z": 1}},
		{"b restored", func() inventory.ItemChange { return inventory.Restore(getItem(t, s, b), "bob", t0) }, map[string]int64{"q": 1, "y": 1, "z": 1}},
		{"a untagged", func() inventory.ItemChange { return retag(a) }, map[string]int64{"q": 1}},
	} {
		if step.c != nil {
			mustSave(t, s.SaveItem(ctx, step.c()))
		}
		if got := tagCounts(t, s); !maps.Equal(got, step.want) {
			t.Fatalf("%s: tags %v, want %v", step.name, got, step.want)
		}
	}
	// In byte order of the tag, from a position that is the raw tag.
	create("C", "Zeta", "q", "a~b")
	tags, next, _ := s.ListTags(ctx, inventory.Range{Limit: 2})
	if len(tags) != 2 || tags[0].Tag != "Zeta" || tags[1].Tag != "a~b" || !slices.Equal(next, inventory.Position{"a~b"}) {
		t.Fatalf("tags %+v %v", tags, next)
	}
	tags, next, _ = s.ListTags(ctx, inventory.Range{Limit: 2, After: next})
	if len(tags) != 1 || tags[0] != (inventory.TagCount{Tag: "q", Count: 2}) || next != nil {
		t.Fatalf("tags, page 2 %+v %v", tags, next)
	}
	// A refused change counts nothing.
	stale := retag(a, "new")
	mustSave(t, s.SaveItem(ctx, retag(a, "other")))
	wantStale(t, s, s.SaveItem(ctx, stale), s.Saves())
	if got := tagCounts(t, s); got["new"] != 0 || got["other"] != 1 {
		t.Fatalf("tags after a stale change %v", got)
	}
}

func TestSaveItemsAllOrNothing(t *testing.T) {
	var ids []string
	setup := func() (*memstore.Store, inventory.Group, []inventory.ItemChange) {
		s := memstore.New()
		g := newGroup(t, s, "Sale")
		ids = nil
		var changes []inventory.ItemChange
		for _, sku := range []string{"A", "B", "C"} {
			id := newItem(t, s, sku, "", 1).Next.ID
			ids = append(ids, id)
			changes = append(changes, membership(t, s, id, g.ID, true))
		}
		return s, g, changes
	}
	rec := func(scope string) *inventory.IdempotencyRecord {
		return &inventory.IdempotencyRecord{Scope: scope, Result: []byte("r"), CreatedAt: t0, ExpiresAt: t0.Add(inventory.IdempotencyTTL)}
	}
	for _, tc := range []struct {
		name  string
		race  func(s *memstore.Store, g inventory.Group) // a concurrent writer, after the changes are computed
		check func(error) bool
	}{
		{"one item changed meanwhile", func(s *memstore.Store, g inventory.Group) {
			c, _, _ := inventory.ApplyPatch(getItem(t, s, ids[1]), inventory.Patch{Name: ptr("new")}, nil, "eve", t0)
			mustSave(t, s.SaveItem(ctx, c))
		}, func(err error) bool { return errors.Is(err, inventory.ErrStale) }},
		{"group deleted meanwhile", func(s *memstore.Store, g inventory.Group) {
			mustSave(t, s.SaveGroup(ctx, inventory.GroupChange{Old: &g, Next: inventory.DeleteGroup(g, "eve", "", t0)}))
		}, func(err error) bool { return errors.Is(err, inventory.ErrStale) }},
		{"key recorded meanwhile", func(s *memstore.Store, g inventory.Group) {
			mustSave(t, s.SaveItems(ctx, nil, rec("a#k")))
		}, func(err error) bool { return errors.Is(err, inventory.ErrIdempotencyRace) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, g, changes := setup()
			tc.race(s, g)
			saves := s.Saves()
			if err := s.SaveItems(ctx, changes, rec("a#k")); !tc.check(err) || s.Saves() != saves {
				t.Fatalf("error %v, %d saves (%d before)", err, s.Saves(), saves)
			}
			for _, id := range ids {
				if it := getItem(t, s, id); len(it.Groups) != 0 {
					t.Fatalf("item %s joined: %v", it.SKU, it.Groups)
				}
			}
			if n := getGroup(t, s, g.ID).MemberCount; n != 0 {
				t.Fatalf("%d members", n)
			}
		})
	}
	// Committed: every item, one count update of the group for all three,
	// the record; BeforeSave runs once, with the first change.
	s, g, changes := setup()
	var hooked []string
	s.BeforeSave = func(c inventory.ItemChange) error { hooked = append(hooked, c.Next.ID); return nil }
	saves := s.Saves()
	mustSave(t, s.SaveItems(ctx, changes, rec("a#k")))
	if s.Saves() != saves+1 || !slices.Equal(hooked, ids[:1]) {
		t.Fatalf("%d saves (%d before), hook ran for %v", s.Saves(), saves, hooked)
	}
	if n := getGroup(t, s, g.ID).MemberCount; n != 3 {
		t.Fatalf("%d members, want 3", n)
	}
	for _, id := range ids {
		if it := getItem(t, s, id); !slices.Equal(it.Groups, []string{g.ID}) || it.Version != 2 {
			t.Fatalf("item %+v", it)
		}
	}
	if r, _ := s.GetIdempotency(ctx, "a#k", t0); r == nil || string(r.Result) != "r" {
		t.Fatalf("record %+v", r)
	}
	// Two changes of one item are refused outright.
	twice := []inventory.ItemChange{membership(t, s, ids[0], g.ID, false), membership(t, s, ids[0], g.ID, false)}
	if err := s.SaveItems(ctx, twice, nil); err == nil || errors.Is(err, inventory.ErrStale) {
		t.Fatalf("two changes of an item: %v", err)
	}
	// A change may not carry a record of its own.
	c := membership(t, s, ids[0], g.ID, false)
	c.Idempotency = rec("a#other")
	if err := s.SaveItems(ctx, []inventory.ItemChange{c}, nil); err == nil || s.Saves() != saves+1 {
		t.Fatalf("a change with a record: %v", err)
	}
}

func TestSaveStockChecksItems(t *testing.T) {
	s := memstore.New()
	loc := newLocation(t, s, "L1")
	id := newItem(t, s, "A", "", 5).Next.ID
	in := inventory.TransferInput{ItemID: id, FromLocationID: inventory.DefaultLocation, ToLocationID: loc.ID, Quantity: 2}
	transfer := func() inventory.StockChange {
		st, err := s.ReadStock(ctx, in.Keys())
		mustSave(t, err)
		c, _, err := inventory.TransferStock(in, st, "bob", t0.Add(time.Minute))
		mustSave(t, err)
		if len(c.Items) != 0 || len(c.Checked) != 1 || c.Checked[0].ID != id {
			t.Fatalf("a transfer writes %d items and checks %+v", len(c.Items), c.Checked)
		}
		return c
	}
	// The item changed (a new SKU) after the transfer was computed.
	late := transfer()
	cur := getItem(t, s, id)
	levels, _ := s.ListLevels(ctx, id)
	resku, _, err := inventory.ApplyPatch(cur, inventory.Patch{SKU: ptr("B")}, levels, "eve", t0)
	mustSave(t, err)
	mustSave(t, s.SaveItem(ctx, resku))
	wantStale(t, s, s.SaveStock(ctx, late), s.Saves())
	// Recomputed, it commits, and the levels carry the item's SKU.
	mustSave(t, s.SaveStock(ctx, transfer()))
	for _, l := range []string{inventory.DefaultLocation, loc.ID} {
		if lv, ok := s.Stock(id, l); !ok || lv.SKU != "B" {
			t.Fatalf("level at %s: %+v", l, lv)
		}
	}
	if lv, _ := s.Stock(id, loc.ID); lv.OnHand != 2 {
		t.Fatalf("level %+v", lv)
	}
}

func TestListItemSource(t *testing.T) {
	s := memstore.New()
	loc := newLocation(t, s, "L1")
	g := newGroup(t, s, "Sale")
	point := func(n int64) *int64 { return &n }
	create := func(minute int, in inventory.CreateInput) inventory.Item {
		c := inventory.NewItem(in, "alice", t0.Add(time.Duration(minute)*time.Minute))
		mustSave(t, s.SaveItem(ctx, c))
		return c.Next
	}
	a := create(0, inventory.CreateInput{SKU: "A-1", Name: "Widget", Quantity: 1, Tags: []string{"red"}, LocationID: loc.ID})
	b := create(1, inventory.CreateInput{SKU: "B-2", Name: "bolt", Quantity: 1, Tags: []string{"red", "blue"}, ReorderPoint: point(5)})
	c := create(2, inventory.CreateInput{SKU: "C-3", Name: "Anchor", Quantity: 1, Tags: []string{"blue"}, LocationID: loc.ID})
	d := create(3, inventory.CreateInput{SKU: "D-4", Name: "Bolt", ReorderPoint: point(1), LocationID: loc.ID})
	gone := create(4, inventory.CreateInput{SKU: "B-9", Name: "bolt", Quantity: 1, Tags: []string{"red"}, ReorderPoint: point(5), LocationID: loc.ID})
	mustSave(t, s.SaveItem(ctx, membership(t, s, c.ID, g.ID, true))) // updated at t0+1h
	mustSave(t, s.SaveItem(ctx, inventory.Delete(getItem(t, s, gone.ID), "bob", "", t0.Add(2*time.Hour))))
	c = getItem(t, s, c.ID)
	skuOf := map[string]string{}
	for _, it := range []inventory.Item{a, b, c, d, gone} {
		skuOf[it.ID] = it.SKU
	}
	sku := inventory.SortSKU
	for _, tc := range []struct {
		name    string
		src     inventory.ItemSource
		after   inventory.Position
		want    []string // SKUs of the items returned, in order
		entries int      // entries read
	}{
		{"every live item", inventory.ItemSource{Sort: sku}, nil, []string{"A-1", "B-2", "C-3", "D-4"}, 4},
		{"after a position between entries", inventory.ItemSource{Sort: sku}, inventory.Position{"B-", ""}, []string{"B-2", "C-3", "D-4"}, 3},
		{"after an entry's position", inventory.ItemSource{Sort: sku}, inventory.Position{"B-2", b.ID}, []string{"C-3", "D-4"}, 2},
		{"after an empty sort value", inventory.ItemSource{Sort: sku}, inventory.Position{"", ""}, []string{"A-1", "B-2", "C-3", "D-4"}, 4},
		{"by name", inventory.ItemSource{Sort: inventory.SortName}, nil, []string{"C-3", "B-2", "D-4", "A-1"}, 4},
		{"by name after a name", inventory.ItemSource{Sort: inventory.SortName}, inventory.Position{"bolt", b.ID}, []string{"D-4", "A-1"}, 2},
		{"newest first", inventory.ItemSource{Sort: inventory.SortUpdated}, nil, []string{"C-3", "D-4", "B-2", "A-1"}, 4},
		{"newest first after a time", inventory.ItemSource{Sort: inventory.SortUpdated},
			inventory.Position{t0.Add(3 * time.Minute).Format(inventory.TimeLayout), d.ID}, []string{"B-2", "A-1"}, 2},
		{"newest first after any string", inventory.ItemSource{Sort: inventory.SortUpdated}, inventory.Position{"~", ""}, []string{"C-3", "D-4", "B-2", "A-1"}, 4},
		{"a tag", inventory.ItemSource{Sort: sku, Facets: []string{inventory.TagFacet("red")}}, nil, []string{"A-1", "B-2"}, 2},
		{"two tags, an item with both once", inventory.ItemSource{Sort: sku, Facets: []string{inventory.TagFacet("red"), inventory.TagFacet("blue")}}, nil, []string{"A-1", "B-2", "C-3"}, 3},
		{"a group", inventory.ItemSource{Sort: sku, Facets: []string{inventory.GroupFacet(g.ID)}}, nil, []string{"C-3"}, 1},
		{"a search key", inventory.ItemSource{Sort: sku, Facets: []string{inventory.SearchFacet("bol"), inventory.FacetSearchOverflow}}, nil, []string{"B-2", "D-4"}, 2},
		{"low stock", inventory.ItemSource{Sort: sku, LowStock: true}, nil, []string{"B-2", "D-4"}, 2},
		{"a location: a deleted item's level read, not returned", inventory.ItemSource{Sort: sku, LocationID: loc.ID}, nil, []string{"A-1", "C-3", "D-4"}, 4},
		{"a location after the deleted item's level", inventory.ItemSource{Sort: sku, LocationID: loc.ID}, inventory.Position{"B-9", gone.ID}, []string{"C-3", "D-4"}, 2},
		{"the default location", inventory.ItemSource{Sort: sku, LocationID: inventory.DefaultLocation}, nil, []string{"B-2"}, 1},
		{"a location without levels", inventory.ItemSource{Sort: sku, LocationID: inventory.NewID(t0)}, nil, nil, 0},
	} {
		for _, limit := range []int{1, 2, 3, 4, 100} {
			var got []string
			after, pages := tc.after, 0
			for {
				items, next, err := s.ListItemSource(ctx, tc.src, inventory.Range{Limit: limit, After: after})
				mustSave(t, err)
				pages++
				for _, it := range items {
					got = append(got, it.SKU)
				}
				if next == nil {
					break
				}
				// The position is the last entry's read: for a location,
				// its level's (sku, item id); else its item's sort position.
				if len(items) > 0 && tc.src.LocationID == "" && !slices.Equal(next, inventory.SortPosition(items[len(items)-1], tc.src.Sort)) {
					t.Fatalf("%s, limit %d: position %v after %s", tc.name, limit, next, items[len(items)-1].SKU)
				}
				if tc.src.LocationID != "" && (len(next) != 2 || skuOf[next[1]] != next[0]) {
					t.Fatalf("%s, limit %d: position %v", tc.name, limit, next)
				}
				if pages > 10 {
					t.Fatalf("%s, limit %d: no end", tc.name, limit)
				}
				after = next
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%s, limit %d: %v, want %v", tc.name, limit, got, tc.want)
			}
			// Pages read limit entries each; the last one says it is the
			// last, even when it is full.
			if want := max(1, (tc.entries+limit-1)/limit); pages != want {
				t.Fatalf("%s, limit %d: %d pages, want %d", tc.name, limit, pages, want)
			}
		}
	}
	// The page of the location's entries that holds only the deleted
	// item's level returns nothing, and goes on.
	items, next, _ := s.ListItemSource(ctx, inventory.ItemSource{Sort: sku, LocationID: loc.ID},
		inventory.Range{Limit: 1, After: inventory.Position{"A-1", a.ID}})
	if len(items) != 0 || !slices.Equal(next, inventory.Position{"B-9", gone.ID}) {
		t.Fatalf("the deleted item's entry: %+v %v", items, next)
	}
	// Sources storage has no index of are errors.
	for _, src := range []inventory.ItemSource{
		{Sort: inventory.SortName, LowStock: true},
		{Sort: sku, LowStock: true, LocationID: loc.ID},
		{Sort: "price"},
	} {
		if _, _, err := s.ListItemSource(ctx, src, inventory.Range{Limit: 5}); err == nil {
			t.Fatalf("source %+v listed", src)
		}
	}
}
