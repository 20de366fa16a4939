// Package inventory holds Depot's domain: its types, their rules, and the
// errors, pages and cursors the use cases and storage share. It knows
// nothing of AWS, HTTP or storage.
package inventory

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// TimeLayout is how Depot writes times, in storage and in the API: UTC
// RFC 3339 with milliseconds, so that text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Item is one stock-keeping unit.
type Item struct {
	ID           string
	SKU          string
	Name         string
	Description  string
	Quantity     int64 // on hand, over all locations
	Committed    int64 // committed, over all locations
	Tags         []string
	Groups       []string // ids of the groups it is a member of, sorted
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

// ItemChange is one change of an item and everything that must commit with
// it, atomically: its stock levels, ledger lines and activity entries. Old
// is the item as read (nil to create); storage refuses the change with
// ErrStale if the stored item is no longer Old, or a level no longer its
// Old.
type ItemChange struct {
	Old      *Item
	Next     Item
	Levels   []LevelChange
	Ledger   []LedgerEntry
	Activity []Activity
	// LiveGroup, when set, is the group whose membership the change
	// changes: it must still be live when the change commits.
	LiveGroup string
	// Idempotency, when set, is recorded with the change, so that the
	// change and the record of its result exist together or not at all.
	Idempotency *IdempotencyRecord
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

// instant is a time as Depot stores it: UTC, to the millisecond.
func instant(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// IfMatch is a caller's precondition on the version of what it changes
// (HTTP If-Match): any version ("*"), or one of the listed ones.
type IfMatch struct {
	Any      bool
	Versions []int64
}

// Matches reports whether the precondition holds for version. A nil
// precondition always holds.
func (m *IfMatch) Matches(version int64) bool {
	return m == nil || m.Any || slices.Contains(m.Versions, version)
}

// NewItem builds a new item from validated input, with its opening stock
// level at in.LocationID ("": the default location), that level's ledger
// line and the created activity.
func NewItem(in CreateInput, actor string, now time.Time) ItemChange {
	now = instant(now)
	item := Item{
		ID:           NewID(now),
		SKU:          in.SKU,
		Name:         in.Name,
		Description:  in.Description,
		Quantity:     in.Quantity,
		Tags:         slices.Clone(in.Tags),
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
	c := ItemChange{Next: item}
	c.Activity = append(c.Activity, newActivity(item.ID, ActivityCreated, actor, now))
	location := in.LocationID
	if location == "" {
		location = DefaultLocation
	}
	m := newMoves(actor, now, []Level{{ItemID: item.ID, LocationID: location, SKU: item.SKU}})
	m.move(0, in.Quantity, ReasonItemCreated, "", "")
	c.Levels, c.Ledger = m.result()
	return c
}

// touch gives next a new version, stamped by actor at now.
func touch(next *Item, old Item, actor string, now time.Time) {
	next.UpdatedAt = now
	next.UpdatedBy = actor
	next.Version = old.Version + 1
}

// ApplyPatch returns the change a validated merge patch makes. ok is false
// when the patch changes nothing: the item then keeps its version.
//
// A new quantity is a correction of the one level that holds the item's
// stock (levels are the item's levels, read with it; with none holding
// stock, the default location's): when stock is at more than one location
// it is use_adjustments, and below what is committed there
// insufficient_stock. A new SKU rewrites every level (levels are the
// item's levels), which a location lists in SKU order.
func ApplyPatch(old Item, p Patch, levels []Level, actor string, now time.Time) (c ItemChange, ok bool, err error) {
	now = instant(now)
	next := old
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
		next.Tags = slices.Clone(*p.Tags)
	}
	if p.ReorderPointSet {
		next.ReorderPoint = p.ReorderPoint
	}
	changes := fieldChanges(old, next)
	if len(changes) == 0 && next.Quantity == old.Quantity {
		return ItemChange{}, false, nil
	}
	touch(&next, old, actor, now)
	c = ItemChange{Old: &old, Next: next}
	if len(changes) > 0 {
		a := newActivity(old.ID, ActivityUpdated, actor, now)
		a.Changes = changes
		c.Activity = append(c.Activity, a)
	}
	if next.Quantity != old.Quantity {
		level, err := correctionLevel(old.ID, levels)
		if err != nil {
			return ItemChange{}, false, err
		}
		delta := next.Quantity - old.Quantity
		if level.OnHand+delta < level.Committed {
			return ItemChange{}, false, Short("the quantity would be below what is committed at "+level.LocationID,
				FieldError{Field: "/quantity", Code: "insufficient_stock", Available: ptr(level.Available()),
					Message: fmt.Sprintf("%d are committed at %s; the quantity can go down by at most %d", level.Committed, level.LocationID, level.Available())})
		}
		level.SKU = next.SKU
		m := newMoves(actor, now, []Level{level})
		m.move(0, delta, ReasonQuantitySet, "", "")
		c.Levels, c.Ledger = m.result()
		c.Next.UpdatedAt = m.at
	}
	if next.SKU != old.SKU {
		for _, l := range levels {
			if slices.ContainsFunc(c.Levels, func(x LevelChange) bool { return x.Next.LocationID == l.LocationID }) {
				continue
			}
			resorted := l
			resorted.SKU = next.SKU
			c.Levels = append(c.Levels, LevelChange{Old: &l, Next: resorted})
		}
	}
	return c, true, nil
}

// correctionLevel is the level a new quantity corrects: the one holding
// stock, else the default location's.
func correctionLevel(itemID string, levels []Level) (Level, error) {
	var holding []Level
	for _, l := range levels {
		if !l.Empty() {
			holding = append(holding, l)
		}
	}
	switch {
	case len(holding) == 1:
		return holding[0], nil
	case len(holding) > 1:
		return Level{}, Errorf(KindConflict, CodeUseAdjustments,
			"the item has stock at %d locations, so a new total quantity says nothing about where; use POST /adjustments, POST /counts or POST /transfers", len(holding))
	}
	for _, l := range levels {
		if l.LocationID == DefaultLocation {
			return l, nil
		}
	}
	return Level{ItemID: itemID, LocationID: DefaultLocation}, nil
}

// fieldChanges lists the fields (other than quantity, whose changes are
// stock changes) that differ between a and b, in a fixed order.
func fieldChanges(a, b Item) []FieldChange {
	var out []FieldChange
	add := func(field string, from, to any) {
		f, t := jsonValue(from), jsonValue(to)
		if string(f) != string(t) {
			out = append(out, FieldChange{Field: field, From: f, To: t})
		}
	}
	add("sku", a.SKU, b.SKU)
	add("name", a.Name, b.Name)
	add("description", a.Description, b.Description)
	add("tags", nonNil(a.Tags), nonNil(b.Tags))
	add("reorderPoint", a.ReorderPoint, b.ReorderPoint)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// jsonValue is v as JSON; the values here (strings, lists of strings,
// optional integers) always encode.
func jsonValue(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("inventory: encode field value: " + err.Error())
	}
	return b
}

// Delete returns the change that soft-deletes old, by actor with comment.
func Delete(old Item, actor, comment string, now time.Time) ItemChange {
	now = instant(now)
	next := old
	next.Deleted = &Deletion{At: now, By: actor, Comment: comment}
	touch(&next, old, actor, now)
	a := newActivity(old.ID, ActivityDeleted, actor, now)
	a.Comment = comment
	return ItemChange{Old: &old, Next: next, Activity: []Activity{a}}
}

// Restore returns the change that makes the deleted item old live again.
func Restore(old Item, actor string, now time.Time) ItemChange {
	now = instant(now)
	next := old
	next.Deleted = nil
	touch(&next, old, actor, now)
	return ItemChange{Old: &old, Next: next, Activity: []Activity{newActivity(old.ID, ActivityRestored, actor, now)}}
}

// Available is what can be promised: on hand less committed, over all
// locations.
func (it Item) Available() int64 { return it.Quantity - it.Committed }

// IsLowStock reports whether the item is live and its available stock is
// below its reorder point.
func (it Item) IsLowStock() bool {
	return it.Deleted == nil && it.ReorderPoint != nil && it.Available() < *it.ReorderPoint
}
