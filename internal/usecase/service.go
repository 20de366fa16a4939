// Package usecase holds Depot's workflows: what each operation does, in
// order, with its rules — read-modify-write with bounded retries, the
// If-Match precondition, idempotency (record, replay, key reuse) — written
// once, over the ports storage and object storage implement. It imports
// neither net/http nor the AWS SDK; the HTTP API and the Lambda wiring call
// it, and package dynamo and package media implement its ports.
package usecase

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Store is what the use cases need of storage.
type Store interface {
	ItemStore
	LocationStore
	StockStore
	GroupStore
	// GetIdempotency returns the record of scope unexpired at now, or nil.
	GetIdempotency(ctx context.Context, scope string, now time.Time) (*inventory.IdempotencyRecord, error)
}

// ItemStore keeps items and what is written with them.
type ItemStore interface {
	// GetItem reads an item, live or deleted, strongly consistently; a
	// missing one is a KindNotFound error with code item_not_found.
	GetItem(ctx context.Context, id string) (inventory.Item, error)
	// FindItemBySKU reads the live item with a SKU (its SKU marker, then the item, strongly consistently); none is item_not_found.
	FindItemBySKU(ctx context.Context, sku string) (inventory.Item, error)
	// SaveItem commits a change atomically, or fails with
	// inventory.ErrStale (the item or a level is no longer as read, or a
	// location a new level is at was deleted meanwhile),
	// inventory.ErrIdempotencyRace (c.Idempotency's scope was recorded
	// meanwhile), or a domain error (sku_conflict).
	SaveItem(ctx context.Context, c inventory.ItemChange) error
	ListDeletedItems(ctx context.Context, r inventory.Range) ([]inventory.Item, inventory.Position, error)
	// ListLedger and ListActivity list an item's ledger lines and its
	// activity records (other than stock changes, which are its ledger
	// lines), newest first, strongly consistently. Both start after any
	// ULID position, whether or not it names one of their own records.
	ListLedger(ctx context.Context, itemID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error)
	ListActivity(ctx context.Context, itemID string, r inventory.Range) ([]inventory.Activity, inventory.Position, error)
}

// GroupStore keeps groups, and finds items by what they are filed under.
type GroupStore interface {
	// GetGroup reads a group, live or deleted, strongly consistently; a
	// missing one is group_not_found.
	GetGroup(ctx context.Context, id string) (inventory.Group, error)
	// GetGroups reads groups by id (eventually consistent); missing ones
	// are absent from the map.
	GetGroups(ctx context.Context, ids []string) (map[string]inventory.Group, error)
	// SaveGroup commits a change of a group, or fails with
	// inventory.ErrStale, inventory.ErrIdempotencyRace or
	// group_name_conflict.
	SaveGroup(ctx context.Context, c inventory.GroupChange) error
	// ListGroups lists live groups in name order (NameKey);
	// ListDeletedGroups deleted ones, newest deletion first.
	ListGroups(ctx context.Context, r inventory.Range) ([]inventory.Group, inventory.Position, error)
	ListDeletedGroups(ctx context.Context, r inventory.Range) ([]inventory.Group, inventory.Position, error)
	// SaveItems commits changes of several items (memberships of one
	// group) in one transaction, with idem's record if any; it fails like
	// SaveItem, and with ErrStale if a change's LiveGroup is not live.
	SaveItems(ctx context.Context, changes []inventory.ItemChange, idem *inventory.IdempotencyRecord) error
	// ListTags lists the tags of live items with their counts, in tag
	// order, leaving out tags no live item has.
	ListTags(ctx context.Context, r inventory.Range) ([]inventory.TagCount, inventory.Position, error)
	// ListItemSource reads up to r.Limit entries of a source after r.After
	// and returns the live items among them, in the source's order, with
	// the position of the last entry read (nil at the end). Entries whose
	// item is missing or deleted (index lag; a deleted item's levels) are
	// read but not returned.
	ListItemSource(ctx context.Context, src inventory.ItemSource, r inventory.Range) ([]inventory.Item, inventory.Position, error)
}

// LocationStore keeps locations.
type LocationStore interface {
	// GetLocation reads a location, live or deleted, strongly
	// consistently; a missing one is location_not_found.
	GetLocation(ctx context.Context, id string) (inventory.Location, error)
	// SaveLocation commits a change, or fails with inventory.ErrStale,
	// inventory.ErrIdempotencyRace or location_code_conflict.
	SaveLocation(ctx context.Context, c inventory.LocationChange) error
	ListLocations(ctx context.Context, r inventory.Range) ([]inventory.Location, inventory.Position, error)
	ListDeletedLocations(ctx context.Context, r inventory.Range) ([]inventory.Location, inventory.Position, error)
}

