package main

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/devtest"
)

// TestMakeRunBlackBox runs the built local runtime as `make run` does and
// uses it as a person with curl would: the banner's token, a viewer token
// from depot-token, and SIGINT (stdin not a terminal; TestMakeRunCtrlC has
// one).
func TestMakeRunBlackBox(t *testing.T) {
	dir := t.TempDir()
	local, token := buildTool(t, dir, ".", "depot-local"), buildTool(t, dir, "../depot-token", "depot-token")
	port := freePort(t)
	env := append(cleanEnv(), "PORT="+strconv.Itoa(port), "DEPOT_STATE_DIR="+filepath.Join(dir, "state"))

	cmd := exec.Command(local)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	banner := readBanner(t, stderr)
	api := "http://127.0.0.1:" + strconv.Itoa(port)
	if !strings.Contains(banner, api) || !strings.Contains(banner, "minidyn") || !strings.Contains(banner, "gofakes3") || !strings.Contains(banner, "curl") {
		t.Fatalf("banner lacks the URL, engines or example:\n%s", banner)
	}
	if !strings.Contains(banner, "Data      "+keptData+" "+filepath.Join(dir, "state", dataSubdir)+" (") ||
		!strings.Contains(banner, "make run FRESH=1 starts empty); the signing key stays in "+filepath.Join(dir, "state")) {
		t.Errorf("banner does not say where data lives:\n%s", banner)
	}
	editor := bannerToken(t, banner)

	mint := exec.Command(token, "-role", "viewer", "-email", "vera@example.com")
	mint.Env = env // the same state folder, so the same signing key
	viewerOut, err := mint.Output()
	if err != nil {
		t.Fatal(err)
	}
	viewer := strings.TrimSuffix(string(viewerOut), "\n")
	if strings.Count(viewer, ".") != 2 || strings.ContainsAny(viewer, " \n") {
		t.Fatalf("depot-token printed more than a token: %q", viewerOut)
	}

	call := func(method, path, tok, body string) int {
		req, _ := http.NewRequest(method, api+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	checks := []struct {
		method, path, tok, body string
		want                    int
	}{
		{"GET", "/health", "", "", 200},
		{"GET", "/items", "", "", 401},
		{"GET", "/items", viewer, "", 200},
		{"POST", "/items", viewer, `{"sku":"BB-1","name":"Black box"}`, 403},
		{"POST", "/items", editor, `{"sku":"BB-1","name":"Black box"}`, 201},
	}
	for _, c := range checks {
		if got := call(c.method, c.path, c.tok, c.body); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop within 10 s of Ctrl-C")
	}
}

func readBanner(t *testing.T, r interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	return readBannerThen(t, r, io.Discard)
}

// readBannerThen reads the banner, then copies what follows to rest.
func readBannerThen(t *testing.T, r interface{ Read([]byte) (int, error) }, rest io.Writer) string {
	t.Helper()
	lines := devtest.Lines(r)
	var b strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("exited before its banner:\n%s", b.String())
			}
			b.WriteString(l + "\n")
			if strings.Contains(l, "Ctrl-C stops.") {
				go func() {
					for l := range lines { // keep draining the logs
						_, _ = io.WriteString(rest, l+"\n")
					}
				}()
				return b.String()
			}
		case <-ctx.Done():
			t.Fatalf("no banner within 60 s:\n%s", b.String())
		}
	}
}

func bannerToken(t *testing.T, banner string) string {
	t.Helper()
	for _, l := range strings.Split(banner, "\n") {
		if _, tok, ok := strings.Cut(l, "export TOKEN="); ok {
			return strings.TrimSpace(tok)
		}
	}
	t.Fatalf("no token in the banner:\n%s", banner)
	return ""
}

func freePort(t *testing.T) int { return devtest.FreePort(t) }

// cleanEnv is this process's environment without engine endpoints, so the
// runtime starts its embedded engines.
func cleanEnv() []string { return devtest.EnvWithout("AWS_") }
