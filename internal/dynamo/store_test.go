package dynamo

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// TestTransferIsAtMostEightActions builds the largest transfer there is —
// its source location emptied, its destination stocked for the first time,
// both locations other than the default, with an idempotency record — and
// counts the actions of its one transaction: the item is checked, not
// written.
func TestTransferIsAtMostEightActions(t *testing.T) {
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
	tx := stockTxn("t", c)
	want := []string{"idem", "item", "level", "level", "ledger", "ledger", "location", "location"}
	if len(tx.items) > 8 || len(tx.roles) != len(want) {
		t.Fatalf("the largest transfer is %d actions %v, want ≤ 8: %v", len(tx.items), tx.roles, want)
	}
	if ck := tx.items[1].ConditionCheck; ck == nil || *ck.ConditionExpression != "version = :v" ||
		ck.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN).Value != "2" {
		t.Errorf("the item is not checked at the version read: %+v", ck)
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
		u := tx.items[6+i].Update
		if u == nil || sOf(u.Key, "PK") != locPrefix+want.loc || *u.ConditionExpression != want.cond ||
			*u.UpdateExpression != "ADD stockedLevels :d" || u.ExpressionAttributeValues[":d"].(*types.AttributeValueMemberN).Value != want.d {
			t.Errorf("guard %d: %+v, want %+v", i, u, want)
		}
	}
}

// TestItemActionsCountTheTransaction: inventory.ItemChange.Actions, which
// the use cases hold against the 100-action limit, is the number of
// actions storage writes, for changes that exercise each kind of record.
func TestItemActionsCountTheTransaction(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	in := inventory.CreateInput{SKU: "HX-1", Name: "Hex bolt M8×40", Quantity: 3, Tags: []string{"a", "b"}}
	created := inventory.NewItem(in, "ann", now)
	it := created.Next
	grouped, _, _ := inventory.SetMembership(it, "01JQ91C7WEHX5N3TB2Y8QZKD4M", true, "ann", now)
	member := grouped.Next
	renamed, _, _ := inventory.ApplyPatch(member, inventory.Patch{SKU: ptr("HX-2"), Name: ptr("Écrou M6 long"),
		Tags: &[]string{"b", "c"}}, []inventory.Level{created.Levels[0].Next}, "bob", now)
	long := member
	long.Name = "alpha bravo charlie delta echo foxtrot golf hotel india"
	overflow, _, _ := inventory.ApplyPatch(member, inventory.Patch{Name: ptr(long.Name)}, nil, "bob", now)
	for name, c := range map[string]inventory.ItemChange{
		"create":  created,
		"join":    grouped,
		"patch":   renamed,
		"long":    overflow,
		"delete":  inventory.Delete(member, "bob", "gone", now),
		"restore": inventory.Restore(inventory.Delete(member, "bob", "gone", now).Next, "bob", now),
	} {
		c.Idempotency = &inventory.IdempotencyRecord{Scope: "s", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if got, want := c.Actions(), len(itemsTxn("t", []inventory.ItemChange{c}, c.Idempotency).items); got != want || want < 4 {
			t.Errorf("%s: Actions() = %d, the transaction has %d", name, got, want)
		}
	}
}

// TestStartValueFitsAnIndexKey: a position's sort value too long for an
// index key is cut to at most maxStartValue bytes, at a character boundary.
func TestStartValueFitsAnIndexKey(t *testing.T) {
	for _, v := range []string{"", "short", strings.Repeat("a", 2000), strings.Repeat("ü", 800), strings.Repeat("𝄞", 400)} {
		got := startValue(v)
		if len(got) > maxStartValue || !utf8.ValidString(got) || !strings.HasPrefix(v, got) || (len(v) <= maxStartValue && got != v) {
			t.Errorf("startValue(%d bytes) = %d bytes, valid %v", len(v), len(got), utf8.ValidString(got))
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestExportRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 5e6, time.UTC)
	min, later := int64(3), now.Add(time.Minute)
	in := inventory.ExportInput{Filters: inventory.ItemQuery{Q: "hex bolt", Tag: "a~b", GroupID: "01JQ91C7WEHX5N3TB2Y8QZKD4M", LocationID: "default",
		LowStock: true, MinQuantity: &min, Sort: inventory.SortSKU}, Include: []string{"stock", "groups"}, BOM: true}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	queued := inventory.NewExport(in, "ann", now)
	running := queued.Start("up-1", []inventory.Location{{ID: "default", Code: "DEFAULT"}, {ID: "L", Code: "RTM-1"}}, later).
		AddPart(inventory.UploadedPart{Number: 1, ETag: `"e1"`, Bytes: 8 << 20, Rows: 40000}, "BOLT~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", false)
	for name, j := range map[string]inventory.Export{
		"queued": queued, "running": running, "done": running.Succeed(later),
		"failed": queued.Fail("the upload was lost", later), "bare": inventory.NewExport(inventory.ExportInput{}, "bob", now),
	} {
		got, err := decodeExport(encodeExport(j))
		if err != nil || !reflect.DeepEqual(got, j) {
			t.Errorf("%s: decoded\n%+v (%v), want\n%+v", name, got, err, j)
		}
	}
	if k := encodeExport(queued); sOf(k, "GSI1PK") != "JOBS#export" || sOf(k, "GSI1SK") != "2026-11-30T12:00:00.005Z#"+queued.ID {
		t.Errorf("index keys %v", k)
	}
}

func TestImportRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 5e6, time.UTC)
	later := now.Add(time.Minute)
	waiting := inventory.NewImport(true, "ann", now, now.Add(15*time.Minute))
	checked := waiting.Start(later).Checked(`"etag-1"`, 1234, []string{"SKU", "", "onHand:RTM-1"},
		map[string]string{"RTM-1": "01JDQ5C3N6V9X2A5D8G1J4M7Q0"}, 17, 2)
	applied := checked.Resumed().Applied(inventory.ImportCounts{Rows: 3, Created: 1, Updated: 1, Unchanged: 0, Failed: 1}, 99, 5)
	for name, j := range map[string]inventory.Import{
		"waiting": waiting, "checking": waiting.Start(later), "checked": checked, "applied": applied,
		"results": applied.AllApplied("up-9"), "done": applied.Succeed(later), "failed": waiting.Fail("no file", later),
	} {
		got, err := decodeImport(encodeImport(j))
		if err != nil || !reflect.DeepEqual(got, j) {
			t.Errorf("%s: decoded\n%+v (%v), want\n%+v", name, got, err, j)
		}
	}
	if k := encodeImport(waiting); sOf(k, "GSI1PK") != "JOBS#import" || sOf(k, "GSI1SK") != "2026-11-30T12:00:00.005Z#"+waiting.ID {
		t.Errorf("index keys %v", k)
	}
}
