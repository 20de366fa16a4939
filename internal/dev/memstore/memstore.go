// Package memstore implements the use cases' ports in memory, for their
// unit tests: a Store that keeps the same invariants the DynamoDB store
// enforces with conditions (versions, SKU markers, stock before-values,
// idempotency records, all-or-nothing changes), an object store, a signer
// and a thumbnailer. It is dev-only: no Lambda links it.
package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Store is an in-memory usecase.Store.
type Store struct {
	mu       sync.Mutex
	items    map[string]inventory.Item
	skus     map[string]string // live SKU -> item id
	stock    map[[2]string]int64
	ledger   map[string][]inventory.LedgerEntry
	activity map[string][]inventory.Activity
	idem     map[string]inventory.IdempotencyRecord
	// BeforeSave, when set, runs before each SaveItem is applied; an error
	// it returns is SaveItem's (to simulate a concurrent writer, a
	// throttled call or a dropped connection).
	BeforeSave func(c inventory.ItemChange) error
	saves      int
}

// New returns an empty store.
func New() *Store {
	return &Store{items: map[string]inventory.Item{}, skus: map[string]string{}, stock: map[[2]string]int64{},
		ledger: map[string][]inventory.LedgerEntry{}, activity: map[string][]inventory.Activity{},
		idem: map[string]inventory.IdempotencyRecord{}}
}

// Saves is the number of changes committed.
func (s *Store) Saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// GetItem returns a copy of the stored item.
func (s *Store) GetItem(_ context.Context, id string) (inventory.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	if !ok {
		return inventory.Item{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeItemNotFound, "no item with id %s", id)
	}
	return clone(it), nil
}

// Stock returns the stock of an item at a location, and whether a row exists.
func (s *Store) Stock(itemID, location string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.stock[[2]string{itemID, location}]
	return q, ok
}

// SaveItem applies a change atomically, with the conditions of the
// DynamoDB store.
func (s *Store) SaveItem(_ context.Context, c inventory.ItemChange) error {
	if s.BeforeSave != nil {
		if err := s.BeforeSave(c); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := c.Idempotency; r != nil {
		if prev, ok := s.idem[r.Scope]; ok && prev.ExpiresAt.Unix() >= r.CreatedAt.Unix() {
			return inventory.ErrIdempotencyRace
		}
	}
	id := c.Next.ID
	cur, exists := s.items[id]
	switch {
	case c.Old == nil && exists, c.Old != nil && (!exists || cur.Version != c.Old.Version):
		return fmt.Errorf("save item %s: %w", id, inventory.ErrStale)
	}
	oldLive := c.Old != nil && c.Old.Deleted == nil
	nextLive := c.Next.Deleted == nil
	release := oldLive && (!nextLive || c.Old.SKU != c.Next.SKU)
	acquire := nextLive && (!oldLive || c.Old.SKU != c.Next.SKU)
	if release && s.skus[c.Old.SKU] != id {
		return fmt.Errorf("save item %s: marker of %s: %w", id, c.Old.SKU, inventory.ErrStale)
	}
	if acquire {
		if _, taken := s.skus[c.Next.SKU]; taken {
			return inventory.Errorf(inventory.KindConflict, inventory.CodeSKUConflict, "a live item already has sku %q", c.Next.SKU)
		}
	}
	for _, e := range c.Ledger {
		q, ok := s.stock[[2]string{id, e.LocationID}]
		if (c.Old == nil && ok) || (c.Old != nil && q != e.QuantityAfter-e.Delta) {
			return fmt.Errorf("save item %s: stock at %s: %w", id, e.LocationID, inventory.ErrStale)
		}
	}
	// Every condition holds: apply it all.
	if release {
		delete(s.skus, c.Old.SKU)
	}
	if acquire {
		s.skus[c.Next.SKU] = id
	}
	s.items[id] = clone(c.Next)
	for _, e := range c.Ledger {
		s.stock[[2]string{id, e.LocationID}] = e.QuantityAfter
		s.ledger[id] = append(s.ledger[id], e)
	}
	s.activity[id] = append(s.activity[id], c.Activity...)
	if r := c.Idempotency; r != nil {
		s.idem[r.Scope] = *r
	}
	s.saves++
	return nil
}

// ListItems lists live items in SKU order.
func (s *Store) ListItems(_ context.Context, r inventory.Range) ([]inventory.Item, inventory.Position, error) {
	return s.listItems(r, func(it inventory.Item) bool { return it.Deleted == nil },
		func(it inventory.Item) inventory.Position { return inventory.Position{it.SKU, it.ID} }, 1)
}

// ListDeletedItems lists deleted items, newest deletion first.
func (s *Store) ListDeletedItems(_ context.Context, r inventory.Range) ([]inventory.Item, inventory.Position, error) {
	return s.listItems(r, func(it inventory.Item) bool { return it.Deleted != nil },
		func(it inventory.Item) inventory.Position {
			return inventory.Position{it.Deleted.At.UTC().Format(inventory.TimeLayout), it.ID}
		}, -1)
}

func (s *Store) listItems(r inventory.Range, keep func(inventory.Item) bool, pos func(inventory.Item) inventory.Position, dir int) ([]inventory.Item, inventory.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []inventory.Item
	for _, it := range s.items {
		if keep(it) {
			all = append(all, clone(it))
		}
	}
	return page(all, r, pos, dir)
}

// ListLedger lists an item's ledger lines, newest first.
func (s *Store) ListLedger(_ context.Context, itemID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
	s.mu.Lock()
	entries := slices.Clone(s.ledger[itemID])
	s.mu.Unlock()
	return page(entries, r, func(e inventory.LedgerEntry) inventory.Position { return inventory.Position{e.ID} }, -1)
}

// ListActivity lists an item's activity, newest first.
func (s *Store) ListActivity(_ context.Context, itemID string, r inventory.Range) ([]inventory.Activity, inventory.Position, error) {
	s.mu.Lock()
	entries := slices.Clone(s.activity[itemID])
	s.mu.Unlock()
	return page(entries, r, func(a inventory.Activity) inventory.Position { return inventory.Position{a.ID} }, -1)
}

// page sorts by position (dir 1: ascending, -1: descending) and returns at
// most r.Limit entries after r.After; like DynamoDB, it returns the last
// position whenever the page is full.
func page[T any](all []T, r inventory.Range, pos func(T) inventory.Position, dir int) ([]T, inventory.Position, error) {
	key := func(v T) string { return strings.Join(pos(v), "\x00") }
	slices.SortFunc(all, func(a, b T) int { return dir * cmp.Compare(key(a), key(b)) })
	if r.After != nil {
		after := strings.Join(r.After, "\x00")
		i := 0
		for i < len(all) && dir*cmp.Compare(key(all[i]), after) <= 0 {
			i++
		}
		all = all[i:]
	}
	if len(all) < r.Limit {
		return all, nil, nil
	}
	all = all[:r.Limit]
	return all, pos(all[len(all)-1]), nil
}

// GetIdempotency returns the record of scope unexpired at now, or nil.
func (s *Store) GetIdempotency(_ context.Context, scope string, now time.Time) (*inventory.IdempotencyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[scope]
	if !ok || r.ExpiresAt.Unix() < now.Unix() {
		return nil, nil
	}
	return &r, nil
}

func clone(it inventory.Item) inventory.Item {
	it.Tags = slices.Clone(it.Tags)
	if it.ReorderPoint != nil {
		p := *it.ReorderPoint
		it.ReorderPoint = &p
	}
	if it.Deleted != nil {
		d := *it.Deleted
		it.Deleted = &d
	}
	if it.Image != nil {
		im := *it.Image
		im.Thumbnails = slices.Clone(im.Thumbnails)
		im.Replaces = slices.Clone(im.Replaces)
		it.Image = &im
	}
	return it
}

// Objects is an in-memory object store.
type Objects struct {
	mu      sync.Mutex
	objects map[string]Object
	// FailPut, when set, fails Put of the keys it returns true for.
	FailPut func(key string) bool
}

// Object is a stored object.
type Object struct {
	ContentType string
	Data        []byte
}

// NewObjects returns an empty object store.
func NewObjects() *Objects { return &Objects{objects: map[string]Object{}} }

// Get reads an object.
func (o *Objects) Get(_ context.Context, key string, maxBytes int64) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.objects[key]
	switch {
	case !ok:
		return nil, fmt.Errorf("get %s: %w", key, inventory.ErrObjectNotFound)
	case int64(len(obj.Data)) > maxBytes:
		return nil, fmt.Errorf("get %s: %w", key, inventory.ErrObjectTooLarge)
	}
	return bytes.Clone(obj.Data), nil
}

