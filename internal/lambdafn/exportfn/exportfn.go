// Package exportfn wires the ExportItems function: messages of the export
// queue in, the ProcessExport use case (docs/exports.md).
package exportfn

import (
	"context"
	"fmt"
	"log/slog"
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

// Function is ExportItems' logical id in template.yaml.
const Function = "ExportItems"

// Grants are what ExportItems may do: read and save the job, list the items
// as GET /items does (so every index its filters and orders read), with
// their levels, the locations and the groups, write the file in
// parts (aborting the upload of a job that failed for good; reading the
// file when a run completed it but stopped before recording it), and hand
// the job over to the next invocation.
var Grants = access.Grants{
	access.GetItems, access.PutItems, access.QueryTable, access.QueryGSI1, access.QueryGSI2, access.QueryGSI3, access.QueryGSI4, access.BatchGetItems,
	access.WriteExports, access.AbortExports, access.LinkExports, access.SendExports,
}

// Timeout is the function's timeout when the context has no deadline.
const Timeout = 15 * time.Minute

// MustHandler builds the ExportItems handler from the environment, exiting
// (a Lambda init error) when it cannot.
func MustHandler() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
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

// Worker handles deliveries of export jobs.
type Worker struct {
	Service *usecase.Service
}

// New builds the worker ExportItems runs.
func New(ctx context.Context, s lambdafn.Settings) (*Worker, error) {
	svc, err := lambdafn.NewService(ctx, s)
	if err != nil {
		return nil, err
	}
	if svc.Jobs != nil {
		svc.Jobs = rows{svc.Jobs}
	}
	return &Worker{Service: svc}, nil
}

// rows counts, for the delivery's line, the rows the saves of its job
// added to the file (the rows of the parts each checkpoint records).
type rows struct{ usecase.ExportStore }

func (r rows) SaveExport(ctx context.Context, c inventory.ExportChange) error {
	if err := r.ExportStore.SaveExport(ctx, c); err != nil {
		return err
	}
	if c.Old != nil && c.Next.Rows > c.Old.Rows {
		emf.Add(ctx, emf.ExportRows, c.Next.Rows-c.Old.Rows)
	}
	return nil
}

// Handle processes each message (the event source delivers one at a time)
// and reports those to deliver again as batch item failures, so that one
// failed job does not redeliver another. A message that names no job is
// logged and dropped: no delivery would make it one. Each message's line
// carries its metrics (package emf): the rows written, and the DynamoDB
// calls, time and throttled attempts.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(Timeout)
	}
	for _, m := range ev.Records {
		start := time.Now()
		rctx, stats := callstats.With(ctx)
		rctx, counts := emf.WithCounts(rctx)
		attempt, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		attempt = max(attempt, 1)
		id, err := message.Parse(m.Body)
		if err == nil {
			err = w.Service.ProcessExport(rctx, id, attempt, deadline)
			if err != nil {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		} else {
			err = fmt.Errorf("dropped: %w", err)
		}
		attrs := []slog.Attr{
			slog.String("function", Function), slog.String("export", id), slog.Int("attempt", attempt),
			slog.Int64(emf.ExportRows, counts.Get(emf.ExportRows)),
			slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
			slog.Int(emf.DDBCalls, stats.Total("DynamoDB")),
			slog.Float64(emf.DDBMs, float64(stats.Elapsed("DynamoDB").Microseconds())/1000),
			slog.Int(emf.DDBThrottles, stats.Throttles("DynamoDB")),
			slog.Any("ddbOps", stats.Calls("DynamoDB")), slog.Any("s3Ops", stats.Calls("S3")),
			slog.Any("sqsOps", stats.Calls("SQS")), slog.Any("grants", stats.Actions()),
			emf.Attr(time.Now(), emf.Exports, emf.DynamoDB),
		}
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		w.Service.Logger.LogAttrs(rctx, level, "message", attrs...)
	}
	return resp, nil
}
