// Package auditfn wires the AuditStock function: once a day (an
// EventBridge schedule in template.yaml) it audits the table and the
// image objects (dynamo.Audit) and writes the report as one log line,
// which carries the metric AuditDrift (namespace Depot, no dimensions: the
// number of drifts found) in CloudWatch's Embedded Metric Format. Drift is
// no error of the invocation (a retry would find it again): the metric
// says it; an audit that could not read the table or the bucket is.
package auditfn

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/media"
)

// Function is AuditStock's logical id in template.yaml.
const Function = "AuditStock"

// Grants are what AuditStock may do: scan the table and list the bucket's
// objects. Nothing else does either.
var Grants = access.Grants{access.ScanTable, access.ListBucket}

// maxReportBytes bounds the report a log line carries (a CloudWatch log
// event holds 256 KB); a larger one keeps its counts and drops its list.
const maxReportBytes = 200 << 10

// MustHandler builds the AuditStock handler from the environment, exiting
// (a Lambda init error) when it cannot.
func MustHandler() func(context.Context, events.EventBridgeEvent) (*dynamo.AuditReport, error) {
	s, err := lambdafn.LoadSettings(Grants, os.Getenv)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	a, err := New(context.Background(), s)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	return a.Handle
}

// Auditor runs the audit.
type Auditor struct {
	DB      dynamo.ScanAPI
	Objects dynamo.ObjectLister
	Table   string
	Options dynamo.AuditOptions
	Logger  *slog.Logger
}

// New builds the auditor AuditStock runs, on the settings' table and
// bucket.
func New(_ context.Context, s lambdafn.Settings) (*Auditor, error) {
	cfg, err := lambdafn.AWSConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	client := lambdafn.NewS3Client(cfg)
	if len(s.S3Options) > 0 {
		client = s3.New(client.Options(), s.S3Options...)
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: s.LogLevel}))
	}
	return &Auditor{DB: lambdafn.NewDynamoClient(cfg, s.DynamoDBOptions...), Table: s.TableName,
		Objects: media.New(client, s.BucketName), Logger: logger}, nil
}

// Handle audits, logs the report with its metric, and returns it (the
// invocation's result, for make invoke FN=AuditStock).
func (a *Auditor) Handle(ctx context.Context, ev events.EventBridgeEvent) (*dynamo.AuditReport, error) {
	start := time.Now()
	rctx, stats := callstats.With(ctx)
	report, err := dynamo.Audit(rctx, a.DB, a.Table, a.Objects, a.Options)
	attrs := []slog.Attr{
		slog.String("function", Function), slog.String("event", ev.ID),
		slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
		slog.Int(emf.DDBCalls, stats.Total("DynamoDB")),
		slog.Float64(emf.DDBMs, float64(stats.Elapsed("DynamoDB").Microseconds())/1000),
		slog.Int(emf.DDBThrottles, stats.Throttles("DynamoDB")),
		slog.Any("ddbOps", stats.Calls("DynamoDB")), slog.Any("s3Ops", stats.Calls("S3")),
		slog.Any("grants", stats.Actions()),
	}
	if err != nil {
		// No AuditDrift: an audit that did not run found nothing (Lambda's
		// Errors metric counts it).
		attrs = append(attrs, slog.String("error", err.Error()), emf.Attr(time.Now(), emf.DynamoDB))
		a.Logger.LogAttrs(rctx, slog.LevelError, "audit", attrs...)
		return nil, err
	}
	level := slog.LevelInfo
	if report.Drift > 0 {
		level = slog.LevelError
	}
	attrs = append(attrs, slog.Int("drift", report.Drift), slog.Int(emf.AuditDrift, report.Drift),
		emf.Attr(time.Now(), emf.Audit, emf.DynamoDB), slog.Any("report", logged(report)))
	a.Logger.LogAttrs(rctx, level, "audit", attrs...)
	return report, nil
}

// logged is the report as the log line carries it: whole, unless its
// drifts would make the line too long.
func logged(r *dynamo.AuditReport) *dynamo.AuditReport {
	if b, err := json.Marshal(r); err == nil && len(b) <= maxReportBytes {
		return r
	}
	short := *r
	short.Drifts = nil
	short.Notes = append(short.Notes, "drifts left out of this line: too long; driftByKind counts them")
	return &short
}
