// Package httpapi is Depot's HTTP API: one net/http handler per operation,
// each served by its own Lambda function through API Gateway.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
)

// Store is what the handlers need of storage.
type Store interface {
	GetItem(ctx context.Context, id string) (inventory.Item, error)
	SaveItem(ctx context.Context, old *inventory.Item, next inventory.Item, entry *inventory.LedgerEntry, idem *dynamo.IdempotencyRecord) error
	ListItems(ctx context.Context, limit int, cursor string) (dynamo.Page[inventory.Item], error)
	ListDeletedItems(ctx context.Context, limit int, cursor string) (dynamo.Page[inventory.Item], error)
	ListHistory(ctx context.Context, itemID string, limit int, cursor string) (dynamo.Page[inventory.LedgerEntry], error)
	GetIdempotency(ctx context.Context, scope string, now time.Time) (*dynamo.IdempotencyRecord, error)
	StartImageUpload(ctx context.Context, old inventory.Item, img inventory.Image, idem *dynamo.IdempotencyRecord) error
}

// Deps are the handlers' dependencies.
type Deps struct {
	Store   Store
	Media   Media
	Logger  *slog.Logger
	OpenAPI []byte
	// RolesClaim names the JWT claim holding the caller's roles;
	// empty means DefaultRolesClaim.
	RolesClaim string
	Now        func() time.Time // nil means time.Now
}

type api struct {
	Deps
}

// operation handles one request and returns the whole response.
type operation func(*api, *http.Request) response

var operations = map[string]operation{
	"Health":            (*api).health,
	"GetOpenAPI":        (*api).openAPI,
	"CreateItem":        (*api).createItem,
	"ListItems":         (*api).listItems,
	"GetItem":           (*api).getItem,
	"UpdateItem":        (*api).updateItem,
	"DeleteItem":        (*api).deleteItem,
	"ListDeletedItems":  (*api).listDeletedItems,
	"RestoreItem":       (*api).restoreItem,
	"ListItemHistory":   (*api).listItemHistory,
	"CreateImageUpload": (*api).createImageUpload,
}

// NewHandler returns the http.Handler of the named function: its one route,
// behind the route's role check, with request logging, call counting and
// panic recovery around it.
func NewHandler(function string, deps Deps) (http.Handler, error) {
	route, ok := RouteFor(function)
	op, hasOp := operations[function]
	if !ok || !hasOp {
		return nil, fmt.Errorf("httpapi: no operation for function %q", function)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.RolesClaim == "" {
		deps.RolesClaim = DefaultRolesClaim
	}
	a := &api{Deps: deps}
	mux := http.NewServeMux()
	mux.HandleFunc(route.Method+" "+route.Path, func(w http.ResponseWriter, r *http.Request) {
		op(a, r).write(w)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(codeRouteNotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)).response().write(w)
	})
	return a.logged(route, authorized(route, deps.RolesClaim, mux)), nil
}

// logged writes one JSON log line per request and turns panics into 500s.
func (a *api) logged(route Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, calls := dynamo.WithCallCounter(r.Context())
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				a.Logger.Error("panic", "requestId", requestID(ctx), "panic", fmt.Sprint(p))
				if rec.status == 0 {
					problem(codeInternal, "internal error; request id "+requestID(ctx)).response().write(rec)
				}
			}
			a.Logger.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("requestId", requestID(ctx)),
				slog.String("route", route.RouteKey()),
				slog.String("function", route.Function),
				slog.Int("status", rec.status),
				slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
				slog.Int("ddbCalls", calls.Total()),
				slog.Float64("ddbMs", float64(calls.Elapsed().Microseconds())/1000),
				slog.Group("ddbOps", calls.Attrs()...), // omitted when none
			)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// failure turns an error from below into a response: domain errors keep
// their code; anything else is logged and answered 500 without details.
func (a *api) failure(r *http.Request, err error) response {
	if errors.Is(err, dynamo.ErrIdempotencyRace) {
		return problem(codeIdempotencyInProgress, "a request with this Idempotency-Key is in progress; retry").response()
	}
	var p *Problem
	if errors.As(err, &p) {
		return p.response()
	}
	var de *inventory.Error
	if errors.As(err, &de) {
		return problem(string(de.Code), de.Message, de.Fields...).response()
	}
	a.Logger.ErrorContext(r.Context(), "request failed", "requestId", requestID(r.Context()), "error", err.Error())
	return problem(codeInternal, "internal error; request id "+requestID(r.Context())).response()
}
