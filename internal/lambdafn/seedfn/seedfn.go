// Package seedfn wires the SeedDefaultLocation function: the CloudFormation
// custom resource (DefaultLocation in template.yaml) that makes a fresh
// deployment hold the default location (id default, code DEFAULT;
// docs/data-model.md §2.5) with no manual step.
//
// On Create and Update it runs the SeedDefaultLocation use case, which
// changes nothing when the location exists; on Delete it does nothing, as
// the table (and the location in it) is retained. It always answers
// CloudFormation at the event's pre-signed ResponseURL (cfn.LambdaWrap):
// SUCCESS, or FAILED with the reason, even when the function could not be
// configured (an init error would leave the stack waiting an hour for an
// answer), and seeding gives up ResponseMargin before the invocation's
// deadline so that the answer is sent in time.
//
// An event without a ResponseURL (events/seed-default-location.json, with
// make invoke or sam local invoke -e) has no CloudFormation waiting: the
// answer is the invocation's result instead, and a failure its error.
//
// make run seeds its table through Seed, the same code path.
package seedfn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// Function is SeedDefaultLocation's logical id in template.yaml.
const Function = "SeedDefaultLocation"

// The custom resource that invokes the function, as template.yaml declares it.
const (
	ResourceLogicalID = "DefaultLocation"
	ResourceType      = "Custom::DefaultLocation"
)

// PhysicalResourceID is the custom resource's id, the same on every
// request: an Update that answered another id would make CloudFormation
// send a Delete for the old one.
const PhysicalResourceID = "depot-default-location"

// ResponseMargin is how long before the invocation's deadline seeding
// gives up, leaving the time to answer CloudFormation.
const ResponseMargin = 3 * time.Second

// maxReason bounds the reason sent to CloudFormation (a response body may
// not exceed 4 KiB); the log line has the whole error.
const maxReason = 1000

// Grants are what SeedDefaultLocation may do: write the location and its
// code marker (a TransactWriteItems of Puts) and, when that transaction is
// cancelled, read the location back to tell "already there" from a
// failure.
var Grants = access.Grants{access.GetItems, access.PutItems}

// Seeder is the use case the custom resource runs (*usecase.Service).
type Seeder interface {
	SeedDefaultLocation(ctx context.Context) error
}

// Handler is what main passes to lambda.Start: it answers CloudFormation
// and returns the answer.
type Handler = func(context.Context, cfn.Event) (cfn.Response, error)

// Resource is the custom resource's implementation.
type Resource struct {
	Seeder Seeder
	Table  string // the table seeded, for the reason of a failure
	Logger *slog.Logger
	// InitErr is why the function could not be configured; every Create
	// and Update then fails with it (Delete still succeeds).
	InitErr error
}

// New builds the custom resource on the table the settings name.
func New(ctx context.Context, s lambdafn.Settings) (*Resource, error) {
	svc, err := lambdafn.NewService(ctx, s)
	if err != nil {
		return nil, err
	}
	return &Resource{Seeder: svc, Table: s.TableName, Logger: svc.Logger}, nil
}

// MustHandler builds the handler from the environment. Unlike the other
// functions it does not exit when it cannot: CloudFormation would wait an
// hour for an answer that never comes. It logs the problem and answers
// every Create and Update with FAILED and the problem as the reason.
func MustHandler() Handler {
	s, err := lambdafn.LoadSettings(Grants, os.Getenv)
	var r *Resource
	if err == nil {
		r, err = New(context.Background(), s)
	}
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "function", Function, "error", oneLine(err))
		r = &Resource{Table: s.TableName, Logger: lambdafn.NewLogger(os.Getenv("LOG_LEVEL")), InitErr: err}
	}
	return r.Handler()
}

// Seed runs in this process what the custom resource runs when a stack is
// created, on the table the settings name, and logs its line as the
// function does. make run's deployment calls it.
func Seed(ctx context.Context, s lambdafn.Settings) error {
	r, err := New(ctx, s)
	if err != nil {
		return err
	}
	_, _, err = r.Run(ctx, cfn.Event{
		RequestType: cfn.RequestCreate, ResourceType: ResourceType, LogicalResourceID: ResourceLogicalID,
		ResourceProperties: map[string]any{"TableName": s.TableName},
	})
	return err
}

// Handler returns the Lambda handler: Run, answered to CloudFormation.
func (r *Resource) Handler() Handler {
	return func(ctx context.Context, ev cfn.Event) (cfn.Response, error) {
		answer := *cfn.NewResponse(&ev)
		run := func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
			id, data, err := r.Run(ctx, ev)
			answer.PhysicalResourceID, answer.Data, answer.Status = id, data, cfn.StatusSuccess
			if err != nil {
				err = errors.New(reason(err))
				answer.Status, answer.Reason = cfn.StatusFailed, err.Error()
			}
			return id, data, err
		}
		if ev.ResponseURL == "" {
			// A hand-made event: nobody waits at a ResponseURL.
			_, _, err := run(ctx, ev)
			return answer, err
		}
		// cfn.LambdaWrap sends the answer (FAILED with the error as the
		// reason, also if Run panics); its error is only that the answer
		// could not be sent, which Lambda's retry of the asynchronous
		// invocation may overcome (seeding again is harmless).
		if _, err := cfn.LambdaWrap(run)(ctx, ev); err != nil {
			return answer, fmt.Errorf("answer CloudFormation at the event's ResponseURL: %w", err)
		}
		return answer, nil
	}
}

// Run does what the request asks of the custom resource, and logs one line
// for the event with the calls it made and the grants they needed. It is a
// cfn.CustomResourceFunction.
func (r *Resource) Run(ctx context.Context, ev cfn.Event) (physicalID string, data map[string]any, err error) {
	start := time.Now()
	ctx, stats := callstats.With(ctx)
	defer func() {
		attrs := []slog.Attr{
			slog.String("function", Function), slog.String("requestType", string(ev.RequestType)),
			slog.String("logicalResourceId", ev.LogicalResourceID),
			slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
			slog.Any("ddbOps", stats.Calls("DynamoDB")), slog.Any("grants", stats.Actions()),
		}
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		r.logger().LogAttrs(ctx, level, "event", attrs...)
	}()
	switch ev.RequestType {
	case cfn.RequestCreate, cfn.RequestUpdate:
		err = r.seed(ctx)
	case cfn.RequestDelete:
		// The table is retained, and the default location with it.
	default:
		err = fmt.Errorf("unknown request type %q", ev.RequestType)
	}
	return PhysicalResourceID, nil, err
}

func (r *Resource) seed(ctx context.Context) error {
	if r.InitErr != nil {
		return fmt.Errorf("the function could not start: %w", r.InitErr)
	}
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-ResponseMargin))
		defer cancel()
	}
	err := r.Seeder.SeedDefaultLocation(ctx)
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("gave up %s before the function's timeout: %w", ResponseMargin, err)
	}
	return fmt.Errorf("seed the default location (id default, code DEFAULT) in table %s: %w", r.Table, err)
}

func (r *Resource) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// reason is err as CloudFormation shows it: one line, at most maxReason
// bytes, with where the function's logs are.
func reason(err error) string {
	msg := oneLine(err)
	if len(msg) > maxReason {
		msg = strings.ToValidUTF8(msg[:maxReason], "") + "…"
	}
	if group, stream := lambdacontext.LogGroupName, lambdacontext.LogStreamName; stream != "" {
		msg += " (logs: " + group + " " + stream + ")"
	}
	return msg
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
