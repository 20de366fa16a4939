package apitest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	depot "github.com/depot-inventory/depot"
)

const validItem = `{
	"id": "01JDQ3ZK7X9V4M2N8P6R5T3W1Y",
	"sku": "BOLT-M8-40",
	"name": "Hex bolt M8 x 40",
	"description": "",
	"quantity": 120,
	"available": 120,
	"tags": ["fasteners", "metric"],
	"reorderPoint": null,
	"createdAt": "2024-11-25T09:30:00.000Z",
	"createdBy": "alice@example.com",
	"updatedAt": "2024-11-25T09:30:00.000Z",
	"updatedBy": "alice@example.com",
	"version": 1
}`

const deletedItem = `{
	"id": "01JDQ3ZK7X9V4M2N8P6R5T3W1Y",
	"sku": "BOLT-M8-40",
	"name": "Hex bolt M8 x 40",
	"description": "Zinc plated",
	"quantity": 0,
	"available": 0,
	"tags": [],
	"reorderPoint": 5,
	"createdAt": "2024-11-25T09:30:00.000Z",
	"createdBy": "alice@example.com",
	"updatedAt": "2024-11-26T14:05:12.345Z",
	"updatedBy": "bob@example.com",
	"version": 2,
	"deleted": {"at": "2024-11-26T14:05:12.345Z", "by": "bob@example.com", "comment": "gone"}
}`

// itemMissingSKU is validItem without "sku".
const itemMissingSKU = `{
	"id": "01JDQ3ZK7X9V4M2N8P6R5T3W1Y",
	"name": "Hex bolt M8 x 40",
	"description": "",
	"quantity": 120,
	"available": 120,
	"tags": [],
	"reorderPoint": null,
	"createdAt": "2024-11-25T09:30:00.000Z",
	"createdBy": "alice@example.com",
	"updatedAt": "2024-11-25T09:30:00.000Z",
	"updatedBy": "alice@example.com",
	"version": 1
}`

// itemExtraField is validItem with an undeclared "colour".
const itemExtraField = `{
	"id": "01JDQ3ZK7X9V4M2N8P6R5T3W1Y",
	"sku": "BOLT-M8-40",
	"name": "Hex bolt M8 x 40",
	"description": "",
	"quantity": 120,
	"available": 120,
	"tags": [],
	"reorderPoint": 10,
	"createdAt": "2024-11-25T09:30:00.000Z",
	"createdBy": "alice@example.com",
	"updatedAt": "2024-11-25T09:30:00.000Z",
	"updatedBy": "alice@example.com",
	"version": 1,
	"colour": "blue"
}`

const notFound = `{
	"type": "https://depot.example/problems/item_not_found",
	"title": "Item not found",
	"status": 404,
	"detail": "no item 01JDQ3ZK7X9V4M2N8P6R5T3W1Y",
	"code": "item_not_found"
}`

// notFoundWithoutCode is notFound without "code".
const notFoundWithoutCode = `{
	"type": "https://depot.example/problems/item_not_found",
	"title": "Item not found",
	"status": 404,
	"detail": "no item 01JDQ3ZK7X9V4M2N8P6R5T3W1Y"
}`

const validationFailed = `{
	"type": "https://depot.example/problems/validation_failed",
	"title": "Validation failed",
	"status": 400,
	"detail": "the request body has invalid fields",
	"code": "validation_failed",
	"errors": [{"field": "/sku", "code": "pattern", "message": "sku must be 1 to 64 characters"}]
}`

var (
	jsonHeader    = http.Header{"Content-Type": {"application/json"}}
	problemHeader = http.Header{"Content-Type": {"application/problem+json"}}
)

func itemHeader(etag string) http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Etag": {etag}}
}

