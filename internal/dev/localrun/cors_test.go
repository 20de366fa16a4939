package localrun

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/apifn"
)

const (
	appOrigin   = "https://app.example"
	otherOrigin = "https://evil.example"
	goodToken   = "good-token"
)

// depotCORS is template.yaml's CorsConfiguration with AllowedOrigins set to
// appOrigin (TestCORSFromTemplate checks that they agree).
func depotCORS() *CORS {
	age := 600
	return &CORS{
		AllowOrigins:  []string{appOrigin},
		AllowMethods:  []string{"GET", "POST", "PATCH", "DELETE", "OPTIONS"},
		AllowHeaders:  []string{"Authorization", "Content-Type", "If-Match", "Idempotency-Key"},
		ExposeHeaders: []string{"ETag", "Location", "Idempotent-Replayed"},
		MaxAge:        &age,
	}
}

type tokenVerifierFunc func(string) (map[string]string, error)

func (f tokenVerifierFunc) Verify(token string, _ time.Time) (map[string]string, error) {
	return f(token)
}

// corsGateway is a gateway with cors in front of two functions, which count
// their calls and answer with CORS headers of their own: Health (public)
// and ListItems (viewers; goodToken is a viewer's).
func corsGateway(t *testing.T, cors *CORS) (*Gateway, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	fn := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		calls.Add(1)
		return events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusOK,
			Headers: map[string]string{
				"Content-Type":                     "application/json",
				"ETag":                             `"v1"`,
				"access-control-allow-origin":      "*",
				"Access-Control-Allow-Methods":     "PUT",
				"Access-Control-Expose-Headers":    "X-Internal",
				"Access-Control-Allow-Credentials": "true",
			},
			MultiValueHeaders: map[string][]string{"Access-Control-Allow-Headers": {"X-Api-Key"}},
			Body:              `{}`,
		}, nil
	}
	verifier := tokenVerifierFunc(func(tok string) (map[string]string, error) {
		if tok != goodToken {
			return nil, errors.New("bad token")
		}
		return map[string]string{"sub": "s-1", "cognito:groups": "[viewer]"}, nil
	})
	handlers := map[string]apifn.Handler{"Health": fn, "ListItems": fn}
	return NewGateway(handlers, verifier, []byte(`{"keys":[]}`), slog.New(slog.DiscardHandler), WithCORS(cors)), &calls
}

type corsCase struct {
	name   string
	method string
	path   string
	header map[string]string
	status int
	cors   map[string]string // every Access-Control-* header of the answer
	calls  int32             // function invocations
}

func runCORSCases(t *testing.T, cors *CORS, tests []corsCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, calls := corsGateway(t, cors)
			req := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d; body %s", res.StatusCode, tt.status, body)
			}
			got := map[string]string{}
			for k, vs := range res.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					got[k] = strings.Join(vs, " | ")
				}
			}
			if want := tt.cors; !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("CORS headers:\n got %v\nwant %v", got, want)
			}
			if n := calls.Load(); n != tt.calls {
				t.Errorf("%d function calls, want %d", n, tt.calls)
			}
			if tt.status == http.StatusNoContent && len(body) != 0 {
				t.Errorf("preflight answer has a body: %q", body)
			}
			if tt.status == http.StatusOK && res.Header.Get("ETag") != `"v1"` {
				t.Errorf("function's ETag lost: %v", res.Header)
			}
		})
	}
}

func preflight(origin, method, headers string) map[string]string {
	h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
	if headers != "" {
		h["Access-Control-Request-Headers"] = headers
	}
	return h
}

