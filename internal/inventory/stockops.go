package inventory

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Limits of stock changes.
const (
	MaxAdjustmentLines = 30
	MaxStockDelta      = 1_000_000_000_000_000 // 10^15: any one delta, count or transfer
	MaxNoteLen         = 500
	MaxReferenceLen    = 100
	// MaxTransactionActions is DynamoDB's limit on one transaction.
	MaxTransactionActions = 100
)

// LevelKey names a level.
type LevelKey struct{ ItemID, LocationID string }

// StockKeys are the records a stock change reads before it is computed.
type StockKeys struct {
	Items     []string
	Levels    []LevelKey
	Locations []string // never DefaultLocation, which always exists
}

// StockState is what storage read for StockKeys; a record that does not
// exist is absent from its map.
type StockState struct {
	Items     map[string]Item
	Levels    map[LevelKey]Level
	Locations map[string]Location
}

// keysOf returns the keys a change of these levels reads.
func keysOf(levels []LevelKey) StockKeys {
	var k StockKeys
	for _, l := range levels {
		if !slices.Contains(k.Items, l.ItemID) {
			k.Items = append(k.Items, l.ItemID)
		}
		if !slices.Contains(k.Levels, l) {
			k.Levels = append(k.Levels, l)
		}
		if l.LocationID != DefaultLocation && !slices.Contains(k.Locations, l.LocationID) {
			k.Locations = append(k.Locations, l.LocationID)
		}
	}
	return k
}

// liveItem returns the item, which must exist and be live; field names
// where the request named it.
func (st StockState) liveItem(id, field string) (Item, error) {
	it, ok := st.Items[id]
	if !ok {
		return it, &Error{Kind: KindNotFound, Code: CodeItemNotFound, Message: fmt.Sprintf("no item with id %s", id),
			Fields: []FieldError{{Field: field, Code: CodeItemNotFound, Message: "no item with id " + id}}}
	}
	if it.Deleted != nil {
		return it, &Error{Kind: KindNotFound, Code: CodeItemDeleted,
			Message: fmt.Sprintf("item %s (%s) was deleted at %s; restore it first", it.ID, it.SKU, it.Deleted.At.Format(TimeLayout)),
			Fields:  []FieldError{{Field: field, Code: CodeItemDeleted, Message: "item " + id + " is deleted"}}}
	}
	return it, nil
}

// liveLocation checks that the location exists and is live.
func (st StockState) liveLocation(id, field string) error {
	if id == DefaultLocation {
		return nil
	}
	loc, ok := st.Locations[id]
	if !ok {
		return &Error{Kind: KindNotFound, Code: CodeLocationNotFound, Message: fmt.Sprintf("no location with id %s", id),
			Fields: []FieldError{{Field: field, Code: CodeLocationNotFound, Message: "no location with id " + id}}}
	}
	if loc.Deleted != nil {
		return &Error{Kind: KindNotFound, Code: CodeLocationDeleted,
			Message: fmt.Sprintf("location %s (%s) was deleted at %s; restore it first", loc.ID, loc.Code, loc.Deleted.At.Format(TimeLayout)),
			Fields:  []FieldError{{Field: field, Code: CodeLocationDeleted, Message: "location " + id + " is deleted"}}}
	}
	return nil
}

// level returns the level as read, or a new empty one.
func (st StockState) level(k LevelKey) Level {
	if l, ok := st.Levels[k]; ok {
		return l
	}
	return Level{ItemID: k.ItemID, LocationID: k.LocationID}
}

// addChecked adds b to a, or reports that the sum would overflow.
func addChecked(a, b int64) (int64, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}

// reviseItems returns the items whose on-hand totals the ledger lines
// change, each with a new version stamped by actor at at.
func reviseItems(st StockState, ledger []LedgerEntry, actor string, at time.Time) ([]ItemRevision, error) {
	var out []ItemRevision
	index := map[string]int{}
	for _, e := range ledger {
		i, ok := index[e.ItemID]
		if !ok {
			old := st.Items[e.ItemID]
			next := old
			touch(&next, old, actor, at)
			i = len(out)
			index[e.ItemID] = i
			out = append(out, ItemRevision{Old: old, Next: next})
		}
		q, ok := addChecked(out[i].Next.Quantity, e.Delta)
		if !ok {
			return nil, Invalid(CodeValidationFailed, fmt.Sprintf("the total quantity of item %s would overflow", e.ItemID))
		}
		out[i].Next.Quantity = q
	}
	return slices.DeleteFunc(out, func(r ItemRevision) bool { return r.Next.Quantity == r.Old.Quantity }), nil
}

