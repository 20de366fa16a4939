package httpapi

import (
	"context"
	"net/http"

	"github.com/depot-inventory/depot/internal/inventory"
)

// locationReply is a location with its ETag, marked when it replays a
// first response.
func locationReply(status int, l inventory.Location, replayed bool) reply {
	return versioned(status, locationView(l), l.Version, replayed)
}

var locationFields = []string{"code", "name", "address"}

func (a *api) createLocation(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, locationFields)
	if err != nil {
		return reply{}, err
	}
	in := inventory.LocationInput{
		Code:    deref(obj.str("code", false)),
		Name:    deref(obj.str("name", false)),
		Address: obj.str("address", true),
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	l, replayed, err := a.Service.CreateLocation(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	rep := locationReply(http.StatusCreated, l, replayed)
	rep.header.Set("Location", "/locations/"+l.ID)
	return rep, nil
}

func (a *api) getLocation(r *http.Request) (reply, error) {
	l, err := a.Service.GetLocation(r.Context(), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return locationReply(http.StatusOK, l, false), nil
}

func (a *api) updateLocation(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, locationFields, "application/merge-patch+json")
	if err != nil {
		return reply{}, err
	}
	p := inventory.LocationPatch{
		Code:       obj.str("code", false),
		Name:       obj.str("name", false),
		Address:    obj.str("address", true),
		AddressSet: obj.has("address"),
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	l, err := a.Service.UpdateLocation(r.Context(), req, r.PathValue("id"), p)
	if err != nil {
		return reply{}, err
	}
	return locationReply(http.StatusOK, l, false), nil
}

func (a *api) deleteLocation(r *http.Request) (reply, error) {
	l, replayed, err := softDelete(r, a.Service.DeleteLocation)
	if err != nil {
		return reply{}, err
	}
	return locationReply(http.StatusOK, l, replayed), nil
}

func (a *api) restoreLocation(r *http.Request) (reply, error) {
	l, replayed, err := restore(r, a.Service.RestoreLocation)
	if err != nil {
		return reply{}, err
	}
	return locationReply(http.StatusOK, l, replayed), nil
}

func (a *api) listLocations(r *http.Request) (reply, error) {
	return a.locationPage(r, a.Service.ListLocations)
}

func (a *api) listDeletedLocations(r *http.Request) (reply, error) {
	return a.locationPage(r, a.Service.ListDeletedLocations)
}

func (a *api) locationPage(r *http.Request, list func(context.Context, inventory.PageRequest) (inventory.Page[inventory.Location], error)) (reply, error) {
	locations, next, err := pageOf(r, list, locationView)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, locationPageJSON{Locations: locations, NextCursor: next}), nil
}
