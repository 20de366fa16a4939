package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Error codes of the HTTP layer; the domain's codes live in package inventory.
const (
	codeMalformedJSON         = "malformed_json"
	codeUnknownField          = "unknown_field"
	codeInvalidType           = "invalid_type"
	codeInvalidCursor         = "invalid_cursor"
	codeInvalidParameter      = "invalid_parameter"
	codeInvalidHeader         = "invalid_header"
	codeUnauthorized          = "unauthorized"
	codeForbidden             = "forbidden"
	codeRouteNotFound         = "route_not_found"
	codeMethodNotAllowed      = "method_not_allowed"
	codeBodyTooLarge          = "body_too_large"
	codeUnsupportedMediaType  = "unsupported_media_type"
	codeIdempotencyKeyReused  = "idempotency_key_reused"
	codeIdempotencyInProgress = "idempotency_in_progress"
	codeInternal              = "internal_error"
)

// statusOf maps every error code to its HTTP status.
var statusOf = map[string]int{
	codeMalformedJSON:                        http.StatusBadRequest,
	codeUnknownField:                         http.StatusBadRequest,
	codeInvalidType:                          http.StatusBadRequest,
	codeInvalidCursor:                        http.StatusBadRequest,
	codeInvalidParameter:                     http.StatusBadRequest,
	codeInvalidHeader:                        http.StatusBadRequest,
	string(inventory.CodeValidationFailed):   http.StatusBadRequest,
	codeUnauthorized:                         http.StatusUnauthorized,
	codeForbidden:                            http.StatusForbidden,
	string(inventory.CodeItemNotFound):       http.StatusNotFound,
	string(inventory.CodeItemDeleted):        http.StatusNotFound,
	string(inventory.CodeItemNotDeleted):     http.StatusNotFound,
	codeRouteNotFound:                        http.StatusNotFound,
	codeMethodNotAllowed:                     http.StatusMethodNotAllowed,
	string(inventory.CodeSKUConflict):        http.StatusConflict,
	string(inventory.CodeVersionConflict):    http.StatusConflict,
	codeIdempotencyInProgress:                http.StatusConflict,
	string(inventory.CodePreconditionFailed): http.StatusPreconditionFailed,
	codeBodyTooLarge:                         http.StatusRequestEntityTooLarge,
	codeUnsupportedMediaType:                 http.StatusUnsupportedMediaType,
	codeIdempotencyKeyReused:                 http.StatusUnprocessableEntity,
	codeInternal:                             http.StatusInternalServerError,
}

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
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

func problem(code, detail string, fields ...inventory.FieldError) *Problem {
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return &Problem{
		Type:   problemTypeBase + code,
		Title:  titleOf(code),
		Status: status,
		Detail: detail,
		Code:   code,
		Errors: fields,
	}
}

func titleOf(code string) string {
	t := strings.ReplaceAll(code, "_", " ")
	return strings.ToUpper(t[:1]) + t[1:]
}

func (p *Problem) response() response {
	body, _ := json.Marshal(p)
	return response{
		status: p.Status,
		header: http.Header{"Content-Type": {"application/problem+json"}},
		body:   body,
		code:   p.Code,
	}
}

// response is a complete HTTP response, kept whole so that it can be stored
// for idempotent replay.
type response struct {
	status int
	header http.Header
	body   []byte
	code   string // the problem code of an error response
}

func jsonResponse(status int, v any) response {
	body, err := json.Marshal(v)
	if err != nil {
		return problem(codeInternal, "could not encode the response").response()
	}
	return response{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: body}
}

func (r response) write(w http.ResponseWriter) {
	for k, vs := range r.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}
