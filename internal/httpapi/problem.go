package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Codes of the HTTP layer; the domain's and the use cases' codes are in
// package inventory. Both are a contract: an existing code never changes.
const (
	codeMalformedJSON        = "malformed_json"
	codeUnknownField         = "unknown_field"
	codeInvalidType          = "invalid_type"
	codeInvalidHeader        = "invalid_header"
	codeUnauthorized         = "unauthorized"
	codeForbidden            = "forbidden"
	codeRouteNotFound        = "route_not_found"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
)

// statusOf is the HTTP status of each kind of error: the one place that
// decides an error's status.
var statusOf = map[inventory.Kind]int{
	inventory.KindInternal:             http.StatusInternalServerError,
	inventory.KindInvalid:              http.StatusBadRequest,
	inventory.KindUnauthenticated:      http.StatusUnauthorized,
	inventory.KindForbidden:            http.StatusForbidden,
	inventory.KindNotFound:             http.StatusNotFound,
	inventory.KindConflict:             http.StatusConflict,
	inventory.KindPrecondition:         http.StatusPreconditionFailed,
	inventory.KindUnprocessable:        http.StatusUnprocessableEntity,
	inventory.KindTooLarge:             http.StatusRequestEntityTooLarge,
	inventory.KindUnsupportedMediaType: http.StatusUnsupportedMediaType,
	inventory.KindUnavailable:          http.StatusServiceUnavailable,
}

// retryAfterSeconds is the Retry-After of a 503: long enough for throttling
// to ease, short enough for a person waiting.
const retryAfterSeconds = "2"

// problemTypeBase prefixes each code to make the RFC 9457 "type" URI.
const problemTypeBase = "https://depot.example/problems/"

// Problem is an RFC 9457 problem details body with Depot's extensions.
type Problem struct {
	Type   string                 `json:"type"`
	Title  string                 `json:"title"`
	Status int                    `json:"status"`
	Detail string                 `json:"detail,omitempty"`
	Code   string                 `json:"code"`
	Errors []inventory.FieldError `json:"errors,omitempty"`
	// CurrentStatus is the shipment's status, on a 409 invalid_transition.
	CurrentStatus string `json:"currentStatus,omitempty"`
}

// problem returns an error of the HTTP layer with a kind and code.
func problem(kind inventory.Kind, code, detail string, fields ...inventory.FieldError) error {
	return &inventory.Error{Kind: kind, Code: code, Message: detail, Fields: fields}
}

// problemOf turns any error into its problem details. An error that is not
// an *inventory.Error, or an internal one, shows no details: the caller
// logs it (internal reports whether to).
func problemOf(err error, requestID string) (p Problem, internal bool) {
	var e *inventory.Error
	if !errors.As(err, &e) || e.Kind == inventory.KindInternal {
		e = &inventory.Error{Kind: inventory.KindInternal, Code: inventory.CodeInternal,
			Message: "internal error; request id " + requestID}
		internal = true
	}
	status, ok := statusOf[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	return Problem{
		Type: problemTypeBase + e.Code, Title: titleOf(e.Code), Status: status,
		Detail: e.Message, Code: e.Code, Errors: e.Fields, CurrentStatus: e.CurrentStatus,
	}, internal
}

func titleOf(code string) string {
	t := strings.ReplaceAll(code, "_", " ")
	return strings.ToUpper(t[:1]) + t[1:]
}

// write sends the problem.
func (p Problem) write(w http.ResponseWriter) {
	body, _ := json.Marshal(p) // a Problem always encodes
	if r, ok := w.(problemRecorder); ok {
		r.recordProblem(p.Code)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
