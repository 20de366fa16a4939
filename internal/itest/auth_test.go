package itest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/httpapi"
)

// TestEveryRouteIsGuarded sends, to every route of the route table, requests
// without a token, with broken tokens, with a role too low and with the
// role the route needs.
func TestEveryRouteIsGuarded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"GUARD-1","name":"Guarded"}`)["id"].(string)
	now := time.Now()
	valid := func(over map[string]any) map[string]any {
		c := map[string]any{
			"iss": localauth.IssuerURL, "aud": localauth.Audience, "sub": "s-1", "email": "mallory@example.com",
			"cognito:groups": []string{"admin"}, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		for k, v := range over {
			c[k] = v
		}
		return c
	}
	sign := func(claims map[string]any) string {
		tok, err := issuer.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	otherDir := t.TempDir()
	other, err := localauth.LoadOrCreate(otherDir)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Sign(valid(nil))
	if err != nil {
		t.Fatal(err)
	}
	good := sign(valid(nil))
	parts := strings.Split(good, ".")
	badSig := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	algNone := b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "."
	broken := map[string]string{
		"no token":        "",
		"not a jwt":       "Bearer not-a-token",
		"expired":         "Bearer " + sign(valid(map[string]any{"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix()})),
		"not yet valid":   "Bearer " + sign(valid(map[string]any{"nbf": now.Add(time.Hour).Unix()})),
		"wrong issuer":    "Bearer " + sign(valid(map[string]any{"iss": "https://evil.example"})),
		"wrong audience":  "Bearer " + sign(valid(map[string]any{"aud": "another-api"})),
		"bad signature":   "Bearer " + badSig,
		"unknown key":     "Bearer " + foreign,
		"alg none":        "Bearer " + algNone,
		"no bearer token": "Bearer ",
	}
	roleBelow := map[httpapi.Role]string{httpapi.RoleEditor: viewerEmail, httpapi.RoleAdmin: editorEmail}
	roleUser := map[httpapi.Role]string{httpapi.RoleViewer: viewerEmail, httpapi.RoleEditor: editorEmail, httpapi.RoleAdmin: adminEmail}
	for _, route := range httpapi.Routes {
		path := strings.ReplaceAll(route.Path, "{id}", id)
		body := ""
		if route.Method == http.MethodPost || route.Method == http.MethodPatch {
			body = `{}`
		}
		t.Run(route.Function, func(t *testing.T) {
			if route.Role == httpapi.RolePublic {
				res := e.do(req{Method: route.Method, Path: path, Header: map[string]string{"Authorization": ""}})
				if res.Status != http.StatusOK {
					t.Fatalf("public route without a token: %d", res.Status)
				}
				return
			}
			for name, auth := range broken {
				res := e.do(req{Method: route.Method, Path: path, Body: body, Header: map[string]string{"Authorization": auth}})
				if res.Status != http.StatusUnauthorized || string(res.Body) != `{"message":"Unauthorized"}` {
					t.Errorf("%s: %d %s, want 401 {\"message\":\"Unauthorized\"}", name, res.Status, res.Body)
				}
			}
			if below, ok := roleBelow[route.Role]; ok {
				res := e.do(req{Method: route.Method, Path: path, Body: body, Header: as(below)})
				if res.Status != http.StatusForbidden || res.code(t) != "forbidden" {
					t.Errorf("role below %s: %d %s, want 403 forbidden", route.Role, res.Status, res.Body)
				}
			}
			res := e.do(req{Method: route.Method, Path: path, Body: body, Header: as(roleUser[route.Role])})
			if res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden {
				t.Errorf("role %s: %d %s", route.Role, res.Status, res.Body)
			}
		})
	}
}

// TestAuditNamesEachActor: one user creates, another patches, a third
// deletes; every audit field and ledger line names the right one.
func TestAuditNamesEachActor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	item := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: `{"sku":"AUDIT-1","name":"Audited","quantity":2}`,
		Header: as(editorEmail)}).json(t)
	id := item["id"].(string)
	patched := e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":7}`, Header: as(adminEmail)}).json(t)
	const third = "third.person@example.com"
	tok, err := issuer.Mint(localauth.Claims{Email: third, Groups: []string{"editor"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	deleted := e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id, Header: map[string]string{"Authorization": "Bearer " + tok}}).json(t)
	if item["createdBy"] != editorEmail || patched["createdBy"] != editorEmail || patched["updatedBy"] != adminEmail {
		t.Errorf("createdBy/updatedBy: %v / %v", item, patched)
	}
	if d := deleted["deleted"].(map[string]any); d["by"] != third || deleted["updatedBy"] != third {
		t.Errorf("deleted: %v", deleted)
	}
	// A deleted item's ledger is read once it is restored.
	e.must(http.StatusNotFound, req{Method: "GET", Path: "/items/" + id + "/history", Header: as(viewerEmail)})
	e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + id + "/restore", Header: as(adminEmail)})
	hist := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/history", Header: as(viewerEmail)}).json(t)["entries"].([]any)
	if len(hist) != 2 || hist[0].(map[string]any)["actor"] != adminEmail || hist[1].(map[string]any)["actor"] != editorEmail {
		t.Errorf("ledger actors: %v", hist)
	}
	// A token with only a subject records the subject.
	subOnly, err := issuer.Mint(localauth.Claims{Subject: "svc-importer", Groups: []string{"editor"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	byService := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: `{"sku":"AUDIT-2","name":"By a service"}`,
		Header: map[string]string{"Authorization": "Bearer " + subOnly}}).json(t)
	if byService["createdBy"] != "svc-importer" {
		t.Errorf("createdBy = %v, want the sub", byService["createdBy"])
	}
}

func TestJWKSIsServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.do(req{Method: "GET", Path: "/.well-known/jwks.json", NotInSpec: true, Header: map[string]string{"Authorization": ""}})
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"kid":"`+issuer.KeyID()+`"`) {
		t.Fatalf("jwks: %d %s", res.Status, res.Body)
	}
}