// ---- Adjustments

// AdjustmentInput is a request to change stock at levels, all or nothing.
type AdjustmentInput struct {
	Reason    string
	Note      string
	Reference *string // nil: none
	Lines     []AdjustmentLine
}

// AdjustmentLine is one level's change.
type AdjustmentLine struct {
	ItemID     string
	LocationID string
	Delta      int64
}

// Adjustment is a committed adjustment.
type Adjustment struct {
	ID        string
	Reason    string
	Note      string
	Reference string
	Actor     string
	At        time.Time
	Lines     []AdjustedLine
}

// AdjustedLine is one line of a committed adjustment.
type AdjustedLine struct {
	ItemID      string
	LocationID  string
	Delta       int64
	OnHandAfter int64
}

// Validate checks an adjustment's input.
func (in *AdjustmentInput) Validate() error {
	var v validator
	if !slices.Contains(AdjustmentReasons, in.Reason) {
		v.add("/reason", "enum", "reason must be one of %s", strings.Join(AdjustmentReasons, ", "))
	}
	v.note("/note", in.Note)
	if in.Reference != nil {
		v.reference("/reference", *in.Reference)
	}
	switch n := len(in.Lines); {
	case n == 0:
		v.add("/lines", "too_few", "an adjustment has 1 to %d lines", MaxAdjustmentLines)
	case n > MaxAdjustmentLines:
		v.add("/lines", "too_many", "an adjustment has 1 to %d lines, got %d", MaxAdjustmentLines, n)
	}
	for i, l := range in.Lines {
		p := fmt.Sprintf("/lines/%d", i)
		v.id(p+"/itemId", l.ItemID)
		v.locationID(p+"/locationId", l.LocationID)
		switch {
		case l.Delta == 0:
			v.add(p+"/delta", "not_zero", "delta must not be 0")
		case l.Delta > MaxStockDelta || l.Delta < -MaxStockDelta:
			v.add(p+"/delta", "range", "delta must be between -%d and %d", int64(MaxStockDelta), int64(MaxStockDelta))
		}
	}
	return v.err()
}

// Keys are the records the adjustment reads.
func (in AdjustmentInput) Keys() StockKeys {
	levels := make([]LevelKey, len(in.Lines))
	for i, l := range in.Lines {
		levels[i] = LevelKey{l.ItemID, l.LocationID}
	}
	return keysOf(levels)
}

// Adjust computes an adjustment on the state read for in.Keys(). Lines
// apply in order (two lines may name one level: each is its own ledger
// line, the level is written once). A line that would leave less on hand
// than is committed makes it fail whole with insufficient_stock, naming
// every short line with what was available to it.
func Adjust(in AdjustmentInput, st StockState, actor string, now time.Time) (StockChange, Adjustment, error) {
	// One slot per level: lines that name the same level apply in order.
	var levels []Level
	slot := make([]int, len(in.Lines))
	index := map[LevelKey]int{}
	for i, l := range in.Lines {
		p := fmt.Sprintf("/lines/%d", i)
		if _, err := st.liveItem(l.ItemID, p+"/itemId"); err != nil {
			return StockChange{}, Adjustment{}, err
		}
		if err := st.liveLocation(l.LocationID, p+"/locationId"); err != nil {
			return StockChange{}, Adjustment{}, err
		}
		k := LevelKey{l.ItemID, l.LocationID}
		j, ok := index[k]
		if !ok {
			j = len(levels)
			index[k] = j
			levels = append(levels, st.level(k))
		}
		slot[i] = j
	}
	var short []FieldError
	running := make([]int64, len(levels))
	for j, lv := range levels {
		running[j] = lv.OnHand
	}
	for i, l := range in.Lines {
		lv := levels[slot[i]]
		before := running[slot[i]]
		after, ok := addChecked(before, l.Delta)
		if !ok {
			return StockChange{}, Adjustment{}, Invalid(CodeValidationFailed, "a line would overflow its level",
				FieldError{Field: fmt.Sprintf("/lines/%d/delta", i), Code: "range", Message: "on hand would overflow"})
		}
		if after < lv.Committed {
			available := max(before-lv.Committed, 0) // an earlier line of the level may have gone short already
			short = append(short, FieldError{Field: fmt.Sprintf("/lines/%d/delta", i), Code: CodeInsufficientStock,
				Available: ptr(available),
				Message:   fmt.Sprintf("%s at %s has %d available; it can go down by at most that", l.ItemID, l.LocationID, available)})
		}
		running[slot[i]] = after
	}
	if len(short) > 0 {
		return StockChange{}, Adjustment{}, Short(fmt.Sprintf("%d of the adjustment's lines would take more than is available; nothing changed", len(short)), short...)
	}
	id := NewID(now)
	reference := id
	if in.Reference != nil {
		reference = *in.Reference
	}
	m := newMoves(actor, now, levels)
	adj := Adjustment{ID: id, Reason: in.Reason, Note: in.Note, Actor: actor, At: m.at}
	if in.Reference != nil {
		adj.Reference = *in.Reference
	}
	for i, l := range in.Lines {
		e := m.move(slot[i], l.Delta, in.Reason, reference, in.Note)
		adj.Lines = append(adj.Lines, AdjustedLine{ItemID: l.ItemID, LocationID: l.LocationID, Delta: l.Delta, OnHandAfter: e.OnHandAfter})
	}
	c := StockChange{}
	c.Levels, c.Ledger = m.result()
	var err error
	if c.Items, err = reviseItems(st, c.Ledger, actor, m.at); err != nil {
		return StockChange{}, Adjustment{}, err
	}
	c.finish(st)
	return c, adj, nil
}

