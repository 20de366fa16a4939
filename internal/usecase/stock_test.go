package usecase_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

func (f *fixture) location(code string) inventory.Location {
	f.t.Helper()
	loc, _, err := f.svc.CreateLocation(f.ctx, alice, inventory.LocationInput{Code: code, Name: "Location " + code})
	if err != nil {
		f.t.Fatalf("create location %s: %v", code, err)
	}
	f.tick(time.Second)
	return loc
}

func (f *fixture) createAt(sku, loc string, qty int64) usecase.ItemDetail {
	f.t.Helper()
	d, _, err := f.svc.CreateItem(f.ctx, alice, inventory.CreateInput{SKU: sku, Name: "Item " + sku, Quantity: qty, LocationID: loc})
	if err != nil {
		f.t.Fatalf("create %s at %s: %v", sku, loc, err)
	}
	f.tick(time.Second)
	return d
}

// onHand is the on hand of a level; -1 if it does not exist.
func (f *fixture) onHand(itemID, loc string) int64 {
	l, ok := f.store.Stock(itemID, loc)
	if !ok {
		return -1
	}
	return l.OnHand
}

func (f *fixture) item(id string) inventory.Item {
	f.t.Helper()
	it, err := f.store.GetItem(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return it
}

func (f *fixture) stockedLevels(id string) int64 {
	f.t.Helper()
	l, err := f.store.GetLocation(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return l.StockedLevels
}

func ln(item, loc string, delta int64) inventory.AdjustmentLine {
	return inventory.AdjustmentLine{ItemID: item, LocationID: loc, Delta: delta}
}

func adjustment(reason string, lines ...inventory.AdjustmentLine) inventory.AdjustmentInput {
	return inventory.AdjustmentInput{Reason: reason, Lines: lines}
}

const def = inventory.DefaultLocation

func TestAdjustmentEndToEnd(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	a := f.create(alice, "A", 10)
	b := f.createAt("B", l1.ID, 0)
	saves := f.store.Saves()

	in := adjustment(inventory.ReasonReceived, ln(a.ID, def, -3), ln(a.ID, l1.ID, 5), ln(b.ID, l1.ID, 2))
	in.Note = "truck 7"
	adj, replayed, err := f.svc.CreateAdjustment(f.ctx, with(bob, "adj-1"), in)
	if err != nil || replayed {
		t.Fatalf("adjustment: %v %v", replayed, err)
	}
	want := []inventory.AdjustedLine{{ItemID: a.ID, LocationID: def, Delta: -3, OnHandAfter: 7},
		{ItemID: a.ID, LocationID: l1.ID, Delta: 5, OnHandAfter: 5}, {ItemID: b.ID, LocationID: l1.ID, Delta: 2, OnHandAfter: 2}}
	if !slices.Equal(adj.Lines, want) || adj.Actor != bob.Actor || adj.Reference != "" || adj.Note != "truck 7" || !adj.At.Equal(f.now) {
		t.Fatalf("adjustment = %+v", adj)
	}
	if f.store.Saves() != saves+1 {
		t.Fatalf("%d saves, want one", f.store.Saves()-saves)
	}
	if f.onHand(a.ID, def) != 7 || f.onHand(a.ID, l1.ID) != 5 || f.onHand(b.ID, l1.ID) != 2 {
		t.Fatal("levels not written")
	}
	// Item totals: revised once per item.
	if it := f.item(a.ID); it.Quantity != 12 || it.Version != 2 || it.UpdatedBy != bob.Actor {
		t.Fatalf("item A = %+v", it)
	}
	if it := f.item(b.ID); it.Quantity != 2 || it.Version != 2 {
		t.Fatalf("item B = %+v", it)
	}
	if n := f.stockedLevels(l1.ID); n != 2 {
		t.Fatalf("L1 holds %d stocked levels, want 2", n)
	}
	h, err := f.svc.ListHistory(f.ctx, a.ID, "", inventory.PageRequest{Limit: 10})
	if err != nil || len(h.Items) != 3 {
		t.Fatalf("history %+v %v", h, err)
	}
	for _, e := range h.Items[:2] {
		if e.Reference != adj.ID || e.Reason != inventory.ReasonReceived || e.Note != "truck 7" || e.Actor != bob.Actor {
			t.Errorf("line %+v", e)
		}
	}
	// Only the lines at L1.
	h, err = f.svc.ListHistory(f.ctx, a.ID, l1.ID, inventory.PageRequest{Limit: 10})
	if err != nil || len(h.Items) != 1 || h.Items[0].OnHandAfter != 5 {
		t.Fatalf("history at L1 %+v %v", h, err)
	}

	// A replay answers the first result and writes nothing.
	f.tick(time.Minute)
	again, replayed, err := f.svc.CreateAdjustment(f.ctx, with(bob, "adj-1"), in)
	if err != nil || !replayed || again.ID != adj.ID || !slices.Equal(again.Lines, adj.Lines) || !again.At.Equal(adj.At) {
		t.Fatalf("replay = %+v %v %v", again, replayed, err)
	}
	if f.store.Saves() != saves+1 || f.onHand(a.ID, def) != 7 {
		t.Fatal("a replay wrote")
	}
	other := in
	other.Note = "another"
	_, _, err = f.svc.CreateAdjustment(f.ctx, with(bob, "adj-1"), other)
	wantCode(t, err, inventory.KindUnprocessable, inventory.CodeIdempotencyKeyReused)

	// Refusals write nothing.
	for _, c := range []struct {
		in   inventory.AdjustmentInput
		kind inventory.Kind
		code string
	}{
		{adjustment(inventory.ReasonDamaged, ln(a.ID, def, -8)), inventory.KindConflict, inventory.CodeInsufficientStock},
		{adjustment(inventory.ReasonDamaged, ln(a.ID, def, 1), ln(a.ID, inventory.NewID(f.now), 1)), inventory.KindNotFound, inventory.CodeLocationNotFound},
		{adjustment(inventory.ReasonDamaged, ln(inventory.NewID(f.now), def, 1)), inventory.KindNotFound, inventory.CodeItemNotFound},
		{adjustment(inventory.ReasonDamaged, ln(a.ID, def, 1), ln(a.ID, def, -9)), inventory.KindConflict, inventory.CodeInsufficientStock},
		{adjustment("stolen", ln(a.ID, def, 1)), inventory.KindInvalid, inventory.CodeValidationFailed},
	} {
		_, _, err := f.svc.CreateAdjustment(f.ctx, bob, c.in)
		if inventory.KindOf(err) != c.kind || inventory.CodeOf(err) != c.code {
			t.Fatalf("%+v: error %v, want %s", c.in, err, c.code)
		}
	}
	if f.store.Saves() != saves+1 || f.onHand(a.ID, def) != 7 {
		t.Fatalf("refusals wrote: %d saves", f.store.Saves()-saves)
	}

	// One level named twice: its lines apply in order, the level is
	// written once.
	lines := len(f.store.Ledger(a.ID))
	two, _, err := f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonCorrection, ln(a.ID, def, 3), ln(a.ID, def, -10)))
	if err != nil || two.Lines[0].OnHandAfter != 10 || two.Lines[1].OnHandAfter != 0 || f.onHand(a.ID, def) != 0 ||
		len(f.store.Ledger(a.ID)) != lines+2 || f.item(a.ID).Quantity != 5 || f.item(a.ID).Version != 3 {
		t.Fatalf("adjustment of one level twice = %+v, %v", two, err)
	}
	saves = f.store.Saves() - 1

	if _, _, err := f.svc.DeleteItem(f.ctx, alice, b.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonDamaged, ln(a.ID, l1.ID, 1), ln(b.ID, l1.ID, -1)))
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	if f.store.Saves() != saves+2 || f.onHand(a.ID, l1.ID) != 5 {
		t.Fatalf("refusals wrote: %d saves", f.store.Saves()-saves)
	}
}

