package invoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dev/devtest"
	"github.com/depot-inventory/depot/internal/dev/invoke"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../../.."

// httpWant is what a function answers to its sample event (events/) on an
// empty table: the sample item does not exist.
type httpWant struct {
	status int
	code   string // the problem's code, for errors
	check  func(t *testing.T, resp events.APIGatewayV2HTTPResponse)
}

var httpWants = map[string]httpWant{
	// No queue listens locally (invoke.NoQueue): the job is saved, but
	// its hand-over fails, which answers 503 for the client to retry.
	"RequestExport": {status: 503, code: "service_unavailable"},
	"Health": {status: 200, check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
		if strings.TrimSpace(resp.Body) != `{"status":"ok"}` {
			t.Errorf("body = %s, want {\"status\":\"ok\"}", resp.Body)
		}
	}},
	"GetOpenAPI": {status: 200, check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
		if ct := header(resp, "Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
			t.Errorf("Content-Type = %q, want application/yaml", ct)
		}
		if !strings.Contains(resp.Body, "openapi:") {
			t.Errorf("body is not the OpenAPI document: %.80s", resp.Body)
		}
	}},
	"CreateItem": {status: 201, check: func(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
		var item struct{ ID, SKU, CreatedBy string }
		if err := json.Unmarshal([]byte(resp.Body), &item); err != nil {
			t.Fatalf("body: %v: %s", err, resp.Body)
		}
		// events/create-item.json's body is openapi.yaml's example.
		if item.SKU != "BOLT-M8-40" || item.ID == "" || item.CreatedBy != "alice@example.com" {
			t.Errorf("item = %+v, want sku BOLT-M8-40 with an id, by alice@example.com", item)
		}
		if loc := header(resp, "Location"); loc != "/items/"+item.ID {
			t.Errorf("Location = %q, want /items/%s", loc, item.ID)
		}
	}},
	"ListItems":         {status: 200},
	"ListDeletedItems":  {status: 200},
	"GetItem":           {status: 404, code: "item_not_found"},
	"UpdateItem":        {status: 404, code: "item_not_found"},
	"DeleteItem":        {status: 404, code: "item_not_found"},
	"RestoreItem":       {status: 404, code: "item_not_found"},
	"ListItemHistory":   {status: 404, code: "item_not_found"},
	"ListItemActivity":  {status: 404, code: "item_not_found"},
	"CreateImageUpload": {status: 404, code: "item_not_found"},
}

