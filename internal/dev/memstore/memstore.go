// Package memstore implements the use cases' ports in memory, for their
// unit tests: a Store that keeps the same invariants the DynamoDB store
// enforces with conditions (item versions, SKU, location code and group
// name markers, stock levels as read, location guards, the items a stock
// change checks, the live group of a membership change, unique ledger and
// activity ids, idempotency records), each change all or nothing; that
// keeps the counts storage maintains in the transactions of item changes
// (the live members of each group, the live items of each tag); and that
// lists items from the sources (inventory.ItemSource) with the semantics
// of the indexes that serve them: entries read in order, the live items
// among them returned. With it come an object store, a signer and a
// thumbnailer. It is dev-only: no Lambda links it.
package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// SeedTime is when New's default location was created.
var SeedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Store is an in-memory usecase.Store.
type Store struct {
	mu        sync.Mutex
	items     map[string]inventory.Item
	skus      map[string]string // live SKU -> item id
	levels    map[inventory.LevelKey]inventory.Level
	ledger    map[string]map[string]inventory.LedgerEntry // item id -> line id -> line
	activity  map[string]map[string]inventory.Activity    // item id -> record id -> record
	locations map[string]inventory.Location
	codes     map[string]string // live location code -> location id
	groups    map[string]inventory.Group
	names     map[string]string // NameKey of a live group's name -> group id
	tags      map[string]int64  // tag -> number of live items that have it (> 0)
	idem      map[string]inventory.IdempotencyRecord
	// BeforeSave, BeforeSaveStock, BeforeSaveLocation and BeforeSaveGroup,
	// when set, run before each SaveItem, SaveStock, SaveLocation or
	// SaveGroup is applied (without the store's lock held, so they may
	// call the store, or a service on it, to play a concurrent writer); an
	// error one returns is the save's (to simulate a lost race, a
	// throttled call or a dropped connection). SaveItems runs BeforeSave
	// once per call, with its first change (not at all without changes),
	// so that each runs once per attempt to commit.
	BeforeSave         func(c inventory.ItemChange) error
	BeforeSaveStock    func(c inventory.StockChange) error
	BeforeSaveLocation func(c inventory.LocationChange) error
	BeforeSaveGroup    func(c inventory.GroupChange) error
	saves              int
}

// New returns a store as a fresh deployment has it: no items, and the
// default location (created at SeedTime).
func New() *Store {
	s := NewUnseeded()
	def := inventory.DefaultLocationRecord(SeedTime)
	s.locations[def.ID] = def
	s.codes[def.Code] = def.ID
	return s
}

// NewUnseeded returns an empty store, without even the default location.
func NewUnseeded() *Store {
	return &Store{items: map[string]inventory.Item{}, skus: map[string]string{},
		levels: map[inventory.LevelKey]inventory.Level{}, ledger: map[string]map[string]inventory.LedgerEntry{},
		activity: map[string]map[string]inventory.Activity{}, locations: map[string]inventory.Location{},
		codes: map[string]string{}, groups: map[string]inventory.Group{}, names: map[string]string{},
		tags: map[string]int64{}, idem: map[string]inventory.IdempotencyRecord{}}
}

// Saves is the number of changes committed (of items — a SaveItems is one
// —, stock, locations and groups).
func (s *Store) Saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// Stock returns the stock level of an item at a location, and whether it
// exists.
func (s *Store) Stock(itemID, location string) (inventory.Level, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.levels[inventory.LevelKey{ItemID: itemID, LocationID: location}]
	return l, ok
}

