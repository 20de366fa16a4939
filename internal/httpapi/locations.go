package httpapi

import (
	"context"
	"net/http"

	"github.com/depot-inventory/depot/internal/inventory"
)

// locationReply is a location with its ETag, marked when it replays a
// first response.
func locationReply(status int, l inventory.Location, replayed bool) reply {
	rep := jsonReply(status, locationView(l))
	rep.header.Set("ETag", etag(l.Version))
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep
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
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readOptionalJSON(r, []string{"comment"})
	if err != nil {
		return reply{}, err
	}
	comment := deref(obj.str("comment", true))
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	l, replayed, err := a.Service.DeleteLocation(r.Context(), req, r.PathValue("id"), comment)
	if err != nil {
		return reply{}, err
	}
	return locationReply(http.StatusOK, l, replayed), nil
}

func (a *api) restoreLocation(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	if _, err := readOptionalJSON(r, nil); err != nil {
		return reply{}, err
	}
	l, replayed, err := a.Service.RestoreLocation(r.Context(), req, r.PathValue("id"))
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
	pr, err := pageRequest(r)
	if err != nil {
		return reply{}, err
	}
	page, err := list(r.Context(), pr)
	if err != nil {
		return reply{}, err
	}
	out := locationPageJSON{Locations: make([]locationJSON, 0, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for _, l := range page.Items {
		out.Locations = append(out.Locations, locationView(l))
	}
	return jsonReply(http.StatusOK, out), nil
}
