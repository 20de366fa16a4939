package usecase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// ShipmentStore keeps shipments (docs/shipments.md).
type ShipmentStore interface {
	// GetShipment reads a shipment whole — header, lines, timeline, the
	// transition in progress and its steps — strongly consistently; a
	// missing one is shipment_not_found.
	GetShipment(ctx context.Context, id string) (inventory.ShipmentState, error)
	// ReadShipment reads a shipment as GetShipment does, but for its
	// timeline: the header, the lines, the transition in progress and its
	// steps, strongly consistently, by key.
	ReadShipment(ctx context.Context, id string) (inventory.ShipmentState, error)
	// SaveShipment commits a change of a shipment's records, or fails with
	// inventory.ErrStale (the header is not at the version read, or a
	// transition started, ended or is rolling back meanwhile: see
	// inventory.ShipmentChange) or inventory.ErrIdempotencyRace.
	SaveShipment(ctx context.Context, c inventory.ShipmentChange) error
	// SaveShipmentStep commits a step of a transition with its marker, or
	// fails with inventory.ErrStepDone (its marker exists),
	// inventory.ErrTransitionMoved (the transition is not in progress in
	// the step's direction) or inventory.ErrStale (a level or item is no
	// longer as read).
	SaveShipmentStep(ctx context.Context, s inventory.ShipmentStep) error
	// ListShipments lists shipments newest first, position (created at,
	// id), filtered by status and origin.
	ListShipments(ctx context.Context, f inventory.ShipmentFilter, r inventory.Range) ([]inventory.Shipment, inventory.Position, error)
	// ListTransitions lists the transitions in progress, oldest first,
	// position (started at, shipment id).
	ListTransitions(ctx context.Context, r inventory.Range) ([]inventory.Transition, inventory.Position, error)
}

// ResumeAfter is how long a transition may be in progress before the
// resumer takes it over: a request runs for at most the functions' 10 s
// timeout, so one older than this was left by a process that died.
const ResumeAfter = 30 * time.Second

// shipmentOps are the use cases of the transitions, for idempotency.
var shipmentOps = map[string]string{inventory.ActionReady: "ReadyShipment", inventory.ActionShip: "ShipShipment",
	inventory.ActionReceive: "ReceiveShipment", inventory.ActionCancel: "CancelShipment"}

// CreateShipment creates a draft: its origin and a warehouse destination
// must be live locations, and its items live.
func (s *Service) CreateShipment(ctx context.Context, req Request, in inventory.ShipmentInput) (inventory.ShipmentState, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.ShipmentState{}, false, err
	}
	return once(ctx, s, "CreateShipment", req, in, func(p *pending) (inventory.ShipmentState, error) {
		sh, lines, ev := inventory.NewShipment(in, req.Actor, s.now())
		if err := s.checkShipmentRecords(ctx, sh, in.Lines); err != nil {
			return inventory.ShipmentState{}, err
		}
		out := inventory.ShipmentState{Shipment: sh, Lines: lines, Timeline: []inventory.ShipmentEvent{ev}}
		rec, err := p.record(out)
		if err != nil {
			return inventory.ShipmentState{}, err
		}
		return out, s.Shipments.SaveShipment(ctx, inventory.ShipmentChange{Next: sh, Lines: lines, Event: &ev, Idempotency: rec})
	})
}

// checkShipmentRecords reads the items and locations a shipment names and
// checks them live.
func (s *Service) checkShipmentRecords(ctx context.Context, sh inventory.Shipment, lines []inventory.TransitionLine) error {
	keys := inventory.ShipmentKeys(sh, lines)
	keys.Levels = nil
	st, err := s.Store.ReadStock(ctx, keys)
	if err != nil {
		return err
	}
	return inventory.CheckShipmentRecords(sh, lines, st, "/lines")
}

