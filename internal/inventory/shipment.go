package inventory

import (
	"fmt"
	"slices"
	"time"
)

// Shipments move stock out of a location: to another warehouse, or to a
// customer. docs/shipments.md explains the design: each transition of up to
// MaxShipmentLines lines is a transition record, idempotent chunked steps
// (one transaction each, applied at most once by a step marker) and a
// completion; a crashed transition is finished (or, for a ready that found
// stock short, rolled back) by the next attempt or by the resumer.

// Limits of shipments.
const (
	MaxShipmentLines = 500
	MaxCarrierLen    = 100
	MaxTrackingLen   = 100
	MaxCustomerName  = 200
)

// Shipment statuses.
const (
	ShipmentDraft             = "draft"
	ShipmentReady             = "ready"
	ShipmentShipped           = "shipped"
	ShipmentPartiallyReceived = "partially_received"
	ShipmentReceived          = "received"
	ShipmentCancelled         = "cancelled"
)

// ShipmentStatuses are every status, as GET /shipments?status= takes them.
var ShipmentStatuses = []string{ShipmentDraft, ShipmentReady, ShipmentShipped, ShipmentPartiallyReceived,
	ShipmentReceived, ShipmentCancelled}

// Shipment actions: the transitions, and the other changes the timeline
// records.
const (
	ActionCreate  = "create"
	ActionLines   = "lines"
	ActionReady   = "ready"
	ActionShip    = "ship"
	ActionReceive = "receive"
	ActionCancel  = "cancel"
)

// Ledger reasons of shipments (reference = the shipment's id).
const (
	ReasonShipmentCommitted = "shipment_committed" // ready: committed += q at the origin
	ReasonShipmentReleased  = "shipment_released"  // cancel, or a ready rolled back: committed −= q
	ReasonShipmentShipped   = "shipment_shipped"   // ship: on hand and committed −= q at the origin
	ReasonShipmentIncoming  = "shipment_incoming"  // ship: incoming += q at a warehouse destination
	ReasonShipmentReceived  = "shipment_received"  // receive: on hand += r, incoming −= r
)

// Error codes of shipments.
const (
	CodeShipmentNotFound  = "shipment_not_found"
	CodeInvalidTransition = "invalid_transition"
	CodeOverReceipt       = "over_receipt"
)

// Destination is where a shipment goes: another warehouse (LocationID), or
// a customer (Name and Address).
type Destination struct {
	LocationID string
	Name       string
	Address    string
}

// Warehouse reports whether the destination is a location of Depot's.
func (d Destination) Warehouse() bool { return d.LocationID != "" }

// ShipmentLine is one item of a shipment: how many, and how many of those
// have been received.
type ShipmentLine struct {
	ItemID   string
	Quantity int64
	Received int64
}

// Shipment is a shipment's header: everything but its lines and timeline.
type Shipment struct {
	ID               string
	Status           string
	OriginLocationID string
	Destination      Destination
	Reference        string
	Carrier          string
	TrackingNumber   string
	Note             string
	LineCount        int
	TotalQuantity    int64
	ReceivedQuantity int64
	CreatedAt        time.Time
	CreatedBy        string
	UpdatedAt        time.Time
	UpdatedBy        string
	Version          int64
}

// ShipmentEvent is one entry of a shipment's timeline: a change, who made
// it and when, and the status after it.
type ShipmentEvent struct {
	ID       string
	Action   string
	Status   string
	Actor    string
	At       time.Time
	Lines    int   // lines moved (transitions) or set (create, lines)
	Quantity int64 // units moved (transitions) or set
}

// Transition is a transition in progress: the record that makes a
// multi-step change of stock crash-safe. Lines are the lines it moves, in
// the order its steps take them (ChunkSize each); Rollback is set when a
// ready found stock short and is being undone.
type Transition struct {
	ID          string
	ShipmentID  string
	Action      string
	Actor       string
	StartedAt   time.Time
	FromVersion int64 // the header's version when it started
	ChunkSize   int
	Lines       []TransitionLine
	Rollback    bool
	// Idempotency is the record its completion writes (its Result filled
	// then), so that a transition a resumer finishes still answers the
	// request's retry.
	Idempotency *IdempotencyRecord
}

