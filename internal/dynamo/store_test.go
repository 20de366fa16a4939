package dynamo

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// TestTransferIsAtMostSevenActions builds the largest transfer there is —
// its source location emptied, its destination stocked for the first time,
// both locations other than the default, with an idempotency record — and
// counts the actions of its one transaction.
func TestTransferIsAtMostSevenActions(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	item := inventory.Item{ID: inventory.NewID(now), SKU: "S", Name: "n", Quantity: 3, Version: 2}
	from, to := inventory.NewID(now), inventory.NewID(now)
	st := inventory.StockState{
		Items: map[string]inventory.Item{item.ID: item},
		Levels: map[inventory.LevelKey]inventory.Level{{ItemID: item.ID, LocationID: from}: {
			ItemID: item.ID, LocationID: from, OnHand: 3, UpdatedAt: now, LastLedgerID: inventory.NewID(now)}},
		Locations: map[string]inventory.Location{from: {ID: from, StockedLevels: 1}, to: {ID: to}},
	}
	c, _, err := inventory.TransferStock(inventory.TransferInput{ItemID: item.ID, FromLocationID: from, ToLocationID: to, Quantity: 3},
		st, "ann", now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c.Idempotency = &inventory.IdempotencyRecord{Scope: "s", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	tx := &txn{table: "t"}
	putIdempotency(tx, c.Idempotency)
	for _, r := range c.Items {
		tx.put("item", encodeItem(r.Next), "version = :v", nil)
	}
	writeLevels(tx, c.Levels, c.Ledger)
	want := []string{"idem", "level", "level", "ledger", "ledger", "location", "location"}
	if len(tx.items) > 7 || len(tx.roles) != len(want) {
		t.Fatalf("the largest transfer is %d actions %v, want ≤ 7: %v", len(tx.items), tx.roles, want)
	}
	for i, r := range want {
		if tx.roles[i] != r {
			t.Errorf("action %d is %s, want %s", i, tx.roles[i], r)
		}
	}
	// The source's guard takes 1; the destination's adds 1, on a live
	// location.
	for i, want := range []struct{ loc, d, cond string }{
		{from, "-1", "attribute_exists(PK)"},
		{to, "1", "attribute_exists(PK) AND attribute_not_exists(deleted)"},
	} {
		u := tx.items[5+i].Update
		if u == nil || sOf(u.Key, "PK") != locPrefix+want.loc || *u.ConditionExpression != want.cond ||
			*u.UpdateExpression != "ADD stockedLevels :d" || u.ExpressionAttributeValues[":d"].(*types.AttributeValueMemberN).Value != want.d {
			t.Errorf("guard %d: %+v, want %+v", i, u, want)
		}
	}
}
