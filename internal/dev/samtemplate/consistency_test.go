package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/dev/gen"
	"github.com/depot-inventory/depot/internal/dev/samtemplate"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/lambdafn/auditfn"
	"github.com/depot-inventory/depot/internal/lambdafn/exportfn"
	"github.com/depot-inventory/depot/internal/lambdafn/importfn"
	"github.com/depot-inventory/depot/internal/lambdafn/resumefn"
	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
	"github.com/depot-inventory/depot/internal/lambdafn/thumbfn"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../../.."

// The route table (httpapi.Routes) is the single declaration of the API. These
// tests check that every other artefact declares exactly the same routes:
// template.yaml, events/, openapi.yaml and functions/.

func TestTemplateMatchesRoutes(t *testing.T) {
	tmpl := repoTemplate(t)

	for _, r := range httpapi.Routes {
		fn, ok := tmpl.Functions[r.Function]
		if !ok {
			t.Errorf("route %s: template.yaml has no function %s", r.RouteKey(), r.Function)
			continue
		}
		if len(fn.HTTPRoutes) != 1 {
			t.Errorf("%s: has %d HttpApi events, want exactly 1 (%s)", r.Function, len(fn.HTTPRoutes), r.RouteKey())
			continue
		}
		got := fn.HTTPRoutes[0]
		if got.Method != r.Method || got.Path != r.Path {
			t.Errorf("%s: template route is %s %s, route table says %s", r.Function, got.Method, got.Path, r.RouteKey())
		}
		if got.APIID != "!Ref HttpApi" {
			t.Errorf("%s: event ApiId = %q, want !Ref HttpApi", r.Function, got.APIID)
		}
	}

	for id, fn := range tmpl.Functions {
		if len(fn.HTTPRoutes) == 0 {
			continue
		}
		if _, ok := httpapi.RouteFor(id); !ok {
			t.Errorf("template function %s serves %s %s, which is not in the route table",
				id, fn.HTTPRoutes[0].Method, fn.HTTPRoutes[0].Path)
		}
	}
}

func TestTemplateFunctionsHaveMains(t *testing.T) {
	for id, fn := range repoTemplate(t).Functions {
		dir := functionDir(id)
		if want := "functions/" + dir + "/"; fn.CodeURI != want {
			t.Errorf("%s: CodeUri = %q, want %q", id, fn.CodeURI, want)
		}
		if fn.BuildMethod != "go1.x" {
			t.Errorf("%s: Metadata.BuildMethod = %q, want go1.x (sam build compiles it)", id, fn.BuildMethod)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", dir, "main.go")); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		for _, name := range []string{"TABLE_NAME", "BUCKET_NAME", "LOG_LEVEL", "ROLES_CLAIM"} {
			if fn.Env[name] == "" {
				t.Errorf("%s: environment variable %s is not set", id, name)
			}
		}
	}
}

// TestRoutesRequireJWT checks that API Gateway itself turns away requests
// without a valid token on every route that is not public, and lets any
// request through to the public ones. The functions then only check roles.
func TestRoutesRequireJWT(t *testing.T) {
	for _, p := range authProblems(repoTemplate(t)) {
		t.Error(p)
	}
}