// TransitionLine is one line a transition moves: q units of an item.
type TransitionLine struct {
	ItemID   string
	Quantity int64
}

// Steps is the number of steps of the transition.
func (t Transition) Steps() int { return (len(t.Lines) + t.ChunkSize - 1) / t.ChunkSize }

// Chunk returns the lines of step k.
func (t Transition) Chunk(k int) []TransitionLine {
	return t.Lines[k*t.ChunkSize : min((k+1)*t.ChunkSize, len(t.Lines))]
}

// StepMark is a step a transition applied (Undo: undid).
type StepMark struct {
	TransitionID string
	Index        int
	Undo         bool
}

// ShipmentState is a shipment read whole: header, lines, timeline (oldest
// first), and the transition in progress with the steps it applied.
type ShipmentState struct {
	Shipment
	Lines      []ShipmentLine
	Timeline   []ShipmentEvent
	Transition *Transition
	Steps      []StepMark // of Transition
}

// Applied reports the forward steps of the transition that are in effect:
// applied and not undone.
func (st ShipmentState) Applied() map[int]bool {
	out := map[int]bool{}
	if st.Transition == nil {
		return out
	}
	for _, s := range st.Steps {
		if s.TransitionID == st.Transition.ID && !s.Undo {
			out[s.Index] = true
		}
	}
	for _, s := range st.Steps {
		if s.TransitionID == st.Transition.ID && s.Undo {
			delete(out, s.Index)
		}
	}
	return out
}

// Undone reports the steps of the transition already undone.
func (st ShipmentState) Undone() map[int]bool {
	out := map[int]bool{}
	for _, s := range st.Steps {
		if st.Transition != nil && s.TransitionID == st.Transition.ID && s.Undo {
			out[s.Index] = true
		}
	}
	return out
}

// ShipmentChange is a change of a shipment's records, committed at once:
// the header (Old nil: created; written when Next's version is not Old's),
// its lines (when Lines is not nil), a timeline entry, the start, rollback
// or end of a transition, and the idempotency record. Without a
// transition's start or end, the change requires that no transition is in
// progress.
type ShipmentChange struct {
	Old         *Shipment
	Next        Shipment
	Lines       []ShipmentLine
	Event       *ShipmentEvent
	Start       *Transition // put, if none is in progress (the header checked at Old's version)
	Rollback    *Transition // put with Rollback set, if it is still in progress and not rolling back
	End         *Transition // deleted, if it is still in progress
	Idempotency *IdempotencyRecord
}

// ShipmentStep is one step of a transition: its change of stock, committed
// with its marker (at most once per step) on the condition that the
// transition is still in progress in the step's direction.
type ShipmentStep struct {
	ShipmentID   string
	TransitionID string
	Index        int
	Undo         bool
	Lines        int
	At           time.Time
	Stock        StockChange
}

// Storage errors of shipment steps.
var (
	// ErrStepDone: the step's marker exists; the step was applied.
	ErrStepDone = fmt.Errorf("inventory: shipment step already applied")
	// ErrTransitionMoved: the transition is no longer in progress in the
	// step's direction (finished, or rolling back).
	ErrTransitionMoved = fmt.Errorf("inventory: shipment transition moved on")
)

// ShipmentInput is a new shipment.
type ShipmentInput struct {
	OriginLocationID string
	Destination      Destination
	Lines            []TransitionLine
	Reference        *string
	Carrier          *string
	TrackingNumber   *string
	Note             *string
}

// Validate checks a shipment's input.
func (in *ShipmentInput) Validate() error {
	var v validator
	v.locationID("/originLocationId", in.OriginLocationID)
	d := in.Destination
	switch {
	case d.LocationID != "" && (d.Name != "" || d.Address != ""):
		v.add("/destination", "one_of", "destination is either {locationId} or {name, address}")
	case d.LocationID != "":
		v.locationID("/destination/locationId", d.LocationID)
		if d.LocationID == in.OriginLocationID {
			v.add("/destination/locationId", "same_location", "a shipment goes to another location than its origin")
		}
	default:
		if blank(d.Name) {
			v.add("/destination/name", "required", "a customer destination has a name")
		} else {
			v.text("/destination/name", d.Name, 1, MaxCustomerName)
		}
		v.address("/destination/address", d.Address)
	}
	validateShipmentLines(&v, in.Lines)
	if in.Reference != nil {
		v.reference("/reference", *in.Reference)
	}
	if in.Carrier != nil {
		v.text("/carrier", *in.Carrier, 1, MaxCarrierLen)
	}
	if in.TrackingNumber != nil {
		v.text("/trackingNumber", *in.TrackingNumber, 1, MaxTrackingLen)
	}
	if in.Note != nil {
		v.note("/note", *in.Note)
	}
	return v.err()
}

