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

	"github.com/depot-inventory/depot/internal/httpapi"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

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
		for _, name := range []string{"TABLE_NAME", "BUCKET_NAME", "LOG_LEVEL"} {
			if fn.Env[name] == "" {
				t.Errorf("%s: environment variable %s is not set", id, name)
			}
		}
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

	// Other event files may only belong to functions without routes, such
	// as S3-triggered ones.
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range httpapi.Routes {
		known[r.Dir()] = true
	}
	for id, fn := range tmpl.Functions {
		if len(fn.S3Events) > 0 {
			known[functionDir(id)] = true
		}
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !known[name] {
			t.Errorf("events/%s.json matches no route and no S3-triggered function", name)
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

// wantActions are the IAM actions each function needs, and nothing more.
// TransactWriteItems is authorised per item action it contains.
var wantActions = map[string][]string{
	"Health":           nil,
	"GetOpenAPI":       nil,
	"CreateItem":       {"dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	"ListItems":        {"dynamodb:Query"},
	"GetItem":          {"dynamodb:GetItem"},
	"UpdateItem":       {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	"DeleteItem":       {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	"ListDeletedItems": {"dynamodb:Query"},
	"RestoreItem":      {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	"ListItemHistory":  {"dynamodb:GetItem", "dynamodb:Query"},
}

func TestLeastPrivilege(t *testing.T) {
	tmpl := repoTemplate(t)

	for _, id := range slices.Sorted(maps.Keys(tmpl.Functions)) {
		fn := tmpl.Functions[id]
		want, ok := wantActions[id]
		if !ok {
			t.Errorf("%s: no expected IAM actions declared in wantActions", id)
		}
		if !slices.Equal(fn.PolicyActions, want) {
			t.Errorf("%s: IAM actions\n got %v\nwant %v", id, fn.PolicyActions, want)
		}
		if len(fn.NamedPolicies) > 0 {
			t.Errorf("%s: uses named policies %v; grant explicit actions instead", id, fn.NamedPolicies)
		}
		for _, a := range fn.PolicyActions {
			if strings.Contains(a, "*") || strings.EqualFold(a, "dynamodb:Scan") {
				t.Errorf("%s: must not be allowed %q", id, a)
			}
		}
	}
	for id := range wantActions {
		if _, ok := tmpl.Functions[id]; !ok {
			t.Errorf("wantActions lists %s, which template.yaml does not declare", id)
		}
	}
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
