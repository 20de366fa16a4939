// Package console serves the Depot console (console/, built into
// console/dist/ by make) in front of the local API, on the same origin, as
// make run does: the console's files at /, its runtime config at
// /config.json, and a dev sign-in page at /dev/sign-in that mints a local
// token for a chosen role and email. Every other request goes to the API.
//
// The files are read from disk, not embedded, so that go build and go vet
// never need the console built. On AWS the same files are in a private S3
// bucket behind CloudFront, with a config.json that points at the Cognito
// hosted UI (template.yaml, README).
package console

import (
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
)

// Paths are the first path segments the console takes; the API has no route
// under any of them (TestConsoleShadowsNoRoute).
var Paths = []string{"", "index.html", "assets", "config.json", "dev"}

// SignInPath is the dev sign-in page.
const SignInPath = "/dev/sign-in"

// TokenTTL is how long a token from the sign-in page is good for, as make
// token's.
const TokenTTL = 12 * time.Hour

// Roles are the roles the sign-in page offers (docs/auth.md), and NoRole:
// a token in no group, as a Cognito user nobody gave a role has, which the
// API refuses with 403 everywhere.
var Roles = []string{"viewer", "editor", "admin", NoRole}

// NoRole is the sign-in page's choice of a token without a role.
const NoRole = "none"

// Config is the console's runtime config (console/src/auth.ts), served at
// /config.json: make run's says the API is on this origin and sign-in is
// the dev page.
type Config struct {
	APIURL string         `json:"apiUrl"`
	Auth   map[string]any `json:"auth"`
}

// Minter mints local tokens (a *localauth.Issuer).
type Minter interface {
	Mint(c localauth.Claims, ttl time.Duration) (string, error)
}

// Handler serves the console from dir and the dev sign-in with issuer,
// and hands every other request to api.
func Handler(dir string, issuer Minter, api http.Handler, logger *slog.Logger) http.Handler {
	files := http.FileServer(http.Dir(dir))
	cfg, _ := json.Marshal(Config{APIURL: "", Auth: map[string]any{"mode": "local", "signInUrl": SignInPath}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if !slices.Contains(Paths, first) {
			api.ServeHTTP(w, r)
			return
		}
		switch {
		case r.URL.Path == SignInPath && r.Method == http.MethodPost:
			signIn(w, r, issuer, logger)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		case r.URL.Path == SignInPath:
			page(w, signInPage, signInData{Roles: Roles, Next: safeNext(r.URL.Query().Get("next")), Email: "you@example.com"})
		case r.URL.Path == "/config.json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(cfg)
		case r.URL.Path == "/" || r.URL.Path == "/index.html":
			index := filepath.Join(dir, "index.html")
			f, err := os.Open(index)
			if err != nil {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("The console is not built (" + index + " is missing): make console, or make run, builds it.\n"))
				return
			}
			// index.html names the hashed assets of the latest build.
			defer f.Close()
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			var mod time.Time
			if st, err := f.Stat(); err == nil {
				mod = st.ModTime()
			}
			http.ServeContent(w, r, "index.html", mod, f)
		case strings.HasPrefix(r.URL.Path, "/assets/") && !strings.HasSuffix(r.URL.Path, "/"):
			// Vite names assets by their content's hash.
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// safeNext keeps a console route (a path within this console), so the page
// goes nowhere else after signing in.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/items"
	}
	return next
}

func signIn(w http.ResponseWriter, r *http.Request, issuer Minter, logger *slog.Logger) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	email, role, next := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("role"), safeNext(r.PostForm.Get("next"))
	if email == "" || !strings.Contains(email, "@") || !slices.Contains(Roles, role) {
		w.WriteHeader(http.StatusBadRequest)
		page(w, signInPage, signInData{Roles: Roles, Next: next, Email: email, Role: role, Error: "Give an email address and choose a role."})
		return
	}
	var groups []string
	if role != NoRole {
		groups = []string{role}
	}
	token, err := issuer.Mint(localauth.Claims{Email: email, Groups: groups}, TokenTTL)
	if err != nil {
		logger.Error("dev sign-in: mint", "error", err.Error())
		http.Error(w, "could not mint a token", http.StatusInternalServerError)
		return
	}
	logger.Info("dev sign-in", "email", email, "role", role)
	page(w, signedInPage, signedInData{Token: token, Next: next})
}

func page(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_ = t.Execute(w, data)
}

type signInData struct {
	Roles             []string
	Next, Email, Role string
	Error             string
}

type signedInData struct{ Token, Next string }

const style = `<style>
body{font:15px/1.45 system-ui,sans-serif;color:#1b1f24;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f8fa}
main{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1.5rem 2rem;max-width:26rem}
h1{font-size:1.3rem;margin:0 0 .5rem}label{display:flex;flex-direction:column;gap:.2rem;margin:0 0 .8rem;font-weight:500}
fieldset{border:1px solid #d0d7de;border-radius:4px;margin:0 0 .8rem}fieldset label{flex-direction:row;gap:.4rem;margin:.2rem 0;font-weight:400}
input[type=email]{font:inherit;padding:.35rem .55rem;border:1px solid #8c959f;border-radius:4px}
button{font:inherit;padding:.4rem .9rem;border-radius:4px;background:#0a58ca;color:#fff;border:1px solid #0a58ca;cursor:pointer}
:focus-visible{outline:3px solid #f4b400;outline-offset:1px}p.note{color:#57606a}.alert{color:#b42318}
</style>`

var signInPage = template.Must(template.New("sign-in").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Depot (local)</title>` + style + `</head>
<body><main>
<h1>Sign in to Depot</h1>
<p class="note">Local development only (make run): this page mints a token from the local issuer for the email and role you choose. On AWS, sign-in is the stack's Cognito hosted UI.</p>
{{if .Error}}<p class="alert" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/dev/sign-in">
<input type="hidden" name="next" value="{{.Next}}">
<label>Email<input type="email" name="email" required autocomplete="email" value="{{.Email}}"></label>
<fieldset><legend>Role</legend>
{{range .Roles}}<label><input type="radio" name="role" value="{{.}}" required{{if eq . $.Role}} checked{{end}}> {{if eq . "none"}}no role (every call is refused: 403){{else}}{{.}}{{end}}</label>
{{end}}</fieldset>
<button type="submit">Sign in</button>
</form>
</main></body></html>
`))

// The token goes to the console's sessionStorage (console/src/auth.ts) and
// the page to the console, without the token ever being in a URL.
var signedInPage = template.Must(template.New("signed-in").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in · Depot (local)</title></head>
<body><main><p>Signed in. <a href="/">Open the console</a>.</p></main>
<script>sessionStorage.setItem("depot.idToken", {{.Token}}); location.replace("/#" + {{.Next}});</script>
</body></html>
`))

// DirEnv overrides DefaultDir.
const DirEnv = "DEPOT_CONSOLE_DIR"

// DefaultDir is where make builds the console: console/dist in the module
// root (the nearest directory at or above the working directory that holds
// go.mod), or $DEPOT_CONSOLE_DIR.
func DefaultDir() string {
	if dir := os.Getenv(DirEnv); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Join("console", "dist")
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "console", "dist")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join(wd, "console", "dist")
		}
		dir = parent
	}
}
