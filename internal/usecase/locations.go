package usecase

import (
	"context"

	"github.com/depot-inventory/depot/internal/inventory"
)

// CreateLocation creates a location; its code must be free among live
// locations.
func (s *Service) CreateLocation(ctx context.Context, req Request, in inventory.LocationInput) (inventory.Location, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.Location{}, false, err
	}
	return once(ctx, s, "CreateLocation", req, in, func(p *pending) (inventory.Location, error) {
		loc := inventory.NewLocation(in, req.Actor, s.now())
		rec, err := p.record(loc)
		if err != nil {
			return inventory.Location{}, err
		}
		return loc, s.Store.SaveLocation(ctx, inventory.LocationChange{Next: loc, Idempotency: rec})
	})
}

// SeedDefaultLocation makes sure the default location exists, as a fresh
// deployment must have it; it changes nothing if it does.
func (s *Service) SeedDefaultLocation(ctx context.Context) error {
	err := s.Store.SaveLocation(ctx, inventory.LocationChange{Next: inventory.DefaultLocationRecord(s.now())})
	if err == nil {
		return nil
	}
	if _, getErr := s.Store.GetLocation(ctx, inventory.DefaultLocation); getErr == nil {
		return nil // it was there already
	}
	return err
}

// GetLocation returns a live location.
func (s *Service) GetLocation(ctx context.Context, id string) (inventory.Location, error) {
	return s.readLocation(ctx, id, live)
}

// UpdateLocation applies a merge patch to a live location.
func (s *Service) UpdateLocation(ctx context.Context, req Request, id string, p inventory.LocationPatch) (inventory.Location, error) {
	if err := p.Validate(); err != nil {
		return inventory.Location{}, err
	}
	return s.changeLocation(ctx, id, live, req, nil, func(old inventory.Location) (*inventory.Location, error) {
		next, ok, err := inventory.ApplyLocationPatch(old, p, req.Actor, s.now())
		if !ok || err != nil {
			return nil, err
		}
		return &next, nil
	})
}

// DeleteLocation soft-deletes a live location that holds no stock.
func (s *Service) DeleteLocation(ctx context.Context, req Request, id, comment string) (inventory.Location, bool, error) {
	if err := inventory.ValidateComment(comment); err != nil {
		return inventory.Location{}, false, err
	}
	input := struct{ ID, Comment string }{id, comment}
	return once(ctx, s, "DeleteLocation", req, input, func(p *pending) (inventory.Location, error) {
		return s.changeLocation(ctx, id, live, req, p, func(old inventory.Location) (*inventory.Location, error) {
			next, err := inventory.DeleteLocation(old, req.Actor, comment, s.now())
			return &next, err
		})
	})
}

// RestoreLocation makes a deleted location live again; its code must be
// free.
func (s *Service) RestoreLocation(ctx context.Context, req Request, id string) (inventory.Location, bool, error) {
	input := struct{ ID string }{id}
	return once(ctx, s, "RestoreLocation", req, input, func(p *pending) (inventory.Location, error) {
		return s.changeLocation(ctx, id, deleted, req, p, func(old inventory.Location) (*inventory.Location, error) {
			next := inventory.RestoreLocation(old, req.Actor, s.now())
			return &next, nil
		})
	})
}

// ListLocations lists live locations in code order.
func (s *Service) ListLocations(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Location], error) {
	return listPage(ctx, inventory.LocationsCursor, pr, s.Store.ListLocations)
}

// ListDeletedLocations lists deleted locations, newest deletion first.
func (s *Service) ListDeletedLocations(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Location], error) {
	return listPage(ctx, inventory.DeletedLocationsCursor, pr, s.Store.ListDeletedLocations)
}

// changeLocation changes a location in the read-modify-write loop: it
// reads the location, which must be in state, lets edit compute the next
// location (nil: nothing to write), and commits it with idem's record. A
// change of the location's stock (its stocked-level count) also makes the
// write stale.
func (s *Service) changeLocation(ctx context.Context, id string, state itemState, req Request, idem *pending,
	edit func(old inventory.Location) (*inventory.Location, error)) (inventory.Location, error) {
	return readModifyWrite(ctx, s, "location", req, func() (inventory.Location, int64, error) {
		loc, err := s.readLocation(ctx, id, state)
		return loc, loc.Version, err
	}, func(old inventory.Location) (inventory.Location, error) {
		next, err := edit(old)
		if err != nil || next == nil {
			return old, err
		}
		c := inventory.LocationChange{Old: &old, Next: *next}
		if c.Idempotency, err = idem.record(c.Next); err != nil {
			return inventory.Location{}, err
		}
		return c.Next, s.Store.SaveLocation(ctx, c)
	})
}

// readLocation reads a location that must be in state.
func (s *Service) readLocation(ctx context.Context, id string, state itemState) (inventory.Location, error) {
	if !inventory.IsValidLocationID(id) {
		return inventory.Location{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeLocationNotFound,
			"no location with id %q (location ids are %q or 26-character ULIDs)", id, inventory.DefaultLocation)
	}
	loc, err := s.Store.GetLocation(ctx, id)
	if err != nil {
		return loc, err
	}
	switch {
	case state == live && loc.Deleted != nil:
		return loc, inventory.Errorf(inventory.KindNotFound, inventory.CodeLocationDeleted,
			"location %s (%s) was deleted at %s by %s; restore it with POST /locations/%s/restore",
			loc.ID, loc.Code, loc.Deleted.At.Format(inventory.TimeLayout), loc.Deleted.By, loc.ID)
	case state == deleted && loc.Deleted == nil:
		return loc, inventory.Errorf(inventory.KindNotFound, inventory.CodeLocationNotDeleted, "location %s is not deleted", loc.ID)
	}
	return loc, nil
}
