package dynamo

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// TestRecordsRoundTrip: every record reads back as it was written.
func TestRecordsRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 6, 0, 0, 123_000_000, time.UTC)
	point := int64(0)
	full := inventory.Item{
		ID: "01JBZ4Q7Y3M7R2K5X9V8N6T4PA", SKU: "A-1", Name: "Widget", Description: "d",
		Quantity: 7, Tags: []string{"x", "y"}, ReorderPoint: &point,
		CreatedAt: now, CreatedBy: "a@example.com", UpdatedAt: now, UpdatedBy: "b@example.com", Version: 4,
		Deleted: &inventory.Deletion{At: now, By: "c@example.com", Comment: "gone"},
		Image: &inventory.Image{Status: inventory.ImageReady, UploadID: "U", ContentType: "image/png", RequestedBy: "b@example.com",
			Width: 10, Height: 20, Bytes: 300, Original: "o",
			Thumbnails: []inventory.Thumbnail{{Size: 160, Width: 80, Height: 160, ContentType: "image/png", Key: "k"}},
			Replaces:   []string{"r1", "r2"}},
	}
	for name, it := range map[string]inventory.Item{
		"full":    full,
		"minimal": {ID: "01JBZ4Q7Y3M7R2K5X9V8N6T4PA", SKU: "B", Name: "n", Tags: []string{}, CreatedAt: now, UpdatedAt: now, Version: 1},
		"pending": {ID: "X", SKU: "C", Name: "n", Tags: []string{}, CreatedAt: now, UpdatedAt: now, Version: 2,
			Image: &inventory.Image{Status: inventory.ImagePending, UploadID: "U2"}},
	} {
		got, err := decodeItem(encodeItem(it))
		if err != nil || !reflect.DeepEqual(got, it) {
			t.Errorf("%s: decoded\n%+v (%v), want\n%+v", name, got, err, it)
		}
	}
	for _, e := range []inventory.LedgerEntry{
		{ID: "L", ItemID: "I", LocationID: "default", Delta: -3, OnHandAfter: 4, CommittedAfter: 2, IncomingAfter: 7,
			Reason: "r", Reference: "ref", Note: "n", Actor: "a", At: now},
		{ID: "L2", ItemID: "I", LocationID: "X", Reason: "r", Actor: "a", At: now},
	} {
		if got, err := decodeLedger(encodeLedger(e)); err != nil || got != e {
			t.Errorf("ledger: %+v %v, want %+v", got, err, e)
		}
	}
	for _, l := range []inventory.Level{
		{ItemID: "I", LocationID: "default", OnHand: 9, Committed: 2, Incoming: 3, UpdatedAt: now, LastLedgerID: "L"},
		{ItemID: "I", LocationID: "X", UpdatedAt: now, LastLedgerID: "L2"},
	} {
		if got, err := decodeLevel(encodeLevel(l)); err != nil || got != l {
			t.Errorf("level: %+v %v, want %+v", got, err, l)
		}
	}
	for _, l := range []inventory.Location{
		{ID: "LOC", Code: "RTM-1", Name: "Rotterdam", Address: "Waalhaven 12", CreatedAt: now, CreatedBy: "a",
			UpdatedAt: now, UpdatedBy: "b", Version: 3, StockedLevels: 2},
		{ID: "LOC2", Code: "AMS", Name: "Amsterdam", CreatedAt: now, UpdatedAt: now, Version: 4,
			Deleted: &inventory.Deletion{At: now, By: "c", Comment: "closed"}},
	} {
		if got, err := decodeLocation(encodeLocation(l)); err != nil || !reflect.DeepEqual(got, l) {
			t.Errorf("location: %+v %v, want %+v", got, err, l)
		}
	}
	for _, a := range []inventory.Activity{
		{ID: "A1", ItemID: "I", Type: inventory.ActivityUpdated, Actor: "a", At: now, UploadID: "U",
			Changes: []inventory.FieldChange{{Field: "name", From: []byte(`"x"`), To: []byte(`"y"`)}, {Field: "reorderPoint", From: []byte(`null`), To: []byte(`3`)}}},
		{ID: "A3", ItemID: "I", Type: inventory.ActivityDeleted, Actor: "a", At: now, Comment: "why"},
		{ID: "A4", ItemID: "I", Type: inventory.ActivityImageFailed, Actor: "a", At: now, UploadID: "U", ImageReason: "not an image"},
	} {
		if got, err := decodeActivity(encodeActivity(a)); err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("activity %s: %+v %v, want %+v", a.ID, got, err, a)
		}
	}
	r := inventory.IdempotencyRecord{Scope: "s", Operation: "CreateItem", RequestHash: "h", Result: []byte(`{"ID":"x"}`),
		CreatedAt: now, ExpiresAt: now.Add(inventory.IdempotencyTTL).Truncate(time.Second)}
	if got, err := decodeIdempotency("s", encodeIdempotency(r)); err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("idempotency: %+v %v, want %+v", got, err, r)
	}
}

