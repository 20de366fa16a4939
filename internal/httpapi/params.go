package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

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
	ifMatchRE   = regexp.MustCompile(IfMatchPattern)
	entityTagRE = regexp.MustCompile(`(W/)?"([!#-~]*)"`)
	// idempotencyKeyRE compiles on first use: {0,198} makes a program of
	// 139 KiB that took 0.2 ms of every API function's cold start, though
	// only writes take the header (make bench's cold start line).
	idempotencyKeyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(IdempotencyKeyPattern) })
)

type rawHeadersKey struct{}

// WithRawHeaders keeps a request's headers as API Gateway sent them in the
// event: one string per lower-case name, repeated headers joined by commas.
// The Lambda adapter splits every other header's value at each comma and
// trims the pieces, which would cut an Idempotency-Key such as "a,b" apart
// and respell an If-Match list; the handlers read those two from here.
func WithRawHeaders(ctx context.Context, headers map[string]string) context.Context {
	return context.WithValue(ctx, rawHeadersKey{}, headers)
}

// header returns a request header's value as the client sent it, and
// whether it was sent.
func header(r *http.Request, name string) (string, bool) {
	if raw, ok := r.Context().Value(rawHeadersKey{}).(map[string]string); ok {
		v, ok := raw[strings.ToLower(name)]
		return v, ok
	}
	vs := r.Header.Values(name)
	return strings.Join(vs, ","), len(vs) > 0
}

// request reads what every change takes besides its body: the caller, the
// Idempotency-Key and the If-Match precondition.
func request(r *http.Request) (usecase.Request, error) {
	req := usecase.Request{Actor: actor(r.Context())}
	var err error
	if v, ok := header(r, "If-Match"); ok {
		if req.IfMatch, err = parseIfMatch(v); err != nil {
			return req, err
		}
	}
	if v, ok := header(r, "Idempotency-Key"); ok {
		req.IdempotencyKey, err = idempotencyKey(v)
	}
	return req, err
}

// parseIfMatch reads If-Match (RFC 9110 §13.1.1) with the strong comparison
// it requires: a weak tag never matches, and neither does an opaque tag that
// is not one of Depot's ("<version>"). A value outside the grammar is
// invalid_header.
func parseIfMatch(value string) (*inventory.IfMatch, error) {
	value = strings.TrimSpace(value)
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

// idempotencyKey checks an Idempotency-Key.
func idempotencyKey(value string) (string, error) {
	if !idempotencyKeyRE().MatchString(value) {
		return "", problem(inventory.KindInvalid, codeInvalidHeader, "Idempotency-Key must be 1 to 200 visible ASCII characters",
			inventory.FieldError{Field: "Idempotency-Key", Code: "pattern", Message: "Idempotency-Key must match " + IdempotencyKeyPattern})
	}
	return value, nil
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

// boolParam reads a query parameter that is "true" or "false" (absent:
// false).
func boolParam(r *http.Request, name string) (bool, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return false, nil
	}
	switch v := q.Get(name); v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, name+" must be true or false",
			inventory.FieldError{Field: name, Code: "enum", Message: fmt.Sprintf("%s must be true or false, got %q", name, v)})
	}
}

// timeParam reads a query parameter that is an RFC 3339 date-time; nil
// when absent.
func timeParam(r *http.Request, name string) (*time.Time, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return nil, nil
	}
	v := q.Get(name)
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(v)) // RFC 3339 allows "t" and "z"
	if err != nil {
		return nil, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, name+" must be an RFC 3339 date-time, e.g. 2024-11-25T09:30:00.000Z",
			inventory.FieldError{Field: name, Code: "format", Message: fmt.Sprintf("%s must be an RFC 3339 date-time, got %q", name, v)})
	}
	return &t, nil
}
