package dynamo

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// TestDecodersMatchAttributevalue: every record written with attributevalue
// reads back identically with the hand-written decoders.
func TestDecodersMatchAttributevalue(t *testing.T) {
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	point := int64(0)
	full := inventory.Item{
		ID: "01JBZ4Q7Y3M7R2K5X9V8N6T4PA", SKU: "A-1", Name: "Widget", Description: "d",
		Quantity: 7, Tags: []string{"x", "y"}, ReorderPoint: &point,
		CreatedAt: now, CreatedBy: "a@example.com", UpdatedAt: now, UpdatedBy: "b@example.com", Version: 4,
		Deleted: &inventory.Deletion{At: now, By: "c@example.com", Comment: "gone"},
		Image: &inventory.Image{Status: inventory.ImageReady, UploadID: "U", ContentType: "image/png",
			Width: 10, Height: 20, Bytes: 300, Original: "o",
			Thumbnails: []inventory.Thumbnail{{Size: 160, Width: 80, Height: 160, ContentType: "image/png", Key: "k"}},
			Replaces:   []string{"r1", "r2"}},
	}
	for name, it := range map[string]inventory.Item{
		"full":    full,
		"minimal": {ID: "01JBZ4Q7Y3M7R2K5X9V8N6T4PA", SKU: "B", Name: "n", CreatedAt: now, UpdatedAt: now, Version: 1},
		"pending": {ID: "X", SKU: "C", Name: "n", Version: 2, Image: &inventory.Image{Status: inventory.ImagePending, UploadID: "U2"}},
	} {
		m, err := attributevalue.MarshalMap(newItemRecord(it))
		if err != nil {
			t.Fatal(err)
		}
		var want itemRecord
		if err := attributevalue.UnmarshalMap(m, &want); err != nil {
			t.Fatal(err)
		}
		got, err := decodeItemRecord(m)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v (%v), want %+v", name, got, err, want)
		}
	}
	entry := newLedgerRecord(inventory.LedgerEntry{ID: "L", ItemID: "I", LocationID: "default", Delta: -3, QuantityAfter: 4, Reason: "r", Reference: "ref", Actor: "a", At: now})
	m, _ := attributevalue.MarshalMap(entry)
	if got, err := decodeLedgerRecord(m); err != nil || got != entry {
		t.Errorf("ledger: %+v %v, want %+v", got, err, entry)
	}
}

func TestDecodeRejectsWrongTypes(t *testing.T) {
	bad := map[string]types.AttributeValue{"quantity": &types.AttributeValueMemberS{Value: "7"}}
	if _, err := decodeItemRecord(bad); err == nil {
		t.Fatal("a string quantity decoded")
	}
	bad = map[string]types.AttributeValue{"tags": &types.AttributeValueMemberS{Value: "A"}}
	if _, err := decodeItemRecord(bad); err == nil {
		t.Fatal("a string tags decoded")
	}
}
