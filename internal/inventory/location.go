package inventory

import (
	"regexp"
	"time"
)

// The default location's fixed code and its name on a fresh deployment.
const (
	DefaultLocationCode = "DEFAULT"
	DefaultLocationName = "Default location"
)

// LocationCodePattern is the grammar of location codes, as openapi.yaml
// states it.
const LocationCodePattern = `^[A-Z0-9][A-Z0-9-]{1,15}$`

// Limits on location fields.
const MaxAddressLen = 500

var locationCodeRE = regexp.MustCompile(LocationCodePattern)

// Location is a warehouse, or a place within one, where stock is kept.
type Location struct {
	ID        string
	Code      string // unique among live locations
	Name      string
	Address   string // "" when not set
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
	Version   int64
	Deleted   *Deletion
	// StockedLevels counts the levels here that are not empty. Storage
	// keeps it, in the transaction of every change of such a level (the
	// default location, which is never deleted, is not counted); a
	// location is deleted only while it is 0.
	StockedLevels int64
}

// LocationChange is one change of a location: Old as read (nil to create)
// and Next as it is to be written, with the idempotency record.
type LocationChange struct {
	Old         *Location
	Next        Location
	Idempotency *IdempotencyRecord
}

// IsValidLocationID reports whether s can be a location's id: a ULID, or
// the default location's.
func IsValidLocationID(s string) bool { return s == DefaultLocation || IsValidID(s) }

// LocationInput is a new location.
type LocationInput struct {
	Code    string
	Name    string
	Address *string // nil: none
}

// LocationPatch is a merge patch of a location: nil leaves a field as it
// is; AddressSet with a nil Address removes the address.
type LocationPatch struct {
	Code       *string
	Name       *string
	Address    *string
	AddressSet bool
}

// Validate checks a new location.
func (in *LocationInput) Validate() error {
	var v validator
	v.locationCode("/code", in.Code)
	v.name("/name", in.Name)
	if in.Address != nil {
		v.address("/address", *in.Address)
	}
	return v.err()
}

// Validate checks a location patch.
func (p *LocationPatch) Validate() error {
	var v validator
	if p.Code != nil {
		v.locationCode("/code", *p.Code)
	}
	if p.Name != nil {
		v.name("/name", *p.Name)
	}
	if p.Address != nil {
		v.address("/address", *p.Address)
	}
	return v.err()
}

func (v *validator) locationCode(field, s string) {
	switch {
	case s == "":
		v.add(field, "required", "code is required")
	case !locationCodeRE.MatchString(s):
		v.add(field, "pattern", "code must be 2 to 16 characters of A-Z, 0-9 and '-', not starting with '-'")
	}
}

func (v *validator) address(field, s string) {
	if blank(s) {
		v.add(field, "required", "address must not be blank; send null to remove it")
		return
	}
	v.text(field, s, 1, MaxAddressLen)
}

// NewLocation builds a new location from validated input.
func NewLocation(in LocationInput, actor string, now time.Time) Location {
	now = instant(now)
	l := Location{ID: NewID(now), Code: in.Code, Name: in.Name,
		CreatedAt: now, CreatedBy: actor, UpdatedAt: now, UpdatedBy: actor, Version: 1}
	if in.Address != nil {
		l.Address = *in.Address
	}
	return l
}

// DefaultLocationRecord is the default location as a fresh deployment
// creates it.
func DefaultLocationRecord(now time.Time) Location {
	now = instant(now)
	const by = "depot:deploy"
	return Location{ID: DefaultLocation, Code: DefaultLocationCode, Name: DefaultLocationName,
		CreatedAt: now, CreatedBy: by, UpdatedAt: now, UpdatedBy: by, Version: 1}
}

func touchLocation(next *Location, old Location, actor string, now time.Time) {
	next.UpdatedAt, next.UpdatedBy, next.Version = now, actor, old.Version+1
}

// ApplyLocationPatch returns the location a validated patch makes; ok is
// false when it changes nothing. The default location's code is fixed.
func ApplyLocationPatch(old Location, p LocationPatch, actor string, now time.Time) (next Location, ok bool, err error) {
	next = old
	if p.Code != nil {
		next.Code = *p.Code
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.AddressSet {
		next.Address = ""
		if p.Address != nil {
			next.Address = *p.Address
		}
	}
	if old.ID == DefaultLocation && next.Code != old.Code {
		return old, false, Errorf(KindConflict, CodeLocationProtected,
			"the default location's code is always %s; it can be renamed (name, address), not recoded", DefaultLocationCode)
	}
	if next.Code == old.Code && next.Name == old.Name && next.Address == old.Address {
		return old, false, nil
	}
	touchLocation(&next, old, actor, instant(now))
	return next, true, nil
}

// DeleteLocation returns old soft-deleted by actor with comment. The
// default location is never deleted, nor one that holds stock.
func DeleteLocation(old Location, actor, comment string, now time.Time) (Location, error) {
	if old.ID == DefaultLocation {
		return old, Errorf(KindConflict, CodeLocationProtected, "the default location cannot be deleted")
	}
	if old.StockedLevels != 0 {
		return old, Errorf(KindConflict, CodeLocationNotEmpty,
			"location %s still holds stock of %d items (on hand, committed or incoming); move or adjust it to 0 first (GET /locations/%s/stock)",
			old.Code, old.StockedLevels, old.ID)
	}
	now = instant(now)
	next := old
	next.Deleted = &Deletion{At: now, By: actor, Comment: comment}
	touchLocation(&next, old, actor, now)
	return next, nil
}

// RestoreLocation returns the deleted location old live again.
func RestoreLocation(old Location, actor string, now time.Time) Location {
	next := old
	next.Deleted = nil
	touchLocation(&next, old, actor, instant(now))
	return next
}
