package dynamo

import (
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Key prefixes and fixed partitions of the single table; docs/data-model.md
// explains each.
const (
	itemPrefix    = "ITEM#"
	skuPrefix     = "SKU#"
	tagPrefix     = "TAG#"
	stockPrefix   = "STOCK#"
	ledgerPrefix  = "LEDGER#"
	locPrefix     = "LOC#"
	idemPrefix    = "IDEM#"
	itemSK        = "ITEM"
	skuSK         = "SKU"
	idemSK        = "IDEM"
	liveItems     = "ITEMS#LIVE"
	deletedItems  = "ITEMS#DELETED"
	lowStockItems = "LOWSTOCK"
	gsi1          = "GSI1"
)

func formatTime(t time.Time) string { return t.UTC().Format(inventory.TimeLayout) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

type deletionRecord struct {
	At      string `dynamodbav:"at"`
	By      string `dynamodbav:"by"`
	Comment string `dynamodbav:"comment"`
}

type itemRecord struct {
	PK           string          `dynamodbav:"PK"`
	SK           string          `dynamodbav:"SK"`
	GSI1PK       string          `dynamodbav:"GSI1PK"`
	GSI1SK       string          `dynamodbav:"GSI1SK"`
	GSI3PK       string          `dynamodbav:"GSI3PK,omitempty"`
	GSI3SK       string          `dynamodbav:"GSI3SK,omitempty"`
	Type         string          `dynamodbav:"type"`
	ID           string          `dynamodbav:"id"`
	SKU          string          `dynamodbav:"sku"`
	Name         string          `dynamodbav:"name"`
	Description  string          `dynamodbav:"description"`
	Quantity     int64           `dynamodbav:"quantity"`
	Tags         []string        `dynamodbav:"tags,omitempty"` // absent when empty: minidyn mangles an empty L in GSI reads
	ReorderPoint *int64          `dynamodbav:"reorderPoint,omitempty"`
	CreatedAt    string          `dynamodbav:"createdAt"`
	CreatedBy    string          `dynamodbav:"createdBy"`
	UpdatedAt    string          `dynamodbav:"updatedAt"`
	UpdatedBy    string          `dynamodbav:"updatedBy"`
	Version      int64           `dynamodbav:"version"`
	Deleted      *deletionRecord `dynamodbav:"deleted,omitempty"`
	Image        *imageRecord    `dynamodbav:"image,omitempty"`
}

type imageRecord struct {
	Status      string            `dynamodbav:"status"`
	UploadID    string            `dynamodbav:"uploadId"`
	ContentType string            `dynamodbav:"contentType,omitempty"`
	Width       int               `dynamodbav:"width,omitempty"`
	Height      int               `dynamodbav:"height,omitempty"`
	Bytes       int64             `dynamodbav:"bytes,omitempty"`
	Reason      string            `dynamodbav:"reason,omitempty"`
	Original    string            `dynamodbav:"original,omitempty"`
	Thumbnails  []thumbnailRecord `dynamodbav:"thumbnails,omitempty"`
	Replaces    []string          `dynamodbav:"replaces,omitempty"`
}

type thumbnailRecord struct {
	Size        int    `dynamodbav:"size"`
	Width       int    `dynamodbav:"width"`
	Height      int    `dynamodbav:"height"`
	ContentType string `dynamodbav:"contentType"`
	Key         string `dynamodbav:"key"`
}

func newImageRecord(im *inventory.Image) *imageRecord {
	if im == nil {
		return nil
	}
	r := &imageRecord{
		Status: im.Status, UploadID: im.UploadID, ContentType: im.ContentType,
		Width: im.Width, Height: im.Height, Bytes: im.Bytes, Reason: im.Reason,
		Original: im.Original,
	}
	for _, t := range im.Thumbnails {
		r.Thumbnails = append(r.Thumbnails, thumbnailRecord(t))
	}
	if len(im.Replaces) > 0 { // never an empty list (see itemRecord.Tags)
		r.Replaces = im.Replaces
	}
	return r
}

func (r *imageRecord) image() *inventory.Image {
	if r == nil {
		return nil
	}
	im := &inventory.Image{
		Status: r.Status, UploadID: r.UploadID, ContentType: r.ContentType,
		Width: r.Width, Height: r.Height, Bytes: r.Bytes, Reason: r.Reason,
		Original: r.Original, Replaces: r.Replaces,
	}
	for _, t := range r.Thumbnails {
		im.Thumbnails = append(im.Thumbnails, inventory.Thumbnail(t))
	}
	return im
}

func itemKey(id string) (string, string) { return itemPrefix + id, itemSK }

func newItemRecord(it inventory.Item) itemRecord {
	pk, sk := itemKey(it.ID)
	r := itemRecord{
		PK: pk, SK: sk, Type: "item",
		ID: it.ID, SKU: it.SKU, Name: it.Name, Description: it.Description,
		Quantity: it.Quantity, Tags: it.Tags, ReorderPoint: it.ReorderPoint,
		CreatedAt: formatTime(it.CreatedAt), CreatedBy: it.CreatedBy,
		UpdatedAt: formatTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy,
		Version: it.Version, Image: newImageRecord(it.Image),
	}
	if len(r.Tags) == 0 {
		r.Tags = nil // omitted; an empty slice would encode as an empty list
	}
	if it.Deleted != nil {
		r.GSI1PK, r.GSI1SK = deletedItems, formatTime(it.Deleted.At)+"#"+it.ID
		r.Deleted = &deletionRecord{At: formatTime(it.Deleted.At), By: it.Deleted.By, Comment: it.Deleted.Comment}
	} else {
		r.GSI1PK, r.GSI1SK = liveItems, it.SKU
		if it.IsLowStock() {
			r.GSI3PK, r.GSI3SK = lowStockItems, it.SKU
		}
	}
	return r
}

func (r itemRecord) item() inventory.Item {
	it := inventory.Item{
		ID: r.ID, SKU: r.SKU, Name: r.Name, Description: r.Description,
		Quantity: r.Quantity, Tags: r.Tags, ReorderPoint: r.ReorderPoint,
		CreatedAt: parseTime(r.CreatedAt), CreatedBy: r.CreatedBy,
		UpdatedAt: parseTime(r.UpdatedAt), UpdatedBy: r.UpdatedBy,
		Version: r.Version, Image: r.Image.image(),
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	if r.Deleted != nil {
		it.Deleted = &inventory.Deletion{At: parseTime(r.Deleted.At), By: r.Deleted.By, Comment: r.Deleted.Comment}
	}
	return it
}

type skuRecord struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	ItemID string `dynamodbav:"itemId"`
}

func skuKey(sku string) (string, string) { return skuPrefix + sku, skuSK }

type tagRecord struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	ItemID string `dynamodbav:"itemId"`
	Tag    string `dynamodbav:"tag"`
}

func tagKey(tag, itemID string) (string, string) { return tagPrefix + tag, itemPrefix + itemID }

type stockRecord struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	GSI2PK     string `dynamodbav:"GSI2PK"`
	GSI2SK     string `dynamodbav:"GSI2SK"`
	Type       string `dynamodbav:"type"`
	ItemID     string `dynamodbav:"itemId"`
	LocationID string `dynamodbav:"locationId"`
	Quantity   int64  `dynamodbav:"quantity"`
	UpdatedAt  string `dynamodbav:"updatedAt"`
}