func TestValidateResponse(t *testing.T) {
	v := Must(t)
	const id = "01JDQ3ZK7X9V4M2N8P6R5T3W1Y"
	get := httptest.NewRequest(http.MethodGet, "/items/"+id, nil)
	created := http.Header{
		"Content-Type": {"application/json"},
		"Location":     {"/items/" + id},
		"Etag":         {`"1"`},
	}
	cases := []struct {
		name    string
		req     *http.Request
		status  int
		header  http.Header
		body    string
		wantErr string // "" when the response is valid; else a part of the error
	}{
		{"valid item", get, 200, itemHeader(`"1"`), validItem, ""},
		{"valid item, content type with charset", get, 200,
			http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Etag": {`"1"`}}, validItem, ""},
		{"item missing sku", get, 200, itemHeader(`"1"`), itemMissingSKU, "sku"},
		{"item with extra field", get, 200, itemHeader(`"1"`), itemExtraField, "colour"},
		{"item with reorderPoint a string", get, 200, itemHeader(`"1"`),
			strings.Replace(validItem, `"reorderPoint": null`, `"reorderPoint": "5"`, 1), "reorderPoint"},
		{"item with bad createdAt", get, 200, itemHeader(`"1"`),
			strings.Replace(validItem, `"2024-11-25T09:30:00.000Z"`, `"yesterday"`, 1), "createdAt"},
		{"item without ETag", get, 200, jsonHeader, validItem, "ETag"},
		{"item with unquoted ETag", get, 200, itemHeader(`1`), validItem, "ETag"},
		{"undeclared status", get, 418, problemHeader, notFound, "not declared"},
		{"undeclared 304", get, 304, nil, "", "not declared"},
		{"problem", get, 404, problemHeader, notFound, ""},
		{"problem without code", get, 404, problemHeader, notFoundWithoutCode, "code"},
		{"problem with code of another status", get, 404, problemHeader,
			strings.ReplaceAll(notFound, "item_not_found", "sku_conflict"), "code"},
		{"problem with status unlike the response's", get, 404, problemHeader,
			strings.Replace(notFound, `"status": 404`, `"status": 400`, 1), "status"},
		{"problem as application/json", get, 404, jsonHeader, notFound, "Content-Type"},
		{"gateway 401", get, 401, jsonHeader, `{"message":"Unauthorized"}`, ""},
		{"deleted item", httptest.NewRequest(http.MethodDelete, "/items/"+id, nil), 200, jsonHeader, deletedItem, ""},
		{"created", httptest.NewRequest(http.MethodPost, "/items", nil), 201, created, validItem, ""},
		{"created without Location", httptest.NewRequest(http.MethodPost, "/items", nil), 201,
			itemHeader(`"1"`), validItem, "Location"},
		{"validation failed", httptest.NewRequest(http.MethodPost, "/items", nil), 400, problemHeader, validationFailed, ""},
		{"validation failed without errors", httptest.NewRequest(http.MethodPost, "/items", nil), 400, problemHeader,
			`{"type": "https://depot.example/problems/validation_failed", "title": "Validation failed",
			"status": 400, "code": "validation_failed"}`, "errors"},
		{"item page", httptest.NewRequest(http.MethodGet, "/items?limit=10", nil), 200, jsonHeader,
			`{"items": [` + validItem + `], "nextCursor": null, "budgetExhausted": false}`, ""},
		{"item page without nextCursor", httptest.NewRequest(http.MethodGet, "/items", nil), 200, jsonHeader,
			`{"items": [], "budgetExhausted": false}`, "nextCursor"},
		{"item page without budgetExhausted", httptest.NewRequest(http.MethodGet, "/items", nil), 200, jsonHeader,
			`{"items": [], "nextCursor": null}`, "budgetExhausted"},
		{"ledger page", httptest.NewRequest(http.MethodGet, "/items/"+id+"/history", nil), 200, jsonHeader,
			`{"entries": [{"id": "01JDSB2M4Q8W6E3R7T5Y9V1H0P", "itemId": "` + id + `", "locationId": "default",
			"delta": -3, "onHandAfter": 7, "reason": "quantity_set", "reference": null, "note": null,
			"actor": "bob@example.com", "at": "2024-11-26T10:00:00.000Z"}], "nextCursor": "abc"}`, ""},
		{"deleted item replayed", httptest.NewRequest(http.MethodDelete, "/items/"+id, nil), 200,
			http.Header{"Content-Type": {"application/json"}, "Idempotent-Replayed": {"true"}}, deletedItem, ""},
		{"Idempotent-Replayed not true", httptest.NewRequest(http.MethodDelete, "/items/"+id, nil), 200,
			http.Header{"Content-Type": {"application/json"}, "Idempotent-Replayed": {"false"}}, deletedItem, "Idempotent-Replayed"},
		{"deletion without by", httptest.NewRequest(http.MethodDelete, "/items/"+id, nil), 200, jsonHeader,
			strings.Replace(deletedItem, `"by": "bob@example.com", `, "", 1), "by"},
		{"item page with an item missing sku", httptest.NewRequest(http.MethodGet, "/deleted-items", nil), 200, jsonHeader,
			`{"items": [` + itemMissingSKU + `], "nextCursor": "abc"}`, "sku"},
		{"health down", httptest.NewRequest(http.MethodGet, "/health", nil), 200, jsonHeader, `{"status":"down"}`, "status"},
		{"health", httptest.NewRequest(http.MethodGet, "/health", nil), 200, jsonHeader, `{"status":"ok"}`, ""},
		{"health on another host", httptest.NewRequest(http.MethodGet, "https://abc.execute-api.eu-west-1.amazonaws.com/health", nil),
			200, jsonHeader, `{"status":"ok"}`, ""},
		{"unknown path", httptest.NewRequest(http.MethodGet, "/nope", nil), 200, jsonHeader, `{}`, "no such operation"},
		{"unknown method", httptest.NewRequest(http.MethodPut, "/items", nil), 200, jsonHeader, `{}`, "no such operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.ValidateResponse(c.req, c.status, c.header, []byte(c.body))
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("valid response rejected: %v", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("invalid response accepted")
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("error does not mention %q: %v", c.wantErr, err)
			}
		})
	}
}