// GetShipment returns a shipment with its lines and timeline, and the
// transition in progress, if any.
func (s *Service) GetShipment(ctx context.Context, id string) (inventory.ShipmentState, error) {
	if !inventory.IsValidID(id) {
		return inventory.ShipmentState{}, shipmentNotFound(id)
	}
	return s.Shipments.GetShipment(ctx, id)
}

// readShipment reads a shipment for a change: without its timeline (a
// change answers the shipment with its lines; GET has the timeline).
func (s *Service) readShipment(ctx context.Context, id string) (inventory.ShipmentState, error) {
	if !inventory.IsValidID(id) {
		return inventory.ShipmentState{}, shipmentNotFound(id)
	}
	return s.Shipments.ReadShipment(ctx, id)
}

func shipmentNotFound(id string) error {
	return inventory.Errorf(inventory.KindNotFound, inventory.CodeShipmentNotFound, "no shipment with id %q", id)
}

// ListShipments lists shipments newest first, filtered by status and
// origin.
func (s *Service) ListShipments(ctx context.Context, f inventory.ShipmentFilter, pr inventory.PageRequest) (inventory.Page[inventory.Shipment], error) {
	if f.Status != "" && !slices.Contains(inventory.ShipmentStatuses, f.Status) {
		return inventory.Page[inventory.Shipment]{}, inventory.Invalid(inventory.CodeInvalidParameter, "status is not a shipment status",
			inventory.FieldError{Field: "status", Code: "enum", Message: fmt.Sprintf("status must be one of %v", inventory.ShipmentStatuses)})
	}
	if f.OriginLocationID != "" && !inventory.IsValidLocationID(f.OriginLocationID) {
		return inventory.Page[inventory.Shipment]{}, inventory.Invalid(inventory.CodeInvalidParameter, "originLocationId is not a location id",
			inventory.FieldError{Field: "originLocationId", Code: "pattern", Message: "a location id: default or a ULID"})
	}
	return listPage(ctx, inventory.ShipmentsCursor, pr, func(ctx context.Context, r inventory.Range) ([]inventory.Shipment, inventory.Position, error) {
		return s.Shipments.ListShipments(ctx, f, r)
	})
}

// ReplaceShipmentLines replaces a draft's lines.
func (s *Service) ReplaceShipmentLines(ctx context.Context, req Request, id string, lines []inventory.TransitionLine) (inventory.ShipmentState, error) {
	if err := inventory.ValidateShipmentLines(lines); err != nil {
		return inventory.ShipmentState{}, err
	}
	return readModifyWrite(ctx, s, "shipment", req, func() (inventory.ShipmentState, int64, error) {
		st, err := s.readShipment(ctx, id)
		return st, st.Version, err
	}, func(old inventory.ShipmentState) (inventory.ShipmentState, error) {
		if err := inventory.CheckTransition(old.Shipment, inventory.ActionLines); err != nil {
			return old, err
		}
		if old.Transition != nil {
			return old, inventory.InvalidTransition(old.Shipment, "change its lines",
				"its "+old.Transition.Action+" is in progress (retry it to finish it)")
		}
		if err := s.checkShipmentRecords(ctx, old.Shipment, lines); err != nil {
			return old, err
		}
		next, nextLines := inventory.ReplaceLines(old.Shipment, lines, req.Actor, s.now())
		ev := inventory.NewShipmentEvent(inventory.ActionLines, next, req.Actor, next.UpdatedAt, len(lines), next.TotalQuantity)
		err := s.Shipments.SaveShipment(ctx, inventory.ShipmentChange{Old: &old.Shipment, Next: next, Lines: nextLines, Event: &ev})
		return inventory.ShipmentState{Shipment: next, Lines: nextLines}, err
	})
}