// TestAuthProblemsCatchBreakage proves authProblems fails on what it guards
// against, each case breaking a fresh parse of the real template.
func TestAuthProblemsCatchBreakage(t *testing.T) {
	defaultJWT := func(tmpl *samtemplate.Template, edit func(*samtemplate.Authorizer)) {
		api := tmpl.HTTPAPIs["HttpApi"]
		a := api.Authorizers[api.DefaultAuthorizer]
		edit(&a)
		api.Authorizers[api.DefaultAuthorizer] = a
	}
	tests := []struct {
		name   string
		mutate func(*samtemplate.Template)
		want   string
	}{
		{"public route behind the authorizer", func(tmpl *samtemplate.Template) {
			setAuthorizer(tmpl, "Health", "")
		}, "Health (GET /health, role public): public route must set Auth.Authorizer: NONE"},
		{"protected route opened", func(tmpl *samtemplate.Template) {
			setAuthorizer(tmpl, "CreateItem", "NONE")
		}, "CreateItem (POST /items, role editor): Auth.Authorizer is NONE"},
		{"protected route on another authorizer", func(tmpl *samtemplate.Template) {
			setAuthorizer(tmpl, "DeleteItem", "Other")
		}, "DeleteItem (DELETE /items/{id}, role editor): uses authorizer \"Other\""},
		{"no default authorizer", func(tmpl *samtemplate.Template) {
			api := tmpl.HTTPAPIs["HttpApi"]
			api.DefaultAuthorizer = ""
			tmpl.HTTPAPIs["HttpApi"] = api
		}, "has no DefaultAuthorizer"},
		{"default authorizer undeclared", func(tmpl *samtemplate.Template) {
			clear(tmpl.HTTPAPIs["HttpApi"].Authorizers)
		}, "is not among its Authorizers"},
		{"lambda authorizer", func(tmpl *samtemplate.Template) {
			defaultJWT(tmpl, func(a *samtemplate.Authorizer) { a.Type = samtemplate.AuthorizerLambda })
		}, "is of type REQUEST, want JWT"},
		{"no issuer", func(tmpl *samtemplate.Template) {
			defaultJWT(tmpl, func(a *samtemplate.Authorizer) { a.Issuer = "" })
		}, "has no JwtConfiguration issuer"},
		{"no audience", func(tmpl *samtemplate.Template) {
			defaultJWT(tmpl, func(a *samtemplate.Authorizer) { a.Audience = nil })
		}, "has no JwtConfiguration audience"},
		{"empty audience", func(tmpl *samtemplate.Template) {
			defaultJWT(tmpl, func(a *samtemplate.Authorizer) { a.Audience = []string{""} })
		}, "has an empty audience"},
		{"token from elsewhere", func(tmpl *samtemplate.Template) {
			defaultJWT(tmpl, func(a *samtemplate.Authorizer) { a.IdentitySource = "$request.querystring.token" })
		}, "IdentitySource is \"$request.querystring.token\""},
		{"scopes", func(tmpl *samtemplate.Template) {
			defaultJWT(tmpl, func(a *samtemplate.Authorizer) { a.AuthorizationScopes = []string{"depot/read"} })
		}, "requires scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := repoTemplate(t)
			tt.mutate(tmpl)
			problems := authProblems(tmpl)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q\nwant one containing %q", problems, tt.want)
			}
		})
	}
}

func setAuthorizer(tmpl *samtemplate.Template, function, authorizer string) {
	fn := tmpl.Functions[function]
	fn.HTTPRoutes = slices.Clone(fn.HTTPRoutes)
	fn.HTTPRoutes[0].Authorizer = authorizer
	tmpl.Functions[function] = fn
}

// authProblems lists how the template's routes fail the route table's roles:
// public routes must opt out of authorization (Auth.Authorizer: NONE); every
// other route must use its API's DefaultAuthorizer, which must be a JWT
// authorizer reading the Authorization header with an issuer and an
// audience, and requiring no scopes (clients send ID tokens, which have none).
func authProblems(tmpl *samtemplate.Template) []string {
	var out []string
	for _, r := range httpapi.Routes {
		fn, ok := tmpl.Functions[r.Function]
		if !ok {
			continue // reported by TestTemplateMatchesRoutes
		}
		for _, ev := range fn.HTTPRoutes {
			where := fmt.Sprintf("%s (%s, role %s)", r.Function, r.RouteKey(), r.Role)
			report := func(format string, args ...any) {
				out = append(out, where+": "+fmt.Sprintf(format, args...))
			}
			if r.Role == httpapi.RolePublic {
				if ev.Authorizer != "NONE" {
					report("public route must set Auth.Authorizer: NONE, has %q", ev.Authorizer)
				}
				continue
			}
			if ev.Authorizer == "NONE" {
				report("Auth.Authorizer is NONE, so anyone may call it")
				continue
			}
			if len(ev.AuthorizationScopes) > 0 {
				report("requires scopes %v, which ID tokens do not carry", ev.AuthorizationScopes)
			}
			apiID, _ := strings.CutPrefix(ev.APIID, "!Ref ")
			api, ok := tmpl.HTTPAPIs[apiID]
			if !ok {
				report("ApiId %q is no HttpApi of the template", ev.APIID)
				continue
			}
			if api.DefaultAuthorizer == "" {
				report("HttpApi %s has no DefaultAuthorizer", api.LogicalID)
				continue
			}
			if ev.Authorizer != "" && ev.Authorizer != api.DefaultAuthorizer {
				report("uses authorizer %q, want the API's default %q", ev.Authorizer, api.DefaultAuthorizer)
				continue
			}
			a, ok := api.Authorizers[api.DefaultAuthorizer]
			if !ok {
				report("HttpApi %s's DefaultAuthorizer %q is not among its Authorizers", api.LogicalID, api.DefaultAuthorizer)
				continue
			}
			for _, p := range jwtProblems(a) {
				report("authorizer %s %s", a.Name, p)
			}
		}
	}
	return out
}

