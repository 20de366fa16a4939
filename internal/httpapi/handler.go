// Package httpapi is Depot's HTTP API: one net/http handler per operation,
// each served by its own Lambda function through API Gateway. A handler
// decodes the request, calls one use case and encodes its result; errors
// become RFC 9457 problems, their status decided by kind in one place.
package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// Deps are the handlers' dependencies.
type Deps struct {
	Service *usecase.Service
	Logger  *slog.Logger
	OpenAPI []byte
	// RolesClaim names the JWT claim holding the caller's roles; empty
	// means DefaultRolesClaim.
	RolesClaim string
}

type api struct {
	Deps
}

// reply is a successful response: a JSON body (or raw bytes) with headers.
type reply struct {
	status int
	header http.Header
	body   any    // encoded as JSON when raw is nil
	raw    []byte // sent as it is, with header's Content-Type
}

func jsonReply(status int, body any) reply {
	return reply{status: status, header: http.Header{}, body: body}
}

// NewHandler returns the http.Handler of the named function: its one route,
// behind the route's role check, with request logging, call counting and
// panic recovery around it.
func NewHandler(function string, deps Deps) (http.Handler, error) {
	route, ok := RouteFor(function)
	if !ok || route.handle == nil {
		return nil, fmt.Errorf("httpapi: no operation for function %q", function)
	}
	if function == "GetOpenAPI" && len(deps.OpenAPI) == 0 {
		return nil, fmt.Errorf("httpapi: %s serves the OpenAPI document, and Deps has none", function)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.RolesClaim == "" {
		deps.RolesClaim = DefaultRolesClaim
	}
	if deps.Service == nil {
		deps.Service = &usecase.Service{}
	}
	a := &api{Deps: deps}
	pattern := strings.Split(route.Path, "/")
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params, ok := match(pattern, r.URL.Path)
		if !ok || r.Method != route.Method {
			a.fail(w, r, problem(inventory.KindNotFound, codeRouteNotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)))
			return
		}
		for name, v := range params {
			r.SetPathValue(name, v)
		}
		if err := checkQuery(r.URL.Query(), route.Query); err != nil {
			a.fail(w, r, err)
			return
		}
		rep, err := route.handle(a, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		rep.write(w)
	})
	return a.logged(route, authorized(route, deps.RolesClaim, serve)), nil
}

// match matches a request path against a route's segments exactly: no
// cleaning, so "/items/.." is the item "..", which does not exist, never a
// redirect. Every parameter must be a non-empty segment.
func match(pattern []string, path string) (map[string]string, bool) {
	segs := strings.Split(path, "/")
	if len(segs) != len(pattern) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range pattern {
		if name, ok := strings.CutPrefix(p, "{"); ok && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			params[strings.TrimSuffix(name, "}")] = segs[i]
		} else if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// checkQuery refuses query parameters the route does not take, and any
// parameter given twice.
func checkQuery(q url.Values, allowed []string) error {
	var fields []inventory.FieldError
	for name, vs := range q {
		switch {
		case !slices.Contains(allowed, name):
			want := "none"
			if len(allowed) > 0 {
				want = strings.Join(allowed, ", ")
			}
			fields = append(fields, inventory.FieldError{Field: name, Code: "unknown_parameter",
				Message: fmt.Sprintf("unknown query parameter %q; this operation takes: %s", name, want)})
		case len(vs) > 1:
			fields = append(fields, inventory.FieldError{Field: name, Code: "repeated",
				Message: fmt.Sprintf("query parameter %q is given %d times; give it once", name, len(vs))})
		}
	}
	if len(fields) > 0 {
		return problem(inventory.KindInvalid, inventory.CodeInvalidParameter, "the request has query parameters this operation does not take", fields...)
	}
	return nil
}

// fail answers err as a problem; internal errors are logged with the
// request id the answer shows.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := requestID(r.Context())
	p, internal := problemOf(err, id)
	if internal {
		a.Logger.ErrorContext(r.Context(), "request failed", "requestId", id, "error", err.Error())
	} else if p.Status == http.StatusServiceUnavailable {
		a.Logger.WarnContext(r.Context(), "dependency unavailable", "requestId", id, "error", err.Error())
	}
	p.write(w)
}

func (rep reply) write(w http.ResponseWriter) {
	body := rep.raw
	if body == nil && rep.body != nil {
		var err error
		if body, err = json.Marshal(rep.body); err != nil {
			p, _ := problemOf(fmt.Errorf("encode response: %w", err), "")
			p.write(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
	}
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(body)
}

// logged writes one JSON log line per request and turns panics into 500s.
// The line carries the request's metrics in CloudWatch's Embedded Metric
// Format (package emf): requests, serverErrors (1 for a 5xx), errors by
// problem code, and the DynamoDB calls, time and throttled attempts.
func (a *api) logged(route Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, stats := callstats.With(r.Context())
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				a.Logger.Error("panic", "requestId", requestID(ctx), "panic", fmt.Sprint(p))
				if rec.status == 0 {
					pr, _ := problemOf(fmt.Errorf("panic: %v", p), requestID(ctx))
					pr.write(rec)
				}
			}
			attrs := []slog.Attr{
				slog.String("requestId", requestID(ctx)),
				slog.String("route", route.RouteKey()),
				slog.String("function", route.Function),
				slog.Int("status", rec.status),
			}
			directives := []emf.Directive{emf.Request, emf.DynamoDB}
			if rec.code != "" {
				attrs = append(attrs, slog.String(emf.Code, rec.code), slog.Int(emf.Errors, 1))
				directives = append(directives, emf.ErrorCode)
			}
			attrs = append(attrs,
				slog.Float64("durationMs", ms(time.Since(start))),
				slog.Int(emf.DDBCalls, stats.Total("DynamoDB")),
				slog.Float64(emf.DDBMs, ms(stats.Elapsed("DynamoDB"))),
				slog.Int(emf.DDBThrottles, stats.Throttles("DynamoDB")),
				slog.Int(emf.Requests, 1),
				slog.Int(emf.ServerErrors, b2i(rec.status >= 500)),
			)
			if ops := stats.Calls("DynamoDB"); len(ops) > 0 {
				attrs = append(attrs, slog.Any("ddbOps", ops))
			}
			if ops := stats.Calls("S3"); len(ops) > 0 {
				attrs = append(attrs, slog.Any("s3Ops", ops), slog.Float64("s3Ms", ms(stats.Elapsed("S3"))))
			}
			if grants := stats.Actions(); len(grants) > 0 {
				attrs = append(attrs, slog.Any("grants", grants))
			}
			attrs = append(attrs, emf.Attr(time.Now(), directives...))
			a.Logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// statusRecorder notes the status of the answer and, for a problem, its
// code (Problem.write tells it), for the request's log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
	code   string
}

// problemRecorder is a ResponseWriter that notes the code of the problem
// it answers.
type problemRecorder interface{ recordProblem(code string) }

func (s *statusRecorder) recordProblem(code string) {
	if s.code == "" {
		s.code = code
	}
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}
