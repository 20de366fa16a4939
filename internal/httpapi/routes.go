package httpapi

import "strings"

// Role is the least role a caller needs for a route. Roles are ordered:
// viewer < editor < admin. RolePublic routes need no token at all.
type Role string

const (
	RolePublic Role = "public"
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
)

// Route is one API operation: one HTTP route, one Lambda function.
// The table below is the single declaration every other artefact
// (template.yaml, openapi.yaml, events/, the local gateway) is checked against.
type Route struct {
	Function string // SAM logical id of the function, e.g. "CreateItem"
	Method   string // HTTP method
	Path     string // API Gateway route path, e.g. "/items/{id}"
	Role     Role   // least role needed
}

// RouteKey is the API Gateway route key, e.g. "GET /items/{id}".
func (r Route) RouteKey() string { return r.Method + " " + r.Path }

// Dir is the folder of the function's main package under functions/.
func (r Route) Dir() string { return kebab(r.Function) }

// Routes is the route table.
var Routes = []Route{
	{Function: "Health", Method: "GET", Path: "/health", Role: RolePublic},
	{Function: "GetOpenAPI", Method: "GET", Path: "/openapi.yaml", Role: RolePublic},
	{Function: "CreateItem", Method: "POST", Path: "/items", Role: RoleEditor},
	{Function: "ListItems", Method: "GET", Path: "/items", Role: RoleViewer},
	{Function: "GetItem", Method: "GET", Path: "/items/{id}", Role: RoleViewer},
	{Function: "UpdateItem", Method: "PATCH", Path: "/items/{id}", Role: RoleEditor},
	{Function: "DeleteItem", Method: "DELETE", Path: "/items/{id}", Role: RoleEditor},
	{Function: "ListDeletedItems", Method: "GET", Path: "/deleted-items", Role: RoleViewer},
	{Function: "RestoreItem", Method: "POST", Path: "/items/{id}/restore", Role: RoleEditor},
	{Function: "ListItemHistory", Method: "GET", Path: "/items/{id}/history", Role: RoleViewer},
	{Function: "CreateImageUpload", Method: "POST", Path: "/items/{id}/image-uploads", Role: RoleEditor},
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

func kebab(s string) string {
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
