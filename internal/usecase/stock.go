package usecase

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Bounds of the read-compute-write attempts of a stock change while
// concurrent changes of the same levels or items win the race. Stock
// changes commute, so they are retried far more than other changes: a busy
// level serializes its writers (each attempt after a random wait of up to
// 5 ms × 2^attempt, at most 400 ms), and only a writer that lost for StockRetryBudget, or
// MaxStockAttempts times, answers version_conflict. The budget stays well
// inside the functions' 10 s timeout.
const (
	MaxStockAttempts = 30
	StockRetryBudget = 4 * time.Second
)

// ItemStock is an item's stock levels and their totals.
type ItemStock struct {
	Levels []inventory.Level
	Totals StockTotals
}

// StockTotals are the sums of levels' figures.
type StockTotals struct {
	OnHand, Committed, Incoming int64
}

// Available is on hand less committed.
func (t StockTotals) Available() int64 { return t.OnHand - t.Committed }

// LocationLevel is a level at a location, with its item's SKU and name.
type LocationLevel struct {
	inventory.Level
	SKU         string
	Name        string
	ItemDeleted bool
}

// GetItemStock returns a live item's levels, now or, with at, as they
// stood at that instant (rebuilt from the ledger: one read per location the
// item has stock levels at, however long its history). An instant in the
// future is invalid_parameter; one before the item existed has no levels.
func (s *Service) GetItemStock(ctx context.Context, itemID string, at *time.Time) (ItemStock, error) {
	if at != nil && at.After(s.now()) {
		return ItemStock{}, inventory.Invalid(inventory.CodeInvalidParameter, "at must not be in the future",
			inventory.FieldError{Field: "at", Code: "range", Message: "at is later than now; stock is known up to now"})
	}
	it, err := s.readItem(ctx, itemID, live)
	if err != nil {
		return ItemStock{}, err
	}
	levels, err := s.Store.ListLevels(ctx, it.ID)
	if err != nil {
		return ItemStock{}, err
	}
	if at != nil {
		bound := inventory.LedgerIDBound(*at)
		var then []inventory.Level
		if at.Before(it.CreatedAt) {
			levels = nil // before the item existed: no levels, and nothing to read
		}
		for _, l := range levels {
			e, err := s.Store.LastLedgerEntry(ctx, it.ID, l.LocationID, bound)
			if err != nil {
				return ItemStock{}, err
			}
			if e != nil {
				then = append(then, e.Level())
			}
		}
		levels = then
	}
	out := ItemStock{Levels: levels}
	for _, l := range levels {
		out.Totals.OnHand += l.OnHand
		out.Totals.Committed += l.Committed
		out.Totals.Incoming += l.Incoming
	}
	if out.Levels == nil {
		out.Levels = []inventory.Level{}
	}
	return out, nil
}

// GetLocationStock lists the levels at a live location, in item id order,
// each with its item's SKU and name (levels of deleted items included:
// their goods are still on the shelf).
func (s *Service) GetLocationStock(ctx context.Context, locationID string, pr inventory.PageRequest) (inventory.Page[LocationLevel], error) {
	if _, err := inventory.LocationStockCursor.Range(pr); err != nil {
		return inventory.Page[LocationLevel]{}, err
	}
	if _, err := s.readLocation(ctx, locationID, live); err != nil {
		return inventory.Page[LocationLevel]{}, err
	}
	levels, err := listPage(ctx, inventory.LocationStockCursor, pr, func(ctx context.Context, r inventory.Range) ([]inventory.Level, inventory.Position, error) {
		return s.Store.ListLocationLevels(ctx, locationID, r)
	})
	if err != nil {
		return inventory.Page[LocationLevel]{}, err
	}
	ids := make([]string, len(levels.Items))
	for i, l := range levels.Items {
		ids[i] = l.ItemID
	}
	items, err := s.Store.GetItems(ctx, ids)
	if err != nil {
		return inventory.Page[LocationLevel]{}, err
	}
	out := inventory.Page[LocationLevel]{Items: make([]LocationLevel, 0, len(levels.Items)), NextCursor: levels.NextCursor}
	for _, l := range levels.Items {
		it := items[l.ItemID]
		out.Items = append(out.Items, LocationLevel{Level: l, SKU: it.SKU, Name: it.Name, ItemDeleted: it.Deleted != nil})
	}
	return out, nil
}

// ListLocationHistory lists every item's ledger lines at a live location,
// newest first.
func (s *Service) ListLocationHistory(ctx context.Context, locationID string, pr inventory.PageRequest) (inventory.Page[inventory.LedgerEntry], error) {
	if _, err := inventory.LocationLedgerCursor.Range(pr); err != nil {
		return inventory.Page[inventory.LedgerEntry]{}, err
	}
	if _, err := s.readLocation(ctx, locationID, live); err != nil {
		return inventory.Page[inventory.LedgerEntry]{}, err
	}
	return listPage(ctx, inventory.LocationLedgerCursor, pr, func(ctx context.Context, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
		return s.Store.ListLocationLedger(ctx, locationID, r)
	})
}

