package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/dev/runinfo"
	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// TestAuditOfMakeRun runs the built depot-audit as make audit does, on a
// stack found through its run.json: the JSON report on stdout and exit 0
// while the table is whole; exit 1, naming the drift, once a SKU marker of
// no item is written into it.
func TestAuditOfMakeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys a stack")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "depot-audit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	engines, err := localrun.UseEngines()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engines.Close() })
	state := filepath.Join(dir, "state")
	issuer, err := localauth.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	settings := lambdafn.Settings{TableName: "depot-audit-test", BucketName: "depot-audit-test"}
	if _, err := engines.Deploy(context.Background(), settings, issuer, slog.New(slog.NewJSONHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	d, s := runinfo.Endpoints()
	if _, err := runinfo.Write(state, runinfo.Info{PID: os.Getpid(), DynamoDB: d, S3: s, Table: settings.TableName,
		Bucket: settings.BucketName, Embedded: engines.Notifier != nil}); err != nil {
		t.Fatal(err)
	}
	audit := func() (dynamo.AuditReport, int, string) {
		t.Helper()
		cmd := exec.Command(bin, "-confirm-after", "10ms")
		cmd.Env = append(os.Environ(), "DEPOT_STATE_DIR="+state)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		var r dynamo.AuditReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("stdout is not a report: %v\n%s\n%s", err, out, stderr.String())
		}
		return r, code, stderr.String()
	}
	r, code, stderr := audit()
	if code != 0 || r.Drift != 0 || r.Table != settings.TableName || r.Records["location"] != 1 || !strings.Contains(stderr, "no drift") {
		t.Fatalf("a fresh stack: exit %d, %+v\n%s", code, r, stderr)
	}

	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = dynamodb.NewFromConfig(cfg).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(settings.TableName),
		Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "SKU#GHOST"},
			"SK": &types.AttributeValueMemberS{Value: "SKU"}, "type": &types.AttributeValueMemberS{Value: "sku"},
			"itemId": &types.AttributeValueMemberS{Value: "01M8QV5S1544AFBA4DHYKWBNJC"}}})
	if err != nil {
		t.Fatal(err)
	}
	r, code, stderr = audit()
	if code != 1 || r.Drift != 1 || r.Drifts[0].Kind != dynamo.DriftSKUMarkerDangling || !strings.Contains(stderr, "DRIFT: 1") {
		t.Errorf("a dangling SKU marker: exit %d, %+v\n%s", code, r, stderr)
	}
}
