package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// fuzzWorld is a Service on in-memory ports with one item (at the default
// location), one more location and one group, whose ids replace $ITEM,
// $LOC and $GROUP in a fuzzed path or body, so that fuzzed requests reach
// the use cases and not only "not found".
type fuzzWorld struct {
	svc              *usecase.Service
	item, loc, group string
	replacer         *strings.Replacer
	handlers         map[string]http.Handler
}

var fuzzClock = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func newFuzzWorld(t *testing.T, functions ...string) *fuzzWorld {
	store, objects := memstore.New(), memstore.NewObjects()
	now := func() time.Time { return fuzzClock }
	svc := &usecase.Service{Store: store, Objects: objects, Signer: memstore.Signer{Now: now},
		Thumbnailer: memstore.Thumbnailer{}, Jobs: memstore.NewExports(store), Multipart: objects,
		ExportQueue: &memstore.Queue{}, Imports: memstore.NewImports(store), Files: objects, ImportQueue: &memstore.Queue{},
		Now: now, Logger: slog.New(slog.DiscardHandler), Pause: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	ctx, req := context.Background(), usecase.Request{Actor: "seed@example.com"}
	item, _, err := svc.CreateItem(ctx, req, inventory.CreateInput{SKU: "SEED-1", Name: "Seed", Quantity: 5, Tags: []string{"blue"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, _, err := svc.CreateLocation(ctx, req, inventory.LocationInput{Code: "RTM-1", Name: "Rotterdam"})
	if err != nil {
		t.Fatal(err)
	}
	group, _, err := svc.CreateGroup(ctx, req, inventory.GroupInput{Name: "Seeds"})
	if err != nil {
		t.Fatal(err)
	}
	w := &fuzzWorld{svc: svc, item: item.ID, loc: loc.ID, group: group.ID, handlers: map[string]http.Handler{},
		replacer: strings.NewReplacer("$ITEM", item.ID, "$LOC", loc.ID, "$GROUP", group.ID)}
	deps := Deps{Service: svc, Logger: slog.New(slog.DiscardHandler), OpenAPI: []byte("openapi: 3.1.0\n")}
	for _, fn := range functions {
		if w.handlers[fn], err = NewHandler(fn, deps); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// send runs a request through the Lambda adapter as an API function does
// (internal/lambdafn/apifn), with the caller's JWT claims.
func (w *fuzzWorld) send(t *testing.T, function, path string, headers map[string]string, body string, claims map[string]string) events.APIGatewayV2HTTPResponse {
	route, _ := RouteFor(function)
	ev := events.APIGatewayV2HTTPRequest{
		RouteKey: route.RouteKey(), RawPath: path, Headers: headers, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "fuzz",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: route.Method, Path: path}},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	resp, err := httpadapter.NewV2(w.handlers[function]).ProxyWithContext(WithRawHeaders(context.Background(), headers), ev)
	if err != nil {
		t.Fatalf("%s %s: the adapter failed: %v", route.Method, path, err)
	}
	return resp
}

// stableCodes are the codes a problem may carry: the constants of
// inventory's errors.go and of problem.go.
func stableCodes(t testing.TB) map[string]bool {
	return fuzzcheck.Codes(t, []string{"../inventory/errors.go", "problem.go"}, "Code", "code")
}

// checkResponse: never a 5xx; an error is an RFC 9457 problem whose status
// is the response's and whose code is a stable one; a success is JSON.
func checkResponse(t *testing.T, codes map[string]bool, what string, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	ct := resp.Headers["Content-Type"]
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: %d %s", what, resp.StatusCode, resp.Body)
	}
	if resp.StatusCode >= 400 {
		var p Problem
		if ct != "application/problem+json" || json.Unmarshal([]byte(resp.Body), &p) != nil {
			t.Fatalf("%s: %d with %s %s, not a problem", what, resp.StatusCode, ct, resp.Body)
		}
		if p.Status != resp.StatusCode || !codes[p.Code] || p.Type != problemTypeBase+p.Code || p.Title == "" {
			t.Fatalf("%s: %d with problem %+v", what, resp.StatusCode, p)
		}
		return
	}
	if resp.StatusCode != http.StatusNoContent && (ct != "application/json" || !json.Valid([]byte(resp.Body))) {
		t.Fatalf("%s: %d with %s %q", what, resp.StatusCode, ct, resp.Body)
	}
}

// writeRoutes are the operations that decode a request body, with a path
// that names the seeded item, location or group.
var writeRoutes = []struct{ function, path string }{
	{"CreateItem", "/items"}, {"UpdateItem", "/items/$ITEM"}, {"DeleteItem", "/items/$ITEM"},
	{"RestoreItem", "/items/$ITEM/restore"}, {"CreateImageUpload", "/items/$ITEM/image-uploads"},
	{"CreateLocation", "/locations"}, {"UpdateLocation", "/locations/$LOC"}, {"DeleteLocation", "/locations/$LOC"},
	{"RestoreLocation", "/locations/$LOC/restore"}, {"CreateGroup", "/groups"}, {"UpdateGroup", "/groups/$GROUP"},
	{"DeleteGroup", "/groups/$GROUP"}, {"RestoreGroup", "/groups/$GROUP/restore"},
	{"ChangeGroupMembers", "/groups/$GROUP/items"}, {"CreateAdjustment", "/adjustments"}, {"CreateCount", "/counts"},
	{"CreateTransfer", "/transfers"}, {"RequestExport", "/exports"}, {"RequestImport", "/imports"},
}

// Header flags of FuzzWriteRoutes' input: which headers the request has.
const (
	sendContentType uint8 = 1 << iota
	sendIfMatch
	sendIdempotencyKey
)

// handlerBound: a request, its answer and the service's work allocate at
// most this. A body of many small errors (unknown members, each named in
// the answer) is the measured worst case, under 300 bytes a byte.
var handlerBound = fuzzcheck.Bound{PerByte: 1 << 10, Fixed: 1 << 20}

// FuzzWriteRoutes sends fuzzed bodies and headers to every operation that
// decodes a body, through the Lambda adapter and the whole handler, to a
// Service on internal/dev/memstore (with a seeded item, location and
// group), as an admin. Whatever the input: no 5xx, an error is a problem
// with its status and a stable code, a success is JSON; a POST or DELETE
// with an Idempotency-Key that succeeded, sent again, replays the same
// answer; memory is bounded by the request's size.
func FuzzWriteRoutes(f *testing.F) {
	all := sendContentType | sendIfMatch | sendIdempotencyKey
	for _, s := range []struct {
		function    string
		flags       uint8
		ct, body    string
		ifMatch, ik string
	}{
		{"CreateItem", all, "application/json", `{"sku":"W-1","name":"Widget","quantity":5,"tags":["a"],"reorderPoint":2,"locationId":"$LOC"}`, `*`, "k1"},
		{"CreateItem", sendContentType, "application/json; charset=utf-8", `{"sku":"SEED-1","name":"Dup","quantity":1.0}`, "", ""},
		{"UpdateItem", all, "application/merge-patch+json", `{"quantity":8,"description":null,"reorderPoint":null,"tags":[]}`, `"1"`, "k"},
		{"UpdateItem", sendContentType | sendIfMatch, "application/merge-patch+json", `{"sku":"NEW-1","name":"  "}`, `W/"1"`, ""},
		{"DeleteItem", sendContentType | sendIdempotencyKey, "application/json", `{"comment":"damaged"}`, "", "del"},
		{"DeleteItem", 0, "", ``, "", ""},
		{"RestoreItem", sendContentType, "application/json", `{}`, "", ""},
		{"CreateImageUpload", sendContentType | sendIdempotencyKey, "application/json", `{"contentType":"image/png"}`, "", "up"},
		{"CreateLocation", sendContentType | sendIdempotencyKey, "application/json", `{"code":"AMS-1","name":"Amsterdam","address":null}`, "", "loc"},
		{"UpdateLocation", sendContentType | sendIfMatch, "application/merge-patch+json", `{"code":"RTM-2","address":"Quay 1"}`, `"1", "2"`, ""},
		{"DeleteLocation", sendContentType, "application/json", `{"comment":"closed"}`, "", ""},
		{"RestoreLocation", 0, "", ``, "", ""},
		{"CreateGroup", sendContentType | sendIdempotencyKey, "application/json", `{"name":"Spring sale","description":"x"}`, "", "g"},
		{"UpdateGroup", sendContentType, "application/merge-patch+json", `{"name":"Seeds 2","description":null}`, "", ""},
		{"DeleteGroup", sendContentType, "application/json", `{"comment":null}`, "", ""},
		{"RestoreGroup", sendContentType, "application/json", `{}`, "", ""},
		{"ChangeGroupMembers", sendContentType | sendIdempotencyKey, "application/json", `{"add":["$ITEM","01JDQ3ZK7X9V4M2N8P6R5T3W1Y"],"remove":["01JDQ3ZK7X9V4M2N8P6R5T3W1Z"]}`, "", "m"},
		{"CreateAdjustment", sendContentType | sendIdempotencyKey, "application/json", `{"reason":"received","reference":"PO-7","note":"n","lines":[{"itemId":"$ITEM","locationId":"$LOC","delta":10},{"itemId":"$ITEM","locationId":"default","delta":-1}]}`, "", "adj"},
		{"CreateAdjustment", sendContentType, "application/json", `{"reason":"received","lines":[{"itemId":"$ITEM","locationId":"default","delta":-9223372036854775808}]}`, "", ""},
		{"CreateCount", sendContentType | sendIdempotencyKey, "application/json", `{"itemId":"$ITEM","locationId":"default","counted":4,"expected":5}`, "", "c"},
		{"CreateTransfer", sendContentType | sendIdempotencyKey, "application/json", `{"itemId":"$ITEM","fromLocationId":"default","toLocationId":"$LOC","quantity":2,"note":"t"}`, "", "t"},
		{"RequestExport", sendContentType | sendIdempotencyKey, "application/json", `{"filters":{"tag":"blue","lowStock":false,"minQuantity":0,"maxQuantity":null,"sort":"-updatedAt"},"include":["stock","groups"],"bom":true}`, "", "e"},
		{"RequestExport", sendContentType, "application/json", `{"filters":{"q":"seed","groupId":"$GROUP","locationId":"$LOC"}}`, "", ""},
		{"RequestExport", 0, "", ``, "", ""},
		{"RequestImport", sendContentType | sendIdempotencyKey, "application/json", `{"dryRun":true}`, "", "i"},
		{"CreateItem", sendContentType, "text/plain", `{"sku":"A"}`, "", ""},
	} {
		i := slices.IndexFunc(writeRoutes, func(r struct{ function, path string }) bool { return r.function == s.function })
		f.Add(uint8(i), s.flags, s.ct, []byte(s.body), s.ifMatch, s.ik)
	}
	functions := make([]string, len(writeRoutes))
	for i, r := range writeRoutes {
		functions[i] = r.function
	}
	codes := stableCodes(f)
	claims := map[string]string{"sub": "fuzz", "email": "fuzz@example.com", DefaultRolesClaim: "[admin]"}
	f.Fuzz(func(t *testing.T, route, flags uint8, contentType string, body []byte, ifMatch, key string) {
		if len(body) > MaxBodyBytes+1 {
			return // a larger body is refused as this one is (413)
		}
		w := newFuzzWorld(t, functions...)
		r := writeRoutes[int(route)%len(writeRoutes)]
		path, text := w.replacer.Replace(r.path), w.replacer.Replace(string(body))
		headers := map[string]string{}
		if flags&sendContentType != 0 {
			headers["content-type"] = contentType
		}
		if flags&sendIfMatch != 0 {
			headers["if-match"] = ifMatch
		}
		if flags&sendIdempotencyKey != 0 {
			headers["idempotency-key"] = key
		}
		what := fmt.Sprintf("%s %s %v %q", r.function, path, headers, text)
		var resp events.APIGatewayV2HTTPResponse
		handlerBound.Check(t, what, len(text)+len(contentType)+len(ifMatch)+len(key), func() {
			resp = w.send(t, r.function, path, headers, text, claims)
		})
		checkResponse(t, codes, what, resp)
		if rt, _ := RouteFor(r.function); flags&sendIdempotencyKey == 0 || resp.StatusCode >= 300 || rt.Method == "PATCH" {
			return
		}
		again := w.send(t, r.function, path, headers, text, claims)
		if again.StatusCode != resp.StatusCode || again.Body != resp.Body || again.Headers["Idempotent-Replayed"] != "true" {
			t.Fatalf("%s: %d %s, sent again %d %v %s; want the same answer, replayed", what, resp.StatusCode, resp.Body,
				again.StatusCode, again.Headers, again.Body)
		}
	})
}
