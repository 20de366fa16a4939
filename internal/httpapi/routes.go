package httpapi

import (
	"net/http"
	"strings"

	"github.com/depot-inventory/depot/internal/access"
)

// Role is the least role a caller needs for a route. Roles are ordered:
// viewer < editor < admin. RolePublic routes need no token at all.
type Role string

// The roles.
const (
	RolePublic Role = "public"
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
)

// Route is one API operation: one HTTP route, one Lambda function.
//
// The route table below is the single declaration of the API's operations.
// From it, go generate (internal/dev/gen) writes each function's main
// package, its sample event and its block of template.yaml, with the IAM
// policy its Grants give; tests hold openapi.yaml to it.
type Route struct {
	Function string        // SAM logical id of the function, e.g. "CreateItem"
	Method   string        // HTTP method
	Path     string        // API Gateway route path, e.g. "/items/{id}"
	Role     Role          // least role needed
	Query    []string      // the query parameters it takes; any other is invalid_parameter
	Grants   access.Grants // what the function may do to the table and the bucket
	handle   func(*api, *http.Request) (reply, error)
}

//go:generate go run ../../cmd/depot-gen -root ../..

// RouteKey is the API Gateway route key, e.g. "GET /items/{id}".
func (r Route) RouteKey() string { return r.Method + " " + r.Path }

// Dir is the folder of the function's main package under functions/, and
// the name of its sample event under events/.
func (r Route) Dir() string { return Kebab(r.Function) }

var (
	pageQuery = []string{"limit", "cursor"}
	// Item responses link the item's image with presigned GETs.
	readItem = access.Grants{access.GetItems, access.LinkThumbnails}
	// Item changes rewrite the item, its SKU marker, tag, stock, ledger
	// and activity rows, and the idempotency record, and delete released
	// markers and tag rows.
	changeItem = access.Grants{access.GetItems, access.PutItems, access.DeleteItems, access.LinkThumbnails}
)

// Routes is the route table.
var Routes = []Route{
	{Function: "Health", Method: "GET", Path: "/health", Role: RolePublic,
		handle: (*api).health},
	{Function: "GetOpenAPI", Method: "GET", Path: "/openapi.yaml", Role: RolePublic,
		handle: (*api).openAPI},
	// A new item has no image: its response links none.
	{Function: "CreateItem", Method: "POST", Path: "/items", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems},
		handle: (*api).createItem},
	{Function: "ListItems", Method: "GET", Path: "/items", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryIndexes, access.LinkThumbnails},
		handle: (*api).listItems},
	{Function: "GetItem", Method: "GET", Path: "/items/{id}", Role: RoleViewer,
		Grants: readItem,
		handle: (*api).getItem},
	{Function: "UpdateItem", Method: "PATCH", Path: "/items/{id}", Role: RoleEditor,
		Grants: changeItem,
		handle: (*api).updateItem},
	{Function: "DeleteItem", Method: "DELETE", Path: "/items/{id}", Role: RoleEditor,
		Grants: changeItem,
		handle: (*api).deleteItem},
	{Function: "ListDeletedItems", Method: "GET", Path: "/deleted-items", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryIndexes, access.LinkThumbnails},
		handle: (*api).listDeletedItems},
	{Function: "RestoreItem", Method: "POST", Path: "/items/{id}/restore", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.LinkThumbnails},
		handle: (*api).restoreItem},
	{Function: "ListItemHistory", Method: "GET", Path: "/items/{id}/history", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.GetItems, access.QueryTable},
		handle: (*api).listItemHistory},
	{Function: "ListItemActivity", Method: "GET", Path: "/items/{id}/activity", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.GetItems, access.QueryTable},
		handle: (*api).listItemActivity},
	{Function: "CreateImageUpload", Method: "POST", Path: "/items/{id}/image-uploads", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.SignUploads},
		handle: (*api).createImageUpload},
}

// RouteFor returns the route served by the named function.
func RouteFor(function string) (Route, bool) {
	for _, r := range Routes {
		if r.Function == function {
			return r, true
		}
	}
	return Route{}, false
}

// Kebab turns a function's logical id into its folder name:
// "CreateImageUpload" is "create-image-upload", "GetOpenAPI" "get-open-api".
func Kebab(s string) string {
	var b strings.Builder
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			if i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}