func TestGatewayCORS(t *testing.T) {
	allowedPreflight := map[string]string{
		"Access-Control-Allow-Origin":  appOrigin,
		"Access-Control-Allow-Methods": "GET,POST,PATCH,DELETE,OPTIONS",
		"Access-Control-Allow-Headers": "Authorization,Content-Type,If-Match,Idempotency-Key",
		"Access-Control-Max-Age":       "600",
	}
	allowedActual := map[string]string{
		"Access-Control-Allow-Origin":   appOrigin,
		"Access-Control-Expose-Headers": "ETag,Location,Idempotent-Replayed",
	}
	withToken := func(h map[string]string) map[string]string {
		h = maps.Clone(h)
		h["Authorization"] = "Bearer " + goodToken
		return h
	}
	runCORSCases(t, depotCORS(), []corsCase{
		// Preflights: answered by the gateway, on any path, without a
		// token and without calling a function.
		{"preflight allowed", "OPTIONS", "/items",
			preflight(appOrigin, "POST", "authorization,content-type,idempotency-key"), 204, allowedPreflight, 0},
		{"preflight allowed, route with a parameter", "OPTIONS", "/items/I-1",
			preflight(appOrigin, "PATCH", "authorization, content-type, if-match"), 204, allowedPreflight, 0},
		{"preflight allowed, header names in any case", "OPTIONS", "/items",
			preflight(appOrigin, "GET", "AUTHORIZATION"), 204, allowedPreflight, 0},
		{"preflight allowed, no headers asked", "OPTIONS", "/health", preflight(appOrigin, "GET", ""), 204, allowedPreflight, 0},
		{"preflight allowed, path without a route", "OPTIONS", "/nowhere",
			preflight(appOrigin, "DELETE", "authorization"), 204, allowedPreflight, 0},
		{"preflight with a token it does not need", "OPTIONS", "/items",
			withToken(preflight(appOrigin, "GET", "authorization")), 204, allowedPreflight, 0},
		{"preflight from another origin", "OPTIONS", "/items", preflight(otherOrigin, "GET", "authorization"), 204, nil, 0},
		{"preflight from the origin with a trailing slash", "OPTIONS", "/items", preflight(appOrigin+"/", "GET", ""), 204, nil, 0},
		{"preflight from the origin over http", "OPTIONS", "/items", preflight("http://app.example", "GET", ""), 204, nil, 0},
		{"preflight from the origin on another port", "OPTIONS", "/items", preflight(appOrigin+":8443", "GET", ""), 204, nil, 0},
		{"preflight asking a method not allowed", "OPTIONS", "/items/I-1", preflight(appOrigin, "PUT", "authorization"), 204, nil, 0},
		{"preflight asking a method in another case", "OPTIONS", "/items/I-1", preflight(appOrigin, "patch", ""), 204, nil, 0},
		{"preflight asking a header not allowed", "OPTIONS", "/items",
			preflight(appOrigin, "GET", "authorization,x-api-key"), 204, nil, 0},
		// Not preflights: routed as any request, so answered 404 here.
		{"OPTIONS without Access-Control-Request-Method", "OPTIONS", "/items",
			map[string]string{"Origin": appOrigin}, 404, allowedActual, 0},
		{"OPTIONS without Origin", "OPTIONS", "/items",
			map[string]string{"Access-Control-Request-Method": "GET"}, 404, nil, 0},

		// Actual requests: the function's own CORS headers are dropped, the
		// configured ones added for an allowed origin only.
		{"2xx, allowed origin", "GET", "/health", map[string]string{"Origin": appOrigin}, 200, allowedActual, 1},
		{"2xx with a token, allowed origin", "GET", "/items", withToken(map[string]string{"Origin": appOrigin}), 200, allowedActual, 1},
		{"2xx, another origin", "GET", "/health", map[string]string{"Origin": otherOrigin}, 200, nil, 1},
		{"2xx, no Origin", "GET", "/health", nil, 200, nil, 1},
		{"gateway's 401, allowed origin", "GET", "/items", map[string]string{"Origin": appOrigin}, 401, allowedActual, 0},
		{"gateway's 401 for a bad token, allowed origin", "GET", "/items",
			map[string]string{"Origin": appOrigin, "Authorization": "Bearer nope"}, 401, allowedActual, 0},
		{"gateway's 401, another origin", "GET", "/items", map[string]string{"Origin": otherOrigin}, 401, nil, 0},
		{"gateway's 404, allowed origin", "GET", "/nowhere", map[string]string{"Origin": appOrigin}, 404, allowedActual, 0},
		{"gateway's 404 for a method without a route, allowed origin", "PUT", "/items",
			map[string]string{"Origin": appOrigin}, 404, allowedActual, 0},
		{"gateway's 404, another origin", "GET", "/nowhere", map[string]string{"Origin": otherOrigin}, 404, nil, 0},
	})
}

