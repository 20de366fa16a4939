// Package importfn wires the ImportItems function: S3 events of uploaded
// import files, and the import queue's messages (jobs handed over between
// invocations, or to be retried), in; the import use cases out
// (docs/csv.md).
package importfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/jobqueue/message"
	"github.com/depot-inventory/depot/internal/lambdafn"
	_ "github.com/depot-inventory/depot/internal/lambdafn/queuefn" // hands jobs over by SQS
	"github.com/depot-inventory/depot/internal/usecase"
)

// Function is ImportItems' logical id in template.yaml.
const Function = "ImportItems"

// Grants are what ImportItems may do: read and save the job; find, create
// and change items as an item change does (their markers, facet rows,
// levels, ledger, counters and idempotency records); list locations and
// levels; read the file; write, join, abort and remove the results; hand
// the job over.
var Grants = access.Grants{
	access.GetItems, access.PutItems, access.UpdateItems, access.DeleteItems, access.QueryTable, access.QueryGSI1,
	access.ReadImports, access.WriteImports, access.AbortImports, access.DeleteImports, access.SendImports,
}

// Timeout is the function's timeout when the context has no deadline.
const Timeout = 15 * time.Minute

// Handler is what ImportItems' main passes to lambda.Start.
type Handler = func(context.Context, json.RawMessage) (any, error)

// MustHandler builds the ImportItems handler from the environment, exiting
// (a Lambda init error) when it cannot.
func MustHandler() Handler {
	s, err := lambdafn.LoadSettings(Grants, os.Getenv)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	w, err := New(context.Background(), s)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	return w.Handle
}

// Worker handles the events of ImportItems.
type Worker struct {
	Service *usecase.Service
}

// New builds the worker ImportItems runs.
func New(ctx context.Context, s lambdafn.Settings) (*Worker, error) {
	svc, err := lambdafn.NewService(ctx, s)
	if err != nil {
		return nil, err
	}
	if svc.Imports != nil {
		svc.Imports = rows{svc.Imports}
	}
	return &Worker{Service: svc}, nil
}

// rows counts, for the event's line, the rows the saves of its job
// applied, and the failed ones among them (each checkpoint's counts).
type rows struct{ usecase.ImportStore }

func (r rows) SaveImport(ctx context.Context, c inventory.ImportChange) error {
	if err := r.ImportStore.SaveImport(ctx, c); err != nil {
		return err
	}
	if c.Old != nil {
		if n := c.Next.Counts.Rows - c.Old.Counts.Rows; n > 0 {
			emf.Add(ctx, emf.ImportRows, n)
		}
		if n := c.Next.Counts.Failed - c.Old.Counts.Failed; n > 0 {
			emf.Add(ctx, emf.ImportRowsFailed, n)
		}
	}
	return nil
}

// Handle takes either event: an S3 notification (eventSource aws:s3) or an
// SQS batch (aws:sqs), told apart by their records.
func (w *Worker) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil || len(probe.Records) == 0 {
		return nil, fmt.Errorf("%s: an event with no records", Function)
	}
	switch src := probe.Records[0].EventSource; src {
	case "aws:s3":
		var ev events.S3Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("%s: S3 event: %w", Function, err)
		}
		return nil, w.HandleS3(ctx, ev)
	case "aws:sqs":
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("%s: SQS event: %w", Function, err)
		}
		return w.HandleSQS(ctx, ev)
	default:
		return nil, fmt.Errorf("%s: events of %q are not mine", Function, src)
	}
}

func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(Timeout)
}

// HandleS3 runs the import of each uploaded file (other keys are ignored).
// An error (the hand-over to the queue failed too) makes Lambda retry the
// event, which is safe.
func (w *Worker) HandleS3(ctx context.Context, ev events.S3Event) error {
	var errs []error
	for _, rec := range ev.Records {
		key, err := url.QueryUnescape(rec.S3.Object.Key) // S3 sends keys form-encoded
		if err != nil {
			w.Service.Logger.Warn("undecodable key; ignored", "key", rec.S3.Object.Key)
			continue
		}
		err = w.log(ctx, key, 1, func(ctx context.Context) error {
			return w.Service.ProcessImportUpload(ctx, key, deadlineOf(ctx))
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// HandleSQS runs each job delivered and reports those to deliver again.
func (w *Worker) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		attempt, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		attempt = max(attempt, 1)
		id, err := message.Parse(m.Body)
		if err != nil {
			_ = w.log(ctx, "", attempt, func(context.Context) error { return fmt.Errorf("dropped: %w", err) })
			continue
		}
		err = w.log(ctx, id, attempt, func(ctx context.Context) error {
			return w.Service.ProcessImport(ctx, id, attempt, deadlineOf(ctx))
		})
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

// log runs one piece of work and logs one line for it with the calls it
// made and its metrics (package emf): the rows applied and failed, and the
// DynamoDB calls, time and throttled attempts.
func (w *Worker) log(ctx context.Context, subject string, attempt int, work func(context.Context) error) error {
	start := time.Now()
	ctx, stats := callstats.With(ctx)
	ctx, counts := emf.WithCounts(ctx)
	err := work(ctx)
	attrs := []slog.Attr{
		slog.String("function", Function), slog.String("import", subject), slog.Int("attempt", attempt),
		slog.Int64(emf.ImportRows, counts.Get(emf.ImportRows)),
		slog.Int64(emf.ImportRowsFailed, counts.Get(emf.ImportRowsFailed)),
		slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
		slog.Int(emf.DDBCalls, stats.Total("DynamoDB")),
		slog.Float64(emf.DDBMs, float64(stats.Elapsed("DynamoDB").Microseconds())/1000),
		slog.Int(emf.DDBThrottles, stats.Throttles("DynamoDB")),
		slog.Any("ddbOps", stats.Calls("DynamoDB")), slog.Any("s3Ops", stats.Calls("S3")),
		slog.Any("sqsOps", stats.Calls("SQS")), slog.Any("grants", stats.Actions()),
		emf.Attr(time.Now(), emf.Imports, emf.DynamoDB),
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	w.Service.Logger.LogAttrs(ctx, level, "event", attrs...)
	return err
}
