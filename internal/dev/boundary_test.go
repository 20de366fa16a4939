// Package dev_test holds the boundary check of the dev-only code: everything
// under internal/dev (the local gateway and engines, fake S3 checks and
// events, the local token issuer, the RIE driver, the template reader, the
// generator, the API contract checker) exists for make run, make invoke and
// the tests, and no Lambda function may link any of it.
package dev_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/depot-inventory/depot"

// TestLambdasLinkNoDevCode lists, with `go list -deps`, every package each
// function under functions/ links (for the Lambda target, linux/arm64 with
// the lambda.norpc tag), and fails if any lies under internal/dev.
func TestLambdasLinkNoDevCode(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc",
		"-f", `{{if not .Standard}}{{.ImportPath}}{{end}}`, module+"/functions/...")
	cmd.Dir = "../.."
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var deps, dev []string
	for _, p := range strings.Fields(string(out)) {
		deps = append(deps, p)
		if p == module+"/internal/dev" || strings.HasPrefix(p, module+"/internal/dev/") {
			dev = append(dev, p)
		}
	}
	if !containsPrefix(deps, module+"/functions/") || !containsPrefix(deps, module+"/internal/") {
		t.Fatalf("go list found no functions or no internal packages; the check would prove nothing:\n%s", out)
	}
	if len(dev) > 0 {
		t.Errorf("Lambda functions link dev-only packages: %v", dev)
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestUseCasesImportNoTransportOrSDK: the domain and the use cases import
// neither net/http nor the AWS SDK, directly or through anything they
// import.
func TestUseCasesImportNoTransportOrSDK(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"/internal/usecase", module+"/internal/inventory")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !containsPrefix(deps, module+"/internal/inventory") {
		t.Fatalf("go list found nothing:\n%s", out)
	}
	for _, p := range deps {
		if p == "net/http" || strings.HasPrefix(p, "net/http/") || strings.HasPrefix(p, "github.com/aws/") {
			t.Errorf("the use cases depend on %s", p)
		}
	}
}