// ---- Cycle counts

// CountInput is a cycle count: what was counted at a level, and optionally
// what the counter expected to find there.
type CountInput struct {
	ItemID     string
	LocationID string
	Counted    *int64 // required
	Expected   *int64
}

// Count is a committed cycle count.
type Count struct {
	ID          string
	ItemID      string
	LocationID  string
	Counted     int64
	Expected    *int64
	Delta       int64
	OnHandAfter int64
	Actor       string
	At          time.Time
}

// Validate checks a count's input.
func (in *CountInput) Validate() error {
	var v validator
	v.id("/itemId", in.ItemID)
	v.locationID("/locationId", in.LocationID)
	if in.Counted == nil {
		v.add("/counted", "required", "counted is required")
	} else {
		v.quantity("/counted", *in.Counted, 0)
	}
	if in.Expected != nil {
		v.quantity("/expected", *in.Expected, 0)
	}
	return v.err()
}

// Keys are the records the count reads.
func (in CountInput) Keys() StockKeys {
	return keysOf([]LevelKey{{in.ItemID, in.LocationID}})
}

// CountStock computes a cycle count: on hand becomes what was counted,
// with a cycle_count ledger line of the difference (0 confirms the level).
// With Expected, it is a compare-and-set: a level whose on hand is not what
// was expected is count_mismatch.
func CountStock(in CountInput, st StockState, actor string, now time.Time) (StockChange, Count, error) {
	if _, err := st.liveItem(in.ItemID, "/itemId"); err != nil {
		return StockChange{}, Count{}, err
	}
	if err := st.liveLocation(in.LocationID, "/locationId"); err != nil {
		return StockChange{}, Count{}, err
	}
	lv := st.level(LevelKey{in.ItemID, in.LocationID})
	if in.Expected != nil && *in.Expected != lv.OnHand {
		return StockChange{}, Count{}, &Error{Kind: KindConflict, Code: CodeCountMismatch,
			Message: fmt.Sprintf("on hand is %d, not the %d expected; nothing changed: recount, or count again with the current figure", lv.OnHand, *in.Expected),
			Fields: []FieldError{{Field: "/expected", Code: CodeCountMismatch, OnHand: ptr(lv.OnHand),
				Message: fmt.Sprintf("on hand is %d", lv.OnHand)}}}
	}
	counted := *in.Counted
	if counted < lv.Committed {
		return StockChange{}, Count{}, Short(fmt.Sprintf("%d are committed at this level; a count below that needs the shipments changed first", lv.Committed),
			FieldError{Field: "/counted", Code: CodeInsufficientStock, Available: ptr(lv.Available()),
				Message: fmt.Sprintf("%d committed, %d available", lv.Committed, lv.Available())})
	}
	id := NewID(now)
	m := newMoves(actor, now, []Level{lv})
	e := m.move(0, counted-lv.OnHand, ReasonCycleCount, id, "")
	c := StockChange{}
	c.Levels, c.Ledger = m.result()
	var err error
	if c.Items, err = reviseItems(st, c.Ledger, actor, m.at); err != nil {
		return StockChange{}, Count{}, err
	}
	c.finish(st)
	return c, Count{ID: id, ItemID: in.ItemID, LocationID: in.LocationID, Counted: counted, Expected: in.Expected,
		Delta: e.Delta, OnHandAfter: e.OnHandAfter, Actor: actor, At: m.at}, nil
}

