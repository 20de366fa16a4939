package httpapi

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func TestParseRoles(t *testing.T) {
	cases := map[string][]Role{
		"[editor admin]":       {RoleEditor, RoleAdmin},
		"[viewer]":             {RoleViewer},
		"editor,viewer":        {RoleEditor, RoleViewer},
		`["admin", "viewer"]`:  {RoleAdmin, RoleViewer},
		"":                     nil,
		"[]":                   nil,
		" [ editor ,  admin ]": {RoleEditor, RoleAdmin},
	}
	for in, want := range cases {
		if got := parseRoles(in); !reflect.DeepEqual(got, want) {
			t.Errorf("parseRoles(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCallerHas(t *testing.T) {
	cases := []struct {
		roles []Role
		need  Role
		want  bool
	}{
		{nil, RolePublic, true},
		{nil, RoleViewer, false},
		{[]Role{RoleViewer}, RoleViewer, true},
		{[]Role{RoleViewer}, RoleEditor, false},
		{[]Role{RoleEditor}, RoleViewer, true},
		{[]Role{RoleEditor}, RoleAdmin, false},
		{[]Role{RoleAdmin}, RoleEditor, true},
		{[]Role{"superuser"}, RoleViewer, false},
		{[]Role{"superuser", RoleViewer}, RoleViewer, true},
	}
	for _, c := range cases {
		if got := (Caller{Roles: c.roles}).Has(c.need); got != c.want {
			t.Errorf("%v has %s = %v, want %v", c.roles, c.need, got, c.want)
		}
	}
}

// TestEveryRouteChecksItsRole runs each function's handler through the
// Lambda adapter with no claims, with a role too low, and with the role the
// route table declares.
func TestEveryRouteChecksItsRole(t *testing.T) {
	below := map[Role]Role{RoleViewer: "", RoleEditor: RoleViewer, RoleAdmin: RoleEditor}
	for _, route := range Routes {
		t.Run(route.Function, func(t *testing.T) {
			h, err := NewHandler(route.Function, Deps{OpenAPI: []byte("openapi: 3.1.0\n")})
			if err != nil {
				t.Fatal(err)
			}
			invoke := func(claims map[string]string) int {
				ev := events.APIGatewayV2HTTPRequest{
					RawPath: pathOf(route),
					RequestContext: events.APIGatewayV2HTTPRequestContext{
						HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: route.Method, Path: pathOf(route)},
					},
				}
				if claims != nil {
					ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
						JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
				}
				resp, err := httpadapter.NewV2(h).ProxyWithContext(context.Background(), ev)
				if err != nil {
					t.Fatal(err)
				}
				return resp.StatusCode
			}
			if route.Role == RolePublic {
				if got := invoke(nil); got != http.StatusOK {
					t.Fatalf("public route without claims: %d", got)
				}
				return
			}
			if got := invoke(nil); got != http.StatusUnauthorized {
				t.Errorf("no claims: %d, want 401", got)
			}
			if got := invoke(map[string]string{"email": "a@example.com", "cognito:groups": "[" + string(below[route.Role]) + "]"}); got != http.StatusForbidden {
				t.Errorf("role below %s: %d, want 403", route.Role, got)
			}
			// With the role, the request reaches the operation (which then
			// fails on the nil store: a panic answered 500, not 401/403).
			if got := invoke(map[string]string{"email": "a@example.com", "cognito:groups": "[" + string(route.Role) + "]"}); got == http.StatusUnauthorized || got == http.StatusForbidden {
				t.Errorf("role %s: %d", route.Role, got)
			}
		})
	}
}

func pathOf(r Route) string {
	switch r.Path {
	case "/items/{id}":
		return "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA"
	case "/items/{id}/restore":
		return "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA/restore"
	case "/items/{id}/history":
		return "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA/history"
	}
	return r.Path
}

func TestPublicRoutesAreExactlyHealthAndSpec(t *testing.T) {
	for _, r := range Routes {
		public := r.Path == "/health" || r.Path == "/openapi.yaml"
		if (r.Role == RolePublic) != public {
			t.Errorf("%s: role %s", r.RouteKey(), r.Role)
		}
		if _, ok := roleRank[r.Role]; !ok && r.Role != RolePublic {
			t.Errorf("%s: unknown role %s", r.RouteKey(), r.Role)
		}
		// A viewer may ask for an export: it writes a job, and reads only
		// what the viewer may read.
		if r.Method != http.MethodGet && r.Role == RoleViewer && r.Function != "RequestExport" {
			t.Errorf("%s: a write open to viewers", r.RouteKey())
		}
	}
}