// TransitionShipment makes a transition (ready, ship, receive, cancel):
// If-Match on the shipment's version, idempotent with an Idempotency-Key.
// receipt is a receive's lines (nil: all that remains).
func (s *Service) TransitionShipment(ctx context.Context, req Request, id, action string, receipt []inventory.TransitionLine) (inventory.ShipmentState, bool, error) {
	op, ok := shipmentOps[action]
	if !ok {
		return inventory.ShipmentState{}, false, fmt.Errorf("no shipment transition %q", action)
	}
	if err := inventory.ValidateReceipt(receipt); err != nil {
		return inventory.ShipmentState{}, false, err
	}
	if !inventory.IsValidID(id) {
		return inventory.ShipmentState{}, false, shipmentNotFound(id)
	}
	input := struct {
		ID    string
		Lines []inventory.TransitionLine
	}{id, receipt}
	return once(ctx, s, op, req, input, func(p *pending) (inventory.ShipmentState, error) {
		for attempt := 1; ; attempt++ {
			st, err := s.readShipment(ctx, id)
			if err != nil {
				return st, err
			}
			if tr := st.Transition; tr != nil {
				if tr.Action != action {
					// Only a transition's own function (or the resumer) runs
					// it: each function may do only what its action does.
					return st, inventory.InvalidTransition(st.Shipment, action,
						"its "+tr.Action+" is in progress; retrying that finishes it, or the resumer will")
				}
				out, err := s.runTransition(ctx, st, nil)
				if sameRequest(*tr, action, req, p) {
					return out, err
				}
				if err != nil && inventory.CodeOf(err) != inventory.CodeInsufficientStock {
					return out, err
				}
				continue // another request's transition, finished: now ours
			}
			out, err := s.startTransition(ctx, st, action, receipt, req, p)
			if !errors.Is(err, inventory.ErrStale) {
				return out, err
			}
			// Read it again: a change won the race (then If-Match fails on
			// the new version), or the start committed and its answer was
			// lost (then the transition is this request's).
			if attempt == MaxSaveAttempts {
				return out, inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict, "the shipment kept changing concurrently; retry")
			}
			if err := s.backoff(ctx, attempt); err != nil {
				return out, err
			}
		}
	})
}

// sameRequest reports whether a transition in progress is the request's
// own, from an earlier attempt: the same idempotency key, or, without one,
// the same action on the same version.
func sameRequest(tr inventory.Transition, action string, req Request, p *pending) bool {
	if tr.Action != action {
		return false
	}
	if p != nil {
		return tr.Idempotency != nil && tr.Idempotency.Scope == p.rec.Scope
	}
	return tr.Idempotency == nil && req.IfMatch.Matches(tr.FromVersion)
}

// startTransition checks the action against the shipment as read and
// starts it; a cancel of a draft moves no stock and is one write.
func (s *Service) startTransition(ctx context.Context, st inventory.ShipmentState, action string, receipt []inventory.TransitionLine,
	req Request, p *pending) (inventory.ShipmentState, error) {
	if !req.IfMatch.Matches(st.Version) {
		return st, inventory.Errorf(inventory.KindPrecondition, inventory.CodePreconditionFailed,
			"If-Match does not match the shipment's current ETag \"%d\"", st.Version)
	}
	if err := inventory.CheckTransition(st.Shipment, action); err != nil {
		return st, err
	}
	now := s.now()
	tr := inventory.Transition{ID: inventory.NewID(now), ShipmentID: st.ID, Action: action, Actor: req.Actor,
		StartedAt: now.UTC().Truncate(time.Millisecond), FromVersion: st.Version,
		ChunkSize: inventory.ChunkSize(action, st.Destination.Warehouse())}
	if p != nil {
		rec := p.rec
		tr.Idempotency = &rec
	}
	if action == inventory.ActionCancel && st.Status == inventory.ShipmentDraft {
		next, _, ev := tr.Complete(st.Shipment, st.Lines, now)
		out := inventory.ShipmentState{Shipment: next, Lines: st.Lines}
		rec, err := p.record(out)
		if err != nil {
			return st, err
		}
		return out, s.Shipments.SaveShipment(ctx, inventory.ShipmentChange{Old: &st.Shipment, Next: next, Event: &ev, Idempotency: rec})
	}
	var pre *inventory.StockState
	switch action {
	case inventory.ActionReceive:
		lines, err := inventory.Receipt(st.Lines, receipt)
		if err != nil {
			return st, err
		}
		tr.Lines = lines
	default:
		tr.Lines = inventory.TransitionLines(st.Lines)
	}
	if action == inventory.ActionReady {
		// Every line is checked before anything is committed: a short line
		// is refused whole, with every short line listed.
		stock, err := s.Store.ReadStock(ctx, inventory.ShipmentKeys(st.Shipment, tr.Lines))
		if err != nil {
			return st, err
		}
		if err := inventory.CheckShipmentRecords(st.Shipment, tr.Lines, stock, "/lines"); err != nil {
			return st, err
		}
		if short := inventory.ShortLines(st.Shipment, st.Lines, stock); len(short) > 0 {
			return st, shortShipment(short)
		}
		pre = &stock
	}
	if err := s.Shipments.SaveShipment(ctx, inventory.ShipmentChange{Old: &st.Shipment, Next: st.Shipment, Start: &tr}); err != nil {
		return st, err
	}
	st.Transition, st.Steps = &tr, nil
	return s.runTransition(ctx, st, pre)
}

