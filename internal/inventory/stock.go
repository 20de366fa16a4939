package inventory

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"
)

// DefaultLocation is the id of the location every deployment starts with,
// where stock goes unless a request names another.
const DefaultLocation = "default"

// Ledger reasons. The adjustment reasons are the ones a caller may give
// POST /adjustments; the others are written by the operations themselves.
const (
	ReasonItemCreated = "item_created"
	ReasonQuantitySet = "quantity_set"
	ReasonReceived    = "received"
	ReasonCorrection  = "correction"
	ReasonDamaged     = "damaged"
	ReasonShrinkage   = "shrinkage"
	ReasonReturned    = "returned"
	ReasonCycleCount  = "cycle_count"
	ReasonOther       = "other"
	ReasonTransferOut = "transfer_out"
	ReasonTransferIn  = "transfer_in"
)

// AdjustmentReasons are the reasons an adjustment may give.
var AdjustmentReasons = []string{ReasonReceived, ReasonCorrection, ReasonDamaged, ReasonShrinkage,
	ReasonReturned, ReasonCycleCount, ReasonOther}

// LedgerReasons are every reason a ledger line can have.
var LedgerReasons = []string{ReasonItemCreated, ReasonQuantitySet, ReasonReceived, ReasonCorrection, ReasonDamaged,
	ReasonShrinkage, ReasonReturned, ReasonCycleCount, ReasonOther, ReasonTransferOut, ReasonTransferIn,
	ReasonShipmentCommitted, ReasonShipmentReleased, ReasonShipmentShipped, ReasonShipmentIncoming, ReasonShipmentReceived}

// Level is the stock of one item at one location. Its invariants —
// OnHand ≥ Committed ≥ 0 and Incoming ≥ 0 — hold in every state storage
// commits: a change is computed from the exact level read, checked, and
// written on the condition that the level is still the one read.
type Level struct {
	ItemID     string
	LocationID string
	// SKU is the item's SKU, which orders a location's levels; every
	// change of a level writes the SKU of the item as read with it.
	SKU       string
	OnHand    int64
	Committed int64 // promised to shipments not yet dispatched
	Incoming  int64 // on its way here in shipments not yet received
	UpdatedAt time.Time
	// LastLedgerID is the id of the level's newest ledger line: its
	// version. Ledger ids of one level grow in the order their changes
	// commit.
	LastLedgerID string
}

// Available is what can be promised from the level.
func (l Level) Available() int64 { return l.OnHand - l.Committed }

// Empty reports whether the level holds nothing: no stock on hand,
// committed or incoming. Only a location whose levels are all empty can be
// deleted.
func (l Level) Empty() bool { return l.OnHand == 0 && l.Committed == 0 && l.Incoming == 0 }

// LevelChange is a level as read (Old; nil when it does not exist yet) and
// as it is to be written.
type LevelChange struct {
	Old  *Level
	Next Level
}

// LedgerEntry is one change of stock of an item at a location; the After
// fields are the level's figures after it.
type LedgerEntry struct {
	ID             string
	ItemID         string
	LocationID     string
	Delta          int64 // change of on hand
	OnHandAfter    int64
	CommittedAfter int64
	IncomingAfter  int64
	Reason         string
	Reference      string
	Note           string
	Actor          string
	At             time.Time
}

// Level returns the level as this line left it.
func (e LedgerEntry) Level() Level {
	return Level{ItemID: e.ItemID, LocationID: e.LocationID, OnHand: e.OnHandAfter, Committed: e.CommittedAfter,
		Incoming: e.IncomingAfter, UpdatedAt: e.At, LastLedgerID: e.ID}
}

// moves builds the level changes and ledger lines of one change of stock.
// All of its lines share one time, at: now, or later if a level's last
// line is later (another writer's clock ahead of ours), so that a level's
// lines never go back in time.
type moves struct {
	actor  string
	at     time.Time
	levels []Level
	old    []*Level
	ledger []LedgerEntry
}

// newMoves starts a change of the levels, as read; a level with no
// LastLedgerID does not exist yet.
func newMoves(actor string, now time.Time, levels []Level) *moves {
	m := &moves{actor: actor, at: instant(now), levels: levels, old: make([]*Level, len(levels))}
	for i, l := range levels {
		if l.LastLedgerID != "" {
			old := l
			m.old[i] = &old
			if t := instant(l.UpdatedAt); t.After(m.at) {
				m.at = t
			}
		}
	}
	return m
}

// move changes the on hand of level i by delta, with a ledger line.
func (m *moves) move(i int, delta int64, reason, reference, note string) LedgerEntry {
	l := &m.levels[i]
	l.OnHand += delta
	l.UpdatedAt = m.at
	l.LastLedgerID = nextLedgerID(m.at, l.LastLedgerID)
	e := LedgerEntry{ID: l.LastLedgerID, ItemID: l.ItemID, LocationID: l.LocationID, Delta: delta,
		OnHandAfter: l.OnHand, CommittedAfter: l.Committed, IncomingAfter: l.Incoming,
		Reason: reason, Reference: reference, Note: note, Actor: m.actor, At: m.at}
	m.ledger = append(m.ledger, e)
	return e
}