// ---- Transfers

// TransferInput moves stock of an item between two locations.
type TransferInput struct {
	ItemID         string
	FromLocationID string
	ToLocationID   string
	Quantity       int64
	Note           string
}

// Transfer is a committed transfer.
type Transfer struct {
	ID             string
	ItemID         string
	FromLocationID string
	ToLocationID   string
	Quantity       int64
	Note           string
	FromOnHand     int64 // after
	ToOnHand       int64 // after
	Actor          string
	At             time.Time
}

// Validate checks a transfer's input.
func (in *TransferInput) Validate() error {
	var v validator
	v.id("/itemId", in.ItemID)
	v.locationID("/fromLocationId", in.FromLocationID)
	v.locationID("/toLocationId", in.ToLocationID)
	if in.FromLocationID != "" && in.FromLocationID == in.ToLocationID {
		v.add("/toLocationId", "same_location", "a transfer moves stock between two different locations")
	}
	v.quantity("/quantity", in.Quantity, 1)
	v.note("/note", in.Note)
	return v.err()
}

// Keys are the records the transfer reads.
func (in TransferInput) Keys() StockKeys {
	return keysOf([]LevelKey{{in.ItemID, in.FromLocationID}, {in.ItemID, in.ToLocationID}})
}

// TransferStock computes a transfer: two ledger lines, transfer_out and
// transfer_in, referencing the transfer. The item's total does not change,
// so the item is not written.
func TransferStock(in TransferInput, st StockState, actor string, now time.Time) (StockChange, Transfer, error) {
	if _, err := st.liveItem(in.ItemID, "/itemId"); err != nil {
		return StockChange{}, Transfer{}, err
	}
	if err := st.liveLocation(in.FromLocationID, "/fromLocationId"); err != nil {
		return StockChange{}, Transfer{}, err
	}
	if err := st.liveLocation(in.ToLocationID, "/toLocationId"); err != nil {
		return StockChange{}, Transfer{}, err
	}
	from := st.level(LevelKey{in.ItemID, in.FromLocationID})
	to := st.level(LevelKey{in.ItemID, in.ToLocationID})
	if from.Available() < in.Quantity {
		return StockChange{}, Transfer{}, Short(fmt.Sprintf("only %d are available at the source location", from.Available()),
			FieldError{Field: "/quantity", Code: CodeInsufficientStock, Available: ptr(from.Available()),
				Message: fmt.Sprintf("%d available at %s", from.Available(), in.FromLocationID)})
	}
	if _, ok := addChecked(to.OnHand, in.Quantity); !ok {
		return StockChange{}, Transfer{}, Invalid(CodeValidationFailed, "the destination's on hand would overflow",
			FieldError{Field: "/quantity", Code: "range", Message: "on hand at the destination would overflow"})
	}
	id := NewID(now)
	m := newMoves(actor, now, []Level{from, to})
	out := m.move(0, -in.Quantity, ReasonTransferOut, id, in.Note)
	inn := m.move(1, in.Quantity, ReasonTransferIn, id, in.Note)
	c := StockChange{}
	c.Levels, c.Ledger = m.result()
	c.finish(st)
	return c, Transfer{ID: id, ItemID: in.ItemID, FromLocationID: in.FromLocationID, ToLocationID: in.ToLocationID,
		Quantity: in.Quantity, Note: in.Note, FromOnHand: out.OnHandAfter, ToOnHand: inn.OnHandAfter, Actor: actor, At: m.at}, nil
}

// ---- validators

func (v *validator) id(field, s string) {
	switch {
	case s == "":
		v.add(field, "required", "an item id is required")
	case !IsValidID(s):
		v.add(field, "pattern", "must be an item id (a 26-character ULID)")
	}
}

func (v *validator) locationID(field, s string) {
	switch {
	case s == "":
		v.add(field, "required", "a location id is required")
	case !IsValidLocationID(s):
		v.add(field, "pattern", "must be a location id: %q or a 26-character ULID", DefaultLocation)
	}
}

func (v *validator) quantity(field string, n, min int64) {
	if n < min || n > MaxStockDelta {
		v.add(field, "range", "must be from %d to %d, got %d", min, int64(MaxStockDelta), n)
	}
}

func (v *validator) note(field, s string) { v.text(field, s, 0, MaxNoteLen) }

func (v *validator) reference(field, s string) {
	if blank(s) {
		v.add(field, "required", "reference must not be blank; omit it or send null")
		return
	}
	v.text(field, s, 1, MaxReferenceLen)
}
