package httpapi

import (
	"context"
	"net/http"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// What the handlers of different resources do alike.

// versioned is a reply with a versioned record: its ETag, and the mark of
// a replayed first response.
func versioned(status int, body any, version int64, replayed bool) reply {
	rep := jsonReply(status, body)
	rep.header.Set("ETag", etag(version))
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep
}

// softDelete reads a soft delete's optional body, {comment}, and runs it.
func softDelete[T any](r *http.Request, del func(context.Context, usecase.Request, string, string) (T, bool, error)) (T, bool, error) {
	var zero T
	req, err := request(r)
	if err != nil {
		return zero, false, err
	}
	obj, err := readOptionalJSON(r, []string{"comment"})
	if err != nil {
		return zero, false, err
	}
	comment := deref(obj.str("comment", true))
	if err := obj.err(); err != nil {
		return zero, false, err
	}
	return del(r.Context(), req, r.PathValue("id"), comment)
}

// restore reads a restore's optional body, an empty object, and runs it.
func restore[T any](r *http.Request, run func(context.Context, usecase.Request, string) (T, bool, error)) (T, bool, error) {
	var zero T
	req, err := request(r)
	if err != nil {
		return zero, false, err
	}
	if _, err := readOptionalJSON(r, nil); err != nil {
		return zero, false, err
	}
	return run(r.Context(), req, r.PathValue("id"))
}

// pageOf reads a list's page request (limit, cursor), lists the page and
// renders each entry: the entries and the next cursor (null on the last
// page).
func pageOf[T, J any](r *http.Request, list func(context.Context, inventory.PageRequest) (inventory.Page[T], error), view func(T) J) ([]J, *string, error) {
	pr, err := pageRequest(r)
	if err != nil {
		return nil, nil, err
	}
	page, err := list(r.Context(), pr)
	if err != nil {
		return nil, nil, err
	}
	out := make([]J, 0, len(page.Items))
	for _, e := range page.Items {
		out = append(out, view(e))
	}
	return out, nextCursor(page.NextCursor), nil
}

// entries replies with a page of a log (ledger lines, activity entries).
func entries[T, J any](r *http.Request, list func(context.Context, inventory.PageRequest) (inventory.Page[T], error), view func(T) J) (reply, error) {
	out, next, err := pageOf(r, list, view)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, entryPageJSON[J]{Entries: out, NextCursor: next}), nil
}