func TestCountEndToEnd(t *testing.T) {
	f := newFixture(t)
	a := f.create(alice, "A", 10)
	saves := f.store.Saves()
	_, _, err := f.svc.CreateCount(f.ctx, bob, inventory.CountInput{ItemID: a.ID, LocationID: def, Counted: ptr[int64](8), Expected: ptr[int64](9)})
	wantCode(t, err, inventory.KindConflict, inventory.CodeCountMismatch)
	var e *inventory.Error
	if !errors.As(err, &e) || e.Fields[0].OnHand == nil || *e.Fields[0].OnHand != 10 {
		t.Fatalf("mismatch %+v", e)
	}
	in := inventory.CountInput{ItemID: a.ID, LocationID: def, Counted: ptr[int64](8), Expected: ptr[int64](10)}
	c, replayed, err := f.svc.CreateCount(f.ctx, with(bob, "count"), in)
	if err != nil || replayed || c.Delta != -2 || c.OnHandAfter != 8 || c.Expected == nil || *c.Expected != 10 {
		t.Fatalf("count = %+v %v", c, err)
	}
	again, replayed, err := f.svc.CreateCount(f.ctx, with(bob, "count"), in)
	if err != nil || !replayed || again.ID != c.ID || f.store.Saves() != saves+1 {
		t.Fatalf("replay = %+v %v %v", again, replayed, err)
	}
	if it := f.item(a.ID); it.Quantity != 8 || it.Version != 2 {
		t.Fatalf("item = %+v", it)
	}
	// A count that confirms the level writes its line, not the item.
	f.tick(time.Second)
	ok, _, err := f.svc.CreateCount(f.ctx, bob, inventory.CountInput{ItemID: a.ID, LocationID: def, Counted: ptr[int64](8)})
	if err != nil || ok.Delta != 0 || f.item(a.ID).Version != 2 || len(f.store.Ledger(a.ID)) != 3 {
		t.Fatalf("confirming count = %+v %v", ok, err)
	}
	if h, _ := f.svc.ListHistory(f.ctx, a.ID, "", inventory.PageRequest{Limit: 1}); h.Items[0].Reason != inventory.ReasonCycleCount || h.Items[0].Reference != ok.ID {
		t.Fatalf("history %+v", h.Items)
	}
}