// StockStore keeps stock levels and their ledger.
type StockStore interface {
	// ReadStock reads the records a stock change needs, strongly
	// consistently, in one round trip where it can.
	ReadStock(ctx context.Context, keys inventory.StockKeys) (inventory.StockState, error)
	// SaveStock commits a change of stock atomically, or fails with
	// inventory.ErrStale or inventory.ErrIdempotencyRace.
	SaveStock(ctx context.Context, c inventory.StockChange) error
	// ListLevels returns every level of an item, strongly consistently.
	ListLevels(ctx context.Context, itemID string) ([]inventory.Level, error)
	// ListLocationLevels lists the levels at a location, in the SKU order
	// of their items (Level.SKU), position (sku, item id).
	ListLocationLevels(ctx context.Context, locationID string, r inventory.Range) ([]inventory.Level, inventory.Position, error)
	// GetItems reads items by id (eventually consistent); missing ones are
	// absent from the map.
	GetItems(ctx context.Context, ids []string) (map[string]inventory.Item, error)
	// ListLevelLedger lists the ledger lines of one level, newest first.
	ListLevelLedger(ctx context.Context, itemID, locationID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error)
	// ListLocationLedger lists every item's ledger lines at a location,
	// newest first.
	ListLocationLedger(ctx context.Context, locationID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error)
	// LastLedgerEntry returns the newest ledger line of a level whose id
	// is at most bound (inventory.LedgerIDBound), or nil if it has none.
	LastLedgerEntry(ctx context.Context, itemID, locationID, bound string) (*inventory.LedgerEntry, error)
}

// Signer presigns object storage requests that clients make themselves.
type Signer interface {
	// PresignUpload returns a form that uploads exactly key, with exactly
	// contentType and 1 to maxBytes bytes, until now+ttl.
	PresignUpload(ctx context.Context, key, contentType string, maxBytes int64, ttl time.Duration) (inventory.UploadForm, error)
	// PresignGet returns a URL that reads key for ttl, served as contentType.
	PresignGet(ctx context.Context, key, contentType string, ttl time.Duration) (string, error)
	// PresignDownload returns a URL that reads key for ttl, served as
	// contentType and as an attachment named filename.
	PresignDownload(ctx context.Context, key, contentType, filename string, ttl time.Duration) (string, error)
}

// Objects reads, writes and deletes objects.
type Objects interface {
	// Get reads an object; inventory.ErrObjectNotFound if it is missing,
	// inventory.ErrObjectTooLarge if it is over maxBytes.
	Get(ctx context.Context, key string, maxBytes int64) ([]byte, error)
	Put(ctx context.Context, key, contentType string, data []byte) error
	// Delete removes objects; missing ones are no error.
	Delete(ctx context.Context, keys ...string) error
}

// Queue hands jobs to their worker, at least once: a job may arrive twice,
// and its worker makes that harmless.
type Queue interface {
	Send(ctx context.Context, jobID string) error
}

// Thumbnailer checks an image and makes its thumbnails; a file it refuses
// is an *inventory.RejectedImageError.
type Thumbnailer interface {
	Make(data []byte) (inventory.ProcessedImage, error)
}

// Limits and lifetimes.
const (
	// MaxSaveAttempts bounds the read-modify-write attempts of a change
	// made without If-Match while concurrent changes win the race.
	MaxSaveAttempts = 5
	// UploadFormTTL is how long an upload form works.
	UploadFormTTL = 15 * time.Minute
	// DownloadURLTTL is how long a presigned image URL works.
	DownloadURLTTL = 15 * time.Minute
	// DefaultMaxUploadBytes is the largest upload unless configured: 10 MiB.
	DefaultMaxUploadBytes int64 = 10 << 20
)

// Service runs the use cases. A function sets the dependencies it uses;
// the rest stay nil.
type Service struct {
	Store       Store
	Signer      Signer      // upload forms and image links
	Objects     Objects     // image processing
	Thumbnailer Thumbnailer // image processing
	Jobs        ExportStore // exports
	Multipart   Multipart   // export files
	ExportQueue Queue       // export jobs to ExportItems
	Imports     ImportStore // imports
	Files       Files       // import files
	ImportQueue Queue       // import jobs handed over between ImportItems' runs
	Shipments   ShipmentStore
	// ImportChunkRows and ImportRowLimit override ImportChunkRows and
	// inventory.MaxImportRows (0: those), for tests.
	ImportChunkRows, ImportRowLimit int
	ExportPartSize                  int // 0: DefaultExportPartSize
	Now                             func() time.Time
	MaxUploadBytes                  int64 // 0: DefaultMaxUploadBytes
	Logger                          *slog.Logger
	// Pause waits d between the attempts of a change that lost a race
	// (nil: a timer; unit tests pass one that returns at once).
	Pause func(ctx context.Context, d time.Duration) error
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Clock is the use cases' time now.
func (s *Service) Clock() time.Time { return s.now() }

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Service) maxUploadBytes() int64 {
	if s.MaxUploadBytes <= 0 {
		return DefaultMaxUploadBytes
	}
	return s.MaxUploadBytes
}

