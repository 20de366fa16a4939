package console

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/httpapi"
)

// TestConsoleShadowsNoRoute: no API route, nor the gateway's JWKS, lies
// under a path the console takes, so serving the console at / on the API's
// origin hides none of them.
func TestConsoleShadowsNoRoute(t *testing.T) {
	paths := []string{localrun.JWKSPath}
	for _, r := range httpapi.Routes {
		paths = append(paths, r.Path)
	}
	for _, p := range paths {
		first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		for _, c := range Paths {
			if first == c {
				t.Errorf("%s is under the console's /%s", p, c)
			}
		}
	}
	if len(paths) < 30 {
		t.Fatalf("only %d routes: the check proves little", len(paths))
	}
}

func fixture(t *testing.T) (http.Handler, *localauth.Issuer, *[]string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"index.html": "<!doctype html><title>Depot</title>", "assets/index-abc.js": "console.log(1)"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	issuer, err := localauth.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	return Handler(dir, issuer, api, slog.New(slog.DiscardHandler)), issuer, &seen
}

func do(t *testing.T, h http.Handler, method, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

// TestHandlerServesConsoleAndAPI: the console's files and config at its
// paths, everything else to the API untouched.
func TestHandlerServesConsoleAndAPI(t *testing.T) {
	h, _, seen := fixture(t)
	for _, c := range []struct {
		method, path string
		status       int
		has          string
	}{
		{"GET", "/", 200, "<title>Depot</title>"},
		{"GET", "/index.html", 200, "<title>Depot</title>"},
		{"GET", "/assets/index-abc.js", 200, "console.log(1)"},
		{"GET", "/assets/missing.js", 404, ""},
		{"GET", "/assets/", 404, ""},
		{"GET", "/config.json", 200, `"signInUrl":"/dev/sign-in"`},
		{"POST", "/config.json", 405, ""},
		{"GET", "/dev/nothing", 404, ""},
		{"GET", "/items", 418, ""},
		{"POST", "/items", 418, ""},
		{"GET", "/items/01JDQ3ZK7X9V4M2N8P6R5T3W1Y/stock", 418, ""},
		{"GET", "/.well-known/jwks.json", 418, ""},
		{"GET", "/health", 418, ""},
	} {
		res, body := do(t, h, c.method, c.path, nil)
		if res.StatusCode != c.status || !strings.Contains(body, c.has) {
			t.Errorf("%s %s: %d %q, want %d with %q", c.method, c.path, res.StatusCode, body, c.status, c.has)
		}
	}
	want := "GET /items,POST /items,GET /items/01JDQ3ZK7X9V4M2N8P6R5T3W1Y/stock,GET /.well-known/jwks.json,GET /health"
	if got := strings.Join(*seen, ","); got != want {
		t.Errorf("the API got %s, want %s", got, want)
	}
	res, _ := do(t, h, "GET", "/assets/index-abc.js", nil)
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("assets' Cache-Control %q, want immutable", cc)
	}
}

// TestSignInMintsTheChosenRole: the dev sign-in page offers the roles,
// mints a token the local verifier accepts for the chosen email and role,
// and sends the browser on to a console route only.
func TestSignInMintsTheChosenRole(t *testing.T) {
	h, issuer, _ := fixture(t)
	res, body := do(t, h, "GET", "/dev/sign-in?next=/items%3Fq%3Dbolt", nil)
	if res.StatusCode != 200 || !strings.Contains(body, `value="viewer"`) || !strings.Contains(body, `value="admin"`) ||
		!strings.Contains(body, `name="next" value="/items?q=bolt"`) {
		t.Fatalf("sign-in page: %d\n%s", res.StatusCode, body)
	}
	res, body = do(t, h, "POST", "/dev/sign-in", url.Values{"email": {"vera@example.com"}, "role": {"viewer"}, "next": {"/items?q=bolt"}})
	if res.StatusCode != 200 {
		t.Fatalf("sign in: %d\n%s", res.StatusCode, body)
	}
	m := regexp.MustCompile(`setItem\("depot.idToken", "([^"]+)"\); location.replace\("/#" \+ "([^"]*)"\)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token and route in the signed-in page:\n%s", body)
	}
	v, err := issuer.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(m[1], time.Now())
	if err != nil {
		t.Fatalf("the minted token does not verify: %v", err)
	}
	if claims["email"] != "vera@example.com" || !strings.Contains(claims[localauth.GroupsClaim], "viewer") {
		t.Errorf("claims %v, want vera@example.com as viewer", claims)
	}
	var next string
	if err := json.Unmarshal([]byte(`"`+m[2]+`"`), &next); err != nil || next != "/items?q=bolt" {
		t.Errorf("next %q (%v), want /items?q=bolt", m[2], err)
	}
	for _, bad := range []string{"https://evil.example/", "//evil.example/", "javascript:alert(1)"} {
		_, body := do(t, h, "POST", "/dev/sign-in", url.Values{"email": {"a@example.com"}, "role": {"editor"}, "next": {bad}})
		if !strings.Contains(body, `location.replace("/#" + "/items")`) {
			t.Errorf("next %q was not replaced by /items:\n%s", bad, body)
		}
	}
	// No role: a token in no group.
	_, body = do(t, h, "POST", "/dev/sign-in", url.Values{"email": {"nobody@example.com"}, "role": {NoRole}})
	if m := regexp.MustCompile(`setItem\("depot.idToken", "([^"]+)"\)`).FindStringSubmatch(body); m == nil {
		t.Errorf("no token for no role:\n%s", body)
	} else if claims, err := v.Verify(m[1], time.Now()); err != nil || claims[localauth.GroupsClaim] != "" || claims["email"] != "nobody@example.com" {
		t.Errorf("no role: claims %v, %v; want no groups", claims, err)
	}
	res, body = do(t, h, "POST", "/dev/sign-in", url.Values{"email": {"a@example.com"}, "role": {"root"}})
	if res.StatusCode != 400 || strings.Contains(body, "depot.idToken") {
		t.Errorf("an unknown role: %d\n%s", res.StatusCode, body)
	}
}

// TestUnbuiltConsoleSaysHow: without a build, / says how to build it.
func TestUnbuiltConsoleSaysHow(t *testing.T) {
	h := Handler(t.TempDir(), nil, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	res, body := do(t, h, "GET", "/", nil)
	if res.StatusCode != 503 || !strings.Contains(body, "make console") {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}
