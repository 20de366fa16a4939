package localrun

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/lambdafn/apifn"
)

// maxPayloadBytes is API Gateway's request payload limit.
const maxPayloadBytes = 10 << 20

// Gateway plays API Gateway (HTTP API, payload format 2.0) in front of the
// functions' Lambda handlers, in process.
type Gateway struct {
	routes []gatewayRoute
	auth   TokenVerifier
	jwks   []byte
	logger *slog.Logger
	cors   *CORS // nil: CORS not configured
}

// GatewayOption configures a Gateway.
type GatewayOption func(*Gateway)

// WithCORS makes the gateway apply an HTTP API's CORS configuration (see
// CORS); nil leaves CORS unconfigured, as an API without CorsConfiguration.
func WithCORS(c *CORS) GatewayOption {
	return func(g *Gateway) { g.cors = c }
}

// TokenVerifier verifies a bearer token as API Gateway's JWT authorizer
// does, returning the claims it puts in the event.
type TokenVerifier interface {
	Verify(token string, now time.Time) (map[string]string, error)
}

type gatewayRoute struct {
	route    httpapi.Route
	segments []string
	handler  apifn.Handler
}

// NewGateway routes each route of the table to its function's handler.
// Every route but the public ones needs a bearer token that auth verifies;
// jwks is served at /.well-known/jwks.json.
func NewGateway(handlers map[string]apifn.Handler, auth TokenVerifier, jwks []byte, logger *slog.Logger, opts ...GatewayOption) *Gateway {
	g := &Gateway{auth: auth, jwks: jwks, logger: logger}
	for _, o := range opts {
		o(g)
	}
	for _, r := range httpapi.Routes {
		if h, ok := handlers[r.Function]; ok {
			g.routes = append(g.routes, gatewayRoute{route: r, segments: strings.Split(r.Path, "/"), handler: h})
		}
	}
	return g
}

// ServeHTTP turns the request into an event, invokes the function and
// writes its response, as API Gateway does.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.cors != nil {
		// Preflights are answered before routing, authorization or any
		// function, unless a route takes OPTIONS for the path (none of
		// Depot's does).
		if isPreflight(r) {
			if _, _, ok := g.match(r.Method, r.URL.Path); !ok {
				g.cors.preflight(w, r)
				return
			}
		}
		// Every later answer carries them, the gateway's own included.
		g.cors.actual(w.Header(), r.Header.Get("Origin"))
	}
	if r.Method == http.MethodGet && r.URL.Path == JWKSPath {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(g.jwks)
		return
	}
	route, params, ok := g.match(r.Method, r.URL.Path)
	if !ok {
		gatewayMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	var claims map[string]string
	if route.route.Role != httpapi.RolePublic {
		var err error
		if claims, err = g.authorize(r); err != nil {
			g.logger.Info("unauthorized", "route", route.route.RouteKey(), "reason", err.Error())
			gatewayMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayloadBytes+1))
	if err != nil {
		gatewayMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > maxPayloadBytes {
		gatewayMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	event := newEvent(r, route.route, params, body)
	if claims != nil {
		event.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	resp, err := route.handler(r.Context(), event)
	if err != nil {
		g.logger.Error("function failed", "function", route.route.Function, "error", err.Error())
		gatewayMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeResponse(w, resp, g.cors != nil)
}

// JWKSPath is where the gateway serves the local issuer's public keys.
const JWKSPath = "/.well-known/jwks.json"

// authorize reads the token from the Authorization header (the identity
// source the template configures; a "Bearer " prefix is optional, as in API
// Gateway) and verifies it.
func (g *Gateway) authorize(r *http.Request) (map[string]string, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return nil, errors.New("no Authorization header")
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	return g.auth.Verify(h, time.Now())
}

func (g *Gateway) match(method, path string) (gatewayRoute, map[string]string, bool) {
	segs := strings.Split(path, "/")
	for _, rt := range g.routes {
		if rt.route.Method != method || len(rt.segments) != len(segs) {
			continue
		}
		params := map[string]string{}
		matched := true
		for i, s := range rt.segments {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && segs[i] != "" {
				params[s[1:len(s)-1]] = segs[i]
			} else if s != segs[i] {
				matched = false
				break
			}
		}
		if matched {
			if len(params) == 0 {
				params = nil
			}
			return rt, params, true
		}
	}
	return gatewayRoute{}, nil, false
}

func newEvent(r *http.Request, route httpapi.Route, params map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now().UTC()
	headers := map[string]string{}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.RouteKey(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.RouteKey(),
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    newRequestID(),
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// writeResponse writes a function's response; with dropCORS, without the
// CORS headers it sets (API Gateway ignores them when CORS is configured).
func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse, dropCORS bool) {
	for k, v := range resp.Headers {
		if !dropCORS || !isCORSHeader(k) {
			w.Header().Set(k, v)
		}
	}
	for k, vs := range resp.MultiValueHeaders {
		if dropCORS && isCORSHeader(k) {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			gatewayMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		body = decoded
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// gatewayMessage answers as API Gateway itself does: {"message": "..."}.
func gatewayMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
