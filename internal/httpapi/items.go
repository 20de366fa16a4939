package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
)

// maxSaveAttempts bounds the read-modify-write retries of a change made
// without If-Match when a concurrent change wins the race.
const maxSaveAttempts = 5

type itemJSON struct {
	ID           string        `json:"id"`
	SKU          string        `json:"sku"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Quantity     int64         `json:"quantity"`
	Tags         []string      `json:"tags"`
	ReorderPoint *int64        `json:"reorderPoint"`
	CreatedAt    string        `json:"createdAt"`
	CreatedBy    string        `json:"createdBy"`
	UpdatedAt    string        `json:"updatedAt"`
	UpdatedBy    string        `json:"updatedBy"`
	Version      int64         `json:"version"`
	Deleted      *deletionJSON `json:"deleted,omitempty"`
	Image        *imageJSON    `json:"image,omitempty"`
}

type deletionJSON struct {
	At      string `json:"at"`
	By      string `json:"by"`
	Comment string `json:"comment"`
}

type ledgerEntryJSON struct {
	ID            string  `json:"id"`
	ItemID        string  `json:"itemId"`
	LocationID    string  `json:"locationId"`
	Delta         int64   `json:"delta"`
	QuantityAfter int64   `json:"quantityAfter"`
	Reason        string  `json:"reason"`
	Reference     *string `json:"reference"`
	Actor         string  `json:"actor"`
	At            string  `json:"at"`
}

type itemPageJSON struct {
	Items      []itemJSON `json:"items"`
	NextCursor *string    `json:"nextCursor"`
}

type ledgerPageJSON struct {
	Entries    []ledgerEntryJSON `json:"entries"`
	NextCursor *string           `json:"nextCursor"`
}

func jsonTime(t time.Time) string { return t.UTC().Format(inventory.TimeLayout) }

// itemView is the item as clients see it.
func (a *api) itemView(ctx context.Context, it inventory.Item) (itemJSON, error) {
	j := toItemJSON(it)
	var err error
	j.Image, err = a.imageView(ctx, it.Image)
	return j, err
}

func toItemJSON(it inventory.Item) itemJSON {
	j := itemJSON{
		ID: it.ID, SKU: it.SKU, Name: it.Name, Description: it.Description,
		Quantity: it.Quantity, Tags: it.Tags, ReorderPoint: it.ReorderPoint,
		CreatedAt: jsonTime(it.CreatedAt), CreatedBy: it.CreatedBy,
		UpdatedAt: jsonTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy, Version: it.Version,
	}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	if it.Deleted != nil {
		j.Deleted = &deletionJSON{At: jsonTime(it.Deleted.At), By: it.Deleted.By, Comment: it.Deleted.Comment}
	}
	return j
}

func toLedgerJSON(e inventory.LedgerEntry) ledgerEntryJSON {
	j := ledgerEntryJSON{
		ID: e.ID, ItemID: e.ItemID, LocationID: e.LocationID, Delta: e.Delta,
		QuantityAfter: e.QuantityAfter, Reason: e.Reason, Actor: e.Actor, At: jsonTime(e.At),
	}
	if e.Reference != "" {
		j.Reference = &e.Reference
	}
	return j
}

func etag(it inventory.Item) string { return `"` + strconv.FormatInt(it.Version, 10) + `"` }

// itemResponse is an item with its ETag.
func (a *api) itemResponse(r *http.Request, status int, it inventory.Item) response {
	view, err := a.itemView(r.Context(), it)
	if err != nil {
		return a.failure(r, err)
	}
	resp := jsonResponse(status, view)
	resp.header.Set("ETag", etag(it))
	return resp
}

func (a *api) health(*http.Request) response {
	return jsonResponse(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *api) openAPI(*http.Request) response {
	return response{
		status: http.StatusOK,
		header: http.Header{"Content-Type": {"application/yaml"}, "Cache-Control": {"public, max-age=300"}},
		body:   a.OpenAPI,
	}
}

var createFields = []string{"sku", "name", "description", "quantity", "tags", "reorderPoint"}

func (a *api) createItem(r *http.Request) response {
	body, p := readJSONBody(r)
	if p != nil {
		return p.response()
	}
	return a.idempotent(r, body, func(idem *dynamo.IdempotencyRecord) response {
		obj, p := decodeObject(body, createFields...)
		if p != nil {
			return p.response()
		}
		in := inventory.CreateInput{
			SKU:          deref(obj.str("sku", false)),
			Name:         deref(obj.str("name", false)),
			Description:  deref(obj.str("description", true)),
			Quantity:     deref(obj.integer("quantity", false)),
			ReorderPoint: obj.integer("reorderPoint", true),
		}
		if tags := obj.strings("tags"); tags != nil {
			in.Tags = *tags
		}
		if p := obj.err(); p != nil {
			return p.response()
		}
		if err := in.Validate(); err != nil {
			return a.failure(r, err)
		}
		item, entry := inventory.NewItem(in, actor(r.Context()), a.Now())
		resp := a.itemResponse(r, http.StatusCreated, item)
		resp.header.Set("Location", "/items/"+item.ID)
		if err := a.Store.SaveItem(r.Context(), nil, item, &entry, withResponse(idem, resp)); err != nil {
			return a.failure(r, err)
		}
		return resp
	})
}

func (a *api) getItem(r *http.Request) response {
	item, p := a.liveItem(r)
	if p != nil {
		return a.failure(r, p)
	}
	return a.itemResponse(r, http.StatusOK, item)
}

// liveItem reads the item named by the path; a deleted one is item_deleted.
func (a *api) liveItem(r *http.Request) (inventory.Item, error) {
	item, err := a.anyItem(r)
	if err != nil {
		return item, err
	}
	if item.Deleted != nil {
		return item, inventory.Errorf(inventory.CodeItemDeleted, "item %s was deleted at %s by %s; restore it with POST /items/%s/restore",
			item.ID, jsonTime(item.Deleted.At), item.Deleted.By, item.ID)
	}
	return item, nil
}

// anyItem reads the item named by the path, live or deleted.
func (a *api) anyItem(r *http.Request) (inventory.Item, error) {
	id := r.PathValue("id")
	if !inventory.IsValidID(id) {
		return inventory.Item{}, inventory.Errorf(inventory.CodeItemNotFound, "no item with id %q (item ids are 26-character ULIDs)", id)
	}
	return a.Store.GetItem(r.Context(), id)
}

var patchFields = createFields

func (a *api) updateItem(r *http.Request) response {
	body, p := readJSONBody(r, "application/merge-patch+json")
	if p != nil {
		return p.response()
	}
	obj, p := decodeObject(body, patchFields...)
	if p != nil {
		return p.response()
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
	if p := obj.err(); p != nil {
		return p.response()
	}
	if err := patch.Validate(); err != nil {
		return a.failure(r, err)
	}
	return a.change(r, nil, func(old inventory.Item) (inventory.Item, *inventory.LedgerEntry, bool, error) {
		next, entry, changed := inventory.ApplyPatch(old, patch, actor(r.Context()), a.Now())
		return next, entry, changed, nil
	})
}

func (a *api) deleteItem(r *http.Request) response {
	body, p := readBody(r)
	if p == nil && len(body) > 0 {
		p = checkJSONContentType(r)
	}
	if p != nil {
		return p.response()
	}
	return a.idempotent(r, body, func(idem *dynamo.IdempotencyRecord) response {
		var comment string
		if len(body) > 0 {
			obj, p := decodeObject(body, "comment")
			if p != nil {
				return p.response()
			}
			comment = deref(obj.str("comment", true))
			if p := obj.err(); p != nil {
				return p.response()
			}
			if err := inventory.ValidateComment(comment); err != nil {
				return a.failure(r, err)
			}
		}
		return a.change(r, idem, func(old inventory.Item) (inventory.Item, *inventory.LedgerEntry, bool, error) {
			return inventory.Delete(old, actor(r.Context()), comment, a.Now()), nil, true, nil
		})
	})
}

func (a *api) restoreItem(r *http.Request) response {
	body, p := readBody(r)
	if p != nil {
		return p.response()
	}
	return a.idempotent(r, body, func(idem *dynamo.IdempotencyRecord) response {
		for attempt := 1; ; attempt++ {
			old, err := a.anyItem(r)
			if err != nil {
				return a.failure(r, err)
			}
			if old.Deleted == nil {
				return a.failure(r, inventory.Errorf(inventory.CodeItemNotDeleted, "item %s is not deleted", old.ID))
			}
			next := inventory.Restore(old, actor(r.Context()), a.Now())
			resp := a.itemResponse(r, http.StatusOK, next)
			err = a.Store.SaveItem(r.Context(), &old, next, nil, withResponse(idem, resp))
			if errors.Is(err, dynamo.ErrVersionConflict) && attempt < maxSaveAttempts {
				continue
			}
			if err != nil {
				return a.failure(r, err)
			}
			return resp
		}
	})
}

// change applies edit to the live item named by the path and saves it,
// honouring If-Match. Without If-Match a lost race is retried on a fresh
// read; with it, the caller's precondition decides (412).
func (a *api) change(r *http.Request, idem *dynamo.IdempotencyRecord, edit func(inventory.Item) (inventory.Item, *inventory.LedgerEntry, bool, error)) response {
	match, hasMatch := ifMatch(r)
	for attempt := 1; ; attempt++ {
		old, err := a.liveItem(r)
		if err != nil {
			return a.failure(r, err)
		}
		if hasMatch && !match(old) {
			return problem(string(inventory.CodePreconditionFailed),
				fmt.Sprintf("If-Match does not match the item's current ETag %s", etag(old))).response()
		}
		next, entry, changed, err := edit(old)
		if err != nil {
			return a.failure(r, err)
		}
		resp := a.itemResponse(r, http.StatusOK, next)
		if !changed {
			return resp
		}
		err = a.Store.SaveItem(r.Context(), &old, next, entry, withResponse(idem, resp))
		if errors.Is(err, dynamo.ErrVersionConflict) {
			if hasMatch {
				return problem(string(inventory.CodePreconditionFailed),
					"the item changed after it was read; read it again and retry with its new ETag").response()
			}
			if attempt < maxSaveAttempts {
				continue
			}
			return problem(string(inventory.CodeVersionConflict), "the item kept changing concurrently; retry").response()
		}
		if err != nil {
			return a.failure(r, err)
		}
		return resp
	}
}

// ifMatch parses If-Match: "*" or a list of entity tags (weak ones compare
// weakly, as RFC 9110 allows for If-Match on our integer versions).
func ifMatch(r *http.Request) (func(inventory.Item) bool, bool) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil, false
	}
	var tags []string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			tags = append(tags, t)
		}
	}
	return func(it inventory.Item) bool {
		for _, t := range tags {
			if t == "*" || t == etag(it) {
				return true
			}
		}
		return false
	}, true
}

func (a *api) listItems(r *http.Request) response {
	return a.itemPage(r, a.Store.ListItems)
}

func (a *api) listDeletedItems(r *http.Request) response {
	return a.itemPage(r, a.Store.ListDeletedItems)
}

func (a *api) itemPage(r *http.Request, list func(ctx context.Context, limit int, cursor string) (dynamo.Page[inventory.Item], error)) response {
	limit, cursor, p := pageParams(r)
	if p != nil {
		return p.response()
	}
	page, err := list(r.Context(), limit, cursor)
	if err != nil {
		return a.listFailure(r, err)
	}
	out := itemPageJSON{Items: make([]itemJSON, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, it := range page.Items {
		view, err := a.itemView(r.Context(), it)
		if err != nil {
			return a.failure(r, err)
		}
		out.Items = append(out.Items, view)
	}
	return jsonResponse(http.StatusOK, out)
}

func (a *api) listItemHistory(r *http.Request) response {
	limit, cursor, p := pageParams(r)
	if p != nil {
		return p.response()
	}
	item, err := a.anyItem(r)
	if err != nil {
		return a.failure(r, err)
	}
	page, err := a.Store.ListHistory(r.Context(), item.ID, limit, cursor)
	if err != nil {
		return a.listFailure(r, err)
	}
	out := ledgerPageJSON{Entries: make([]ledgerEntryJSON, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, e := range page.Items {
		out.Entries = append(out.Entries, toLedgerJSON(e))
	}
	return jsonResponse(http.StatusOK, out)
}

func (a *api) listFailure(r *http.Request, err error) response {
	if errors.Is(err, dynamo.ErrInvalidCursor) {
		return problem(codeInvalidCursor, "the cursor is not one this list issued; start again without it").response()
	}
	return a.failure(r, err)
}

// Page sizes.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

func pageParams(r *http.Request) (limit int, cursor string, p *Problem) {
	q := r.URL.Query()
	limit = DefaultPageSize
	if v := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return 0, "", problem(codeInvalidParameter, "limit must be an integer from 1 to 100",
				inventory.FieldError{Field: "limit", Code: "range", Message: fmt.Sprintf("limit must be an integer from 1 to %d, got %q", MaxPageSize, v)})
		}
		limit = n
	}
	cursor = q.Get("cursor")
	if q.Has("cursor") && cursor == "" {
		return 0, "", problem(codeInvalidCursor, "cursor must not be empty; omit it for the first page")
	}
	return limit, cursor, nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