func TestTransferEndToEnd(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	a := f.create(alice, "A", 10)
	saves := f.store.Saves()
	in := inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l1.ID, Quantity: 4, Note: "move"}
	tr, replayed, err := f.svc.CreateTransfer(f.ctx, with(bob, "tr"), in)
	if err != nil || replayed || tr.FromOnHand != 6 || tr.ToOnHand != 4 {
		t.Fatalf("transfer = %+v %v", tr, err)
	}
	again, replayed, err := f.svc.CreateTransfer(f.ctx, with(bob, "tr"), in)
	if err != nil || !replayed || again.ID != tr.ID || f.store.Saves() != saves+1 || f.onHand(a.ID, l1.ID) != 4 {
		t.Fatalf("replay = %+v %v %v", again, replayed, err)
	}
	// The item's total stays; it is not written.
	if it := f.item(a.ID); it.Quantity != 10 || it.Version != 1 {
		t.Fatalf("item = %+v", it)
	}
	h, _ := f.svc.ListLocationHistory(f.ctx, l1.ID, inventory.PageRequest{Limit: 10})
	if len(h.Items) != 1 || h.Items[0].Reason != inventory.ReasonTransferIn || h.Items[0].Reference != tr.ID || h.Items[0].Delta != 4 {
		t.Fatalf("history at L1 %+v", h.Items)
	}
	h, _ = f.svc.ListHistory(f.ctx, a.ID, def, inventory.PageRequest{Limit: 1})
	if h.Items[0].Reason != inventory.ReasonTransferOut || h.Items[0].Delta != -4 || h.Items[0].Reference != tr.ID {
		t.Fatalf("history at default %+v", h.Items)
	}
	_, _, err = f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: l1.ID, ToLocationID: def, Quantity: 5})
	wantCode(t, err, inventory.KindConflict, inventory.CodeInsufficientStock)
	_, _, err = f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: l1.ID, ToLocationID: l1.ID, Quantity: 1})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeValidationFailed)
	if f.store.Saves() != saves+1 {
		t.Fatal("a refused transfer wrote")
	}
}

// interfereStock makes the first `times` stock saves lose a race: each
// runs race (if set) first, as a concurrent writer; it counts the attempts.
func (f *fixture) interfereStock(times int, race func()) *int {
	n := new(int)
	f.store.BeforeSaveStock = func(inventory.StockChange) error {
		*n++
		if *n > times {
			return nil
		}
		if race != nil {
			hook := f.store.BeforeSaveStock
			f.store.BeforeSaveStock = nil
			race()
			f.store.BeforeSaveStock = hook
			return nil // the store's conditions find the change stale
		}
		return fmt.Errorf("lost the race: %w", inventory.ErrStale)
	}
	return n
}

func TestStockChangeRetries(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	a := f.create(alice, "A", 10)

	// Another adjustment of the level commits between our read and our
	// write: ours is computed again on the fresh level.
	attempts := f.interfereStock(1, func() {
		if _, _, err := f.svc.CreateAdjustment(f.ctx, alice, adjustment(inventory.ReasonReceived, ln(a.ID, def, 5))); err != nil {
			t.Fatal(err)
		}
	})
	adj, _, err := f.svc.CreateAdjustment(f.ctx, with(bob, "k"), adjustment(inventory.ReasonDamaged, ln(a.ID, def, -2)))
	if err != nil || *attempts != 2 || adj.Lines[0].OnHandAfter != 13 || f.onHand(a.ID, def) != 13 || f.item(a.ID).Quantity != 13 {
		t.Fatalf("retried adjustment = %+v, %v after %d attempts", adj, err, *attempts)
	}
	// Its idempotency record was written with the retry, once.
	f.store.BeforeSaveStock = nil
	replay, replayed, err := f.svc.CreateAdjustment(f.ctx, with(bob, "k"), adjustment(inventory.ReasonDamaged, ln(a.ID, def, -2)))
	if err != nil || !replayed || replay.ID != adj.ID || f.onHand(a.ID, def) != 13 {
		t.Fatalf("replay after a retry = %+v %v %v", replay, replayed, err)
	}

	// A retry checks the rules again: what was available no longer is.
	f.interfereStock(1, func() {
		if _, _, err := f.svc.CreateTransfer(f.ctx, alice, inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l1.ID, Quantity: 10}); err != nil {
			t.Fatal(err)
		}
	})
	_, _, err = f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l1.ID, Quantity: 5})
	wantCode(t, err, inventory.KindConflict, inventory.CodeInsufficientStock)
	if f.onHand(a.ID, def) != 3 || f.onHand(a.ID, l1.ID) != 10 {
		t.Fatalf("levels %d %d", f.onHand(a.ID, def), f.onHand(a.ID, l1.ID))
	}

	// A level that keeps changing: version_conflict after MaxStockAttempts.
	saves := f.store.Saves()
	attempts = f.interfereStock(100, nil)
	_, _, err = f.svc.CreateCount(f.ctx, bob, inventory.CountInput{ItemID: a.ID, LocationID: def, Counted: ptr[int64](1)})
	wantCode(t, err, inventory.KindConflict, inventory.CodeVersionConflict)
	if *attempts != usecase.MaxStockAttempts || f.store.Saves() != saves {
		t.Fatalf("%d attempts (want %d), %d saves", *attempts, usecase.MaxStockAttempts, f.store.Saves()-saves)
	}
	// Unavailable is not retried.
	attempts = new(int)
	f.store.BeforeSaveStock = func(inventory.StockChange) error { *attempts++; return inventory.Unavailable(errors.New("throttled")) }
	_, _, err = f.svc.CreateCount(f.ctx, bob, inventory.CountInput{ItemID: a.ID, LocationID: def, Counted: ptr[int64](1)})
	wantCode(t, err, inventory.KindUnavailable, inventory.CodeServiceUnavailable)
	if *attempts != 1 {
		t.Fatalf("%d attempts of an unavailable store", *attempts)
	}
}