// Put writes an object.
func (o *Objects) Put(_ context.Context, key, contentType string, data []byte) error {
	if o.FailPut != nil && o.FailPut(key) {
		return errors.New("put " + key + ": injected failure")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[key] = Object{ContentType: contentType, Data: bytes.Clone(data)}
	return nil
}

// Delete removes objects; missing ones are no error.
func (o *Objects) Delete(_ context.Context, keys ...string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range keys {
		delete(o.objects, k)
	}
	return nil
}

// Keys returns the stored keys, sorted.
func (o *Objects) Keys() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Sorted(maps.Keys(o.objects))
}

// Object returns a stored object.
func (o *Objects) Object(key string) (Object, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.objects[key]
	return obj, ok
}

// Signer signs with a clock of its own: forms expire ttl after Now().
type Signer struct {
	Now func() time.Time
}

// PresignUpload returns a form naming what it allows.
func (s Signer) PresignUpload(_ context.Context, key, contentType string, maxBytes int64, ttl time.Duration) (inventory.UploadForm, error) {
	exp := s.Now().Add(ttl).UTC().Truncate(time.Second)
	return inventory.UploadForm{URL: "mem://bucket", ExpiresAt: exp, Fields: map[string]string{
		"key": key, "Content-Type": contentType, "max": fmt.Sprint(maxBytes), "expires": exp.Format(time.RFC3339)}}, nil
}

// PresignGet returns a URL naming the key and the content type it serves.
func (s Signer) PresignGet(_ context.Context, key, contentType string, ttl time.Duration) (string, error) {
	return "mem://bucket/" + key + "?response-content-type=" + contentType + "&ttl=" + ttl.String(), nil
}

// Thumbnailer makes fake thumbnails of any data that starts with "IMG",
// and rejects anything else.
type Thumbnailer struct{}

// Make checks the data and makes one rendition per thumbnail size.
func (Thumbnailer) Make(data []byte) (inventory.ProcessedImage, error) {
	if !bytes.HasPrefix(data, []byte("IMG")) {
		return inventory.ProcessedImage{}, &inventory.RejectedImageError{Reason: "not an image"}
	}
	out := inventory.ProcessedImage{ContentType: "image/png", Width: 1000, Height: 500}
	for _, size := range inventory.ThumbnailSizes {
		out.Thumbnails = append(out.Thumbnails, inventory.Rendition{Size: size, Width: size, Height: size / 2,
			ContentType: "image/png", Ext: "png", Data: []byte(fmt.Sprintf("thumb %d of %s", size, data))})
	}
	return out, nil
}