func shortShipment(short []inventory.FieldError) error {
	return inventory.Short(fmt.Sprintf("%d of the shipment's lines have less available at the origin than they need; nothing was committed", len(short)), short...)
}

// errShort is a ready's step that found lines short.
type errShort struct{ fields []inventory.FieldError }

func (e *errShort) Error() string { return fmt.Sprintf("%d lines short", len(e.fields)) }

// runTransition runs the transition in progress on st to its end: each
// step not applied yet, then the completion; or, for a ready that found
// stock short (or is already rolling back), the undo of every step
// applied, then its end, answering insufficient_stock. Any number of
// processes may run one transition at once: a step's marker lets it
// commit once, and the record's conditions let it end once. It returns
// the shipment as the transition left it.
func (s *Service) runTransition(ctx context.Context, st inventory.ShipmentState, pre *inventory.StockState) (inventory.ShipmentState, error) {
	tr := *st.Transition
	if !tr.Rollback {
		// A ready's own run has read every line; any other run reads each
		// step's records before it (a process that resumes reads only
		// what is left to do).
		stock := pre
		if stock == nil {
			stock = &inventory.StockState{Items: map[string]inventory.Item{}, Levels: map[inventory.LevelKey]inventory.Level{},
				Locations: map[string]inventory.Location{}}
		}
		applied := st.Applied()
		var short *errShort
	steps:
		for k := range tr.Steps() {
			if applied[k] {
				continue
			}
			if pre == nil {
				if err := s.readStep(ctx, st.Shipment, tr, k, stock); err != nil {
					return st, err
				}
			}
			err := s.applyStep(ctx, st.Shipment, tr, k, false, stock)
			switch {
			case err == nil || errors.Is(err, inventory.ErrStepDone):
			case errors.Is(err, inventory.ErrTransitionMoved):
				return s.afterMoved(ctx, st, tr)
			case errors.As(err, &short):
				break steps
			default:
				return st, err
			}
		}
		if short == nil {
			return s.complete(ctx, st, tr)
		}
		rb := tr
		rb.Rollback = true
		if err := s.Shipments.SaveShipment(ctx, inventory.ShipmentChange{Old: &st.Shipment, Next: st.Shipment, Rollback: &rb}); err != nil {
			if errors.Is(err, inventory.ErrStale) {
				return s.afterMoved(ctx, st, tr)
			}
			return st, err
		}
	}
	// Rolling back: no forward step can commit any more, so the steps read
	// now are all there will be.
	now, err := s.Shipments.ReadShipment(ctx, st.ID)
	if err != nil {
		return st, err
	}
	if now.Transition == nil || now.Transition.ID != tr.ID {
		return now, s.shortNow(ctx, now)
	}
	tr = *now.Transition
	stock := inventory.StockState{Items: map[string]inventory.Item{}, Levels: map[inventory.LevelKey]inventory.Level{},
		Locations: map[string]inventory.Location{}}
	applied := now.Applied()
	for k := range tr.Steps() {
		if !applied[k] {
			continue
		}
		if err := s.readStep(ctx, now.Shipment, tr, k, &stock); err != nil {
			return now, err
		}
		err := s.applyStep(ctx, now.Shipment, tr, k, true, &stock)
		switch {
		case err == nil || errors.Is(err, inventory.ErrStepDone):
		case errors.Is(err, inventory.ErrTransitionMoved):
			after, err := s.Shipments.ReadShipment(ctx, st.ID)
			if err != nil {
				return now, err
			}
			return after, s.shortNow(ctx, after)
		default:
			return now, err
		}
	}
	err = s.Shipments.SaveShipment(ctx, inventory.ShipmentChange{Old: &now.Shipment, Next: now.Shipment, End: &tr})
	if err != nil && !errors.Is(err, inventory.ErrStale) {
		return now, err
	}
	after, err := s.Shipments.ReadShipment(ctx, st.ID)
	if err != nil {
		return now, err
	}
	return after, s.shortNow(ctx, after)
}