func TestTransferToALocationDeletedMeanwhile(t *testing.T) {
	f := newFixture(t)
	l2 := f.location("L2")
	a := f.create(alice, "A", 10)
	saves := f.store.Saves()
	ledger := len(f.store.Ledger(a.ID))
	// L2 holds nothing, so it can be deleted between the transfer's read
	// and its write: the write fails whole, and the fresh read says why.
	attempts := f.interfereStock(1, func() {
		if _, _, err := f.svc.DeleteLocation(f.ctx, alice, l2.ID, "closed"); err != nil {
			t.Fatal(err)
		}
	})
	_, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l2.ID, Quantity: 4})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationDeleted)
	if *attempts != 1 || f.store.Saves() != saves+1 { // the deletion only
		t.Fatalf("%d attempts, %d saves", *attempts, f.store.Saves()-saves)
	}
	if f.onHand(a.ID, def) != 10 || f.onHand(a.ID, l2.ID) != -1 || len(f.store.Ledger(a.ID)) != ledger || f.stockedLevels(l2.ID) != 0 {
		t.Fatalf("the refused transfer left levels %d, %d", f.onHand(a.ID, def), f.onHand(a.ID, l2.ID))
	}
	// Likewise an adjustment; and nothing can be stocked there afterwards.
	_, _, err = f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonReceived, ln(a.ID, l2.ID, 1)))
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationDeleted)
	_, _, err = f.svc.CreateItem(f.ctx, bob, inventory.CreateInput{SKU: "B", Name: "B", LocationID: l2.ID})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationDeleted)
	_, _, err = f.svc.CreateItem(f.ctx, bob, inventory.CreateInput{SKU: "B", Name: "B", LocationID: inventory.NewID(f.now)})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationNotFound)
}

func TestCreateItemAtALocationDeletedMeanwhile(t *testing.T) {
	f := newFixture(t)
	l2 := f.location("L2")
	raced := false
	f.store.BeforeSave = func(c inventory.ItemChange) error {
		if !raced {
			raced = true
			if _, _, err := f.svc.DeleteLocation(f.ctx, alice, l2.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}
	// Storage's guard refuses the new level at the deleted location.
	_, _, err := f.svc.CreateItem(f.ctx, bob, inventory.CreateInput{SKU: "B", Name: "B", Quantity: 1, LocationID: l2.ID})
	if err == nil {
		t.Fatal("an item was created at a deleted location")
	}
	if p, _ := f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 10}, inventory.ItemQuery{}); len(p.Items) != 0 || f.stockedLevels(l2.ID) != 0 {
		t.Fatalf("items %+v", p.Items)
	}
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationDeleted)
}

func TestDeleteLocationRacesAStockChange(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	a := f.create(alice, "A", 5)
	// A transfer stocks L1 between the deletion's read and its write: the
	// write fails (the count of stocked levels changed, not the version),
	// and the fresh read refuses the deletion.
	attempts := 0
	f.store.BeforeSaveLocation = func(inventory.LocationChange) error {
		attempts++
		if attempts == 1 {
			if _, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l1.ID, Quantity: 1}); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}
	_, _, err := f.svc.DeleteLocation(f.ctx, alice, l1.ID, "")
	wantCode(t, err, inventory.KindConflict, inventory.CodeLocationNotEmpty)
	if loc, _ := f.svc.GetLocation(f.ctx, l1.ID); loc.Deleted != nil || loc.Version != 1 || loc.StockedLevels != 1 || attempts != 1 {
		t.Fatalf("location %+v after %d attempts", loc, attempts)
	}
	// With If-Match, the race is the caller's to decide.
	attempts = 0
	f.store.BeforeSaveLocation = func(inventory.LocationChange) error {
		attempts++
		if attempts == 1 {
			if _, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: l1.ID, ToLocationID: def, Quantity: 1}); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}
	_, err = f.svc.UpdateLocation(f.ctx, ifMatch(alice, 1), l1.ID, inventory.LocationPatch{Name: ptr("x")})
	wantCode(t, err, inventory.KindPrecondition, inventory.CodePreconditionFailed)
	// Without, it is retried.
	attempts = 0
	f.store.BeforeSaveLocation = func(inventory.LocationChange) error {
		if attempts++; attempts == 1 {
			return fmt.Errorf("lost: %w", inventory.ErrStale)
		}
		return nil
	}
	loc, err := f.svc.UpdateLocation(f.ctx, alice, l1.ID, inventory.LocationPatch{Name: ptr("x")})
	if err != nil || loc.Name != "x" || attempts != 2 {
		t.Fatalf("update = %+v, %v after %d attempts", loc, err, attempts)
	}
}

