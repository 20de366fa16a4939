// Command depot-audit audits a Depot table and its images bucket (make
// audit): the audit AuditStock runs every day (dynamo.Audit), printed as
// its JSON report on stdout, with a one-line verdict on stderr. It exits 1
// when it finds drift, 2 when it cannot run.
//
// Engines: those the AWS SDK's variables name (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3; none: AWS itself, with
// the usual credentials), or else the ones the running make run uses, as
// its run.json in the state directory says (internal/dev/runinfo), with
// its table and bucket. -table and -bucket name others.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/runinfo"
	"github.com/depot-inventory/depot/internal/dynamo"
)

func main() {
	table := flag.String("table", "", "table (default: make run's, else $TABLE_NAME, else "+runinfo.LocalTable+")")
	bucket := flag.String("bucket", "", "images bucket (default: make run's, else $BUCKET_NAME, else "+runinfo.LocalBucket+"); - for none")
	state := flag.String("state", localauth.DefaultStateDir(), "make run's state directory, where its run.json is")
	segments := flag.Int("segments", dynamo.DefaultAuditSegments, "parallel Scan segments")
	single := flag.Bool("single-pass", false, "report the first pass's drift without confirming it by a second pass")
	confirm := flag.Duration("confirm-after", dynamo.DefaultConfirmAfter, "pause before the confirming pass")
	perKind := flag.Int("per-kind", dynamo.DefaultDriftsPerKind, "drifts listed per kind")
	grace := flag.Duration("upload-grace", dynamo.DefaultUploadGrace, "how long an upload that is no pending image may await processing (0: no time)")
	timeout := flag.Duration("timeout", 15*time.Minute, "give up after this long")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	target, err := runinfo.Locate(*state, *table, *bucket, os.Getenv)
	if err != nil {
		fail(err)
	}
	o := dynamo.AuditOptions{Segments: *segments, SinglePass: *single, ConfirmAfter: *confirm, MaxPerKind: *perKind,
		UploadGrace: *grace}
	if *grace == 0 {
		o.UploadGrace = -1
	}
	fmt.Fprintf(os.Stderr, "depot-audit: table %s, bucket %s, on %s\n", target.Table, target.Bucket, target.Engines)
	report, err := target.Audit(ctx, o)
	if err != nil {
		fail(err)
	}
	out, _ := json.MarshalIndent(report, "", "  ")
	fmt.Println(string(out))
	fmt.Fprintln(os.Stderr, runinfo.Verdict(report))
	if report.Drift > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "depot-audit:", err)
	os.Exit(2)
}