func stockKey(itemID, locationID string) (string, string) {
	return itemPrefix + itemID, stockPrefix + locationID
}

type ledgerRecord struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	GSI2PK        string `dynamodbav:"GSI2PK"`
	GSI2SK        string `dynamodbav:"GSI2SK"`
	Type          string `dynamodbav:"type"`
	ID            string `dynamodbav:"id"`
	ItemID        string `dynamodbav:"itemId"`
	LocationID    string `dynamodbav:"locationId"`
	Delta         int64  `dynamodbav:"delta"`
	QuantityAfter int64  `dynamodbav:"quantityAfter"`
	Reason        string `dynamodbav:"reason"`
	Reference     string `dynamodbav:"reference,omitempty"`
	Actor         string `dynamodbav:"actor"`
	At            string `dynamodbav:"at"`
}

func newLedgerRecord(e inventory.LedgerEntry) ledgerRecord {
	return ledgerRecord{
		PK: itemPrefix + e.ItemID, SK: ledgerPrefix + e.ID,
		GSI2PK: locPrefix + e.LocationID, GSI2SK: ledgerPrefix + e.ID,
		Type: "ledger", ID: e.ID, ItemID: e.ItemID, LocationID: e.LocationID,
		Delta: e.Delta, QuantityAfter: e.QuantityAfter, Reason: e.Reason,
		Reference: e.Reference, Actor: e.Actor, At: formatTime(e.At),
	}
}

func (r ledgerRecord) entry() inventory.LedgerEntry {
	return inventory.LedgerEntry{
		ID: r.ID, ItemID: r.ItemID, LocationID: r.LocationID, Delta: r.Delta,
		QuantityAfter: r.QuantityAfter, Reason: r.Reason, Reference: r.Reference,
		Actor: r.Actor, At: parseTime(r.At),
	}
}
