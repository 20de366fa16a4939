package httpapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

func (a *api) health(*http.Request) (reply, error) {
	return jsonReply(http.StatusOK, map[string]string{"status": "ok"}), nil
}

func (a *api) openAPI(*http.Request) (reply, error) {
	return reply{status: http.StatusOK, raw: a.OpenAPI,
		header: http.Header{"Content-Type": {"application/yaml"}, "Cache-Control": {"public, max-age=300"}}}, nil
}

// itemReply is an item with its ETag, marked when it replays a first
// response.
func itemReply(status int, d usecase.ItemDetail, replayed bool) reply {
	return versioned(status, itemView(d), d.Version, replayed)
}

var (
	itemFields    = []string{"sku", "name", "description", "quantity", "tags", "reorderPoint"}
	newItemFields = append(slices.Clone(itemFields), "locationId")
)

func (a *api) createItem(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, newItemFields)
	if err != nil {
		return reply{}, err
	}
	in := inventory.CreateInput{
		LocationID:   deref(obj.str("locationId", true)),
		SKU:          deref(obj.str("sku", false)),
		Name:         deref(obj.str("name", false)),
		Description:  deref(obj.str("description", true)),
		Quantity:     deref(obj.integer("quantity", false)),
		ReorderPoint: obj.integer("reorderPoint", true),
	}
	if tags := obj.strings("tags"); tags != nil {
		in.Tags = *tags
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	d, replayed, err := a.Service.CreateItem(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	rep := itemReply(http.StatusCreated, d, replayed)
	rep.header.Set("Location", "/items/"+d.ID)
	return rep, nil
}

func (a *api) getItem(r *http.Request) (reply, error) {
	d, err := a.Service.GetItem(r.Context(), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return itemReply(http.StatusOK, d, false), nil
}

func (a *api) updateItem(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, itemFields, "application/merge-patch+json")
	if err != nil {
		return reply{}, err
	}
	patch := inventory.Patch{
		SKU:             obj.str("sku", false),
		Name:            obj.str("name", false),
		Description:     obj.str("description", true),
		Quantity:        obj.integer("quantity", false),
		Tags:            obj.strings("tags"),
		ReorderPoint:    obj.integer("reorderPoint", true),
		ReorderPointSet: obj.has("reorderPoint"),
	}
	if obj.isNull("description") {
		patch.Description = new(string)
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	d, err := a.Service.UpdateItem(r.Context(), req, r.PathValue("id"), patch)
	if err != nil {
		return reply{}, err
	}
	return itemReply(http.StatusOK, d, false), nil
}

func (a *api) deleteItem(r *http.Request) (reply, error) {
	d, replayed, err := softDelete(r, a.Service.DeleteItem)
	if err != nil {
		return reply{}, err
	}
	return itemReply(http.StatusOK, d, replayed), nil
}

func (a *api) restoreItem(r *http.Request) (reply, error) {
	d, replayed, err := restore(r, a.Service.RestoreItem)
	if err != nil {
		return reply{}, err
	}
	return itemReply(http.StatusOK, d, replayed), nil
}

func (a *api) listDeletedItems(r *http.Request) (reply, error) {
	return a.itemPage(r, a.Service.ListDeletedItems)
}

func (a *api) itemPage(r *http.Request, list func(context.Context, inventory.PageRequest) (inventory.Page[usecase.ItemDetail], error)) (reply, error) {
	items, next, err := pageOf(r, list, itemView)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, itemPageJSON{Items: items, NextCursor: next}), nil
}

func (a *api) listItemHistory(r *http.Request) (reply, error) {
	q := r.URL.Query()
	if q.Has("locationId") && q.Get("locationId") == "" {
		return reply{}, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, "locationId must not be empty; omit it for every location",
			inventory.FieldError{Field: "locationId", Code: "required", Message: "locationId must be a location id"})
	}
	return entries(r, func(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.LedgerEntry], error) {
		return a.Service.ListHistory(ctx, r.PathValue("id"), q.Get("locationId"), pr)
	}, ledgerView)
}

func (a *api) listItemActivity(r *http.Request) (reply, error) {
	return entries(r, func(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Activity], error) {
		return a.Service.ListActivity(ctx, r.PathValue("id"), pr)
	}, activityView)
}

func (a *api) createImageUpload(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, []string{"contentType"})
	if err != nil {
		return reply{}, err
	}
	contentType := deref(obj.str("contentType", false))
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	up, replayed, err := a.Service.RequestImageUpload(r.Context(), req, r.PathValue("id"), contentType)
	if err != nil {
		return reply{}, err
	}
	rep := jsonReply(http.StatusCreated, uploadView(up))
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep, nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
