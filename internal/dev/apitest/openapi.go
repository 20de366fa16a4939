// Package apitest checks HTTP exchanges against Depot's API contract,
// openapi.yaml, for use in the tests of other packages:
//
//	v := apitest.Must(t)                       // the embedded openapi.yaml
//	rec := httptest.NewRecorder()
//	h.ServeHTTP(rec, req)
//	if err := v.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
//		t.Error(err)
//	}
//
// A response fails validation when its status is not declared for the
// operation the request matches (by method and path), when its Content-Type is
// not one declared for that status, when a declared response header is
// missing or malformed, or when its body does not match the schema. Requests
// are matched by method and path only: no server, host or token is needed.
package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	depot "github.com/depot-inventory/depot"
)

// Validator checks requests and responses against one OpenAPI document.
// It is safe for concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	cacheMu sync.Mutex
	cache   = map[[sha256.Size]byte]*Validator{}
)

// NewValidator returns the validator of the OpenAPI document spec, or of the
// embedded depot.OpenAPIYAML when spec is nil. The document is loaded,
// validated and routed once per distinct content; later calls with the same
// bytes return the same *Validator.
func NewValidator(spec []byte) (*Validator, error) {
	if spec == nil {
		spec = depot.OpenAPIYAML
	}
	key := sha256.Sum256(spec)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if v, ok := cache[key]; ok {
		return v, nil
	}
	v, err := load(spec)
	if err != nil {
		return nil, err
	}
	cache[key] = v
	return v, nil
}

// Must returns the validator of the embedded openapi.yaml, failing the test
// at once if the document does not load.
func Must(tb testing.TB) *Validator {
	tb.Helper()
	v, err := NewValidator(nil)
	if err != nil {
		tb.Fatalf("apitest: %v", err)
	}
	return v
}

func load(spec []byte) (*Validator, error) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("invalid openapi document: %w", err)
	}
	// Route on method and path alone, whatever the request's scheme and host:
	// with no servers the router matches any host at the root. The loaded
	// document is private to this Validator, so clearing them is safe.
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route openapi document: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Doc is the loaded document. Do not modify it.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Paths maps each path of the document to its methods, sorted.
func (v *Validator) Paths() map[string][]string {
	out := make(map[string][]string, v.doc.Paths.Len())
	for path, item := range v.doc.Paths.Map() {
		out[path] = slices.Sorted(maps.Keys(item.Operations()))
	}
	return out
}

// Operation returns the operation declared for method and path (a path of the
// document, such as "/items/{id}"), or nil.
func (v *Validator) Operation(method, path string) *openapi3.Operation {
	item := v.doc.Paths.Value(path)
	if item == nil {
		return nil
	}
	return item.GetOperation(strings.ToUpper(method))
}

// Statuses lists the response statuses declared for method and path, sorted.
func (v *Validator) Statuses(method, path string) []int {
	op := v.Operation(method, path)
	if op == nil || op.Responses == nil {
		return nil
	}
	var out []int
	for code := range op.Responses.Map() {
		if n, err := strconv.Atoi(code); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

func (v *Validator) options() *openapi3filter.Options {
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		// Tokens are API Gateway's business: never check them here.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	}
	opts.WithCustomSchemaErrorFunc(schemaErrorMessage)
	return opts
}

// schemaErrorMessage is a schema error without the dump of the whole schema
// and value that kin-openapi adds by default: the JSON pointer of the failing
// value and the reason.
func schemaErrorMessage(err *openapi3.SchemaError) string {
	if err.Origin != nil {
		return "" // kin-openapi's message: the origin's, without the dump
	}
	if errors.Unwrap(err) != nil {
		return err.Reason // from the JSON Schema 2020-12 validator: names the path
	}
	return fmt.Sprintf("at %q: %s", "/"+strings.Join(err.JSONPointer(), "/"), err.Reason)
}

// find matches req to its route and operation.
func (v *Validator) find(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: no such operation in the OpenAPI document: %w", req.Method, req.URL.Path, err)
	}
	return route, params, nil
}

// ValidateResponse checks a response to req: its status must be declared for
// the operation that req's method and path match, its Content-Type one of
// those declared for the status, its declared headers present and well formed,
// and its body valid against the schema. HEAD requests are not checked.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.find(req)
	if err != nil {
		return err
	}
	op := route.Operation
	where := fmt.Sprintf("%s %s (%s) %d", req.Method, route.Path, op.OperationID, status)
	resp := op.Responses.Status(status)
	if resp == nil {
		return fmt.Errorf("%s: status %d is not declared for the operation; declared: %v",
			where, status, v.Statuses(req.Method, route.Path))
	}
	if header == nil {
		header = http.Header{}
	}
	if resp.Value != nil && len(resp.Value.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("%s: the response has a body but the document declares none", where)
	}
	opts := v.options()
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    opts,
		},
		Status:  status,
		Header:  header,
		Options: opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// ValidateRequest checks req (method, path, parameters, headers and body)
// against its operation; body replaces whatever req.Body holds. Security
// requirements are not checked.
func (v *Validator) ValidateRequest(req *http.Request, body []byte) error {
	route, params, err := v.find(req)
	if err != nil {
		return err
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    v.options(),
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s (%s): %w", req.Method, route.Path, route.Operation.OperationID, err)
	}
	return nil
}