func TestEncodeItemIndexKeys(t *testing.T) {
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	point := int64(5)
	it := inventory.Item{ID: "I", SKU: "S", Quantity: 1, ReorderPoint: &point, Version: 1}
	m := encodeItem(it)
	if sOf(m, "GSI1PK") != liveItems || sOf(m, "GSI1SK") != "S" || sOf(m, "GSI3PK") != lowStockItems {
		t.Errorf("live low-stock item keys %v", m)
	}
	if _, ok := m["tags"]; ok {
		t.Error("an empty list is stored")
	}
	it.Deleted = &inventory.Deletion{At: now}
	m = encodeItem(it)
	if sOf(m, "GSI1PK") != deletedItems || sOf(m, "GSI1SK") != "2026-11-25T06:00:00.000Z#I" || m["GSI3PK"] != nil {
		t.Errorf("deleted item keys %v", m)
	}
	if p := deletedItemsList.position(m); !reflect.DeepEqual(p, inventory.Position{"2026-11-25T06:00:00.000Z", "I"}) {
		t.Errorf("deleted position %v", p)
	}
	if k := deletedItemsList.start(inventory.Position{"2026-11-25T06:00:00.000Z", "I"}); sOf(k, "GSI1SK") != sOf(m, "GSI1SK") || sOf(k, "PK") != "ITEM#I" {
		t.Errorf("deleted start %v", k)
	}
	for _, l := range []indexList{lowStockList, liveLocationsList, deletedLocationsList, itemsByNameList, itemsByUpdateList, liveGroupsList, deletedGroupsList, exportsList} {
		want := inventory.Position{"2026-11-25T06:00:00.000Z", "I"}
		if p := l.position(l.start(want)); !reflect.DeepEqual(p, want) {
			t.Errorf("%s %s: position %v of the start of %v", l.index, l.partition, p, want)
		}
	}
	if k := liveItemsList.start(inventory.Position{"", "I"}); k != nil {
		t.Errorf("an empty SKU is not the start: %v", k)
	}
	if k := itemsByNameList.start(inventory.Position{"", "I"}); sOf(k, "GSI2SK") != " I" {
		t.Errorf("an empty name key is a position: %v", k)
	}
	if p := liveItemsList.position(liveItemsList.start(inventory.Position{"S", "I"})); !reflect.DeepEqual(p, inventory.Position{"S", "I"}) {
		t.Errorf("items position %v", p)
	}
}

func TestLegacyRecordsDecode(t *testing.T) {
	// A level and a ledger line written before committed, incoming and
	// onHandAfter existed.
	level := attrMap{"itemId": str("I"), "locationId": str("default"), "quantity": num(12), "updatedAt": str("2026-11-25T06:00:00.000Z")}
	l, err := decodeLevel(level)
	if err != nil || l.OnHand != 12 || l.LastLedgerID != legacyLevel {
		t.Errorf("legacy level %+v %v", l, err)
	}
	line := attrMap{"id": str("L"), "delta": num(-3), "quantityAfter": num(9)}
	e, err := decodeLedger(line)
	if err != nil || e.OnHandAfter != 9 {
		t.Errorf("legacy line %+v %v", e, err)
	}
}

func TestDecodeRejectsWrongTypes(t *testing.T) {
	for name, m := range map[string]attrMap{
		"string quantity": {"quantity": &types.AttributeValueMemberS{Value: "7"}},
		"string tags":     {"tags": &types.AttributeValueMemberS{Value: "A"}},
		"bad time":        {"createdAt": &types.AttributeValueMemberS{Value: "yesterday"}},
		"bad image":       {"image": &types.AttributeValueMemberM{Value: attrMap{"width": &types.AttributeValueMemberS{Value: "x"}}}},
	} {
		if _, err := decodeItem(m); err == nil {
			t.Errorf("%s decoded", name)
		}
	}
}