// TestInvokeEveryFunction runs every function of template.yaml as make
// invoke does, its bootstrap under the Runtime Interface Emulator, with its
// sample event, against the embedded engines (or those AWS_ENDPOINT_URL*
// name), and checks the answer. A function this test does not know must
// answer without a function error (and, if it serves HTTP, below 500).
func TestInvokeEveryFunction(t *testing.T) {
	if err := checkLinux(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	proj, err := invoke.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := proj.Functions()
	if err != nil {
		t.Fatal(err)
	}

	// Build the emulator (cached in bin/) and all bootstraps side by side.
	start := time.Now()
	var rie string
	var rieErr error
	var wg sync.WaitGroup
	wg.Go(func() { rie, rieErr = invoke.EnsureRIE(ctx, filepath.Join(repoRoot, "bin")) })
	bins, err := invoke.Build(ctx, repoRoot, t.TempDir(), fns...)
	wg.Wait()
	if err := errors.Join(err, rieErr); err != nil {
		t.Fatal(err)
	}
	t.Logf("built the emulator and %d bootstraps in %s", len(bins), time.Since(start).Round(time.Millisecond))

	engines, err := localrun.UseEngines()
	if err != nil {
		t.Fatal(err)
	}
	defer engines.Close()
	names := invoke.Names{Table: "depot-invoke-test", Bucket: "depot-invoke-test-images"}
	if err := localrun.Provision(ctx, lambdafn.Settings{TableName: names.Table, BucketName: names.Bucket}); err != nil {
		t.Fatal(err)
	}

	// The group returns once its parallel subtests are done, before the
	// engines stop.
	t.Run("functions", func(t *testing.T) {
		for _, fn := range fns {
			t.Run(fn.LogicalID, func(t *testing.T) {
				t.Parallel()
				event, err := os.ReadFile(filepath.Join(repoRoot, fn.EventFile()))
				if err != nil {
					t.Fatalf("every function needs a sample event: %v", err)
				}
				env, err := proj.Environment(fn, names, nil)
				if err != nil {
					t.Fatal(err)
				}
				payload, logs, elapsed, err := invokeOnce(ctx, rie, bins[fn.LogicalID], fn, env, event)
				t.Logf("%s answered in %s", fn.LogicalID, elapsed.Round(time.Millisecond))
				if err != nil || t.Failed() {
					t.Fatalf("%v\npayload: %s\nlogs:\n%s", err, payload, logs)
				}
				checkAnswer(t, fn, payload)
				if t.Failed() {
					t.Logf("logs:\n%s", logs)
				}
			})
		}
	})
}

// invokeOnce starts an emulator for the function, invokes it once with the
// event and stops it.
func invokeOnce(ctx context.Context, rie, bootstrap string, fn invoke.Function, env map[string]string, event []byte) (payload []byte, logs string, elapsed time.Duration, err error) {
	var buf syncBuffer
	emu, err := invoke.Start(ctx, invoke.Config{
		RIE:       rie,
		Bootstrap: bootstrap,
		Env:       invoke.ProcessEnv(fn, env, bootstrap),
		Timeout:   time.Duration(fn.TimeoutSeconds()) * time.Second,
		Logs:      &buf,
	})
	if err != nil {
		return nil, buf.String(), 0, err
	}
	start := time.Now()
	payload, err = emu.Invoke(ctx, event)
	elapsed = time.Since(start)
	emu.Stop()
	return payload, buf.String(), elapsed, err
}

func checkAnswer(t *testing.T, fn invoke.Function, payload []byte) {
	want, known := httpWants[fn.LogicalID]
	if len(fn.HTTPRoutes) == 0 {
		if known {
			t.Errorf("%s has expectations for an HTTP answer but serves no route", fn.LogicalID)
		}
		t.Logf("payload: %s", payload) // no function error is all that is asked
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode == 0 {
		t.Fatalf("payload is no API Gateway response (%v): %s", err, payload)
	}
	if !known {
		if resp.StatusCode >= 500 {
			t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
		}
		return
	}
	if resp.StatusCode != want.status {
		t.Errorf("status = %d, want %d; body %s", resp.StatusCode, want.status, resp.Body)
	}
	if want.code != "" {
		var problem struct{ Code string }
		if err := json.Unmarshal([]byte(resp.Body), &problem); err != nil || problem.Code != want.code {
			t.Errorf("problem code = %q (%v), want %q; body %s", problem.Code, err, want.code, resp.Body)
		}
		if ct := header(resp, "Content-Type"); ct != "application/problem+json" {
			t.Errorf("Content-Type = %q, want application/problem+json", ct)
		}
	}
	if want.check != nil {
		want.check(t, resp)
	}
}

// TestFunctionErrors checks that a function error, a timeout and a runtime
// that exits are failures, each with the function's output in the logs.
func TestFunctionErrors(t *testing.T) {
	if err := checkLinux(); err != nil {
		t.Skip(err)
	}
	// Cancelled once the parallel subtests are done.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	t.Cleanup(cancel)
	proj, err := invoke.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	health, err := proj.Function("Health")
	if err != nil {
		t.Fatal(err)
	}
	var rie string
	var rieErr error
	var wg sync.WaitGroup
	wg.Go(func() { rie, rieErr = invoke.EnsureRIE(ctx, filepath.Join(repoRoot, "bin")) })
	bins, err := invoke.Build(ctx, repoRoot, t.TempDir(), health)
	wg.Wait()
	if err := errors.Join(err, rieErr); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b"}

	t.Run("handler error", func(t *testing.T) {
		t.Parallel()
		payload, logs, _, err := invokeOnce(ctx, rie, bins["Health"], health, env, []byte(`[1]`))
		var fe *invoke.FunctionError
		if !errors.As(err, &fe) || fe.Type != "UnmarshalTypeError" {
			t.Fatalf("err = %v, want an UnmarshalTypeError function error; payload %s\n%s", err, payload, logs)
		}
		if !json.Valid(payload) || !strings.Contains(logs, "START RequestId") {
			t.Errorf("payload %s, logs:\n%s", payload, logs)
		}
	})

	scripts := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(scripts, name, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("init failure", func(t *testing.T) {
		t.Parallel()
		bs := script("exits", "echo init failed: no table >&2\nexit 3\n")
		_, logs, _, err := invokeOnce(ctx, rie, bs, health, env, []byte(`{}`))
		var fe *invoke.FunctionError
		if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
			t.Fatalf("err = %v, want a Runtime.ExitError\n%s", err, logs)
		}
		if !strings.Contains(logs, "init failed: no table") {
			t.Errorf("the function's stderr is not in the logs:\n%s", logs)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		// Never asks for the invocation.
		bs := script("hangs", "while :; do sleep 60; done\n")
		fn := health
		fn.Timeout = "1"
		payload, logs, elapsed, err := invokeOnce(ctx, rie, bs, fn, env, []byte(`{}`))
		var fe *invoke.FunctionError
		if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
			t.Fatalf("err = %v, want a timeout; payload %q\n%s", err, payload, logs)
		}
		if elapsed > 10*time.Second {
			t.Errorf("the timeout took %s", elapsed)
		}
	})
}

func TestEnvironment(t *testing.T) {
	proj, err := invoke.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := proj.Functions()
	if err != nil {
		t.Fatal(err)
	}
	names := invoke.Names{Table: "tbl", Bucket: "bkt"}
	for _, fn := range fns {
		env, err := proj.Environment(fn, names, nil)
		if err != nil {
			t.Errorf("%s: %v", fn.LogicalID, err)
			continue
		}
		want := map[string]string{"TABLE_NAME": "tbl", "BUCKET_NAME": "bkt", "ROLES_CLAIM": "cognito:groups", "LOG_LEVEL": "info"}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s = %q, want %q", fn.LogicalID, k, env[k], v)
			}
		}
		for k, v := range env {
			if strings.HasPrefix(v, "!") {
				t.Errorf("%s: %s = %q is unresolved", fn.LogicalID, k, v)
			}
		}
	}

	fn := fns[0]
	fn.Env = map[string]string{
		"LITERAL":   "as-is",
		"TABLE_REF": "!Ref " + proj.Template.Table.LogicalID,
		"PARAM_REF": "!Ref LogLevel", // a parameter: its default
		"ARN":       "!GetAtt Table.Arn",
	}
	if _, err := proj.Environment(fn, names, nil); err == nil || !strings.Contains(err.Error(), "ARN: !GetAtt Table.Arn") {
		t.Errorf("unresolvable variable: err = %v", err)
	}
	env, err := proj.Environment(fn, names, map[string]string{"ARN": "arn:aws:dynamodb:local", "EXTRA": "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"LITERAL": "as-is", "TABLE_REF": "tbl", "PARAM_REF": "INFO", "ARN": "arn:aws:dynamodb:local", "EXTRA": "x"}
	if fmt.Sprint(env) != fmt.Sprint(want) {
		t.Errorf("env = %v, want %v", env, want)
	}
}

func TestProcessEnv(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("HOME", "/root")
	t.Setenv("AWS_PROFILE", "prod")
	proj, err := invoke.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := proj.Function("Health")
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Join(invoke.ProcessEnv(fn, map[string]string{"TABLE_NAME": "tbl", "AWS_LAMBDA_FUNCTION_NAME": "spoof"}, "/x/health/bootstrap"), "\n") + "\n"
	for _, want := range []string{"TABLE_NAME=tbl\n", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:1\n", "AWS_ACCESS_KEY_ID=local\n",
		"AWS_REGION=eu-west-1\n", "AWS_LAMBDA_FUNCTION_NAME=Health\n", "AWS_LAMBDA_FUNCTION_TIMEOUT=10\n", "LAMBDA_TASK_ROOT=/x/health\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	for _, not := range []string{"HOME=", "AWS_PROFILE="} {
		if strings.Contains(env, not) {
			t.Errorf("env leaks %s of this process:\n%s", not, env)
		}
	}
}

// TestMakeFragmentPinsSameRIE keeps build/invoke.mk's emulator version the
// one this package installs.
func TestMakeFragmentPinsSameRIE(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(repoRoot, "build", "invoke.mk"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"RIE_VERSION": invoke.RIEVersion, "RIE_PKG": invoke.RIEPackage} {
		m := regexp.MustCompile(`(?m)^` + name + `\s*:?=\s*(\S+)\s*$`).FindSubmatch(mk)
		if m == nil || string(m[1]) != want {
			t.Errorf("build/invoke.mk: %s is not %s", name, want)
		}
	}
	if !bytes.Contains(mk, []byte("$(RIE_PKG)@$(RIE_VERSION)")) {
		t.Errorf("build/invoke.mk does not install $(RIE_PKG)@$(RIE_VERSION)")
	}
}

func header(resp events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func checkLinux() error {
	if runtime.GOOS != "linux" {
		return invoke.ErrNotLinux
	}
	return nil
}

type syncBuffer = devtest.SyncBuffer