// A transfer does not write its item (its totals do not change) but checks
// its version, so an item deleted between the transfer's read and its
// commit stops it: the retry reads the item deleted, and nothing moves
// (docs/data-model.md §4, Transfer).
func TestTransferOfAnItemDeletedMeanwhile(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	a := f.create(alice, "A", 5)
	f.interfereStock(1, func() {
		if _, _, err := f.svc.DeleteItem(f.ctx, alice, a.ID, ""); err != nil {
			t.Fatal(err)
		}
	})
	_, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l1.ID, Quantity: 2})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	if f.onHand(a.ID, def) != 5 || f.onHand(a.ID, l1.ID) > 0 || f.item(a.ID).Quantity != 5 || f.item(a.ID).Deleted == nil {
		t.Fatalf("after the refused transfer: %d at default, %d at L1, item %+v", f.onHand(a.ID, def), f.onHand(a.ID, l1.ID), f.item(a.ID))
	}
}

func TestAdjustmentTooLargeForOneTransaction(t *testing.T) {
	f := newFixture(t)
	var lines []inventory.AdjustmentLine
	for i := range inventory.MaxAdjustmentLines {
		loc := f.location(fmt.Sprintf("L%d", i))
		lines = append(lines, ln(f.create(alice, fmt.Sprintf("A%d", i), 0).ID, loc.ID, 1))
	}
	saves := f.store.Saves()
	// 30 levels, 30 lines, 30 items and 30 location guards: over 100.
	_, _, err := f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonReceived, lines...))
	wantCode(t, err, inventory.KindInvalid, inventory.CodeValidationFailed)
	if f.store.Saves() != saves {
		t.Fatal("a refused adjustment wrote")
	}
	// 23 such lines fit (23 × 4 + 1 = 93). The count is exact: levels
	// already stocked need no guard, so once 23 are, all 30 lines fit
	// (60 + 30 + 7 + 1 = 98).
	if _, _, err := f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonReceived, lines[:23]...)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonReceived, lines...)); err != nil {
		t.Fatal(err)
	}
	if f.onHand(lines[0].ItemID, lines[0].LocationID) != 2 || f.onHand(lines[29].ItemID, lines[29].LocationID) != 1 {
		t.Fatal("levels")
	}
}

func TestGetItemStockAt(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	created := f.now
	a := f.create(alice, "A", 5) // at created
	t2 := f.now
	if _, _, err := f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonReceived, ln(a.ID, l1.ID, 3))); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	t3 := f.now
	if _, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l1.ID, Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	if err := f.store.SetCommitted(a.ID, l1.ID, 1); err != nil {
		t.Fatal(err)
	}

	at := func(t time.Time) *time.Time { return &t }
	type lv struct {
		loc               string
		onHand, committed int64
	}
	cases := []struct {
		name   string
		at     *time.Time
		levels []lv
	}{
		{"now", nil, []lv{{l1.ID, 5, 1}, {def, 3, 0}}},
		{"before the item", at(created.Add(-time.Millisecond)), nil},
		{"long before", at(created.Add(-24 * time.Hour)), nil},
		{"at its creation", at(created), []lv{{def, 5, 0}}},
		{"before the first adjustment", at(t2.Add(-time.Millisecond)), []lv{{def, 5, 0}}},
		{"at the adjustment", at(t2), []lv{{l1.ID, 3, 0}, {def, 5, 0}}},
		{"between", at(t2.Add(500 * time.Millisecond)), []lv{{l1.ID, 3, 0}, {def, 5, 0}}},
		{"at the transfer", at(t3.Add(999 * time.Microsecond)), []lv{{l1.ID, 5, 0}, {def, 3, 0}}},
		{"now, explicitly", at(f.now), []lv{{l1.ID, 5, 0}, {def, 3, 0}}}, // commitments are not in the ledger
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := f.svc.GetItemStock(f.ctx, a.ID, c.at)
			if err != nil {
				t.Fatal(err)
			}
			var got []lv
			var total usecase.StockTotals
			for _, l := range st.Levels {
				got = append(got, lv{l.LocationID, l.OnHand, l.Committed})
				total.OnHand += l.OnHand
				total.Committed += l.Committed
			}
			if !slices.Equal(got, c.levels) || st.Levels == nil || st.Totals != total {
				t.Fatalf("levels %+v totals %+v, want %+v", got, st.Totals, c.levels)
			}
		})
	}
	_, err := f.svc.GetItemStock(f.ctx, a.ID, at(f.now.Add(time.Second)))
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidParameter)
	_, err = f.svc.GetItemStock(f.ctx, inventory.NewID(f.now), nil)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemNotFound)
}