// ValidateShipmentLines checks the lines of PUT /shipments/{id}/lines.
func ValidateShipmentLines(lines []TransitionLine) error {
	var v validator
	validateShipmentLines(&v, lines)
	return v.err()
}

func validateShipmentLines(v *validator, lines []TransitionLine) {
	switch n := len(lines); {
	case n == 0:
		v.add("/lines", "too_few", "a shipment has 1 to %d lines", MaxShipmentLines)
	case n > MaxShipmentLines:
		v.add("/lines", "too_many", "a shipment has 1 to %d lines, got %d", MaxShipmentLines, n)
	}
	seen := map[string]bool{}
	for i, l := range lines {
		p := fmt.Sprintf("/lines/%d", i)
		v.id(p+"/itemId", l.ItemID)
		if seen[l.ItemID] && l.ItemID != "" {
			v.add(p+"/itemId", "duplicate", "one line per item: %s is on an earlier line", l.ItemID)
		}
		seen[l.ItemID] = true
		v.quantity(p+"/quantity", l.Quantity, 1)
	}
}

// ValidateReceipt checks the lines of a receipt: items of the shipment,
// once each, 1 or more units.
func ValidateReceipt(lines []TransitionLine) error {
	if len(lines) == 0 {
		return nil
	}
	var v validator
	validateShipmentLines(&v, lines)
	return v.err()
}

// NewShipment builds a draft from validated input.
func NewShipment(in ShipmentInput, actor string, now time.Time) (Shipment, []ShipmentLine, ShipmentEvent) {
	now = instant(now)
	s := Shipment{ID: NewID(now), Status: ShipmentDraft, OriginLocationID: in.OriginLocationID,
		Destination: in.Destination, CreatedAt: now, CreatedBy: actor, UpdatedAt: now, UpdatedBy: actor, Version: 1}
	for _, p := range []struct {
		to   *string
		from *string
	}{{&s.Reference, in.Reference}, {&s.Carrier, in.Carrier}, {&s.TrackingNumber, in.TrackingNumber}, {&s.Note, in.Note}} {
		if p.from != nil {
			*p.to = *p.from
		}
	}
	lines := shipmentLines(in.Lines)
	s.LineCount, s.TotalQuantity = len(lines), total(in.Lines)
	return s, lines, NewShipmentEvent(ActionCreate, s, actor, now, len(lines), s.TotalQuantity)
}

func shipmentLines(in []TransitionLine) []ShipmentLine {
	out := make([]ShipmentLine, len(in))
	for i, l := range in {
		out[i] = ShipmentLine{ItemID: l.ItemID, Quantity: l.Quantity}
	}
	return out
}

func total(lines []TransitionLine) int64 {
	var n int64
	for _, l := range lines {
		n += l.Quantity
	}
	return n
}

// NewShipmentEvent is a timeline entry for a change that leaves s as it is.
func NewShipmentEvent(action string, s Shipment, actor string, at time.Time, lines int, quantity int64) ShipmentEvent {
	return ShipmentEvent{ID: NewID(at), Action: action, Status: s.Status, Actor: actor, At: instant(at), Lines: lines, Quantity: quantity}
}

// ReplaceLines returns the header and lines after PUT lines.
func ReplaceLines(old Shipment, in []TransitionLine, actor string, now time.Time) (Shipment, []ShipmentLine) {
	next := old
	next.LineCount, next.TotalQuantity = len(in), total(in)
	touchShipment(&next, old, actor, now)
	return next, shipmentLines(in)
}

func touchShipment(next *Shipment, old Shipment, actor string, now time.Time) {
	next.UpdatedAt, next.UpdatedBy, next.Version = instant(now), actor, old.Version+1
}

