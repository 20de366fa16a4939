package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/devtest"
)

// TestMakeInvokeStdoutIsTheResponse runs `make -s invoke FN=Health` as a
// first run does (BIN is a new directory, so make installs the emulator and
// builds depot-invoke and the bootstrap) and checks that stdout is the
// function's response alone, valid JSON, so `make -s invoke ... > out.json`
// works; progress goes to stderr. Then a first run and a second run without
// -s: make echoes no command line on stdout either.
func TestMakeInvokeStdoutIsTheResponse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the emulator runs on Linux only")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	tmp := t.TempDir()
	invoke := func(bin string, args ...string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command("make", append(args, "invoke", "FN=Health", "BIN="+bin)...)
		cmd.Dir = "../.."
		cmd.Env = append(cleanEnv(), "MAKEFLAGS=", "MAKELEVEL=", "MFLAGS=")
		var errb strings.Builder
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("make %v invoke: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, errb.String())
		}
		return string(out), errb.String()
	}
	check := func(stdout, stderr string) {
		t.Helper()
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
			t.Fatalf("stdout is not JSON (%v):\n%s\nstderr:\n%s", err, stdout, stderr)
		}
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"ok"`) {
			t.Errorf("response = %+v, want 200 with status ok", resp)
		}
	}

	for _, flags := range [][]string{{"-s"}, nil} {
		bin := filepath.Join(tmp, "bin"+strings.Join(flags, ""))
		stdout, stderr := invoke(bin, flags...)
		check(stdout, stderr)
		for _, want := range []string{"installing the Lambda Runtime Interface Emulator", "depot-invoke: built Health", "REPORT RequestId"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("make %v invoke: stderr lacks %q:\n%s", flags, want, stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(bin, "aws-lambda-rie")); err != nil {
			t.Errorf("the emulator is not in BIN: %v", err)
		}
	}

	stdout, stderr := invoke(filepath.Join(tmp, "bin"))
	check(stdout, stderr)
	if strings.Contains(stderr, "installing") {
		t.Errorf("the second run installed the emulator again:\n%s", stderr)
	}
}

// cleanEnv is this process's environment without engine endpoints, so the
// invocation uses embedded engines.
func cleanEnv() []string { return devtest.EnvWithout("AWS_ENDPOINT_URL") }