func TestActivityMergesRecordsAndLedgerAcrossPages(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	a := f.create(alice, "A", 5)
	other := f.create(alice, "B", 5) // its entries must not show
	for i := range 4 {
		if _, err := f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Name: ptr(fmt.Sprintf("name %d", i))}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonReceived, ln(a.ID, def, 1), ln(a.ID, l1.ID, 2), ln(other.ID, def, 1))); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			f.tick(time.Second) // and sometimes all in one millisecond
		}
	}
	if _, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: l1.ID, ToLocationID: def, Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Tags: &[]string{"t"}}); err != nil {
		t.Fatal(err)
	}
	// created + 1 opening line + 4 × (updated + 2 lines) + 2 transfer lines + updated.
	const total = 1 + 1 + 4*3 + 2 + 1
	all := f.activity(a.ID)
	if len(all) != total || all[0].Type != inventory.ActivityUpdated || all[len(all)-1].Type != inventory.ActivityCreated {
		t.Fatalf("%d entries: %s", len(all), types(all))
	}
	stock := 0
	for i, e := range all {
		if e.ItemID != a.ID || (i > 0 && e.ID >= all[i-1].ID) {
			t.Fatalf("entry %d %+v out of order or not the item's", i, e)
		}
		if e.Type == inventory.ActivityStockChanged {
			stock++
			if e.LedgerID != e.ID || e.Reason == "" || e.LocationID == "" {
				t.Fatalf("stock entry %+v", e)
			}
		}
	}
	if stock != 1+8+2 {
		t.Fatalf("%d stock entries", stock)
	}
	for limit := 1; limit <= 7; limit++ {
		var got []string
		pr := inventory.PageRequest{Limit: limit}
		for pages := 0; ; pages++ {
			if pages > total+1 {
				t.Fatalf("limit %d: no end", limit)
			}
			p, err := f.svc.ListActivity(f.ctx, a.ID, pr)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(p.Items))
			}
			for _, e := range p.Items {
				got = append(got, e.ID)
			}
			if p.NextCursor == "" {
				break
			}
			pr.Cursor = p.NextCursor
		}
		var want []string
		for _, e := range all {
			want = append(want, e.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: paged %d entries, want %d, each once in order", limit, len(got), len(want))
		}
	}
}

// A stock_changed activity record written before stock changes were their
// ledger lines is skipped (the DynamoDB store skips it after reading its
// page, and so does memstore): paging must still list every other entry.
func TestActivityPagesPastLegacyStockRecords(t *testing.T) {
	f := newFixture(t)
	a := f.create(alice, "A", 5)
	if _, err := f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Name: ptr("renamed")}); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	// A legacy record, newer than the update, which is newer than the
	// opening line.
	it := f.item(a.ID)
	next := it
	next.Version++
	legacy := inventory.Activity{ID: inventory.NewID(f.now), ItemID: a.ID, Type: inventory.ActivityStockChanged, Actor: "old", At: f.now}
	if err := f.store.SaveItem(f.ctx, inventory.ItemChange{Old: &it, Next: next, Activity: []inventory.Activity{legacy}}); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	const want = "updated,stock_changed,created"
	if got := types(f.activity(a.ID)); got != want {
		t.Fatalf("activity %s, want %s", got, want)
	}
	var got []string
	pr := inventory.PageRequest{Limit: 1}
	for pages := 0; pages < 10; pages++ {
		p, err := f.svc.ListActivity(f.ctx, a.ID, pr)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			got = append(got, e.Type)
		}
		if p.NextCursor == "" {
			break
		}
		pr.Cursor = p.NextCursor
	}
	if strings.Join(got, ",") != want {
		t.Fatalf("paging by 1 lists %q, want %q", strings.Join(got, ","), want)
	}
}

