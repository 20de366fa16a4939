package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadSettings(t *testing.T) {
	table := access.Grants{access.GetItems}
	images := access.Grants{access.GetItems, access.SignUploads}
	for _, c := range []struct {
		name   string
		grants access.Grants
		vars   map[string]string
		errs   []string // each must appear in the error; none: no error
	}{
		{"a table function", table, map[string]string{"TABLE_NAME": "t"}, nil},
		{"no table", table, map[string]string{"BUCKET_NAME": "b"}, []string{"TABLE_NAME is not set"}},
		{"no bucket", images, map[string]string{"TABLE_NAME": "t"}, []string{"BUCKET_NAME is not set"}},
		{"nothing needed", nil, nil, nil},
		{"every problem at once", images, map[string]string{"MAX_UPLOAD_BYTES": "10MB", "LOG_LEVEL": "chatty"},
			[]string{"TABLE_NAME is not set", "BUCKET_NAME is not set", `MAX_UPLOAD_BYTES is "10MB"`, `LOG_LEVEL is "chatty"`}},
		{"upload limit zero", images, map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b", "MAX_UPLOAD_BYTES": "0"}, []string{"MAX_UPLOAD_BYTES"}},
		{"upload limit over the ceiling", images, map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b", "MAX_UPLOAD_BYTES": "52428801"}, []string{"MAX_UPLOAD_BYTES"}},
		{"all fine", images, map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b", "MAX_UPLOAD_BYTES": "1048576", "LOG_LEVEL": "debug"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := lambdafn.LoadSettings(c.grants, env(c.vars))
			if len(c.errs) == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; settings %+v", s)
			}
			for _, want := range c.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	s, err := lambdafn.LoadSettings(images, env(map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b", "MAX_UPLOAD_BYTES": "2048", "LOG_LEVEL": "warn"}))
	if err != nil || s.MaxUpload != 2048 || s.LogLevel.String() != "WARN" || s.TableName != "t" || s.BucketName != "b" {
		t.Fatalf("settings %+v, %v", s, err)
	}
}

// TestMisconfiguredFunctionFailsItsInit runs a function's real bootstrap
// as Lambda starts it, with the environment broken: it must exit before
// serving, with one JSON log line naming every problem.
func TestMisconfiguredFunctionFailsItsInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "../../functions/create-image-upload")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "MAX_UPLOAD_BYTES=lots", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\nstderr: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var line struct {
		Level, Msg, Function, Error string
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &line) != nil {
		t.Fatalf("want one JSON line on stderr, got:\n%s", stderr.String())
	}
	if line.Level != "ERROR" || line.Msg != "init failed" || line.Function != "CreateImageUpload" {
		t.Errorf("line %+v", line)
	}
	for _, want := range []string{"TABLE_NAME is not set", "BUCKET_NAME is not set", `MAX_UPLOAD_BYTES is "lots"`} {
		if !strings.Contains(line.Error, want) {
			t.Errorf("error %q lacks %q", line.Error, want)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %s", stdout.String())
	}
}

// TestAWSConfigFromLambdasEnvironment: the region and the role's
// credentials come from Lambda's variables; missing ones are named.
func TestAWSConfigFromLambdasEnvironment(t *testing.T) {
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}
	cfg, err := lambdafn.AWSConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKIA1" || creds.SecretAccessKey != "s" || creds.SessionToken != "tok" {
		t.Errorf("config %s, credentials %+v, %v", cfg.Region, creds, err)
	}
	_, err = lambdafn.AWSConfig(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("empty environment: %v", err)
	}
}

// TestEndpointsFromTheSDKsVariables: a service's own variable wins over the
// general one; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ignores both.
func TestEndpointsFromTheSDKsVariables(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	if got := lambdafn.Endpoint("S3"); got == nil || *got != "http://127.0.0.1:2" {
		t.Errorf("S3: %v", got)
	}
	if got := lambdafn.Endpoint("DYNAMODB"); got == nil || *got != "http://127.0.0.1:1" {
		t.Errorf("DynamoDB: %v", got)
	}
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if got := lambdafn.Endpoint("S3"); got != nil {
		t.Errorf("ignored: %v", *got)
	}
}