func jwtProblems(a samtemplate.Authorizer) []string {
	var out []string
	if a.Type != samtemplate.AuthorizerJWT {
		out = append(out, fmt.Sprintf("is of type %s, want JWT", a.Type))
	}
	if a.IdentitySource != "$request.header.Authorization" {
		out = append(out, fmt.Sprintf("IdentitySource is %q, want $request.header.Authorization", a.IdentitySource))
	}
	if a.Issuer == "" {
		out = append(out, "has no JwtConfiguration issuer")
	}
	if len(a.Audience) == 0 {
		out = append(out, "has no JwtConfiguration audience")
	}
	if slices.Contains(a.Audience, "") {
		out = append(out, "has an empty audience")
	}
	if len(a.AuthorizationScopes) > 0 {
		out = append(out, fmt.Sprintf("requires scopes %v, which ID tokens do not carry", a.AuthorizationScopes))
	}
	return out
}

// TestIdentityOutputs checks that the Issuer output is the issuer the
// authorizer trusts, and that the Cognito outputs exist only with the pool.
func TestIdentityOutputs(t *testing.T) {
	tmpl := repoTemplate(t)
	api := tmpl.HTTPAPIs["HttpApi"]
	a := api.Authorizers[api.DefaultAuthorizer]
	if got := tmpl.Outputs["Issuer"]; got.Value == "" || got.Value != a.Issuer || got.Condition != "" {
		t.Errorf("Issuer output = %+v, want unconditional value %q (the authorizer's issuer)", got, a.Issuer)
	}
	for _, id := range []string{"UserPoolId", "UserPoolClientId"} {
		if got := tmpl.Outputs[id]; got.Value == "" || got.Condition != "UseCognito" {
			t.Errorf("%s output = %+v, want a value under Condition UseCognito", id, got)
		}
	}
	if got := tmpl.Functions["Health"].Env["ROLES_CLAIM"]; !strings.Contains(got, "!Ref RolesClaim") {
		t.Errorf("ROLES_CLAIM = %q, want it to fall back to the RolesClaim parameter", got)
	}
}

