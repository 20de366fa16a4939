package usecase_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// shipFixture is a fixture with a shipment store, a warehouse and n items
// of stock at the default location.
type shipFixture struct {
	*fixture
	ships *memstore.Shipments
	wh    string
	items []string
}

func newShipFixture(t *testing.T, n int, stock int64) *shipFixture {
	f := &shipFixture{fixture: newFixture(t)}
	f.ships = memstore.NewShipments(f.store)
	f.svc.Shipments = f.ships
	f.wh = f.location("WH-2").ID
	for i := range n {
		f.items = append(f.items, f.createAt(fmt.Sprintf("SH-%03d", i), inventory.DefaultLocation, stock).ID)
	}
	return f
}

func (f *shipFixture) lines(q int64) []inventory.TransitionLine {
	out := make([]inventory.TransitionLine, len(f.items))
	for i, id := range f.items {
		out[i] = inventory.TransitionLine{ItemID: id, Quantity: q}
	}
	return out
}

func (f *shipFixture) draft(q int64, warehouse bool) inventory.ShipmentState {
	f.t.Helper()
	in := inventory.ShipmentInput{OriginLocationID: inventory.DefaultLocation, Lines: f.lines(q)}
	if warehouse {
		in.Destination = inventory.Destination{LocationID: f.wh}
	} else {
		in.Destination = inventory.Destination{Name: "Ana Customer", Address: "Main St 1"}
	}
	st, _, err := f.svc.CreateShipment(f.ctx, alice, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *shipFixture) move(id, action string, receipt []inventory.TransitionLine) (inventory.ShipmentState, error) {
	st, _, err := f.svc.TransitionShipment(f.ctx, alice, id, action, receipt)
	return st, err
}

// level is a level's on hand, committed and incoming.
func (f *shipFixture) level(item, loc string) [3]int64 {
	l, _ := f.store.Stock(item, loc)
	return [3]int64{l.OnHand, l.Committed, l.Incoming}
}

// TestShipmentLifecycle: ready commits, ship moves on hand out and
// incoming in, partial receipts, each with its ledger lines referencing
// the shipment, and the item totals follow.
func TestShipmentLifecycle(t *testing.T) {
	f := newShipFixture(t, 70, 10) // 70 lines: three steps of ready, four of ship
	st := f.draft(3, true)
	if st.Status != inventory.ShipmentDraft || st.LineCount != 70 || st.TotalQuantity != 210 {
		t.Fatalf("draft %+v", st.Shipment)
	}
	st, err := f.move(st.ID, inventory.ActionReady, nil)
	if err != nil || st.Status != inventory.ShipmentReady || st.Version != 2 {
		t.Fatalf("ready: %v %+v", err, st.Shipment)
	}
	if got := f.level(f.items[0], inventory.DefaultLocation); got != [3]int64{10, 3, 0} {
		t.Errorf("after ready: %v", got)
	}
	if it := f.item(f.items[69]); it.Committed != 3 || it.Quantity != 10 {
		t.Errorf("item after ready: %+v", it)
	}
	st, err = f.move(st.ID, inventory.ActionShip, nil)
	if err != nil || st.Status != inventory.ShipmentShipped {
		t.Fatalf("ship: %v %+v", err, st.Shipment)
	}
	if got := f.level(f.items[5], inventory.DefaultLocation); got != [3]int64{7, 0, 0} {
		t.Errorf("origin after ship: %v", got)
	}
	if got := f.level(f.items[5], f.wh); got != [3]int64{0, 0, 3} {
		t.Errorf("destination after ship: %v", got)
	}
	if f.stockedLevels(f.wh) != 70 {
		t.Errorf("stocked levels at the destination: %d", f.stockedLevels(f.wh))
	}
	st, err = f.move(st.ID, inventory.ActionReceive, []inventory.TransitionLine{{ItemID: f.items[5], Quantity: 2}})
	if err != nil || st.Status != inventory.ShipmentPartiallyReceived || st.ReceivedQuantity != 2 || st.Lines[5].Received != 2 {
		t.Fatalf("partial receive: %v %+v", err, st.Shipment)
	}
	if got := f.level(f.items[5], f.wh); got != [3]int64{2, 0, 1} {
		t.Errorf("destination after a partial receipt: %v", got)
	}
	_, err = f.move(st.ID, inventory.ActionReceive, []inventory.TransitionLine{{ItemID: f.items[5], Quantity: 2}})
	wantCode(t, err, inventory.KindConflict, inventory.CodeOverReceipt)
	st, err = f.move(st.ID, inventory.ActionReceive, nil)
	if err != nil || st.Status != inventory.ShipmentReceived || st.ReceivedQuantity != 210 {
		t.Fatalf("receive the rest: %v %+v", err, st.Shipment)
	}
	if got := f.level(f.items[5], f.wh); got != [3]int64{3, 0, 0} {
		t.Errorf("destination received: %v", got)
	}
	if it := f.item(f.items[5]); it.Quantity != 10 || it.Committed != 0 {
		t.Errorf("item after the round trip: %+v", it)
	}
	var reasons []string
	for _, e := range f.store.Ledger(f.items[5]) {
		if e.Reference == st.ID {
			reasons = append(reasons, e.Reason)
		}
	}
	want := fmt.Sprint([]string{inventory.ReasonShipmentCommitted, inventory.ReasonShipmentShipped, inventory.ReasonShipmentIncoming,
		inventory.ReasonShipmentReceived, inventory.ReasonShipmentReceived})
	if fmt.Sprint(reasons) != want {
		t.Errorf("ledger of a line: %v, want %v", reasons, want)
	}
	if got, _ := f.svc.GetShipment(f.ctx, st.ID); len(got.Timeline) != 5 || got.Timeline[4].Status != inventory.ShipmentReceived {
		t.Errorf("timeline %+v", got.Timeline)
	}
	_, err = f.move(st.ID, inventory.ActionCancel, nil)
	wantCode(t, err, inventory.KindConflict, inventory.CodeInvalidTransition)
	var e *inventory.Error
	if errors.As(err, &e); e.CurrentStatus != inventory.ShipmentReceived {
		t.Errorf("invalid transition names status %q", e.CurrentStatus)
	}
}

// TestShipmentReadyIsAllOrNothing: a ready with short lines lists every
// one and commits nothing; a ready that meets a concurrent change taking
// the stock after its first steps rolls them back.
func TestShipmentReadyIsAllOrNothing(t *testing.T) {
	f := newShipFixture(t, 70, 5)
	st := f.draft(3, false)
	for _, i := range []int{2, 40, 69} {
		f.store.SetCommitted(f.items[i], inventory.DefaultLocation, 4)
	}
	_, err := f.move(st.ID, inventory.ActionReady, nil)
	wantCode(t, err, inventory.KindConflict, inventory.CodeInsufficientStock)
	var e *inventory.Error
	if errors.As(err, &e); len(e.Fields) != 3 || e.Fields[1].Field != "/lines/40/quantity" || *e.Fields[1].Available != 1 {
		t.Errorf("short lines %+v", e.Fields)
	}
	if got := f.level(f.items[0], inventory.DefaultLocation); got[1] != 0 {
		t.Errorf("committed after a refused ready: %v", got)
	}
	for _, i := range []int{2, 40, 69} {
		f.store.SetCommitted(f.items[i], inventory.DefaultLocation, 0)
	}
	// Take line 69's stock once the first step has committed.
	steps := 0
	f.ships.BeforeStep = func(s inventory.ShipmentStep) error {
		if steps++; steps == 2 && !s.Undo {
			return f.store.SetCommitted(f.items[69], inventory.DefaultLocation, 5)
		}
		return nil
	}
	_, err = f.move(st.ID, inventory.ActionReady, nil)
	wantCode(t, err, inventory.KindConflict, inventory.CodeInsufficientStock)
	if errors.As(err, &e); len(e.Fields) != 1 || e.Fields[0].Field != "/lines/69/quantity" {
		t.Errorf("short lines after a rollback %+v", e.Fields)
	}
	for i := range 69 {
		if got := f.level(f.items[i], inventory.DefaultLocation); got[1] != 0 {
			t.Fatalf("line %d still committed after the rollback: %v", i, got)
		}
	}
	got, _ := f.svc.GetShipment(f.ctx, st.ID)
	if got.Status != inventory.ShipmentDraft || got.Transition != nil || got.Version != 1 {
		t.Errorf("after a rollback: %+v", got)
	}
	if it := f.item(f.items[0]); it.Committed != 0 {
		t.Errorf("item committed %d", it.Committed)
	}
}

// TestShipmentCrashAtEveryStep: a transition whose process dies after any
// of its steps is finished by the resumer (or the request's retry), each
// line moved once, and a retry with the Idempotency-Key replays it.
func TestShipmentCrashAtEveryStep(t *testing.T) {
	f := newShipFixture(t, 70, 10)
	for _, action := range []string{inventory.ActionReady, inventory.ActionShip, inventory.ActionReceive} {
		for die := 0; die <= 2; die++ { // ready and receive have 3 steps, ship 4
			st := f.draft(1, true)
			for _, before := range []string{inventory.ActionReady, inventory.ActionShip} {
				if before == action {
					break
				}
				if _, err := f.move(st.ID, before, nil); err != nil {
					t.Fatal(err)
				}
			}
			dead := errors.New("killed")
			n := 0
			f.ships.BeforeStep = func(inventory.ShipmentStep) error {
				if n++; n > die {
					return dead
				}
				return nil
			}
			req := with(alice, fmt.Sprintf("%s-%s-%d", st.ID, action, die))
			_, _, err := f.svc.TransitionShipment(f.ctx, req, st.ID, action, nil)
			f.ships.BeforeStep = nil
			if !errors.Is(err, dead) {
				t.Fatalf("%s killed after step %d: %v", action, die, err)
			}
			if _, ok := f.ships.Transition(st.ID); !ok {
				t.Fatalf("%s killed after step %d: no transition in progress", action, die)
			}
			f.tick(usecase.ResumeAfter + time.Second)
			if die%2 == 0 {
				if n, err := f.svc.ResumeShipments(f.ctx, f.now.Add(time.Minute)); err != nil || n != 1 {
					t.Fatalf("resume: %d, %v", n, err)
				}
			}
			got, replayed, err := f.svc.TransitionShipment(f.ctx, req, st.ID, action, nil)
			if err != nil || (die%2 == 0) != replayed {
				t.Fatalf("%s retried after a kill at step %d: %v, replayed %v", action, die, err, replayed)
			}
			want := map[string]string{inventory.ActionReady: inventory.ShipmentReady, inventory.ActionShip: inventory.ShipmentShipped,
				inventory.ActionReceive: inventory.ShipmentReceived}[action]
			if got.Status != want {
				t.Fatalf("%s: status %s", action, got.Status)
			}
		}
	}
	// Every line moved once per transition: 3 shipments at each stage.
	for _, id := range f.items {
		if got := f.level(id, inventory.DefaultLocation); got != [3]int64{4, 3, 0} {
			t.Fatalf("origin %v, want 4 on hand (6 shipped), 3 committed (3 ready)", got)
		}
		if got := f.level(id, f.wh); got != [3]int64{3, 0, 3} {
			t.Fatalf("destination %v", got)
		}
		if it := f.item(id); it.Quantity != 7 || it.Committed != 3 {
			t.Fatalf("item %+v", it)
		}
	}
}

// TestShipmentTransitionsCheckTheirStatus: every illegal transition is
// invalid_transition with the current status, If-Match is checked, and
// lines change only in a draft.
func TestShipmentTransitionsCheckTheirStatus(t *testing.T) {
	f := newShipFixture(t, 2, 10)
	customer := f.draft(1, false)
	_, err := f.svc.ReplaceShipmentLines(f.ctx, ifMatch(alice, 2), customer.ID, f.lines(2))
	wantCode(t, err, inventory.KindPrecondition, inventory.CodePreconditionFailed)
	got, err := f.svc.ReplaceShipmentLines(f.ctx, ifMatch(alice, 1), customer.ID, f.lines(2)[:1])
	if err != nil || got.Version != 2 || got.LineCount != 1 || got.TotalQuantity != 2 {
		t.Fatalf("replace lines: %v %+v", err, got.Shipment)
	}
	for _, a := range []string{inventory.ActionShip, inventory.ActionReceive} {
		_, err := f.move(customer.ID, a, nil)
		wantCode(t, err, inventory.KindConflict, inventory.CodeInvalidTransition)
	}
	if _, err := f.move(customer.ID, inventory.ActionReady, nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ReplaceShipmentLines(f.ctx, alice, customer.ID, f.lines(1))
	wantCode(t, err, inventory.KindConflict, inventory.CodeInvalidTransition)
	if _, err := f.move(customer.ID, inventory.ActionShip, nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.move(customer.ID, inventory.ActionReceive, nil)
	wantCode(t, err, inventory.KindConflict, inventory.CodeInvalidTransition)
	cancelled := f.draft(1, true)
	if _, err := f.move(cancelled.ID, inventory.ActionReady, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err = f.svc.TransitionShipment(f.ctx, ifMatch(alice, 2), cancelled.ID, inventory.ActionCancel, nil)
	if err != nil || got.Status != inventory.ShipmentCancelled {
		t.Fatalf("cancel a ready: %v %+v", err, got.Shipment)
	}
	if lv := f.level(f.items[0], inventory.DefaultLocation); lv != [3]int64{8, 0, 0} { // the customer's 2 shipped; this one's released
		t.Errorf("after cancel: %v", lv)
	}
	for _, a := range []string{inventory.ActionReady, inventory.ActionShip, inventory.ActionReceive, inventory.ActionCancel} {
		_, err := f.move(cancelled.ID, a, nil)
		wantCode(t, err, inventory.KindConflict, inventory.CodeInvalidTransition)
	}
}