// InvalidTransition is the error of an action the status does not allow.
func InvalidTransition(s Shipment, action, why string) *Error {
	return &Error{Kind: KindConflict, Code: CodeInvalidTransition, CurrentStatus: s.Status,
		Message: fmt.Sprintf("a shipment that is %s cannot %s: %s", s.Status, action, why)}
}

// CheckTransition reports whether action may start from s's status.
func CheckTransition(s Shipment, action string) error {
	ok := false
	why := ""
	switch action {
	case ActionLines:
		ok, why = s.Status == ShipmentDraft, "its lines change only while it is a draft"
	case ActionReady:
		ok, why = s.Status == ShipmentDraft, "only a draft becomes ready"
	case ActionShip:
		ok, why = s.Status == ShipmentReady, "only a ready shipment ships"
	case ActionCancel:
		ok, why = s.Status == ShipmentDraft || s.Status == ShipmentReady, "only a draft or a ready shipment is cancelled"
	case ActionReceive:
		switch {
		case !s.Destination.Warehouse():
			why = "it goes to a customer; only a shipment to a warehouse is received"
		default:
			ok, why = s.Status == ShipmentShipped || s.Status == ShipmentPartiallyReceived, "only a shipped shipment is received"
		}
	}
	if ok {
		return nil
	}
	return InvalidTransition(s, action, why)
}

// TransitionPerLine is the number of transaction actions a line of the
// action takes: a level, its ledger line and the item at the origin or the
// destination, and a ship to a warehouse the destination's level and line
// too.
func TransitionPerLine(action string, warehouse bool) int {
	if action == ActionShip && warehouse {
		return 5
	}
	return 3
}

// stepOverhead is the actions of a step other than its lines: its marker,
// the check of its transition, and up to two location guards.
const stepOverhead = 4

// ChunkSize is the lines one step of the action takes, so that a step is
// one transaction of at most MaxTransactionActions actions.
func ChunkSize(action string, warehouse bool) int {
	return (MaxTransactionActions - stepOverhead) / TransitionPerLine(action, warehouse)
}

// Receipt returns the lines a receive moves: in (nil: every line's
// remaining units), checked against the shipment's lines.
func Receipt(lines []ShipmentLine, in []TransitionLine) ([]TransitionLine, error) {
	if len(in) == 0 {
		var out []TransitionLine
		for _, l := range lines {
			if r := l.Quantity - l.Received; r > 0 {
				out = append(out, TransitionLine{ItemID: l.ItemID, Quantity: r})
			}
		}
		return out, nil
	}
	var fields []FieldError
	for i, r := range in {
		j := slices.IndexFunc(lines, func(l ShipmentLine) bool { return l.ItemID == r.ItemID })
		p := fmt.Sprintf("/lines/%d", i)
		switch {
		case j < 0:
			return nil, Invalid(CodeValidationFailed, "a receipt names only items of the shipment",
				FieldError{Field: p + "/itemId", Code: "not_in_shipment", Message: r.ItemID + " is not on the shipment"})
		case r.Quantity > lines[j].Quantity-lines[j].Received:
			fields = append(fields, FieldError{Field: p + "/quantity", Code: CodeOverReceipt,
				Message: fmt.Sprintf("%d of %d remain to be received", lines[j].Quantity-lines[j].Received, lines[j].Quantity)})
		}
	}
	if len(fields) > 0 {
		return nil, &Error{Kind: KindConflict, Code: CodeOverReceipt, Fields: fields,
			Message: "a receipt takes at most what remains to be received of each line; nothing changed"}
	}
	return slices.Clone(in), nil
}

// Keys are the records a step of the transition reads: the items of its
// lines, their levels at the origin (and at the destination), and the
// locations.
func (t Transition) Keys(s Shipment, lines []TransitionLine) StockKeys {
	var levels []LevelKey
	for _, l := range lines {
		switch t.Action {
		case ActionReceive:
			levels = append(levels, LevelKey{l.ItemID, s.Destination.LocationID})
		case ActionShip:
			levels = append(levels, LevelKey{l.ItemID, s.OriginLocationID})
			if s.Destination.Warehouse() {
				levels = append(levels, LevelKey{l.ItemID, s.Destination.LocationID})
			}
		default:
			levels = append(levels, LevelKey{l.ItemID, s.OriginLocationID})
		}
	}
	return keysOf(levels)
}