func TestPatchQuantityRules(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	a := f.create(alice, "A", 5)
	// All of it at one location: the quantity corrects that level.
	up, err := f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Quantity: ptr[int64](7)})
	if err != nil || up.Quantity != 7 || f.onHand(a.ID, def) != 7 {
		t.Fatalf("update = %+v, %v", up.Item, err)
	}
	if _, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: def, ToLocationID: l1.ID, Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	saves := f.store.Saves()
	_, err = f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Quantity: ptr[int64](9), Name: ptr("x")})
	wantCode(t, err, inventory.KindConflict, inventory.CodeUseAdjustments)
	// The same total is no change of stock: the rest of the patch applies.
	up, err = f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Quantity: ptr[int64](7), Name: ptr("x")})
	if err != nil || up.Name != "x" || f.store.Saves() != saves+1 {
		t.Fatalf("update = %+v, %v", up.Item, err)
	}
	// Stock only at L1: it is corrected there, not at the default.
	if _, _, err := f.svc.CreateAdjustment(f.ctx, bob, adjustment(inventory.ReasonOther, ln(a.ID, def, -5))); err != nil {
		t.Fatal(err)
	}
	up, err = f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Quantity: ptr[int64](4)})
	if err != nil || up.Quantity != 4 || f.onHand(a.ID, l1.ID) != 4 || f.onHand(a.ID, def) != 0 {
		t.Fatalf("update = %+v, %v; levels %d %d", up.Item, err, f.onHand(a.ID, def), f.onHand(a.ID, l1.ID))
	}
	// Not below what is committed there.
	if err := f.store.SetCommitted(a.ID, l1.ID, 3); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Quantity: ptr[int64](2)})
	wantCode(t, err, inventory.KindConflict, inventory.CodeInsufficientStock)
	var e *inventory.Error
	if errors.As(err, &e); e.Fields[0].Field != "/quantity" || *e.Fields[0].Available != 1 {
		t.Fatalf("fields %+v", e.Fields)
	}
	up, err = f.svc.UpdateItem(f.ctx, bob, a.ID, inventory.Patch{Quantity: ptr[int64](3)})
	if err != nil || up.Quantity != 3 || up.Available() != 0 {
		t.Fatalf("down to committed: %+v, %v", up.Item, err)
	}
	// Nothing anywhere: the default location's level.
	b := f.createAt("B", l1.ID, 0)
	up, err = f.svc.UpdateItem(f.ctx, bob, b.ID, inventory.Patch{Quantity: ptr[int64](6)})
	if err != nil || f.onHand(b.ID, def) != 6 || f.onHand(b.ID, l1.ID) != 0 {
		t.Fatalf("update of an empty item = %+v, %v", up.Item, err)
	}
}