// shortNow is the insufficient_stock answer of a ready rolled back: every
// line short now (the lines a step found short, if stock came back since).
func (s *Service) shortNow(ctx context.Context, st inventory.ShipmentState) error {
	if st.Transition != nil || st.Status != inventory.ShipmentDraft {
		return nil // finished another way
	}
	stock, err := s.Store.ReadStock(ctx, inventory.ShipmentKeys(st.Shipment, inventory.TransitionLines(st.Lines)))
	if err != nil {
		return err
	}
	short := inventory.ShortLines(st.Shipment, st.Lines, stock)
	if len(short) == 0 {
		return inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict,
			"stock at the origin was taken by another change while the shipment was being made ready; nothing was committed: retry")
	}
	return shortShipment(short)
}

// afterMoved reads a shipment whose transition moved on under one of its
// runners, and carries on from there.
func (s *Service) afterMoved(ctx context.Context, st inventory.ShipmentState, tr inventory.Transition) (inventory.ShipmentState, error) {
	now, err := s.Shipments.ReadShipment(ctx, st.ID)
	if err != nil {
		return st, err
	}
	if now.Transition != nil && now.Transition.ID == tr.ID {
		return s.runTransition(ctx, now, nil) // rolling back now
	}
	if tr.Action == inventory.ActionReady && now.Status == inventory.ShipmentDraft {
		return now, s.shortNow(ctx, now)
	}
	return now, nil
}

// complete ends a transition whose steps are all applied: the header's new
// status and version, the lines (a receipt), the timeline entry and the
// request's idempotency record, with the transition record deleted.
func (s *Service) complete(ctx context.Context, st inventory.ShipmentState, tr inventory.Transition) (inventory.ShipmentState, error) {
	next, lines, ev := tr.Complete(st.Shipment, st.Lines, s.now())
	out := inventory.ShipmentState{Shipment: next, Lines: st.Lines}
	if lines != nil {
		out.Lines = lines
	}
	var rec *inventory.IdempotencyRecord
	if tr.Idempotency != nil {
		r := *tr.Idempotency
		b, err := json.Marshal(out)
		if err != nil {
			return st, err
		}
		r.Result = b
		rec = &r
	}
	err := s.Shipments.SaveShipment(ctx, inventory.ShipmentChange{Old: &st.Shipment, Next: next, Lines: lines, Event: &ev, End: &tr, Idempotency: rec})
	if errors.Is(err, inventory.ErrStale) || errors.Is(err, inventory.ErrIdempotencyRace) {
		// Another runner ended it (or the answer to our own commit was
		// lost): the shipment as it is now.
		after, err := s.Shipments.ReadShipment(ctx, st.ID)
		if err == nil && after.Transition != nil && after.Transition.ID == tr.ID {
			return after, fmt.Errorf("shipment %s: the end of transition %s failed on a changed header", st.ID, tr.ID)
		}
		return after, err
	}
	return out, err
}

