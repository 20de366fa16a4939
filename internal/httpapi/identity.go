package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/depot-inventory/depot/internal/inventory"
)

// DefaultRolesClaim is the claim that carries a Cognito user's groups.
const DefaultRolesClaim = "cognito:groups"

// Caller is who made a request, as API Gateway's JWT authorizer verified it.
type Caller struct {
	Actor         string // the email claim, else sub; recorded in audit fields
	Roles         []Role
	Authenticated bool // the request carried verified JWT claims
}

// callerFrom reads the caller from the API Gateway request context. This is
// the one place that reads JWT claims.
func callerFrom(ctx context.Context, rolesClaim string) Caller {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil || len(rc.Authorizer.JWT.Claims) == 0 {
		return Caller{}
	}
	claims := rc.Authorizer.JWT.Claims
	c := Caller{Actor: claims["email"], Roles: parseRoles(claims[rolesClaim])}
	if c.Actor == "" {
		c.Actor = claims["sub"]
	}
	c.Authenticated = c.Actor != ""
	return c
}

// parseRoles reads a roles claim as API Gateway flattens it ("[editor admin]"),
// or as a comma- or space-separated list, or a JSON array of strings.
func parseRoles(claim string) []Role {
	claim = strings.Trim(strings.TrimSpace(claim), "[]")
	var roles []Role
	for _, f := range strings.FieldsFunc(claim, func(r rune) bool { return r == ',' || r == ' ' }) {
		if f = strings.Trim(f, `"`); f != "" {
			roles = append(roles, Role(f))
		}
	}
	return roles
}

var roleRank = map[Role]int{RoleViewer: 1, RoleEditor: 2, RoleAdmin: 3}

// Has reports whether the caller holds need or a role above it.
func (c Caller) Has(need Role) bool {
	if need == RolePublic {
		return true
	}
	for _, r := range c.Roles {
		if roleRank[r] >= roleRank[need] && roleRank[r] > 0 {
			return true
		}
	}
	return false
}

type callerKey struct{}

// authorized lets a request through only if its caller holds the route's
// role. Claims are verified by API Gateway before a function runs, so a
// request without them on a protected route means a misconfigured API: it
// is refused (401), never served as anonymous.
func authorized(route Route, rolesClaim string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := callerFrom(r.Context(), rolesClaim)
		if route.Role != RolePublic {
			var err error
			switch {
			case !c.Authenticated:
				err = problem(inventory.KindUnauthenticated, codeUnauthorized, "this operation needs a valid bearer token")
			case !c.Has(route.Role):
				err = problem(inventory.KindForbidden, codeForbidden, "this operation needs the "+string(route.Role)+" role")
			}
			if err != nil {
				p, _ := problemOf(err, requestID(r.Context()))
				p.write(w)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

// actor is the authorized caller's name for audit fields.
func actor(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c.Actor
}

// requestID is API Gateway's id of the request, for logs and error details.
func requestID(ctx context.Context) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok {
		return rc.RequestID
	}
	return ""
}
