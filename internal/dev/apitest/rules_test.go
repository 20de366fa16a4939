package apitest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/depot-inventory/depot/internal/dev/apitest"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/inventory"
)

// TestSpecStatesTheServersRules: what openapi.yaml says of each operation
// is what the server enforces — its role, its query parameters, each list's
// cursor grammar (and a valid example), the header grammars and the text
// fields' rules.
func TestSpecStatesTheServersRules(t *testing.T) {
	doc := apitest.Must(t).Doc()
	cursors := map[string]*inventory.CursorFormat{
		"ListItems": inventory.ItemsCursor, "ListDeletedItems": inventory.DeletedItemsCursor,
		"ListItemHistory": inventory.LedgerCursor, "ListItemActivity": inventory.ActivityCursor,
		"ListLocations": inventory.LocationsCursor, "ListDeletedLocations": inventory.DeletedLocationsCursor,
		"GetLocationStock": inventory.LocationStockCursor, "ListLocationHistory": inventory.LocationLedgerCursor,
		"ListGroups": inventory.GroupsCursor, "ListDeletedGroups": inventory.DeletedGroupsCursor,
		"ListExports": inventory.ExportsCursor, "ListImports": inventory.ImportsCursor,
		"ListGroupItems": inventory.ItemsCursor, "ListTags": inventory.TagsCursor,
		"ListShipments": inventory.ShipmentsCursor,
	}
	for _, r := range httpapi.Routes {
		op := doc.Paths.Find(r.Path).GetOperation(r.Method)
		if op == nil {
			t.Errorf("%s: not in openapi.yaml", r.RouteKey())
			continue
		}
		if role, _ := op.Extensions["x-depot-role"].(string); role != string(r.Role) {
			t.Errorf("%s: x-depot-role %q, the route table says %q", r.Function, role, r.Role)
		}
		var query []string
		var cursor *openapi3.Parameter
		for _, p := range op.Parameters {
			if p.Value.In == "query" {
				query = append(query, p.Value.Name)
				if p.Value.Name == "cursor" {
					cursor = p.Value
				}
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(query)), slices.Sorted(slices.Values(r.Query))) {
			t.Errorf("%s: openapi.yaml's query parameters %v, the route takes %v", r.Function, query, r.Query)
		}
		f := cursors[r.Function]
		switch {
		case f == nil && cursor != nil:
			t.Errorf("%s: a cursor the test does not know", r.Function)
		case f != nil && cursor == nil:
			t.Errorf("%s: no cursor parameter", r.Function)
		case f != nil:
			if cursor.Schema.Value.Pattern != f.Pattern() {
				t.Errorf("%s: cursor pattern %q, the server's %q", r.Function, cursor.Schema.Value.Pattern, f.Pattern())
			}
			if ex, _ := cursor.Example.(string); ex == "" {
				t.Errorf("%s: the cursor has no example", r.Function)
			} else if _, err := f.Decode(ex); err != nil {
				t.Errorf("%s: the cursor example %q is refused: %v", r.Function, ex, err)
			}
		}
	}

	params := doc.Components.Parameters
	if got := params["IdempotencyKey"].Value.Schema.Value.Pattern; got != httpapi.IdempotencyKeyPattern {
		t.Errorf("Idempotency-Key pattern %q, the server's %q", got, httpapi.IdempotencyKeyPattern)
	}
	ifMatch := params["IfMatch"].Value.Schema.Value
	if len(ifMatch.AnyOf) != 2 || ifMatch.AnyOf[1].Value.Pattern != httpapi.IfMatchPattern {
		t.Errorf("If-Match schema %+v, the server's pattern %q", ifMatch, httpapi.IfMatchPattern)
	}

	schemas := doc.Components.Schemas
	for name, want := range map[string]string{
		"Name": inventory.NonBlankTextPattern, "Tag": inventory.NonBlankTextPattern,
		"Description": inventory.TextPattern, "Sku": inventory.SKUPattern,
	} {
		if got := schemas[name].Value.Pattern; got != want {
			t.Errorf("schema %s: pattern %q, the server's %q", name, got, want)
		}
	}
	if got := schemas["CreateItem"].Value.Properties["description"].Value.Pattern; got != inventory.TextPattern {
		t.Errorf("CreateItem.description: pattern %q, the server's %q", got, inventory.TextPattern)
	}
	for _, name := range []string{"DeleteItem", "Deletion"} {
		if got := schemas[name].Value.Properties["comment"].Value.Pattern; got != inventory.TextPattern {
			t.Errorf("%s.comment: pattern %q, the server's %q", name, got, inventory.TextPattern)
		}
	}
	for _, name := range []string{"CreateItem", "PatchItem"} {
		if max := schemas[name].Value.Properties["tags"].Value.MaxItems; max == nil || *max != inventory.MaxTags {
			t.Errorf("%s.tags: maxItems %v, the server's %d", name, max, inventory.MaxTags)
		}
	}
	if got := doc.Components.Responses["Conflict"].Value.Description; got == nil || !strings.Contains(*got, "upload_expired") {
		t.Error("the Conflict response does not name upload_expired")
	}
}