func TestEventsMatchRoutes(t *testing.T) {
	tmpl := repoTemplate(t)

	for _, r := range httpapi.Routes {
		t.Run(r.Function, func(t *testing.T) {
			ev := readEvent(t, filepath.Join(repoRoot, "events", r.Dir()+".json"))
			ctx := ev.RequestContext
			if ev.Version != "2.0" {
				t.Errorf("version = %q, want 2.0", ev.Version)
			}
			if ev.RouteKey != r.RouteKey() || ctx.RouteKey != r.RouteKey() {
				t.Errorf("routeKey = %q, requestContext.routeKey = %q, want %q", ev.RouteKey, ctx.RouteKey, r.RouteKey())
			}
			if ctx.HTTP.Method != r.Method {
				t.Errorf("requestContext.http.method = %q, want %q", ctx.HTTP.Method, r.Method)
			}
			want, err := expandPath(r.Path, ev.PathParameters)
			if err != nil {
				t.Fatal(err)
			}
			if ev.RawPath != want || ctx.HTTP.Path != want {
				t.Errorf("rawPath = %q, requestContext.http.path = %q, want %q", ev.RawPath, ctx.HTTP.Path, want)
			}
		})
	}

	// Other event files may only belong to functions without routes: those
	// S3 or a custom resource invokes.
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range httpapi.Routes {
		known[r.Dir()] = true
	}
	for id, fn := range tmpl.Functions {
		if len(fn.S3Events) > 0 || len(fn.SQSEvents) > 0 || len(fn.ScheduleEvents) > 0 {
			known[functionDir(id)] = true
		}
	}
	for id := range customResourceFunctions(t) {
		known[functionDir(id)] = true
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !known[name] {
			t.Errorf("events/%s.json matches no route, no S3- or SQS-triggered function and no custom resource's function", name)
		}
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "openapi.yaml"))
	if err != nil {
		t.Fatalf("read openapi.yaml: %v", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if doc.Paths == nil {
		t.Fatal("openapi.yaml has no paths")
	}

	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var routed []string
	for _, r := range httpapi.Routes {
		routed = append(routed, r.RouteKey())
	}
	slices.Sort(documented)
	slices.Sort(routed)
	for _, k := range missing(routed, documented) {
		t.Errorf("openapi.yaml does not document route %s", k)
	}
	for _, k := range missing(documented, routed) {
		t.Errorf("openapi.yaml documents %s, which is not in the route table", k)
	}
}

// declaredGrants are the grants each function of the template declares:
// the route table's for the API functions, thumbfn's for MakeThumbnails,
// seedfn's for SeedDefaultLocation.
func declaredGrants() map[string]access.Grants {
	out := map[string]access.Grants{thumbfn.Function: thumbfn.Grants, seedfn.Function: seedfn.Grants,
		exportfn.Function: exportfn.Grants, importfn.Function: importfn.Grants, auditfn.Function: auditfn.Grants,
		resumefn.Function: resumefn.Grants}
	for _, r := range httpapi.Routes {
		out[r.Function] = r.Grants
	}
	return out
}

// TestPoliciesAreTheDeclaredGrants: every function's policy in
// template.yaml allows exactly the actions on exactly the resources its
// grants declare (gen.PolicyOf writes them for the API functions;
// MakeThumbnails' and SeedDefaultLocation's are written by hand) — no wildcard, no other resource, no
// named policy. The integration suite checks that what each function does
// is what it declares.
func TestPoliciesAreTheDeclaredGrants(t *testing.T) {
	tmpl := repoTemplate(t)
	declared := declaredGrants()
	for _, id := range slices.Sorted(maps.Keys(tmpl.Functions)) {
		fn := tmpl.Functions[id]
		grants, ok := declared[id]
		if !ok {
			t.Errorf("%s: template.yaml declares a function whose grants nobody declares", id)
			continue
		}
		var want []samtemplate.Grant
		for _, st := range gen.PolicyOf(grants) {
			for _, a := range st.Actions {
				want = append(want, samtemplate.Grant{Action: a, Resource: st.Resource})
			}
		}
		got := slices.Clone(fn.Grants)
		sortGrants(got)
		sortGrants(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: policy allows\n%v\nwant\n%v", id, got, want)
		}
		if len(fn.NamedPolicies) > 0 {
			t.Errorf("%s: uses named policies %v; grant explicit actions instead", id, fn.NamedPolicies)
		}
	}
	for id := range declared {
		if _, ok := tmpl.Functions[id]; !ok {
			t.Errorf("%s declares grants, but template.yaml has no such function", id)
		}
	}
}

func sortGrants(gs []samtemplate.Grant) {
	slices.SortFunc(gs, func(a, b samtemplate.Grant) int {
		return strings.Compare(a.Action+" "+a.Resource, b.Action+" "+b.Resource)
	})
}

// functionDir is the folder under functions/ of the function with the given
// logical id.
func functionDir(logicalID string) string {
	return httpapi.Route{Function: logicalID}.Dir()
}

func readEvent(t *testing.T, path string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return ev
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// expandPath fills a route path's {parameters} from params, which must hold
// exactly the path's parameters.
func expandPath(path string, params map[string]string) (string, error) {
	names := pathParam.FindAllStringSubmatch(path, -1)
	if len(names) != len(params) {
		return "", fmt.Errorf("pathParameters %v do not match the parameters of %s", params, path)
	}
	for _, m := range names {
		v := params[m[1]]
		if v == "" {
			return "", fmt.Errorf("pathParameters %v lack %s of %s", params, m[1], path)
		}
		path = strings.ReplaceAll(path, m[0], v)
	}
	return path, nil
}

// missing returns the elements of want that are not in got; both sorted.
func missing(want, got []string) []string {
	var out []string
	for _, w := range want {
		if _, found := slices.BinarySearch(got, w); !found {
			out = append(out, w)
		}
	}
	return out
}
