package dynamo

import (
	"context"

	"github.com/depot-inventory/depot/internal/inventory"
)

// GetLocation reads a location, live or deleted, strongly consistently.
func (s *Store) GetLocation(ctx context.Context, id string) (inventory.Location, error) {
	return getRecord(ctx, s, locationKey(id), "location "+id, decodeLocation, func() error {
		return inventory.Errorf(inventory.KindNotFound, inventory.CodeLocationNotFound, "no location with id %s", id)
	})
}

// SaveLocation writes a location with its code marker, in one transaction
// with the idempotency record.
//
// The location's record is written on the condition that it is still the
// one read: its version, and its count of stocked levels, which stock
// changes keep with ADD and without a new version (so a delete, which needs
// it to be 0, can never commit over a level that just became stocked).
func (s *Store) SaveLocation(ctx context.Context, c inventory.LocationChange) error {
	tx := &txn{table: s.table}
	putIdempotency(tx, c.Idempotency)
	if c.Old == nil {
		tx.put("locationRecord", encodeLocation(c.Next), "attribute_not_exists(PK)", nil)
	} else {
		tx.put("locationRecord", encodeLocation(c.Next), "version = :v AND stockedLevels = :n",
			attrMap{":v": num(c.Old.Version), ":n": num(c.Old.StockedLevels)})
	}
	uniqueMarker(tx, "code", "locationCode", "locationId", c.Next.ID, c.Old != nil && c.Old.Deleted == nil, c.Next.Deleted == nil,
		func() key { return locCodeKey(c.Old.Code) }, locCodeKey(c.Next.Code), c.Old != nil && c.Old.Code != c.Next.Code)
	return s.commit(ctx, tx, "save location "+c.Next.ID, func(failed map[string]bool) error {
		if failed["code"] {
			return inventory.Errorf(inventory.KindConflict, inventory.CodeLocationCodeConflict,
				"a live location already has code %q", c.Next.Code)
		}
		return nil
	})
}

// ListLocations lists live locations in code order.
func (s *Store) ListLocations(ctx context.Context, r inventory.Range) ([]inventory.Location, inventory.Position, error) {
	return queryList(ctx, s, liveLocationsList, r, decodeLocation)
}

// ListDeletedLocations lists deleted locations, newest deletion first.
func (s *Store) ListDeletedLocations(ctx context.Context, r inventory.Range) ([]inventory.Location, inventory.Position, error) {
	return queryList(ctx, s, deletedLocationsList, r, decodeLocation)
}
