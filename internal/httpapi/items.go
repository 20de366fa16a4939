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
	rep := jsonReply(status, itemView(d))
	rep.header.Set("ETag", etag(d.Version))
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep
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
	d, replayed, err := a.Service.DeleteItem(r.Context(), req, r.PathValue("id"), comment)
	if err != nil {
		return reply{}, err
	}
	return itemReply(http.StatusOK, d, replayed), nil
}

func (a *api) restoreItem(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	if _, err := readOptionalJSON(r, nil); err != nil {
		return reply{}, err
	}
	d, replayed, err := a.Service.RestoreItem(r.Context(), req, r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return itemReply(http.StatusOK, d, replayed), nil
}

func (a *api) listItems(r *http.Request) (reply, error) {
	lowStock, err := boolParam(r, "lowStock")
	if err != nil {
		return reply{}, err
	}
	return a.itemPage(r, func(ctx context.Context, pr inventory.PageRequest) (inventory.Page[usecase.ItemDetail], error) {
		return a.Service.ListItems(ctx, pr, lowStock)
	})
}

func (a *api) listDeletedItems(r *http.Request) (reply, error) {
	return a.itemPage(r, a.Service.ListDeletedItems)
}

func (a *api) itemPage(r *http.Request, list func(context.Context, inventory.PageRequest) (inventory.Page[usecase.ItemDetail], error)) (reply, error) {
	pr, err := pageRequest(r)
	if err != nil {
		return reply{}, err
	}
	page, err := list(r.Context(), pr)
	if err != nil {
		return reply{}, err
	}
	out := itemPageJSON{Items: make([]itemJSON, 0, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for _, d := range page.Items {
		out.Items = append(out.Items, itemView(d))
	}
	return jsonReply(http.StatusOK, out), nil
}

func (a *api) listItemHistory(r *http.Request) (reply, error) {
	pr, err := pageRequest(r)
	if err != nil {
		return reply{}, err
	}
	q := r.URL.Query()
	if q.Has("locationId") && q.Get("locationId") == "" {
		return reply{}, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, "locationId must not be empty; omit it for every location",
			inventory.FieldError{Field: "locationId", Code: "required", Message: "locationId must be a location id"})
	}
	page, err := a.Service.ListHistory(r.Context(), r.PathValue("id"), q.Get("locationId"), pr)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, entryPage(page, ledgerView)), nil
}

func (a *api) listItemActivity(r *http.Request) (reply, error) {
	pr, err := pageRequest(r)
	if err != nil {
		return reply{}, err
	}
	page, err := a.Service.ListActivity(r.Context(), r.PathValue("id"), pr)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, entryPage(page, activityView)), nil
}

func entryPage[T, J any](page inventory.Page[T], view func(T) J) entryPageJSON[J] {
	out := entryPageJSON[J]{Entries: make([]J, 0, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for _, e := range page.Items {
		out.Entries = append(out.Entries, view(e))
	}
	return out
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