// CreateAdjustment changes stock at up to 30 levels, all or nothing.
func (s *Service) CreateAdjustment(ctx context.Context, req Request, in inventory.AdjustmentInput) (inventory.Adjustment, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.Adjustment{}, false, err
	}
	return once(ctx, s, "CreateAdjustment", req, in, func(p *pending) (inventory.Adjustment, error) {
		return changeStock(ctx, s, in.Keys(), p, func(st inventory.StockState) (inventory.StockChange, inventory.Adjustment, error) {
			return inventory.Adjust(in, st, req.Actor, s.now())
		})
	})
}

// CreateCount records a cycle count.
func (s *Service) CreateCount(ctx context.Context, req Request, in inventory.CountInput) (inventory.Count, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.Count{}, false, err
	}
	return once(ctx, s, "CreateCount", req, in, func(p *pending) (inventory.Count, error) {
		return changeStock(ctx, s, in.Keys(), p, func(st inventory.StockState) (inventory.StockChange, inventory.Count, error) {
			return inventory.CountStock(in, st, req.Actor, s.now())
		})
	})
}

// CreateTransfer moves stock of an item between two locations atomically.
func (s *Service) CreateTransfer(ctx context.Context, req Request, in inventory.TransferInput) (inventory.Transfer, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.Transfer{}, false, err
	}
	return once(ctx, s, "CreateTransfer", req, in, func(p *pending) (inventory.Transfer, error) {
		return changeStock(ctx, s, in.Keys(), p, func(st inventory.StockState) (inventory.StockChange, inventory.Transfer, error) {
			return inventory.TransferStock(in, st, req.Actor, s.now())
		})
	})
}

// changeStock is the read-compute-write loop of stock changes: it reads
// what the change needs, computes it (which checks every rule on exactly
// what was read), and commits it with idem's record; storage's conditions
// make the commit fail if anything read has changed since, and then it
// starts again from a fresh read.
func changeStock[T any](ctx context.Context, s *Service, keys inventory.StockKeys, idem *pending,
	compute func(inventory.StockState) (inventory.StockChange, T, error)) (T, error) {
	var zero T
	start := time.Now()
	for attempt := 1; ; attempt++ {
		st, err := s.Store.ReadStock(ctx, keys)
		if err != nil {
			return zero, err
		}
		c, result, err := compute(st)
		if err != nil {
			return zero, err
		}
		if c.Idempotency, err = idem.record(result); err != nil {
			return zero, err
		}
		if n := stockActions(c); n > inventory.MaxTransactionActions {
			return zero, inventory.Invalid(inventory.CodeValidationFailed,
				"this change would write more records than one transaction can hold; split it into smaller adjustments",
				inventory.FieldError{Field: "/lines", Code: "too_many", Message: "fewer lines, items or locations per adjustment"})
		}
		err = s.Store.SaveStock(ctx, c)
		if !errors.Is(err, inventory.ErrStale) {
			return result, err
		}
		if attempt == MaxStockAttempts || time.Since(start) > StockRetryBudget {
			return zero, inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict,
				"the stock kept changing concurrently (%d attempts); retry", attempt)
		}
		if err := s.wait(ctx, jitter(attempt, 400*time.Millisecond)); err != nil {
			return zero, err
		}
	}
}

// stockActions is the number of actions of a stock change's transaction:
// each level, ledger line, item written or checked, each location guard, and the
// idempotency record.
func stockActions(c inventory.StockChange) int {
	n := len(c.Levels) + len(c.Ledger) + len(c.Items) + len(c.Checked) + len(inventory.LocationGuards(c.Levels))
	if c.Idempotency != nil {
		n++
	}
	return n
}

// backoff waits before attempt+1 of a change: a random time up to
// 5 ms × 2^attempt, so that writers that collided do not collide again in
// step.
func (s *Service) backoff(ctx context.Context, attempt int) error {
	return s.wait(ctx, jitter(attempt, 320*time.Millisecond))
}

// jitter is a random time up to min(5 ms × 2^attempt, limit).
func jitter(attempt int, limit time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(min(5*time.Millisecond<<min(attempt, 10), limit)) + 1))
}

// wait sleeps for d (with the Service's Pause, if set), or until ctx is
// done.
func (s *Service) wait(ctx context.Context, d time.Duration) error {
	if s.Pause != nil {
		return s.Pause(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return inventory.Unavailable(ctx.Err())
	case <-t.C:
		return nil
	}
}