// StepChange computes the change of stock of lines (a step of t, or its
// undo) on the state read. A ready line whose level has less available
// than it commits is short: StepChange returns every short line of the
// step, and no change.
func (t Transition) StepChange(s Shipment, lines []TransitionLine, undo bool, st StockState, now time.Time) (StockChange, []FieldError, error) {
	if t.Action == ActionReady && !undo {
		var short []FieldError
		for _, l := range lines {
			lv := st.level(LevelKey{l.ItemID, s.OriginLocationID})
			if lv.Available() < l.Quantity {
				short = append(short, shortLine(l, lv))
			}
		}
		if len(short) > 0 {
			return StockChange{}, short, nil
		}
	}
	var levels []Level
	index := map[LevelKey]int{}
	slot := func(k LevelKey) int {
		if i, ok := index[k]; ok {
			return i
		}
		index[k] = len(levels)
		levels = append(levels, st.level(k))
		return len(levels) - 1
	}
	type plan struct {
		i, dOnHand, dCommitted, dIncoming int64
		reason                            string
	}
	var plans []plan
	items := map[string][2]int64{} // item → Δquantity, Δcommitted
	for _, l := range lines {
		origin := LevelKey{l.ItemID, s.OriginLocationID}
		dest := LevelKey{l.ItemID, s.Destination.LocationID}
		q := l.Quantity
		d := items[l.ItemID]
		switch {
		case t.Action == ActionReady && !undo:
			plans = append(plans, plan{i: int64(slot(origin)), dCommitted: q, reason: ReasonShipmentCommitted})
			d[1] += q
		case t.Action == ActionReady || t.Action == ActionCancel:
			plans = append(plans, plan{i: int64(slot(origin)), dCommitted: -q, reason: ReasonShipmentReleased})
			d[1] -= q
		case t.Action == ActionShip:
			plans = append(plans, plan{i: int64(slot(origin)), dOnHand: -q, dCommitted: -q, reason: ReasonShipmentShipped})
			d[0] -= q
			d[1] -= q
			if s.Destination.Warehouse() {
				plans = append(plans, plan{i: int64(slot(dest)), dIncoming: q, reason: ReasonShipmentIncoming})
			}
		case t.Action == ActionReceive:
			plans = append(plans, plan{i: int64(slot(dest)), dOnHand: q, dIncoming: -q, reason: ReasonShipmentReceived})
			d[0] += q
		default:
			return StockChange{}, nil, fmt.Errorf("shipment step: no step for action %s (undo %v)", t.Action, undo)
		}
		items[l.ItemID] = d
	}
	m := newMoves(t.Actor, now, levels)
	for _, p := range plans {
		lv := &m.levels[p.i]
		lv.Committed += p.dCommitted
		lv.Incoming += p.dIncoming
		if lv.OnHand+p.dOnHand < lv.Committed || lv.Committed < 0 || lv.Incoming < 0 {
			// The transition's own records say the stock is there: a level
			// that disagrees was changed by hand, or a step ran twice.
			return StockChange{}, nil, fmt.Errorf("shipment %s: %s of %s at %s would leave on hand %d, committed %d, incoming %d",
				s.ID, p.reason, lv.ItemID, lv.LocationID, lv.OnHand+p.dOnHand, lv.Committed, lv.Incoming)
		}
		m.move(int(p.i), p.dOnHand, p.reason, s.ID, "")
	}
	c := StockChange{}
	c.Levels, c.Ledger = m.result()
	for _, l := range lines {
		d, ok := items[l.ItemID]
		if !ok {
			continue
		}
		delete(items, l.ItemID)
		old, found := st.Items[l.ItemID]
		if !found {
			return StockChange{}, nil, fmt.Errorf("shipment %s: item %s not found", s.ID, l.ItemID)
		}
		next := old
		next.Quantity += d[0]
		next.Committed += d[1]
		touch(&next, old, t.Actor, m.at)
		c.Items = append(c.Items, ItemRevision{Old: old, Next: next})
	}
	c.finish(st)
	return c, nil, nil
}

