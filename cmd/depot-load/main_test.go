package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/dev/runinfo"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// TestLoadOnALocalStack runs a short load, as make load does, on a stack
// deployed on the embedded engines (or the AWS_ENDPOINT_URL* ones) and
// found through its run.json: it must meet no 5xx and leave no drift, and
// it must have sent the reads and writes of the mix and the presigned
// uploads.
func TestLoadOnALocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys a stack")
	}
	engines, err := localrun.UseEngines()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engines.Close() })
	state := t.TempDir()
	issuer, err := localauth.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	settings := lambdafn.Settings{TableName: "depot-load-test", BucketName: "depot-load-test"}
	stack, err := engines.Deploy(context.Background(), settings, issuer, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(stack.Gateway)
	t.Cleanup(srv.Close)
	dynamoURL, s3URL := runinfo.Endpoints()
	remove, err := runinfo.Write(state, runinfo.Info{PID: os.Getpid(), API: srv.URL, DynamoDB: dynamoURL, S3: s3URL,
		Table: settings.TableName, Bucket: settings.BucketName, Embedded: engines.Notifier != nil})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)

	var out strings.Builder
	rec, err := run(context.Background(), config{StateDir: state, Duration: 3 * time.Second, Workers: 3, Audit: true, Seed: 1, Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, op := range []string{"ListItems", "GetItem", "CreateItem", "CreateAdjustment"} {
		if s := rec.ops[op]; s == nil || len(s.lat) == 0 {
			t.Errorf("no %s in the load:\n%s", op, out.String())
		}
	}
	if !strings.Contains(out.String(), "audit: no drift") || !strings.Contains(out.String(), "\ntotal ") {
		t.Errorf("output:\n%s", out.String())
	}
}

// The figures: nearest-rank quantiles.
func TestPercentiles(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0.5: 5, 0.95: 10, 0.99: 10, 0.1: 1} {
		if got := pct(v, q); got != want {
			t.Errorf("pct(%v) = %v, want %v", q, got, want)
		}
	}
	if pct(nil, 0.5) != 0 {
		t.Error("empty")
	}
}
