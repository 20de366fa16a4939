package runinfo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/media"
)

// make run's table and bucket (cmd/depot-local), unless TABLE_NAME and
// BUCKET_NAME name others.
const (
	LocalTable  = "depot-local"
	LocalBucket = "depot-local-images"
)

// Target is a table and bucket to audit, and the engines they are in.
type Target struct {
	Table, Bucket string // Bucket "": none
	Engines       string // where, for people
	run           *Info
}

// Locate picks what depot-audit and depot-load audit: the engines of the
// make run running with the state directory, and its table and bucket
// unless others are given; or, when the SDK's endpoint variables name other
// engines (AWS_ENDPOINT_URL*; AWS itself with none set, if make run is not
// running), those, with the table and bucket given, else $TABLE_NAME and
// $BUCKET_NAME, else make run's names. A bucket "-" is none (the image
// objects are not checked).
func Locate(stateDir, table, bucket string, getenv func(string) string) (Target, error) {
	t := Target{Table: firstOf(table, getenv("TABLE_NAME"), LocalTable), Bucket: firstOf(bucket, getenv("BUCKET_NAME"), LocalBucket)}
	set := getenv("AWS_ENDPOINT_URL") != "" || getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || getenv("AWS_ENDPOINT_URL_S3") != ""
	d, s := Endpoints()
	info, err := Read(stateDir)
	switch {
	case err == nil && (!set || (d == info.DynamoDB && s == info.S3)):
		t.run = &info
		t.Table, t.Bucket = firstOf(table, info.Table), firstOf(bucket, info.Bucket)
		t.Engines = "make run's: DynamoDB " + info.DynamoDB + ", S3 " + info.S3
	case set:
		t.Engines = "DynamoDB " + orAWS(d) + ", S3 " + orAWS(s)
	case errors.Is(err, ErrNotRunning):
		return t, fmt.Errorf("%w; or set AWS_ENDPOINT_URL* to audit other engines", err)
	default:
		return t, err
	}
	if t.Bucket == "-" {
		t.Bucket = ""
	}
	return t, nil
}

// Audit audits the target (dynamo.Audit, as AuditStock runs it).
func (t Target) Audit(ctx context.Context, o dynamo.AuditOptions) (*dynamo.AuditReport, error) {
	if t.run != nil {
		t.run.UseEngines()
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	var objects dynamo.ObjectLister
	if t.Bucket != "" {
		objects = media.New(lambdafn.NewS3Client(cfg), t.Bucket)
	}
	return dynamo.Audit(ctx, lambdafn.NewDynamoClient(cfg), t.Table, objects, o)
}

// Verdict is an audit's report in one line.
func Verdict(r *dynamo.AuditReport) string {
	if r.Drift == 0 {
		return fmt.Sprintf("audit: no drift (%s records, %s objects, %d pass, %d ms)",
			counts(r.Records), counts(r.Objects), r.Passes, r.DurationMs)
	}
	var kinds []string
	for _, k := range dynamo.DriftKinds {
		if n := r.DriftByKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
	}
	return fmt.Sprintf("audit: DRIFT: %d, confirmed by a second pass (%s)", r.Drift, strings.Join(kinds, ", "))
}

// counts is the total of a report's counts (not those that count a part
// of another).
func counts(m map[string]int64) string {
	var n int64
	for k, v := range m {
		if k != "item.deleted" && k != "uploadsAwaitingProcessing" {
			n += v
		}
	}
	return fmt.Sprint(n)
}

func orAWS(endpoint string) string {
	if endpoint == "" {
		return "AWS"
	}
	return endpoint
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
