package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
)

// claimsBound: reading the claims allocates a small multiple of them.
var claimsBound = fuzzcheck.Bound{PerByte: 64, Fixed: 16 << 10}

// FuzzClaims: the caller as API Gateway's JWT authorizer hands its claims
// over, through the Lambda adapter and the role check, for each role a
// route may need. The actor is the email claim, else sub; no actor is 401
// unauthorized; a role below the route's is 403 forbidden (the rank is
// worked out here from the role names, not by Caller.Has); anything else
// reaches the operation with that actor. The roles claim means the same
// roles in each form it may take (API Gateway's "[a b]", "a,b", a JSON
// array, "a b"), and reading it allocates in proportion to it.
func FuzzClaims(f *testing.F) {
	for _, s := range [][3]string{
		{"alice@example.com", "u-1", "[editor admin]"}, {"", "u-2", "[viewer]"}, {"", "", "[admin]"},
		{"bob@example.com", "", `["admin", "viewer"]`}, {"c@example.com", "", "editor,viewer"}, {"d", "", " [ editor ,  admin ] "},
		{"e", "", "[superuser]"}, {"f", "", `[[admin]]`}, {"g", "", `"admin"`}, {"h", "", "admin]"}, {"i", "", ""},
	} {
		for need := range 4 {
			f.Add(s[0], s[1], s[2], uint8(need))
		}
	}
	needs := []Role{RolePublic, RoleViewer, RoleEditor, RoleAdmin}
	rank := map[Role]int{RoleViewer: 1, RoleEditor: 2, RoleAdmin: 3}
	codes := stableCodes(f)
	f.Fuzz(func(t *testing.T, email, sub, rolesClaim string, need uint8) {
		var roles []Role
		claimsBound.CheckWarm(t, "parseRoles", len(rolesClaim), func() { roles = parseRoles(rolesClaim) })
		var plain []string // roles with nothing the forms could mistake for punctuation
		for _, r := range roles {
			if r == "" || strings.ContainsAny(string(r), ", ") || strings.HasPrefix(string(r), `"`) || strings.HasSuffix(string(r), `"`) {
				t.Fatalf("roles claim %q gave the role %q", rolesClaim, r)
			}
			if plainRole(string(r)) {
				plain = append(plain, string(r))
			}
		}
		if len(plain) > 0 {
			var array strings.Builder
			enc := json.NewEncoder(&array)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(plain); err != nil {
				t.Fatal(err)
			}
			for _, form := range []string{"[" + strings.Join(plain, " ") + "]", strings.Join(plain, ","), array.String(), strings.Join(plain, " ")} {
				got := parseRoles(form)
				if !slices.Equal(got, toRoles(plain)) {
					t.Fatalf("roles %q written %q read back as %q", plain, form, got)
				}
			}
		}

		route := Route{Function: "Fuzz", Method: "GET", Path: "/fuzz", Role: needs[int(need)%len(needs)]}
		var reached bool
		var seen string
		h := authorized(route, DefaultRolesClaim, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached, seen = true, actor(r.Context())
			w.WriteHeader(http.StatusNoContent)
		}))
		claims := map[string]string{"email": email, "sub": sub, DefaultRolesClaim: rolesClaim}
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/fuzz", RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/fuzz"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}},
		}}
		resp, err := httpadapter.NewV2(h).ProxyWithContext(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		checkResponse(t, codes, "claims "+strings.Join([]string{email, sub, rolesClaim}, " | "), resp)
		wantActor := email
		if wantActor == "" {
			wantActor = sub
		}
		held := 0
		for _, r := range roles {
			held = max(held, rank[r])
		}
		want, wantCode := http.StatusNoContent, ""
		switch {
		case route.Role == RolePublic:
		case wantActor == "":
			want, wantCode = http.StatusUnauthorized, codeUnauthorized
		case held < rank[route.Role]:
			want, wantCode = http.StatusForbidden, codeForbidden
		}
		var p Problem
		_ = json.Unmarshal([]byte(resp.Body), &p)
		if resp.StatusCode != want || p.Code != wantCode || reached != (want == http.StatusNoContent) {
			t.Fatalf("email %q sub %q roles %q (%q) on a %s route: %d %s, want %d %s", email, sub, rolesClaim, roles,
				route.Role, resp.StatusCode, p.Code, want, wantCode)
		}
		if reached && seen != wantActor {
			t.Fatalf("email %q sub %q: the operation saw the actor %q, want %q", email, sub, seen, wantActor)
		}
	})
}

func toRoles(names []string) []Role {
	out := make([]Role, len(names))
	for i, n := range names {
		out[i] = Role(n)
	}
	return out
}

// plainRole: a role name that each form of the claim writes as it is: no
// brackets, quotes, backslashes, white space, control characters or
// characters JSON escapes.
func plainRole(r string) bool {
	return utf8.ValidString(r) && !strings.ContainsAny(r, "[]\"\\\u2028\u2029") &&
		!strings.ContainsFunc(r, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) })
}
