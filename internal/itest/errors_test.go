package itest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestBadInputIsAProblemNeverAWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"OK-1","name":"Fine","quantity":1}`)["id"].(string)
	big := `{"sku":"BIG-1","name":"` + strings.Repeat("x", 70<<10) + `"}`
	json := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name   string
		req    req
		status int
		code   string
		field  string
	}{
		{"malformed json", req{Method: "POST", Path: "/items", Body: `{"sku":`}, 400, "malformed_json", ""},
		{"trailing data", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B"} {}`}, 400, "malformed_json", ""},
		{"not an object", req{Method: "POST", Path: "/items", Body: `[1,2]`}, 400, "invalid_type", ""},
		{"invalid UTF-8", req{Method: "POST", Path: "/items", Body: "{\"sku\":\"A\",\"name\":\"B\xff\"}"}, 400, "malformed_json", ""},
		{"duplicate member", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","sku":"C"}`}, 400, "malformed_json", ""},
		{"lone surrogate", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B\ud800"}`}, 400, "malformed_json", ""},
		{"control character", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B\u0007"}`}, 400, "validation_failed", "/name"},
		{"unknown query parameter", req{Method: "POST", Path: "/items?force=1", Body: `{"sku":"A","name":"B"}`}, 400, "invalid_parameter", "force"},
		{"21 tags with duplicates", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","tags":[` + strings.Repeat(`"t",`, 20) + `"t"]}`}, 400, "validation_failed", "/tags"},
		{"null body", req{Method: "POST", Path: "/items", Body: `null`}, 400, "invalid_type", ""},
		{"unknown field", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","colour":"red"}`}, 400, "unknown_field", "/colour"},
		{"wrong type", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","quantity":"5"}`}, 400, "invalid_type", "/quantity"},
		{"fractional quantity", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","quantity":1.5}`}, 400, "invalid_type", "/quantity"},
		{"tags not strings", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","tags":[1]}`}, 400, "invalid_type", "/tags"},
		{"missing sku", req{Method: "POST", Path: "/items", Body: `{"name":"B"}`}, 400, "validation_failed", "/sku"},
		{"bad sku", req{Method: "POST", Path: "/items", Body: `{"sku":"a b","name":"B"}`}, 400, "validation_failed", "/sku"},
		{"long sku", req{Method: "POST", Path: "/items", Body: `{"sku":"` + strings.Repeat("A", 65) + `","name":"B"}`}, 400, "validation_failed", "/sku"},
		{"blank name", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"  "}`}, 400, "validation_failed", "/name"},
		{"long name", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"` + strings.Repeat("n", 201) + `"}`}, 400, "validation_failed", "/name"},
		{"long description", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","description":"` + strings.Repeat("d", 2001) + `"}`}, 400, "validation_failed", "/description"},
		{"negative quantity", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","quantity":-1}`}, 400, "validation_failed", "/quantity"},
		{"negative reorder point", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","reorderPoint":-2}`}, 400, "validation_failed", "/reorderPoint"},
		{"too many tags", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","tags":[` + tagList(21) + `]}`}, 400, "validation_failed", "/tags"},
		{"long tag", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B","tags":["` + strings.Repeat("t", 51) + `"]}`}, 400, "validation_failed", "/tags/0"},
		{"body too large", req{Method: "POST", Path: "/items", Body: big}, 413, "body_too_large", ""},
		{"not json content type", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B"}`, Header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported_media_type", ""},
		{"no content type", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B"}`, Header: map[string]string{"Content-Type": ""}}, 415, "unsupported_media_type", ""},
		{"bad idempotency key", req{Method: "POST", Path: "/items", Body: `{"sku":"A","name":"B"}`, Header: map[string]string{"Idempotency-Key": strings.Repeat("k", 201)}}, 400, "invalid_header", ""},
		{"patch unknown field", req{Method: "PATCH", Path: "/items/" + id, Body: `{"id":"x"}`}, 400, "unknown_field", "/id"},
		{"patch null name", req{Method: "PATCH", Path: "/items/" + id, Body: `{"name":null}`}, 400, "invalid_type", "/name"},
		{"patch negative quantity", req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":-5}`}, 400, "validation_failed", "/quantity"},
		{"patch form body", req{Method: "PATCH", Path: "/items/" + id, Body: `quantity=5`, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, "unsupported_media_type", ""},
		{"delete long comment", req{Method: "DELETE", Path: "/items/" + id, Body: `{"comment":"` + strings.Repeat("c", 501) + `"}`}, 400, "validation_failed", "/comment"},
		{"delete unknown field", req{Method: "DELETE", Path: "/items/" + id, Body: `{"reason":"x"}`}, 400, "unknown_field", "/reason"},
		{"bad cursor", req{Method: "GET", Path: "/items?cursor=not-a-cursor"}, 400, "invalid_cursor", ""},
		{"cursor of another list", req{Method: "GET", Path: "/items?cursor=" + foreignCursor()}, 400, "invalid_cursor", ""},
		{"limit zero", req{Method: "GET", Path: "/items?limit=0"}, 400, "invalid_parameter", "limit"},
		{"limit too big", req{Method: "GET", Path: "/deleted-items?limit=101"}, 400, "invalid_parameter", "limit"},
		{"limit not a number", req{Method: "GET", Path: "/items/" + id + "/history?limit=ten"}, 400, "invalid_parameter", "limit"},
		{"unknown item", req{Method: "GET", Path: "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA"}, 404, "item_not_found", ""},
		{"malformed id", req{Method: "GET", Path: "/items/not-an-id"}, 404, "item_not_found", ""},
		{"patch unknown item", req{Method: "PATCH", Path: "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA", Body: `{"name":"x"}`}, 404, "item_not_found", ""},
		{"history unknown item", req{Method: "GET", Path: "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA/history"}, 404, "item_not_found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.req.Header == nil {
				c.req.Header = json
			}
			res := e.must(c.status, c.req)
			if code := res.code(t); code != c.code {
				t.Fatalf("code = %q, want %q; body %s", code, c.code, res.Body)
			}
			p := res.json(t)
			for _, f := range []string{"type", "title", "detail"} {
				if s, _ := p[f].(string); s == "" {
					t.Errorf("problem has no %s: %s", f, res.Body)
				}
			}
			if p["status"] != float64(c.status) {
				t.Errorf("problem status %v, want %d", p["status"], c.status)
			}
			if c.field != "" && !hasFieldError(p, c.field) {
				t.Errorf("no field error for %s: %s", c.field, res.Body)
			}
		})
	}
	// Nothing above wrote anything: one live item, unchanged, one ledger line.
	items := e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["version"] != 1.0 {
		t.Fatalf("bad input changed the table: %v", items)
	}
	hist := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/history"}).json(t)["entries"].([]any)
	if len(hist) != 1 {
		t.Fatalf("bad input wrote ledger lines: %v", hist)
	}
}

func tagList(n int) string {
	var tags []string
	for i := range n {
		tags = append(tags, fmt.Sprintf(`"t%d"`, i))
	}
	return strings.Join(tags, ",")
}

// foreignCursor is a well-formed cursor of the deleted-items list.
func foreignCursor() string {
	// base64url of {"GSI1PK":"ITEMS#DELETED","GSI1SK":"x","PK":"ITEM#x","SK":"ITEM"}
	return "eyJHU0kxUEsiOiJJVEVNUyNERUxFVEVEIiwiR1NJMVNLIjoieCIsIlBLIjoiSVRFTSN4IiwiU0siOiJJVEVNIn0"
}

func hasFieldError(p map[string]any, field string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			return true
		}
	}
	return false
}

func TestUnknownRouteIsGatewayNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.do(req{Method: "GET", Path: "/nowhere", NotInSpec: true})
	if res.Status != http.StatusNotFound || string(res.Body) != `{"message":"Not Found"}` {
		t.Fatalf("unknown route: %d %s", res.Status, res.Body)
	}
}