// applyStep commits step k of the transition (undo: its undo), computed
// on stock, which it keeps up to date: a step that loses a race with
// another change of its levels or items reads them again and is computed
// again, as stock changes are (MaxStockAttempts, StockRetryBudget).
func (s *Service) applyStep(ctx context.Context, sh inventory.Shipment, tr inventory.Transition, k int, undo bool, stock *inventory.StockState) error {
	lines := tr.Chunk(k)
	start := time.Now()
	for attempt := 1; ; attempt++ {
		c, short, err := tr.StepChange(sh, lines, undo, *stock, s.now())
		if err != nil {
			return err
		}
		if len(short) > 0 {
			return &errShort{short}
		}
		err = s.Shipments.SaveShipmentStep(ctx, inventory.ShipmentStep{ShipmentID: sh.ID, TransitionID: tr.ID, Index: k, Undo: undo,
			Lines: len(lines), At: s.now(), Stock: c})
		if err == nil {
			for _, l := range c.Levels {
				stock.Levels[inventory.LevelKey{ItemID: l.Next.ItemID, LocationID: l.Next.LocationID}] = l.Next
			}
			for _, r := range c.Items {
				stock.Items[r.Next.ID] = r.Next
			}
			return nil
		}
		if !errors.Is(err, inventory.ErrStale) {
			return err
		}
		if attempt == MaxStockAttempts || time.Since(start) > StockRetryBudget {
			return inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict,
				"the stock of the shipment's lines kept changing concurrently (%d attempts); retry: the shipment's %s carries on from where it stopped", attempt, tr.Action)
		}
		if err := s.wait(ctx, jitter(attempt, 400*time.Millisecond)); err != nil {
			return err
		}
		if err := s.readStep(ctx, sh, tr, k, stock); err != nil {
			return err
		}
	}
}

// readStep reads the records step k of the transition changes into stock.
func (s *Service) readStep(ctx context.Context, sh inventory.Shipment, tr inventory.Transition, k int, stock *inventory.StockState) error {
	fresh, err := s.Store.ReadStock(ctx, tr.Keys(sh, tr.Chunk(k)))
	if err != nil {
		return err
	}
	for k, v := range fresh.Items {
		stock.Items[k] = v
	}
	for k, v := range fresh.Levels {
		stock.Levels[k] = v
	}
	for k, v := range fresh.Locations {
		stock.Locations[k] = v
	}
	return nil
}

// ResumeShipments finishes (or rolls back) every transition in progress
// for longer than ResumeAfter — left by a process that died — until
// stopBy; the scheduled ResumeShipments function runs it. It returns how
// many it resumed; a transition that fails again is logged and left for
// the next run.
func (s *Service) ResumeShipments(ctx context.Context, stopBy time.Time) (int, error) {
	resumed := 0
	var after inventory.Position
	for {
		trs, next, err := s.Shipments.ListTransitions(ctx, inventory.Range{Limit: inventory.MaxPageSize, After: after})
		if err != nil {
			return resumed, err
		}
		for _, tr := range trs {
			if s.now().Sub(tr.StartedAt) < ResumeAfter {
				return resumed, nil // oldest first: the rest are younger
			}
			if s.now().After(stopBy) {
				return resumed, nil
			}
			st, err := s.Shipments.ReadShipment(ctx, tr.ShipmentID)
			if err != nil {
				return resumed, err
			}
			if st.Transition == nil || st.Transition.ID != tr.ID {
				continue // ended meanwhile
			}
			resumed++
			if _, err := s.runTransition(ctx, st, nil); err != nil && inventory.CodeOf(err) != inventory.CodeInsufficientStock {
				s.logger().ErrorContext(ctx, "resume shipment", "shipment", tr.ShipmentID, "transition", tr.ID, "action", tr.Action, "error", err.Error())
			}
		}
		if next == nil {
			return resumed, nil
		}
		after = next
	}
}
