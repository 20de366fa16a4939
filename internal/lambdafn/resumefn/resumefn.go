// Package resumefn wires the ResumeShipments function: every minute (an
// EventBridge schedule in template.yaml) it finishes the shipment
// transitions a process left in progress when it died, or rolls back a
// ready that can no longer be done (usecase.Service.ResumeShipments,
// docs/shipments.md).
package resumefn

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// Function is ResumeShipments' logical id in template.yaml.
const Function = "ResumeShipments"

// Grants are what ResumeShipments may do: list the transitions in progress
// (GSI1), read each shipment and its steps' records (BatchGetItem), and
// run any transition: put its steps (levels, ledger lines, items, markers,
// with the checks of its record and of the items), move the locations'
// counts of stocked levels, end it (the header, deleting its record).
var Grants = access.Grants{access.QueryGSI1, access.BatchGetItems, access.PutItems, access.CheckItems,
	access.UpdateItems, access.DeleteItems}

// Timeout is the function's timeout when the context has no deadline; a
// run stops starting transitions a minute before it.
const Timeout = 5 * time.Minute

// MustHandler builds the ResumeShipments handler from the environment,
// exiting (a Lambda init error) when it cannot.
func MustHandler() func(context.Context, events.EventBridgeEvent) (Result, error) {
	s, err := lambdafn.LoadSettings(Grants, os.Getenv)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	r, err := New(context.Background(), s)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	return r.Handle
}

// Resumer runs the resumer.
type Resumer struct {
	Service *usecase.Service
}

// New builds the resumer ResumeShipments runs.
func New(ctx context.Context, s lambdafn.Settings) (*Resumer, error) {
	svc, err := lambdafn.NewService(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Resumer{Service: svc}, nil
}

// Result is what a run did.
type Result struct {
	Resumed int `json:"resumed"`
}

// Handle resumes the transitions in progress for longer than
// usecase.ResumeAfter and logs one line with what it did and its calls.
// A transition that fails again is logged by the use case and left for
// the next run; only a failure to list them is the invocation's error.
func (r *Resumer) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(Timeout)
	}
	rctx, stats := callstats.With(ctx)
	n, err := r.Service.ResumeShipments(rctx, deadline.Add(-time.Minute))
	attrs := []slog.Attr{
		slog.String("function", Function), slog.String("event", ev.ID), slog.Int("resumed", n),
		slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
		slog.Int(emf.DDBCalls, stats.Total("DynamoDB")),
		slog.Float64(emf.DDBMs, float64(stats.Elapsed("DynamoDB").Microseconds())/1000),
		slog.Int(emf.DDBThrottles, stats.Throttles("DynamoDB")),
		slog.Any("ddbOps", stats.Calls("DynamoDB")), slog.Any("grants", stats.Actions()),
		emf.Attr(time.Now(), emf.DynamoDB),
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	r.Service.Logger.LogAttrs(rctx, level, "resume", attrs...)
	return Result{Resumed: n}, err
}