// result returns the changes of the levels moved, and their ledger lines.
func (m *moves) result() ([]LevelChange, []LedgerEntry) {
	var out []LevelChange
	for i, l := range m.levels {
		if m.old[i] != nil && l.LastLedgerID == m.old[i].LastLedgerID {
			continue // not moved
		}
		out = append(out, LevelChange{Old: m.old[i], Next: l})
	}
	return out, m.ledger
}

// nextLedgerID returns the id of a level's next ledger line at at: a new
// ULID, unless that would not sort after the level's last line (another
// process wrote it in the same millisecond), in which case the last one
// plus a random step, so that a level's ledger ids follow the order its
// changes committed in.
func nextLedgerID(at time.Time, last string) string {
	id := NewID(at)
	if last == "" || id > last {
		return id
	}
	u, err := ulid.ParseStrict(last)
	if err != nil {
		return id // not a ULID: a level stored by hand; order by time alone
	}
	n := new(big.Int).SetBytes(u[:])
	var step [4]byte
	_, _ = rand.Read(step[:])
	n.Add(n, big.NewInt(int64(binary.BigEndian.Uint32(step[:]))+1))
	b := n.FillBytes(make([]byte, 17))
	var next ulid.ULID
	copy(next[:], b[1:])
	return next.String()
}

// LedgerIDBound returns the largest ledger id a line made at or before t
// can have: a history read up to it (inclusive) holds exactly the lines of
// instants ≤ t.
func LedgerIDBound(t time.Time) string {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t.UTC().Truncate(time.Millisecond)))
	for i := 6; i < len(u); i++ {
		u[i] = 0xFF
	}
	return u.String()
}

func ptr[T any](v T) *T { return &v }

// Short returns an insufficient_stock error naming each short field.
func Short(message string, fields ...FieldError) *Error {
	return &Error{Kind: KindConflict, Code: CodeInsufficientStock, Message: message, Fields: fields}
}

// StockChange is one change of stock that commits atomically: the levels,
// their ledger lines, the items whose totals change, and the idempotency
// record. Storage refuses it with ErrStale if a level or an item it writes
// is no longer as read, or a location a level becomes stocked (or stays
// empty) at was deleted meanwhile. An item whose totals do not change (a
// transfer's) is not written but checked (Checked): its version must still
// be the one read, so the change cannot commit after a concurrent delete or
// SKU change of the item.
type StockChange struct {
	Items       []ItemRevision
	Checked     []Item // items with levels written whose record is not
	Levels      []LevelChange
	Ledger      []LedgerEntry
	Idempotency *IdempotencyRecord
}

// finish stamps each level written with its item's SKU and checks the
// items with levels written that it does not rewrite.
func (c *StockChange) finish(st StockState) {
	for i := range c.Levels {
		c.Levels[i].Next.SKU = st.Items[c.Levels[i].Next.ItemID].SKU
		id := c.Levels[i].Next.ItemID
		if !slices.ContainsFunc(c.Items, func(r ItemRevision) bool { return r.Next.ID == id }) &&
			!slices.ContainsFunc(c.Checked, func(it Item) bool { return it.ID == id }) {
			c.Checked = append(c.Checked, st.Items[id])
		}
	}
}

// ItemRevision is an item as read and as it is to be written.
type ItemRevision struct {
	Old  Item
	Next Item
}

// LocationGuard is what a change of stock must do to a location other than
// the default, in its transaction, to keep the location's count of stocked
// levels exact: add Delta to it, and (NeedsLive) fail unless the location
// is live. A level that becomes stocked counts +1 and needs the location
// live (it may have been deleted since it was read); one that becomes empty
// counts −1; one that was empty and stays empty only needs it live; one
// that was and stays stocked needs nothing, because a location with stock
// is never deleted. A guard with Delta 0 and NeedsLive false is no action.
type LocationGuard struct {
	LocationID string
	Delta      int64
	NeedsLive  bool
}

// LocationGuards returns the guards the level changes need, one per
// location, in the order the locations first appear.
func LocationGuards(levels []LevelChange) []LocationGuard {
	var out []LocationGuard
	index := map[string]int{}
	for _, l := range levels {
		loc := l.Next.LocationID
		wasStocked := l.Old != nil && !l.Old.Empty()
		isStocked := !l.Next.Empty()
		if loc == DefaultLocation || (wasStocked && isStocked) {
			continue
		}
		i, ok := index[loc]
		if !ok {
			i = len(out)
			index[loc] = i
			out = append(out, LocationGuard{LocationID: loc})
		}
		g := &out[i]
		g.NeedsLive = g.NeedsLive || !wasStocked
		switch {
		case isStocked && !wasStocked:
			g.Delta++
		case wasStocked && !isStocked:
			g.Delta--
		}
	}
	return slices.DeleteFunc(out, func(g LocationGuard) bool { return g.Delta == 0 && !g.NeedsLive })
}