func TestGatewayCORSAnyOriginWithCredentials(t *testing.T) {
	wildcard := depotCORS()
	wildcard.AllowOrigins = []string{"*"}
	wildcard.MaxAge = nil
	runCORSCases(t, wildcard, []corsCase{
		{"preflight", "OPTIONS", "/items", preflight(otherOrigin, "GET", "authorization"), 204, map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "GET,POST,PATCH,DELETE,OPTIONS",
			"Access-Control-Allow-Headers": "Authorization,Content-Type,If-Match,Idempotency-Key",
		}, 0},
		{"2xx", "GET", "/health", map[string]string{"Origin": otherOrigin}, 200, map[string]string{
			"Access-Control-Allow-Origin":   "*",
			"Access-Control-Expose-Headers": "ETag,Location,Idempotent-Replayed",
		}, 1},
	})

	creds := depotCORS()
	creds.AllowCredentials = true
	runCORSCases(t, creds, []corsCase{
		{"credentials, preflight", "OPTIONS", "/items", preflight(appOrigin, "GET", ""), 204, map[string]string{
			"Access-Control-Allow-Origin":      appOrigin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET,POST,PATCH,DELETE,OPTIONS",
			"Access-Control-Allow-Headers":     "Authorization,Content-Type,If-Match,Idempotency-Key",
			"Access-Control-Max-Age":           "600",
		}, 0},
		{"credentials, 401", "GET", "/items", map[string]string{"Origin": appOrigin}, 401, map[string]string{
			"Access-Control-Allow-Origin":      appOrigin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers":    "ETag,Location,Idempotent-Replayed",
		}, 0},
		{"credentials, another origin", "GET", "/health", map[string]string{"Origin": otherOrigin}, 200, nil, 1},
	})
}

// Without CorsConfiguration API Gateway answers no preflight and passes the
// function's headers through, CORS ones included.
func TestGatewayWithoutCORS(t *testing.T) {
	runCORSCases(t, nil, []corsCase{
		{"preflight", "OPTIONS", "/items", preflight(appOrigin, "GET", "authorization"), 404, nil, 0},
		{"2xx", "GET", "/health", map[string]string{"Origin": appOrigin}, 200, map[string]string{
			"Access-Control-Allow-Origin":      "*",
			"Access-Control-Allow-Methods":     "PUT",
			"Access-Control-Allow-Headers":     "X-Api-Key",
			"Access-Control-Expose-Headers":    "X-Internal",
			"Access-Control-Allow-Credentials": "true",
		}, 1},
	})
}

func TestCORSFromTemplate(t *testing.T) {
	tpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	// The AllowedOrigins parameter's default.
	got, err := CORSFromTemplate(tpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := depotCORS()
	want.AllowOrigins = []string{"http://localhost:3000"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default:\n got %+v\nwant %+v", got, want)
	}
	// Overridden as ALLOWED_ORIGINS does, a comma-separated list.
	got, err = CORSFromTemplate(tpl, map[string]string{"AllowedOrigins": appOrigin + ", http://localhost:5173"})
	if err != nil {
		t.Fatal(err)
	}
	want.AllowOrigins = []string{appOrigin, "http://localhost:5173"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("overridden:\n got %+v\nwant %+v", got, want)
	}
	if tpl.Parameters["AllowedOrigins"].Default != "http://localhost:3000" {
		t.Error("the override changed the parsed template")
	}
	if _, err := CORSFromTemplate(tpl, map[string]string{"NoSuchParameter": "x"}); err == nil {
		t.Error("override of an unknown parameter: no error")
	}
	if _, err := CORSFromTemplate(tpl, map[string]string{"AllowedOrigins": appOrigin + ",,"}); err == nil {
		t.Error("empty origin: no error")
	}
}

func TestParameterOverridesFromEnvironment(t *testing.T) {
	t.Setenv(AllowedOriginsEnv, "")
	if got := ParameterOverrides(); len(got) != 0 {
		t.Errorf("unset: %v", got)
	}
	t.Setenv(AllowedOriginsEnv, appOrigin+",http://localhost:5173")
	if got := ParameterOverrides(); got["AllowedOrigins"] != appOrigin+",http://localhost:5173" {
		t.Errorf("set: %v", got)
	}
}

// TestDeployAppliesTemplateCORS deploys on embedded engines with
// ALLOWED_ORIGINS set: the stack's gateway answers preflights for those
// origins with the template's configuration.
func TestDeployAppliesTemplateCORS(t *testing.T) {
	engines := useEmbeddedEngines(t)
	t.Setenv(AllowedOriginsEnv, appOrigin+",http://localhost:5173")
	stack, err := engines.Deploy(context.Background(), lambdafn.Settings{TableName: "cors-test", BucketName: "cors-test"},
		testIssuer(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := depotCORS()
	want.AllowOrigins = []string{appOrigin, "http://localhost:5173"}
	if !reflect.DeepEqual(stack.CORS, want) {
		t.Errorf("stack CORS %+v, want %+v", stack.CORS, want)
	}
	for origin, allowed := range map[string]bool{"http://localhost:5173": true, "http://localhost:3000": false} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("OPTIONS", "/items", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		stack.Gateway.ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Origin"); rec.Code != 204 || (got == origin) != allowed {
			t.Errorf("preflight from %s: %d, Access-Control-Allow-Origin %q", origin, rec.Code, got)
		}
	}
}

func testIssuer(t *testing.T) *localauth.Issuer {
	t.Helper()
	iss, err := localauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return iss
}
