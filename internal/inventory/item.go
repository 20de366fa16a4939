// Package inventory holds Depot's domain types and rules. It knows nothing of
// AWS, HTTP or storage.
package inventory

import (
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// TimeLayout is how Depot writes times, in storage and in the API: UTC
// RFC 3339 with milliseconds, so that text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// DefaultLocation is where all stock sits until locations exist.
const DefaultLocation = "default"

// Ledger reasons written by the item operations.
const (
	ReasonItemCreated = "item_created"
	ReasonQuantitySet = "quantity_set"
)

// Item is one stock-keeping unit.
type Item struct {
	ID           string
	SKU          string
	Name         string
	Description  string
	Quantity     int64
	Tags         []string
	ReorderPoint *int64
	CreatedAt    time.Time
	CreatedBy    string
	UpdatedAt    time.Time
	UpdatedBy    string
	Version      int64
	Deleted      *Deletion
	Image        *Image
}

// Deletion records who soft-deleted an item, when and why.
type Deletion struct {
	At      time.Time
	By      string
	Comment string
}

// LedgerEntry is one change of stock of an item at a location.
type LedgerEntry struct {
	ID            string
	ItemID        string
	LocationID    string
	Delta         int64
	QuantityAfter int64
	Reason        string
	Reference     string
	Actor         string
	At            time.Time
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a new ULID: unique, and sortable by creation time.
func NewID(now time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(now), idEntropy).String()
}

// IsValidID reports whether s is a well-formed ULID.
func IsValidID(s string) bool {
	_, err := ulid.ParseStrict(s)
	return err == nil && len(s) == ulid.EncodedSize
}

// NewItem builds a new item from validated input and its opening ledger entry.
func NewItem(in CreateInput, actor string, now time.Time) (Item, LedgerEntry) {
	now = now.UTC().Truncate(time.Millisecond)
	item := Item{
		ID:           NewID(now),
		SKU:          in.SKU,
		Name:         in.Name,
		Description:  in.Description,
		Quantity:     in.Quantity,
		Tags:         in.Tags,
		ReorderPoint: in.ReorderPoint,
		CreatedAt:    now,
		CreatedBy:    actor,
		UpdatedAt:    now,
		UpdatedBy:    actor,
		Version:      1,
	}
	if item.Tags == nil {
		item.Tags = []string{}
	}
	entry := LedgerEntry{
		ID:            NewID(now),
		ItemID:        item.ID,
		LocationID:    DefaultLocation,
		Delta:         in.Quantity,
		QuantityAfter: in.Quantity,
		Reason:        ReasonItemCreated,
		Actor:         actor,
		At:            now,
	}
	return item, entry
}

// ApplyPatch returns the item after a validated merge patch, and the ledger
// entry for its quantity change (nil when the quantity is unchanged).
// changed is false when the patch changes nothing; the item is then returned
// as it was, without a new version.
func ApplyPatch(old Item, p Patch, actor string, now time.Time) (next Item, entry *LedgerEntry, changed bool) {
	now = now.UTC().Truncate(time.Millisecond)
	next = old
	next.Tags = slices.Clone(old.Tags)
	if p.SKU != nil {
		next.SKU = *p.SKU
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if p.Quantity != nil {
		next.Quantity = *p.Quantity
	}
	if p.Tags != nil {
		next.Tags = *p.Tags
	}
	if p.ReorderPointSet {
		next.ReorderPoint = p.ReorderPoint
	}
	if sameContent(old, next) {
		return old, nil, false
	}
	next.UpdatedAt = now
	next.UpdatedBy = actor
	next.Version = old.Version + 1
	if next.Quantity != old.Quantity {
		entry = &LedgerEntry{
			ID:            NewID(now),
			ItemID:        old.ID,
			LocationID:    DefaultLocation,
			Delta:         next.Quantity - old.Quantity,
			QuantityAfter: next.Quantity,
			Reason:        ReasonQuantitySet,
			Actor:         actor,
			At:            now,
		}
	}
	return next, entry, true
}

func sameContent(a, b Item) bool {
	samePoint := (a.ReorderPoint == nil) == (b.ReorderPoint == nil) &&
		(a.ReorderPoint == nil || *a.ReorderPoint == *b.ReorderPoint)
	return a.SKU == b.SKU && a.Name == b.Name && a.Description == b.Description &&
		a.Quantity == b.Quantity && slices.Equal(a.Tags, b.Tags) && samePoint
}

// Delete returns the item soft-deleted by actor with comment.
func Delete(old Item, actor, comment string, now time.Time) Item {
	now = now.UTC().Truncate(time.Millisecond)
	next := old
	next.Deleted = &Deletion{At: now, By: actor, Comment: comment}
	next.UpdatedAt = now
	next.UpdatedBy = actor
	next.Version = old.Version + 1
	return next
}

// Restore returns the deleted item live again.
func Restore(old Item, actor string, now time.Time) Item {
	now = now.UTC().Truncate(time.Millisecond)
	next := old
	next.Deleted = nil
	next.UpdatedAt = now
	next.UpdatedBy = actor
	next.Version = old.Version + 1
	return next
}

// IsLowStock reports whether the item's quantity is below its reorder point.
func (it Item) IsLowStock() bool {
	return it.ReorderPoint != nil && it.Quantity < *it.ReorderPoint
}
