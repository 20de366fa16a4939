package localrun

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

// CORS is an HTTP API's CORS configuration with its values resolved, as
// the gateway applies it.
//
// What API Gateway documents ("Configuring CORS for an HTTP API",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html):
//   - with CORS configured it answers preflight OPTIONS requests itself,
//     even when the API has no OPTIONS route: no integration, and so no
//     authorizer, is involved;
//   - a preflight request is an OPTIONS request carrying both Origin and
//     Access-Control-Request-Method; any other request returns CORS headers
//     only if it carries Origin;
//   - it adds the configured CORS headers to the integration's response,
//     and ignores the CORS headers the integration itself returns.
//
// What the documentation leaves out, and this gateway does as API Gateway
// is reported to (not checked against a deployed API from here): a preflight is answered 204 No Content, with the
// Access-Control-Allow-* headers only when the origin, the requested
// method and every requested header are allowed (otherwise with none, so
// that the browser fails it); Access-Control-Allow-Origin echoes the
// request's origin (or is "*" when any origin is allowed); actual
// responses, the gateway's own 401 and 404 included, carry
// Access-Control-Allow-Origin, Access-Control-Expose-Headers and
// Access-Control-Allow-Credentials for an allowed origin, and no CORS
// header for another. Max-Age, Allow-Methods and Allow-Headers belong to
// preflight answers only.
type CORS struct {
	AllowOrigins     []string // exact origins (scheme://host[:port]); "*" allows any
	AllowMethods     []string // "*" allows any
	AllowHeaders     []string // compared case-insensitively; "*" allows any
	ExposeHeaders    []string
	MaxAge           *int // seconds; nil: no Access-Control-Max-Age
	AllowCredentials bool
}

// AllowedOriginsEnv names the environment variable that replaces the
// AllowedOrigins parameter's default locally, comma separated, as
// `sam deploy --parameter-overrides AllowedOrigins=...` would.
const AllowedOriginsEnv = "ALLOWED_ORIGINS"

// CORSFromTemplate returns the CORS configuration of the template's HttpApi
// (it must have exactly one), every !Ref of a parameter resolved to the
// parameter's Default, or to its value in overrides (by parameter name).
// It returns nil when the API configures no CORS.
func CORSFromTemplate(tpl *samtemplate.Template, overrides map[string]string) (*CORS, error) {
	if len(tpl.HTTPAPIs) != 1 {
		return nil, fmt.Errorf("template has %d HttpApis, want 1", len(tpl.HTTPAPIs))
	}
	t := *tpl
	t.Parameters = maps.Clone(tpl.Parameters)
	for name, value := range overrides {
		p, ok := t.Parameters[name]
		if !ok {
			return nil, fmt.Errorf("override of %s: no such parameter", name)
		}
		p.Default, p.HasDefault = value, true
		t.Parameters[name] = p
	}
	var api samtemplate.HTTPAPI
	for _, a := range t.HTTPAPIs {
		api = a
	}
	src := api.CORS
	if src == nil {
		return nil, nil
	}
	c := &CORS{}
	var err error
	for _, list := range []struct {
		name string
		in   []string
		out  *[]string
	}{
		{"AllowOrigins", src.AllowOrigins, &c.AllowOrigins},
		{"AllowMethods", src.AllowMethods, &c.AllowMethods},
		{"AllowHeaders", src.AllowHeaders, &c.AllowHeaders},
		{"ExposeHeaders", src.ExposeHeaders, &c.ExposeHeaders},
	} {
		if *list.out, err = t.ResolveList(list.in); err != nil {
			return nil, fmt.Errorf("HttpApi %s CorsConfiguration.%s: %w", api.LogicalID, list.name, err)
		}
		if slices.Contains(*list.out, "") {
			return nil, fmt.Errorf("HttpApi %s CorsConfiguration.%s: empty value in %q", api.LogicalID, list.name, *list.out)
		}
	}
	if src.MaxAge != "" {
		s, err := t.Resolve(src.MaxAge)
		if err != nil {
			return nil, fmt.Errorf("HttpApi %s CorsConfiguration.MaxAge: %w", api.LogicalID, err)
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("HttpApi %s CorsConfiguration.MaxAge: %w", api.LogicalID, err)
		}
		c.MaxAge = &n
	}
	if src.AllowCredentials != "" {
		s, err := t.Resolve(src.AllowCredentials)
		if err == nil {
			c.AllowCredentials, err = strconv.ParseBool(s)
		}
		if err != nil {
			return nil, fmt.Errorf("HttpApi %s CorsConfiguration.AllowCredentials: %w", api.LogicalID, err)
		}
	}
	if len(c.AllowOrigins) == 0 {
		return nil, errors.New("HttpApi " + api.LogicalID + " CorsConfiguration allows no origin")
	}
	return c, nil
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight request.
func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if c.originAllowed(origin) && c.methodAllowed(r.Header.Get("Access-Control-Request-Method")) &&
		c.headersAllowed(r.Header.Values("Access-Control-Request-Headers")) {
		h := w.Header()
		c.setOrigin(h, origin)
		h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge != nil {
			h.Set("Access-Control-Max-Age", strconv.Itoa(*c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// actual sets the CORS headers of the response to an actual request (one
// that is not a preflight) from origin, "" when it has no Origin header.
func (c *CORS) actual(h http.Header, origin string) {
	if origin == "" || !c.originAllowed(origin) {
		return
	}
	c.setOrigin(h, origin)
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
}

func (c *CORS) setOrigin(h http.Header, origin string) {
	if slices.Contains(c.AllowOrigins, "*") {
		origin = "*"
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

func (c *CORS) originAllowed(origin string) bool {
	return slices.Contains(c.AllowOrigins, "*") || slices.Contains(c.AllowOrigins, origin)
}

func (c *CORS) methodAllowed(method string) bool {
	return slices.Contains(c.AllowMethods, "*") || slices.Contains(c.AllowMethods, method)
}

// headersAllowed reports whether every header of the comma-separated
// Access-Control-Request-Headers values is allowed.
func (c *CORS) headersAllowed(values []string) bool {
	if slices.Contains(c.AllowHeaders, "*") {
		return true
	}
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name != "" && !slices.ContainsFunc(c.AllowHeaders, func(a string) bool { return strings.EqualFold(a, name) }) {
				return false
			}
		}
	}
	return true
}

// isCORSHeader reports whether name is a CORS response header, which
// API Gateway drops from an integration's response when CORS is configured.
func isCORSHeader(name string) bool {
	return len(name) > len("Access-Control-") && strings.EqualFold(name[:len("Access-Control-")], "Access-Control-")
}
