package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Shipments is an in-memory usecase.ShipmentStore beside a Store, with the
// conditions of the DynamoDB store (docs/shipments.md): a header on its
// version, one transition in progress at a time, a step once per marker
// and only while its transition is in progress in its direction, its
// change of stock as the Store's SaveStock makes it.
type Shipments struct {
	store *Store
	mu    sync.Mutex // held inside store.mu when both are
	heads map[string]inventory.Shipment
	lines map[string][]inventory.ShipmentLine
	times map[string][]inventory.ShipmentEvent
	trans map[string]inventory.Transition
	steps map[string][]inventory.StepMark
	// BeforeStep, when set, runs before each SaveShipmentStep is applied
	// (without a lock held); an error it returns is the step's.
	BeforeStep func(s inventory.ShipmentStep) error
}

// NewShipments returns an empty shipment store beside store.
func NewShipments(store *Store) *Shipments {
	return &Shipments{store: store, heads: map[string]inventory.Shipment{}, lines: map[string][]inventory.ShipmentLine{},
		times: map[string][]inventory.ShipmentEvent{}, trans: map[string]inventory.Transition{}, steps: map[string][]inventory.StepMark{}}
}

// GetShipment reads a shipment whole.
func (m *Shipments) GetShipment(_ context.Context, id string) (inventory.ShipmentState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.heads[id]
	if !ok {
		return inventory.ShipmentState{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeShipmentNotFound, "no shipment with id %q", id)
	}
	st := inventory.ShipmentState{Shipment: h, Lines: slices.Clone(m.lines[id]), Timeline: slices.Clone(m.times[id])}
	if tr, ok := m.trans[id]; ok {
		st.Transition = &tr
		for _, s := range m.steps[id] {
			if s.TransitionID == tr.ID {
				st.Steps = append(st.Steps, s)
			}
		}
	}
	return st, nil
}

// ReadShipment reads a shipment but for its timeline.
func (m *Shipments) ReadShipment(ctx context.Context, id string) (inventory.ShipmentState, error) {
	st, err := m.GetShipment(ctx, id)
	st.Timeline = nil
	return st, err
}

// Transition returns the shipment's transition in progress, if any.
func (m *Shipments) Transition(id string) (inventory.Transition, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tr, ok := m.trans[id]
	return tr, ok
}

// SaveShipment commits a change of a shipment's records.
func (m *Shipments) SaveShipment(_ context.Context, c inventory.ShipmentChange) error {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	id := c.Next.ID
	t := newTxn("save shipment " + id)
	m.store.putIdempotency(t, c.Idempotency)
	cur, exists := m.heads[id]
	tr, inTransition := m.trans[id]
	switch {
	case c.Old == nil:
		t.add("shipment", "ship#"+id, !exists, func() { m.heads[id] = c.Next })
	case c.Next.Version != c.Old.Version:
		t.add("shipment", "ship#"+id, exists && cur.Version == c.Old.Version, func() { m.heads[id] = c.Next })
	default:
		t.add("shipment", "ship#"+id, exists && cur.Version == c.Old.Version, nil)
	}
	if c.Lines != nil {
		lines := slices.Clone(c.Lines)
		t.add("lines", "lines#"+id, true, func() { m.lines[id] = lines })
	}
	if c.Event != nil {
		ev := *c.Event
		t.add("event", "event#"+id+"#"+ev.ID, true, func() { m.times[id] = append(m.times[id], ev) })
	}
	switch {
	case c.Start != nil:
		next := *c.Start
		t.add("transition", "trans#"+id, !inTransition, func() { m.trans[id] = next })
	case c.Rollback != nil:
		next := *c.Rollback
		t.add("transition", "trans#"+id, inTransition && tr.ID == next.ID && !tr.Rollback, func() { m.trans[id] = next })
	case c.End != nil:
		t.add("transition", "trans#"+id, inTransition && tr.ID == c.End.ID, func() { delete(m.trans, id) })
	case c.Old != nil:
		t.add("transition", "trans#"+id, !inTransition, nil)
	}
	return t.commit(m.store, nil)
}

// SaveShipmentStep commits a step with its marker.
func (m *Shipments) SaveShipmentStep(_ context.Context, step inventory.ShipmentStep) error {
	if m.BeforeStep != nil {
		if err := m.BeforeStep(step); err != nil {
			return err
		}
	}
	s := m.store
	s.mu.Lock()
	defer s.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	id := step.ShipmentID
	mark := inventory.StepMark{TransitionID: step.TransitionID, Index: step.Index, Undo: step.Undo}
	if slices.Contains(m.steps[id], mark) {
		return inventory.ErrStepDone
	}
	if tr, ok := m.trans[id]; !ok || tr.ID != step.TransitionID || tr.Rollback != step.Undo {
		return inventory.ErrTransitionMoved
	}
	t := newTxn("save shipment step " + id + "#" + strconv.Itoa(step.Index))
	t.add("step", fmt.Sprintf("step#%s#%v", id, mark), true, func() { m.steps[id] = append(m.steps[id], mark) })
	t.add("transition", "trans#"+id, true, nil)
	c := step.Stock
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

// ListShipments lists shipments newest first.
func (m *Shipments) ListShipments(_ context.Context, f inventory.ShipmentFilter, r inventory.Range) ([]inventory.Shipment, inventory.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []inventory.Shipment
	for _, h := range m.heads {
		if (f.Status == "" || h.Status == f.Status) && (f.OriginLocationID == "" || h.OriginLocationID == f.OriginLocationID) {
			all = append(all, h)
		}
	}
	slices.SortFunc(all, func(a, b inventory.Shipment) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return page(all, r, func(h inventory.Shipment) inventory.Position {
		return inventory.Position{h.CreatedAt.UTC().Format(inventory.TimeLayout), h.ID}
	}, -1)
}

// ListTransitions lists the transitions in progress, oldest first.
func (m *Shipments) ListTransitions(_ context.Context, r inventory.Range) ([]inventory.Transition, inventory.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []inventory.Transition
	for _, tr := range m.trans {
		all = append(all, tr)
	}
	return page(all, r, func(t inventory.Transition) inventory.Position {
		return inventory.Position{t.StartedAt.UTC().Format(inventory.TimeLayout), t.ShipmentID}
	}, 1)
}