// TestServedDocument checks the document as GET /openapi.yaml serves it.
func TestServedDocument(t *testing.T) {
	v := Must(t)
	req := httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil)
	if err := v.ValidateResponse(req, 200, http.Header{"Content-Type": {"application/yaml"}}, depot.OpenAPIYAML); err != nil {
		t.Error(err)
	}
}

func TestValidateRequest(t *testing.T) {
	v := Must(t)
	post := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/items", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	if err := v.ValidateRequest(post(""), []byte(`{"sku":"A-1","name":"A"}`)); err != nil {
		t.Errorf("valid create rejected: %v", err)
	}
	if err := v.ValidateRequest(post(""), []byte(`{"sku":"A-1","name":"A","id":"x"}`)); err == nil {
		t.Error("create with unknown field accepted")
	}
	patch := httptest.NewRequest(http.MethodPatch, "/items/01JDQ3ZK7X9V4M2N8P6R5T3W1Y", nil)
	patch.Header.Set("Content-Type", "application/merge-patch+json")
	patch.Header.Set("If-Match", `"3"`)
	if err := v.ValidateRequest(patch, []byte(`{"reorderPoint":null,"description":null}`)); err != nil {
		t.Errorf("valid patch rejected: %v", err)
	}
	list := httptest.NewRequest(http.MethodGet, "/items?limit=101", nil)
	if err := v.ValidateRequest(list, nil); err == nil {
		t.Error("limit=101 accepted")
	}
}

func TestNewValidatorLoadsOnce(t *testing.T) {
	a, err := NewValidator(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewValidator(slices.Clone(depot.OpenAPIYAML))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("the same document was loaded twice")
	}
	if _, err := NewValidator([]byte("openapi: 3.1.0\n")); err == nil {
		t.Error("a document without info was accepted")
	}
}

func TestPaths(t *testing.T) {
	got := Must(t).Paths()
	want := map[string][]string{
		"/health":             {"GET"},
		"/openapi.yaml":       {"GET"},
		"/items":              {"GET", "POST"},
		"/items/{id}":         {"DELETE", "GET", "PATCH"},
		"/deleted-items":      {"GET"},
		"/items/{id}/restore": {"POST"},
		"/items/{id}/history": {"GET"},
	}
	for path, methods := range want {
		if !slices.Equal(got[path], methods) {
			t.Errorf("%s: methods %v, want %v", path, got[path], methods)
		}
	}
}

// TestOperationIDs checks that each operation is named after the function
// that serves it (httpapi.Routes' Function).
func TestOperationIDs(t *testing.T) {
	v := Must(t)
	for _, r := range []struct{ function, method, path string }{
		{"Health", "GET", "/health"},
		{"GetOpenAPI", "GET", "/openapi.yaml"},
		{"CreateItem", "POST", "/items"},
		{"ListItems", "GET", "/items"},
		{"GetItem", "GET", "/items/{id}"},
		{"UpdateItem", "PATCH", "/items/{id}"},
		{"DeleteItem", "DELETE", "/items/{id}"},
		{"ListDeletedItems", "GET", "/deleted-items"},
		{"RestoreItem", "POST", "/items/{id}/restore"},
		{"ListItemHistory", "GET", "/items/{id}/history"},
	} {
		op := v.Operation(r.method, r.path)
		if op == nil || op.OperationID != r.function {
			t.Errorf("%s %s: operation %+v, want operationId %s", r.method, r.path, op, r.function)
		}
	}
}