// Request is who asks for a change, and how.
type Request struct {
	Actor          string
	IdempotencyKey string             // "" without one; else 1 to 200 visible ASCII characters
	IfMatch        *inventory.IfMatch // nil without a precondition
}

// The states an item must be in for a change.
type itemState int

const (
	live itemState = iota
	deleted
	anyState
)

// readModifyWrite is the one read-modify-write loop of Depot: it reads
// what a change is made to (with its version), checks the caller's
// precondition, and writes; write computes the change from what was read
// and commits it, failing with inventory.ErrStale when a concurrent change
// won the race. Then a request with If-Match fails with precondition_failed
// (the caller decides what to do with the news); one without is retried on
// a fresh read, MaxSaveAttempts times in all, then is version_conflict.
// what names the record in messages ("item", "location").
func readModifyWrite[T any](ctx context.Context, s *Service, what string, req Request,
	read func() (T, int64, error), write func(old T) (T, error)) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
		old, version, err := read()
		if err != nil {
			return zero, err
		}
		if !req.IfMatch.Matches(version) {
			return zero, inventory.Errorf(inventory.KindPrecondition, inventory.CodePreconditionFailed,
				"If-Match does not match the %s's current ETag \"%d\"", what, version)
		}
		next, err := write(old)
		if !errors.Is(err, inventory.ErrStale) {
			return next, err
		}
		if req.IfMatch != nil {
			return zero, inventory.Errorf(inventory.KindPrecondition, inventory.CodePreconditionFailed,
				"the %s changed after it was read; read it again and retry with its new ETag", what)
		}
		if attempt == MaxSaveAttempts {
			return zero, inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict,
				"the %s kept changing concurrently; retry", what)
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return zero, err
		}
	}
}

// changeItem changes an item in the read-modify-write loop: it reads the
// item, which must be in state, lets edit compute the change (nil: nothing
// to write), and commits it with idem's record (if any) holding the
// resulting item (an edit may instead record a result of its own in
// c.Idempotency). When a commit loses a race, each onStale check runs
// before the retry: one that fails ends the change with its error.
func (s *Service) changeItem(ctx context.Context, id string, state itemState, req Request, idem *pending,
	edit func(old inventory.Item) (*inventory.ItemChange, error), onStale ...func() error) (inventory.Item, error) {
	return readModifyWrite(ctx, s, "item", req, func() (inventory.Item, int64, error) {
		it, err := s.readItem(ctx, id, state)
		return it, it.Version, err
	}, func(old inventory.Item) (inventory.Item, error) {
		c, err := edit(old)
		if err != nil || c == nil {
			return old, err
		}
		if idem != nil {
			if c.Idempotency, err = idem.record(c.Next); err != nil {
				return inventory.Item{}, err
			}
		}
		err = s.Store.SaveItem(ctx, *c)
		if errors.Is(err, inventory.ErrStale) {
			for _, check := range onStale {
				if err := check(); err != nil {
					return inventory.Item{}, err
				}
			}
		}
		return c.Next, err
	})
}

// readItem reads an item that must be in state.
func (s *Service) readItem(ctx context.Context, id string, state itemState) (inventory.Item, error) {
	if !inventory.IsValidID(id) {
		return inventory.Item{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeItemNotFound,
			"no item with id %q (item ids are 26-character ULIDs)", id)
	}
	it, err := s.Store.GetItem(ctx, id)
	if err != nil {
		return it, err
	}
	switch {
	case state == live && it.Deleted != nil:
		return it, inventory.Errorf(inventory.KindNotFound, inventory.CodeItemDeleted,
			"item %s was deleted at %s by %s; restore it with POST /items/%s/restore",
			it.ID, it.Deleted.At.Format(inventory.TimeLayout), it.Deleted.By, it.ID)
	case state == deleted && it.Deleted == nil:
		return it, inventory.Errorf(inventory.KindNotFound, inventory.CodeItemNotDeleted, "item %s is not deleted", it.ID)
	}
	return it, nil
}