func shortLine(l TransitionLine, lv Level) FieldError {
	return FieldError{Field: "/lines/" + l.ItemID, Code: CodeInsufficientStock, Available: ptr(lv.Available()),
		Message: fmt.Sprintf("%s has %d available at %s; the shipment needs %d", l.ItemID, lv.Available(), lv.LocationID, l.Quantity)}
}

// ShortLines returns every line of the shipment whose level at the origin
// has less available than it needs (st read for them).
func ShortLines(s Shipment, lines []ShipmentLine, st StockState) []FieldError {
	var out []FieldError
	for i, l := range lines {
		lv := st.level(LevelKey{l.ItemID, s.OriginLocationID})
		if lv.Available() < l.Quantity {
			f := shortLine(TransitionLine{l.ItemID, l.Quantity}, lv)
			f.Field = fmt.Sprintf("/lines/%d/quantity", i)
			out = append(out, f)
		}
	}
	return out
}

// CheckShipmentRecords checks that the items of lines exist and are live,
// and that the locations a shipment names are live (st read for
// ShipmentKeys).
func CheckShipmentRecords(s Shipment, lines []TransitionLine, st StockState, field string) error {
	if err := st.liveLocation(s.OriginLocationID, "/originLocationId"); err != nil {
		return err
	}
	if s.Destination.Warehouse() {
		if err := st.liveLocation(s.Destination.LocationID, "/destination/locationId"); err != nil {
			return err
		}
	}
	for i, l := range lines {
		if _, err := st.liveItem(l.ItemID, fmt.Sprintf("%s/%d/itemId", field, i)); err != nil {
			return err
		}
	}
	return nil
}

// ShipmentKeys are the records CheckShipmentRecords and a ready's check of
// every line read: items, their levels at the origin, the locations.
func ShipmentKeys(s Shipment, lines []TransitionLine) StockKeys {
	levels := make([]LevelKey, len(lines))
	for i, l := range lines {
		levels[i] = LevelKey{l.ItemID, s.OriginLocationID}
	}
	k := keysOf(levels)
	if d := s.Destination.LocationID; d != "" && d != DefaultLocation && !slices.Contains(k.Locations, d) {
		k.Locations = append(k.Locations, d)
	}
	return k
}

// TransitionLines are the lines a transition of the action moves.
func TransitionLines(lines []ShipmentLine) []TransitionLine {
	out := make([]TransitionLine, len(lines))
	for i, l := range lines {
		out[i] = TransitionLine{l.ItemID, l.Quantity}
	}
	return out
}

// Complete returns the header, the lines (nil when unchanged) and the
// timeline entry of a transition's completion.
func (t Transition) Complete(s Shipment, lines []ShipmentLine, now time.Time) (Shipment, []ShipmentLine, ShipmentEvent) {
	next := s
	var nextLines []ShipmentLine
	switch t.Action {
	case ActionReady:
		next.Status = ShipmentReady
	case ActionShip:
		next.Status = ShipmentShipped
	case ActionCancel:
		next.Status = ShipmentCancelled
	case ActionReceive:
		nextLines = slices.Clone(lines)
		var received int64
		for _, r := range t.Lines {
			if j := slices.IndexFunc(nextLines, func(l ShipmentLine) bool { return l.ItemID == r.ItemID }); j >= 0 {
				nextLines[j].Received += r.Quantity
			}
		}
		next.Status = ShipmentReceived
		for _, l := range nextLines {
			received += l.Received
			if l.Received < l.Quantity {
				next.Status = ShipmentPartiallyReceived
			}
		}
		next.ReceivedQuantity = received
	}
	touchShipment(&next, s, t.Actor, now)
	return next, nextLines, ShipmentEvent{ID: NewID(now), Action: t.Action, Status: next.Status, Actor: t.Actor,
		At: instant(now), Lines: len(t.Lines), Quantity: total(t.Lines)}
}

// ShipmentFilter is what GET /shipments filters on.
type ShipmentFilter struct {
	Status           string
	OriginLocationID string
}

// ShipmentsCursor: shipments newest first; position (created at, id).
var ShipmentsCursor = newCursorFormat("shipments", "2024-11-26T10:00:00.000Z~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorTime, cursorULID)