// Ledger returns every ledger line of an item, oldest first.
func (s *Store) Ledger(itemID string) []inventory.LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.ledger[itemID]))
	slices.SortFunc(out, func(a, b inventory.LedgerEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// SetCommitted sets how much of an item's stock at a location is
// committed, as shipments will (no use case commits stock yet): the level
// and the item's total change, the item gets a new version, and the level
// keeps its last ledger line (no line records a commitment). The level
// must exist and hold at least n on hand.
func (s *Store) SetCommitted(itemID, locationID string, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := inventory.LevelKey{ItemID: itemID, LocationID: locationID}
	l, ok := s.levels[k]
	it, itemOK := s.items[itemID]
	switch {
	case !ok || !itemOK:
		return fmt.Errorf("no level of %s at %s", itemID, locationID)
	case n < 0 || n > l.OnHand:
		return fmt.Errorf("%d committed of %d on hand", n, l.OnHand)
	}
	it.Committed += n - l.Committed
	it.Version++
	l.Committed = n
	s.levels[k], s.items[itemID] = l, it
	return nil
}

// ---- Transactions

// txn is one change being checked: like a DynamoDB transaction, every
// condition is evaluated on the state before it, and it commits whole or
// not at all. Each action has a role, as the DynamoDB store's, so that a
// failed condition is reported as it reports it.
type txn struct {
	what    string
	records map[string]bool
	dup     string
	actions int
	failed  map[string]bool
	apply   []func()
}

func newTxn(what string) *txn {
	return &txn{what: what, records: map[string]bool{}, failed: map[string]bool{}}
}

// add adds an action on record; ok is whether its condition holds on the
// state as it is; apply (nil for a condition check) makes its write.
func (t *txn) add(role, record string, ok bool, apply func()) {
	t.actions++
	if t.records[record] && t.dup == "" {
		t.dup = record
	}
	t.records[record] = true
	if !ok {
		t.failed[role] = true
	}
	if apply != nil {
		t.apply = append(t.apply, apply)
	}
}

// commit applies the change if every condition holds. Otherwise: the
// idempotency record's failure is inventory.ErrIdempotencyRace, conflict
// may name a domain error for others, and anything else is
// inventory.ErrStale. A transaction DynamoDB refuses outright (two actions
// on one record, too many actions) is an error of neither kind.
func (t *txn) commit(s *Store, conflict func(failed map[string]bool) error) error {
	switch {
	case t.dup != "":
		return fmt.Errorf("%s: ValidationException: two actions on record %s in one transaction", t.what, t.dup)
	case t.actions > inventory.MaxTransactionActions:
		return fmt.Errorf("%s: ValidationException: %d actions in one transaction, at most %d", t.what, t.actions, inventory.MaxTransactionActions)
	}
	if len(t.failed) > 0 {
		if t.failed["idem"] {
			return inventory.ErrIdempotencyRace
		}
		if conflict != nil {
			if err := conflict(t.failed); err != nil {
				return err
			}
		}
		roles := slices.Sorted(maps.Keys(t.failed))
		return fmt.Errorf("%s: %w (failed conditions: %s)", t.what, inventory.ErrStale, strings.Join(roles, ", "))
	}
	for _, f := range t.apply {
		f()
	}
	s.saves++
	return nil
}

// putIdempotency adds the record, on the condition that its scope has no
// record or only an expired one.
func (s *Store) putIdempotency(t *txn, r *inventory.IdempotencyRecord) {
	if r == nil {
		return
	}
	rec := *r
	rec.Result = bytes.Clone(r.Result)
	prev, ok := s.idem[r.Scope]
	t.add("idem", "idem#"+r.Scope, !ok || prev.ExpiresAt.Unix() < r.CreatedAt.Unix(), func() { s.idem[rec.Scope] = rec })
}

// SaveItem applies a change atomically, with the conditions of the
// DynamoDB store: SaveItems of the one change, with its idempotency
// record.
func (s *Store) SaveItem(_ context.Context, c inventory.ItemChange) error {
	if s.BeforeSave != nil {
		if err := s.BeforeSave(c); err != nil {
			return err
		}
	}
	return s.saveItems("save item "+c.Next.ID, []inventory.ItemChange{c}, c.Idempotency)
}

// SaveItems applies changes of several items, and idem's record if any, in
// one transaction: each change as SaveItem applies it, and each group a
// change's LiveGroup names checked live. Changes carry no records of their
// own (a change with Idempotency set is refused); two changes of one item
// are refused outright, as DynamoDB refuses two actions on one record.
// Without changes it commits idem's record alone, or does nothing.
func (s *Store) SaveItems(_ context.Context, changes []inventory.ItemChange, idem *inventory.IdempotencyRecord) error {
	for _, c := range changes {
		if c.Idempotency != nil {
			return fmt.Errorf("memstore: SaveItems: the change of item %s carries an idempotency record; pass it as idem", c.Next.ID)
		}
	}
	if len(changes) == 0 && idem == nil {
		return nil
	}
	if s.BeforeSave != nil && len(changes) > 0 {
		if err := s.BeforeSave(changes[0]); err != nil {
			return err
		}
	}
	return s.saveItems(fmt.Sprintf("save %d items", len(changes)), changes, idem)
}

// saveItems is SaveItem and SaveItems: every change's item (on its version,
// or on not existing yet), SKU markers, facet rows, levels with their ledger
// lines and location guards, and activity; one update per group whose live
// member count changes or that a change needs live; one per tag whose
// count changes; and the idempotency record.
func (s *Store) saveItems(what string, changes []inventory.ItemChange, idem *inventory.IdempotencyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := newTxn(what)
	s.putIdempotency(t, idem)
	members := map[string]int64{} // group id -> change of its live member count
	needLive := map[string]bool{} // groups that must be live
	tagged := map[string]int64{}  // tag -> change of its count
	skuTaken := ""                // the first SKU a change cannot take
	for _, c := range changes {
		id := c.Next.ID
		cur, exists := s.items[id]
		next := clone(c.Next)
		put := func() { s.items[id] = next }
		if c.Old == nil {
			t.add("item", "item#"+id, !exists, put)
		} else {
			t.add("item", "item#"+id, exists && cur.Version == c.Old.Version, put)
		}
		if sku := s.skuChanges(t, c.Old, c.Next); sku != "" && skuTaken == "" {
			skuTaken = sku
		}
		facetChanges(t, c.Old, c.Next)
		s.writeLevels(t, c.Levels, c.Ledger)
		for _, a := range c.Activity {
			a.Changes = slices.Clone(a.Changes)
			_, dup := s.activity[a.ItemID][a.ID]
			t.add("activity", "activity#"+a.ItemID+"#"+a.ID, !dup, func() { put2(s.activity, a.ItemID, a.ID, a) })
		}
		countChanges(members, c.Old, c.Next, func(it inventory.Item) []string { return it.Groups })
		countChanges(tagged, c.Old, c.Next, func(it inventory.Item) []string { return it.Tags })
		if c.LiveGroup != "" {
			needLive[c.LiveGroup] = true
		}
	}
	s.groupCounts(t, members, needLive)
	s.tagCounts(t, tagged)
	return t.commit(s, func(failed map[string]bool) error {
		if failed["sku"] {
			return inventory.Errorf(inventory.KindConflict, inventory.CodeSKUConflict, "a live item already has sku %q", skuTaken)
		}
		return nil
	})
}

func put2[V any](m map[string]map[string]V, k1, k2 string, v V) {
	if m[k1] == nil {
		m[k1] = map[string]V{}
	}
	m[k1][k2] = v
}

// skuChanges releases the SKU marker a live item leaves (on the condition
// that it is the item's) and takes the one it gets (on the condition that
// no live item has it); it returns the SKU when that is taken.
func (s *Store) skuChanges(t *txn, old *inventory.Item, next inventory.Item) (taken string) {
	oldLive := old != nil && old.Deleted == nil
	nextLive := next.Deleted == nil
	if oldLive && (!nextLive || old.SKU != next.SKU) {
		sku := old.SKU
		t.add("skuRelease", "sku#"+sku, s.skus[sku] == next.ID, func() { delete(s.skus, sku) })
	}
	if nextLive && (!oldLive || old.SKU != next.SKU) {
		_, isTaken := s.skus[next.SKU]
		t.add("sku", "sku#"+next.SKU, !isTaken, func() { s.skus[next.SKU] = next.ID })
		if isTaken {
			taken = next.SKU
		}
	}
	return taken
}

// liveSet is what of a live item's that counts (its groups, its tags): set
// of the item, none of a deleted or missing one.
func liveSet(it *inventory.Item, set func(inventory.Item) []string) []string {
	if it == nil || it.Deleted != nil {
		return nil
	}
	return set(*it)
}

// countChanges adds to counts the change an item's change makes to the
// counts of the entries of set (groups, tags): −1 for each the live item
// leaves (by leaving it, or by being deleted), +1 for each it joins.
func countChanges(counts map[string]int64, old *inventory.Item, next inventory.Item, set func(inventory.Item) []string) {
	before, after := liveSet(old, set), liveSet(&next, set)
	for _, k := range before {
		if !slices.Contains(after, k) {
			counts[k]--
		}
	}
	for _, k := range after {
		if !slices.Contains(before, k) {
			counts[k]++
		}
	}
}

// groupCounts adds one update per group whose live member count changes,
// or that must be live: the count of a group that does not exist is not
// kept (nothing is written), and a group that must be live must exist and
// not be deleted. A deleted group's count is kept, so that a restore
// brings it back exact.
func (s *Store) groupCounts(t *txn, members map[string]int64, needLive map[string]bool) {
	ids := slices.Sorted(maps.Keys(members))
	for id := range needLive {
		if _, ok := members[id]; !ok {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		delta, need := members[id], needLive[id]
		g, exists := s.groups[id]
		if !need && (delta == 0 || !exists) {
			continue
		}
		var add func()
		if delta != 0 {
			add = func() {
				g := s.groups[id]
				g.MemberCount += delta
				s.groups[id] = g
			}
		}
		t.add("group", "group#"+id, exists && (!need || g.Deleted == nil), add)
	}
}

// tagCounts adds one update per tag whose count of live items changes; a
// tag no live item has is dropped.
func (s *Store) tagCounts(t *txn, tagged map[string]int64) {
	for tag, delta := range tagged {
		if delta == 0 {
			continue
		}
		t.add("tagCount", "tagCount#"+tag, true, func() {
			if n := s.tags[tag] + delta; n > 0 {
				s.tags[tag] = n
			} else {
				delete(s.tags, tag)
			}
		})
	}
}

// facetChanges counts the facet rows the DynamoDB store writes
// (inventory.Item.Facets: a live item's tags, groups and search keys, each
// a row in SKU order): one deleted per facet the item leaves, one put per
// facet it gets, and every one put again when its SKU changes. None are
// kept: ListItemSource reads the items themselves.
func facetChanges(t *txn, old *inventory.Item, next inventory.Item) {
	var before []string
	if old != nil {
		before = old.Facets()
	}
	after := next.Facets()
	resort := old != nil && old.SKU != next.SKU
	for _, f := range before {
		if !slices.Contains(after, f) {
			t.add("facet", "facet#"+f+"#"+next.ID, true, nil)
		}
	}
	for _, f := range after {
		if resort || !slices.Contains(before, f) {
			t.add("facet", "facet#"+f+"#"+next.ID, true, nil)
		}
	}
}

// legacyLevel is the LastLedgerID the DynamoDB store reads a level written
// before levels had one with.
const legacyLevel = "legacy"

// writeLevels adds the levels, their ledger lines and the guards of their
// locations (inventory.LocationGuards), as the DynamoDB store's writeLevels
// does: a level is written on the condition that it is still the one read
// (its last ledger line), or does not exist yet.
func (s *Store) writeLevels(t *txn, levels []inventory.LevelChange, ledger []inventory.LedgerEntry) {
	for _, l := range levels {
		k := inventory.LevelKey{ItemID: l.Next.ItemID, LocationID: l.Next.LocationID}
		cur, exists := s.levels[k]
		ok := !exists
		if l.Old != nil {
			ok = exists && cur.LastLedgerID == l.Old.LastLedgerID
			if l.Old.LastLedgerID == legacyLevel {
				// A level from before levels had a last line: on its quantity.
				ok = ok && cur.OnHand == l.Old.OnHand
			}
		}
		next := l.Next
		t.add("level", "level#"+k.ItemID+"#"+k.LocationID, ok, func() { s.levels[k] = next })
	}
	for _, e := range ledger {
		_, dup := s.ledger[e.ItemID][e.ID]
		t.add("ledger", "ledger#"+e.ItemID+"#"+e.ID, !dup, func() { put2(s.ledger, e.ItemID, e.ID, e) })
	}
	for _, g := range inventory.LocationGuards(levels) {
		cur, exists := s.locations[g.LocationID]
		ok := exists && (!g.NeedsLive || cur.Deleted == nil)
		var add func()
		if g.Delta != 0 {
			add = func() {
				l := s.locations[g.LocationID]
				l.StockedLevels += g.Delta
				s.locations[g.LocationID] = l
			}
		}
		t.add("location", "location#"+g.LocationID, ok, add)
	}
}

// SaveStock applies a change of stock atomically: the items on their
// versions, the items it checks (c.Checked) still at the version read, the
// levels as read (with the SKU they are given) with their ledger lines and
// location guards, and the idempotency record. A change of stock changes
// no item's tags, groups or liveness, so no count changes.
func (s *Store) SaveStock(_ context.Context, c inventory.StockChange) error {
	if s.BeforeSaveStock != nil {
		if err := s.BeforeSaveStock(c); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := newTxn("save stock change")
	s.putIdempotency(t, c.Idempotency)
	for _, r := range c.Items {
		cur, exists := s.items[r.Next.ID]
		next := clone(r.Next)
		t.add("item", "item#"+next.ID, exists && cur.Version == r.Old.Version, func() { s.items[next.ID] = next })
	}
	for _, it := range c.Checked {
		cur, exists := s.items[it.ID]
		t.add("checkedItem", "item#"+it.ID, exists && cur.Version == it.Version, nil)
	}
	s.writeLevels(t, c.Levels, c.Ledger)
	return t.commit(s, nil)
}

// SaveLocation applies a change of a location with its code marker: the
// record on the condition that its version and count of stocked levels are
// still as read (or that it does not exist), the code released (if it is
// the location's) and taken (if no live location has it).
func (s *Store) SaveLocation(_ context.Context, c inventory.LocationChange) error {
	if s.BeforeSaveLocation != nil {
		if err := s.BeforeSaveLocation(c); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.Next.ID
	t := newTxn("save location " + id)
	s.putIdempotency(t, c.Idempotency)
	cur, exists := s.locations[id]
	next := cloneLocation(c.Next)
	put := func() { s.locations[id] = next }
	if c.Old == nil {
		t.add("locationRecord", "location#"+id, !exists, put)
	} else {
		t.add("locationRecord", "location#"+id, exists && cur.Version == c.Old.Version && cur.StockedLevels == c.Old.StockedLevels, put)
	}
	oldLive := c.Old != nil && c.Old.Deleted == nil
	nextLive := c.Next.Deleted == nil
	if oldLive && (!nextLive || c.Old.Code != c.Next.Code) {
		code := c.Old.Code
		t.add("codeRelease", "code#"+code, s.codes[code] == id, func() { delete(s.codes, code) })
	}
	if nextLive && (!oldLive || c.Old.Code != c.Next.Code) {
		_, taken := s.codes[c.Next.Code]
		t.add("code", "code#"+c.Next.Code, !taken, func() { s.codes[next.Code] = id })
	}
	return t.commit(s, func(failed map[string]bool) error {
		if failed["code"] {
			return inventory.Errorf(inventory.KindConflict, inventory.CodeLocationCodeConflict,
				"a live location already has code %q", c.Next.Code)
		}
		return nil
	})
}

// ---- Reads

// GetItem returns a copy of the stored item.
func (s *Store) GetItem(_ context.Context, id string) (inventory.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return inventory.Item{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeItemNotFound, "no item with id %s", id)
	}
	return clone(it), nil
}

// GetItems returns the items of the ids that exist.
func (s *Store) GetItems(_ context.Context, ids []string) (map[string]inventory.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]inventory.Item, len(ids))
	for _, id := range ids {
		if it, ok := s.items[id]; ok {
			out[id] = clone(it)
		}
	}
	return out, nil
}

// ListDeletedItems lists deleted items, newest deletion first.
func (s *Store) ListDeletedItems(_ context.Context, r inventory.Range) ([]inventory.Item, inventory.Position, error) {
	return s.listItems(r, func(it inventory.Item) bool { return it.Deleted != nil },
		func(it inventory.Item) inventory.Position {
			return inventory.Position{it.Deleted.At.UTC().Format(inventory.TimeLayout), it.ID}
		}, -1)
}

func (s *Store) listItems(r inventory.Range, keep func(inventory.Item) bool, pos func(inventory.Item) inventory.Position, dir int) ([]inventory.Item, inventory.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []inventory.Item
	for _, it := range s.items {
		if keep(it) {
			all = append(all, clone(it))
		}
	}
	return page(all, r, pos, dir)
}

// ListLedger lists an item's ledger lines, newest first, from any ULID
// position.
func (s *Store) ListLedger(_ context.Context, itemID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
	s.mu.Lock()
	lines := slices.Collect(maps.Values(s.ledger[itemID]))
	s.mu.Unlock()
	return itemLog(lines, r, func(e inventory.LedgerEntry) string { return e.ID }, func(inventory.LedgerEntry) bool { return true })
}

// ListActivity lists an item's activity records, newest first, from any
// ULID position; records of type stock_changed (written before stock
// changes were their ledger lines) are skipped, after the page is read, as
// the DynamoDB store skips them.
func (s *Store) ListActivity(_ context.Context, itemID string, r inventory.Range) ([]inventory.Activity, inventory.Position, error) {
	s.mu.Lock()
	acts := slices.Collect(maps.Values(s.activity[itemID]))
	s.mu.Unlock()
	for i := range acts {
		acts[i].Changes = slices.Clone(acts[i].Changes)
	}
	return itemLog(acts, r, func(a inventory.Activity) string { return a.ID }, func(a inventory.Activity) bool {
		return a.Type != inventory.ActivityStockChanged
	})
}

// itemLog is the DynamoDB store's queryItemLog: newest first, reading the
// position inclusive with one more record (dropped if it is at the
// position), so that any ULID position works; the page is read, then
// filtered by keep, and the next position is that of the last record read
// whenever the read hit its limit.
func itemLog[T any](all []T, r inventory.Range, id func(T) string, keep func(T) bool) ([]T, inventory.Position, error) {
	slices.SortFunc(all, func(a, b T) int { return cmp.Compare(id(b), id(a)) })
	limit := r.Limit
	after := ""
	if r.After != nil {
		after = r.After[0]
		i := 0
		for i < len(all) && id(all[i]) > after {
			i++
		}
		all = all[i:]
		limit++
	}
	more := len(all) >= limit // DynamoDB returns a LastEvaluatedKey when a read hits its limit
	records := all[:min(limit, len(all))]
	if len(records) > 0 && after != "" && id(records[0]) == after {
		records = records[1:]
	}
	if len(records) > r.Limit {
		records, more = records[:r.Limit], true
	}
	out := make([]T, 0, len(records))
	for _, v := range records {
		if keep(v) {
			out = append(out, v)
		}
	}
	if !more || len(records) == 0 {
		return out, nil, nil
	}
	return out, inventory.Position{id(records[len(records)-1])}, nil
}

// page sorts by position (dir 1: ascending, -1: descending) and returns at
// most r.Limit entries after r.After; like DynamoDB, it returns the last
// position whenever the page is full.
func page[T any](all []T, r inventory.Range, pos func(T) inventory.Position, dir int) ([]T, inventory.Position, error) {
	slices.SortFunc(all, func(a, b T) int { return dir * slices.Compare(pos(a), pos(b)) })
	if r.After != nil {
		i := 0
		for i < len(all) && dir*slices.Compare(pos(all[i]), r.After) <= 0 {
			i++
		}
		all = all[i:]
	}
	if len(all) < r.Limit {
		return all, nil, nil
	}
	all = all[:r.Limit]
	return all, pos(all[len(all)-1]), nil
}

// GetIdempotency returns the record of scope unexpired at now, or nil.
func (s *Store) GetIdempotency(_ context.Context, scope string, now time.Time) (*inventory.IdempotencyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[scope]
	if !ok || r.ExpiresAt.Unix() < now.Unix() {
		return nil, nil
	}
	r.Result = bytes.Clone(r.Result)
	return &r, nil
}

// GetLocation returns a location, live or deleted.
func (s *Store) GetLocation(_ context.Context, id string) (inventory.Location, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locations[id]
	if !ok {
		return inventory.Location{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeLocationNotFound, "no location with id %s", id)
	}
	return cloneLocation(l), nil
}

// ListLocations lists live locations in code order; position (code, id).
func (s *Store) ListLocations(_ context.Context, r inventory.Range) ([]inventory.Location, inventory.Position, error) {
	return s.listLocations(r, func(l inventory.Location) bool { return l.Deleted == nil },
		func(l inventory.Location) inventory.Position { return inventory.Position{l.Code, l.ID} }, 1)
}

// ListDeletedLocations lists deleted locations, newest deletion first;
// position (deleted at, id).
func (s *Store) ListDeletedLocations(_ context.Context, r inventory.Range) ([]inventory.Location, inventory.Position, error) {
	return s.listLocations(r, func(l inventory.Location) bool { return l.Deleted != nil },
		func(l inventory.Location) inventory.Position {
			return inventory.Position{l.Deleted.At.UTC().Format(inventory.TimeLayout), l.ID}
		}, -1)
}

func (s *Store) listLocations(r inventory.Range, keep func(inventory.Location) bool, pos func(inventory.Location) inventory.Position, dir int) ([]inventory.Location, inventory.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []inventory.Location
	for _, l := range s.locations {
		if keep(l) {
			all = append(all, cloneLocation(l))
		}
	}
	return page(all, r, pos, dir)
}

// ReadStock reads the records of keys that exist.
func (s *Store) ReadStock(_ context.Context, keys inventory.StockKeys) (inventory.StockState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := inventory.StockState{Items: map[string]inventory.Item{}, Levels: map[inventory.LevelKey]inventory.Level{},
		Locations: map[string]inventory.Location{}}
	for _, id := range keys.Items {
		if it, ok := s.items[id]; ok {
			st.Items[id] = clone(it)
		}
	}
	for _, k := range keys.Levels {
		if l, ok := s.levels[k]; ok {
			st.Levels[k] = l
		}
	}
	for _, id := range keys.Locations {
		if l, ok := s.locations[id]; ok {
			st.Locations[id] = cloneLocation(l)
		}
	}
	return st, nil
}

// ListLevels returns every level of an item, in location id order.
func (s *Store) ListLevels(_ context.Context, itemID string) ([]inventory.Level, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []inventory.Level
	for k, l := range s.levels {
		if k.ItemID == itemID {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b inventory.Level) int { return cmp.Compare(a.LocationID, b.LocationID) })
	return out, nil
}

// ListLocationLevels lists the levels at a location, in the SKU order of
// their items (Level.SKU, as written); position (sku, item id).
func (s *Store) ListLocationLevels(_ context.Context, locationID string, r inventory.Range) ([]inventory.Level, inventory.Position, error) {
	s.mu.Lock()
	var all []inventory.Level
	for k, l := range s.levels {
		if k.LocationID == locationID {
			all = append(all, l)
		}
	}
	s.mu.Unlock()
	return page(all, r, func(l inventory.Level) inventory.Position { return inventory.Position{l.SKU, l.ItemID} }, 1)
}

// lines returns the ledger lines that keep selects.
func (s *Store) lines(keep func(inventory.LedgerEntry) bool) []inventory.LedgerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []inventory.LedgerEntry
	for _, byID := range s.ledger {
		for _, e := range byID {
			if keep(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

// ListLevelLedger lists one level's ledger lines, newest first; position
// (line id).
func (s *Store) ListLevelLedger(_ context.Context, itemID, locationID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
	all := s.lines(func(e inventory.LedgerEntry) bool { return e.ItemID == itemID && e.LocationID == locationID })
	return page(all, r, func(e inventory.LedgerEntry) inventory.Position { return inventory.Position{e.ID} }, -1)
}

// ListLocationLedger lists every item's ledger lines at a location, newest
// first; position (line id, item id).
func (s *Store) ListLocationLedger(_ context.Context, locationID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
	all := s.lines(func(e inventory.LedgerEntry) bool { return e.LocationID == locationID })
	return page(all, r, func(e inventory.LedgerEntry) inventory.Position { return inventory.Position{e.ID, e.ItemID} }, -1)
}

// LastLedgerEntry returns the newest line of a level whose id is at most
// bound, or nil.
func (s *Store) LastLedgerEntry(_ context.Context, itemID, locationID, bound string) (*inventory.LedgerEntry, error) {
	var last *inventory.LedgerEntry
	for _, e := range s.lines(func(e inventory.LedgerEntry) bool {
		return e.ItemID == itemID && e.LocationID == locationID && e.ID <= bound
	}) {
		if last == nil || e.ID > last.ID {
			last = &e
		}
	}
	return last, nil
}

func clone(it inventory.Item) inventory.Item {
	it.Tags = slices.Clone(it.Tags)
	it.Groups = slices.Clone(it.Groups)
	if it.ReorderPoint != nil {
		p := *it.ReorderPoint
		it.ReorderPoint = &p
	}
	if it.Deleted != nil {
		d := *it.Deleted
		it.Deleted = &d
	}
	if it.Image != nil {
		im := *it.Image
		im.Thumbnails = slices.Clone(im.Thumbnails)
		im.Replaces = slices.Clone(im.Replaces)
		it.Image = &im
	}
	return it
}

func cloneLocation(l inventory.Location) inventory.Location {
	if l.Deleted != nil {
		d := *l.Deleted
		l.Deleted = &d
	}
	return l
}

// Objects is an in-memory object store.
type Objects struct {
	mu      sync.Mutex
	objects map[string]Object
	// FailPut, when set, fails Put of the keys it returns true for (and
	// UploadPart of "<key>#<part number>").
	FailPut func(key string) bool
	// MinPartSize is the least size of a multipart upload's parts but
	// the last (0: MinPartSize, as S3).
	MinPartSize int
	uploads     map[string]*upload
	uploadSeq   int
	partBytes   int
}

// Object is a stored object.
type Object struct {
	ContentType string
	Data        []byte
}

// NewObjects returns an empty object store.
func NewObjects() *Objects { return &Objects{objects: map[string]Object{}} }

// Get reads an object.
func (o *Objects) Get(_ context.Context, key string, maxBytes int64) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.objects[key]
	switch {
	case !ok:
		return nil, fmt.Errorf("get %s: %w", key, inventory.ErrObjectNotFound)
	case int64(len(obj.Data)) > maxBytes:
		return nil, fmt.Errorf("get %s: %w", key, inventory.ErrObjectTooLarge)
	}
	return bytes.Clone(obj.Data), nil
}

// Put writes an object.
func (o *Objects) Put(_ context.Context, key, contentType string, data []byte) error {
	if o.FailPut != nil && o.FailPut(key) {
		return errors.New("put " + key + ": injected failure")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[key] = Object{ContentType: contentType, Data: bytes.Clone(data)}
	return nil
}

// Delete removes objects; missing ones are no error.
func (o *Objects) Delete(_ context.Context, keys ...string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range keys {
		delete(o.objects, k)
	}
	return nil
}

// Keys returns the stored keys, sorted.
func (o *Objects) Keys() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Sorted(maps.Keys(o.objects))
}

// Object returns a stored object.
func (o *Objects) Object(key string) (Object, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.objects[key]
	return obj, ok
}

// Signer signs with a clock of its own: forms expire ttl after Now().
type Signer struct {
	Now func() time.Time
}

// PresignUpload returns a form naming what it allows.
func (s Signer) PresignUpload(_ context.Context, key, contentType string, maxBytes int64, ttl time.Duration) (inventory.UploadForm, error) {
	exp := s.Now().Add(ttl).UTC().Truncate(time.Second)
	return inventory.UploadForm{URL: "mem://bucket", ExpiresAt: exp, Fields: map[string]string{
		"key": key, "Content-Type": contentType, "max": fmt.Sprint(maxBytes), "expires": exp.Format(time.RFC3339)}}, nil
}

// PresignGet returns a URL naming the key and the content type it serves.
func (s Signer) PresignGet(_ context.Context, key, contentType string, ttl time.Duration) (string, error) {
	return "mem://bucket/" + key + "?response-content-type=" + contentType + "&ttl=" + ttl.String(), nil
}

// PresignDownload returns a URL naming the key, the content type and the
// file name it serves.
func (s Signer) PresignDownload(_ context.Context, key, contentType, filename string, ttl time.Duration) (string, error) {
	return "mem://bucket/" + key + "?response-content-type=" + contentType + "&filename=" + filename + "&ttl=" + ttl.String(), nil
}

// Thumbnailer makes fake thumbnails of any data that starts with "IMG",
// and rejects anything else.
type Thumbnailer struct{}

// Make checks the data and makes one rendition per thumbnail size.
func (Thumbnailer) Make(data []byte) (inventory.ProcessedImage, error) {
	if !bytes.HasPrefix(data, []byte("IMG")) {
		return inventory.ProcessedImage{}, &inventory.RejectedImageError{Reason: "not an image"}
	}
	out := inventory.ProcessedImage{ContentType: "image/png", Width: 1000, Height: 500}
	for _, size := range inventory.ThumbnailSizes {
		out.Thumbnails = append(out.Thumbnails, inventory.Rendition{Size: size, Width: size, Height: size / 2,
			ContentType: "image/png", Ext: "png", Data: []byte(fmt.Sprintf("thumb %d of %s", size, data))})
	}
	return out, nil
}
