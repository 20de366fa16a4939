package httpapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// Header grammars, as openapi.yaml states them.
const (
	// IfMatchPattern is RFC 9110's If-Match: "*" or a list of entity tags,
	// each optionally weak (W/), each an opaque quoted string of visible
	// ASCII other than '"'.
	IfMatchPattern = `^(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)$`
	// IdempotencyKeyPattern is 1 to 200 visible ASCII characters, spaces
	// allowed inside.
	IdempotencyKeyPattern = `^[!-~]([ -~]{0,198}[!-~])?$`
)

var (
	ifMatchRE        = regexp.MustCompile(IfMatchPattern)
	entityTagRE      = regexp.MustCompile(`(W/)?"([!#-~]*)"`)
	idempotencyKeyRE = regexp.MustCompile(IdempotencyKeyPattern)
)

// request reads what every change takes besides its body: the caller, the
// Idempotency-Key and the If-Match precondition.
func request(r *http.Request) (usecase.Request, error) {
	req := usecase.Request{Actor: actor(r.Context())}
	var err error
	if req.IfMatch, err = parseIfMatch(r.Header.Values("If-Match")); err != nil {
		return req, err
	}
	req.IdempotencyKey, err = idempotencyKey(r)
	return req, err
}

// parseIfMatch reads If-Match (RFC 9110 §13.1.1) with the strong comparison
// it requires: a weak tag never matches, and neither does an opaque tag that
// is not one of Depot's ("<version>"). A value outside the grammar is
// invalid_header. No header is no precondition (nil).
func parseIfMatch(values []string) (*inventory.IfMatch, error) {
	if len(values) == 0 {
		return nil, nil
	}
	value := strings.TrimSpace(strings.Join(values, ", "))
	if !ifMatchRE.MatchString(value) {
		return nil, problem(inventory.KindInvalid, codeInvalidHeader,
			`If-Match must be "*" or a list of entity tags such as "3" (the quoted ETag of what you read)`,
			inventory.FieldError{Field: "If-Match", Code: "pattern", Message: "If-Match must match " + IfMatchPattern})
	}
	m := &inventory.IfMatch{Versions: []int64{}}
	if value == "*" {
		m.Any = true
		return m, nil
	}
	for _, t := range entityTagRE.FindAllStringSubmatch(value, -1) {
		if t[1] != "" {
			continue // weak: never matches under strong comparison
		}
		if v, err := strconv.ParseInt(t[2], 10, 64); err == nil && v > 0 && strconv.FormatInt(v, 10) == t[2] {
			m.Versions = append(m.Versions, v)
		}
	}
	return m, nil
}

// idempotencyKey returns the Idempotency-Key, "" without one.
func idempotencyKey(r *http.Request) (string, error) {
	values := r.Header.Values("Idempotency-Key")
	if len(values) == 0 {
		return "", nil
	}
	if len(values) > 1 || !idempotencyKeyRE.MatchString(values[0]) {
		return "", problem(inventory.KindInvalid, codeInvalidHeader, "Idempotency-Key must be 1 to 200 visible ASCII characters",
			inventory.FieldError{Field: "Idempotency-Key", Code: "pattern", Message: "Idempotency-Key must match " + IdempotencyKeyPattern})
	}
	return values[0], nil
}

// pageRequest reads limit and cursor.
func pageRequest(r *http.Request) (inventory.PageRequest, error) {
	q := r.URL.Query()
	pr := inventory.PageRequest{Limit: inventory.DefaultPageSize, Cursor: q.Get("cursor")}
	if q.Has("limit") {
		v := q.Get("limit")
		n, err := strconv.Atoi(v)
		if err != nil {
			return pr, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, fmt.Sprintf("limit must be an integer from 1 to %d", inventory.MaxPageSize),
				inventory.FieldError{Field: "limit", Code: "invalid_type", Message: fmt.Sprintf("limit must be an integer, got %q", v)})
		}
		pr.Limit = n
	}
	if q.Has("cursor") && pr.Cursor == "" {
		return pr, problem(inventory.KindInvalid, inventory.CodeInvalidCursor, "cursor must not be empty; omit it for the first page")
	}
	return pr, nil
}