func TestLowStockList(t *testing.T) {
	f := newFixture(t)
	point := ptr[int64](5)
	mk := func(sku string, qty int64) usecase.ItemDetail {
		d, _, err := f.svc.CreateItem(f.ctx, alice, inventory.CreateInput{SKU: sku, Name: sku, Quantity: qty, ReorderPoint: point})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	mk("C", 4)
	committed := mk("B", 8)
	mk("A", 5)
	f.create(alice, "D", 0) // no reorder point
	gone := mk("E", 0)
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, gone.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetCommitted(committed.ID, def, 4); err != nil { // 4 available
		t.Fatal(err)
	}
	var skus []string
	pr := inventory.PageRequest{Limit: 1}
	for range 5 {
		p, err := f.svc.ListItems(f.ctx, pr, inventory.ItemQuery{LowStock: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Items {
			skus = append(skus, d.SKU)
		}
		if pr.Cursor = p.NextCursor; pr.Cursor == "" {
			break
		}
	}
	if !slices.Equal(skus, []string{"B", "C"}) {
		t.Fatalf("low stock %v", skus)
	}
}

func TestLocationLifecycle(t *testing.T) {
	f := newFixture(t)
	addr := "1 Quay"
	in := inventory.LocationInput{Code: "RTM-1", Name: "Rotterdam", Address: &addr}
	loc, replayed, err := f.svc.CreateLocation(f.ctx, with(alice, "loc"), in)
	if err != nil || replayed || loc.Version != 1 || loc.Address != addr || loc.CreatedBy != alice.Actor {
		t.Fatalf("create = %+v %v", loc, err)
	}
	again, replayed, err := f.svc.CreateLocation(f.ctx, with(alice, "loc"), in)
	if err != nil || !replayed || again.ID != loc.ID {
		t.Fatalf("replay = %+v %v %v", again, replayed, err)
	}
	_, _, err = f.svc.CreateLocation(f.ctx, alice, inventory.LocationInput{Code: "RTM-1", Name: "Other"})
	wantCode(t, err, inventory.KindConflict, inventory.CodeLocationCodeConflict)
	_, _, err = f.svc.CreateLocation(f.ctx, alice, inventory.LocationInput{Code: "rtm", Name: "Other"})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeValidationFailed)
	ams := f.location("AMS-1")
	p, err := f.svc.ListLocations(f.ctx, inventory.PageRequest{Limit: 2})
	if err != nil || len(p.Items) != 2 || p.Items[0].Code != "AMS-1" || p.Items[1].Code != inventory.DefaultLocationCode || p.NextCursor == "" {
		t.Fatalf("locations %+v %v", p, err)
	}
	p, err = f.svc.ListLocations(f.ctx, inventory.PageRequest{Limit: 2, Cursor: p.NextCursor})
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != loc.ID || p.NextCursor != "" {
		t.Fatalf("locations page 2 %+v %v", p, err)
	}

	// Renamed, not recoded, is the default's lot.
	_, err = f.svc.UpdateLocation(f.ctx, bob, def, inventory.LocationPatch{Code: ptr("MAIN")})
	wantCode(t, err, inventory.KindConflict, inventory.CodeLocationProtected)
	_, _, err = f.svc.DeleteLocation(f.ctx, bob, def, "")
	wantCode(t, err, inventory.KindConflict, inventory.CodeLocationProtected)
	if d, err := f.svc.UpdateLocation(f.ctx, bob, def, inventory.LocationPatch{Name: ptr("Main")}); err != nil || d.Name != "Main" || d.Version != 2 {
		t.Fatalf("rename default = %+v, %v", d, err)
	}
	_, err = f.svc.UpdateLocation(f.ctx, ifMatch(bob, 9), loc.ID, inventory.LocationPatch{Name: ptr("x")})
	wantCode(t, err, inventory.KindPrecondition, inventory.CodePreconditionFailed)

	// Not deleted while it holds stock; deleted once empty.
	a := f.createAt("A", loc.ID, 3)
	_, _, err = f.svc.DeleteLocation(f.ctx, bob, loc.ID, "")
	wantCode(t, err, inventory.KindConflict, inventory.CodeLocationNotEmpty)
	if _, _, err := f.svc.CreateTransfer(f.ctx, bob, inventory.TransferInput{ItemID: a.ID, FromLocationID: loc.ID, ToLocationID: def, Quantity: 3}); err != nil {
		t.Fatal(err)
	}
	if f.stockedLevels(loc.ID) != 0 {
		t.Fatalf("stocked levels %d", f.stockedLevels(loc.ID))
	}
	del, replayed, err := f.svc.DeleteLocation(f.ctx, with(bob, "del"), loc.ID, "moved out")
	if err != nil || replayed || del.Deleted == nil || del.Deleted.Comment != "moved out" {
		t.Fatalf("delete = %+v %v", del, err)
	}
	if again, replayed, err := f.svc.DeleteLocation(f.ctx, with(bob, "del"), loc.ID, "moved out"); err != nil || !replayed || again.Version != del.Version {
		t.Fatalf("delete replay %+v %v %v", again, replayed, err)
	}
	_, err = f.svc.GetLocation(f.ctx, loc.ID)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationDeleted)
	_, err = f.svc.GetLocation(f.ctx, "nope")
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationNotFound)
	_, err = f.svc.GetLocationStock(f.ctx, loc.ID, inventory.PageRequest{Limit: 10})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationDeleted)
	// Its history stays readable by item.
	if h, err := f.svc.ListHistory(f.ctx, a.ID, loc.ID, inventory.PageRequest{Limit: 10}); err != nil || len(h.Items) != 2 {
		t.Fatalf("history at a deleted location %+v %v", h, err)
	}
	_, err = f.svc.ListHistory(f.ctx, a.ID, inventory.NewID(f.now), inventory.PageRequest{Limit: 10})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationNotFound)
	dp, err := f.svc.ListDeletedLocations(f.ctx, inventory.PageRequest{Limit: 10})
	if err != nil || len(dp.Items) != 1 || dp.Items[0].ID != loc.ID {
		t.Fatalf("deleted %+v %v", dp, err)
	}

	// Its code is free; restoring onto a taken code conflicts.
	_, err = f.svc.UpdateLocation(f.ctx, bob, ams.ID, inventory.LocationPatch{Code: ptr("RTM-1")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.RestoreLocation(f.ctx, bob, loc.ID)
	wantCode(t, err, inventory.KindConflict, inventory.CodeLocationCodeConflict)
	_, _, err = f.svc.RestoreLocation(f.ctx, bob, ams.ID)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationNotDeleted)
	if _, err := f.svc.UpdateLocation(f.ctx, bob, ams.ID, inventory.LocationPatch{Code: ptr("AMS-2")}); err != nil {
		t.Fatal(err)
	}
	back, _, err := f.svc.RestoreLocation(f.ctx, bob, loc.ID)
	if err != nil || back.Deleted != nil || back.Code != "RTM-1" {
		t.Fatalf("restore = %+v %v", back, err)
	}
}

func TestLocationStockAndHistoryPages(t *testing.T) {
	f := newFixture(t)
	l1 := f.location("L1")
	var ids []string
	for i := range 5 {
		ids = append(ids, f.createAt(fmt.Sprintf("S-%d", i), l1.ID, int64(i+1)).ID)
	}
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, ids[2], ""); err != nil {
		t.Fatal(err)
	}
	var got []string
	pr := inventory.PageRequest{Limit: 2}
	for range 5 {
		p, err := f.svc.GetLocationStock(f.ctx, l1.ID, pr)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Items {
			got = append(got, l.ItemID)
			i := slices.Index(ids, l.ItemID)
			if l.SKU != fmt.Sprintf("S-%d", i) || l.OnHand != int64(i+1) || l.ItemDeleted != (i == 2) {
				t.Errorf("level %+v", l)
			}
		}
		if pr.Cursor = p.NextCursor; pr.Cursor == "" {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("levels of %v, want %v", got, ids)
	}
	got = nil
	pr = inventory.PageRequest{Limit: 3}
	for range 5 {
		p, err := f.svc.ListLocationHistory(f.ctx, l1.ID, pr)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			got = append(got, e.ItemID)
		}
		if pr.Cursor = p.NextCursor; pr.Cursor == "" {
			break
		}
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Fatalf("history of %v, want %v", got, want)
	}
	_, err := f.svc.ListLocationHistory(f.ctx, l1.ID, inventory.PageRequest{Limit: 3, Cursor: ids[0]})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidCursor)
}
