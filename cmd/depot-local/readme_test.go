package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/devtest"
)

// tryItMarker precedes each README block that TestReadmeTryIt runs.
const tryItMarker = "<!-- try-it"

// tryItBlocks returns the README's ```sh blocks that directly follow a
// try-it marker, in order.
func tryItBlocks(t *testing.T, readme string) []string {
	t.Helper()
	var blocks []string
	for rest := readme; ; {
		i := strings.Index(rest, tryItMarker)
		if i < 0 {
			break
		}
		rest = rest[i:]
		_, after, _ := strings.Cut(rest, "\n")
		body, ok := strings.CutPrefix(after, "```sh\n")
		if !ok {
			t.Fatalf("README: a try-it marker not directly followed by a ```sh block:\n%.200s", rest)
		}
		end := strings.Index(body, "\n```\n")
		if end < 0 {
			t.Fatal("README: an unterminated try-it block")
		}
		blocks = append(blocks, body[:end+1])
		rest = body[end:]
	}
	return blocks
}

// TestReadmeTryIt runs the README's "Try it" blocks as a reader does: the
// built depot-local on a free port with a new state directory, and the
// blocks, in order, as one script run with `bash -e` in the repository
// root, with API and DEPOT_STATE_DIR pointing at that runtime. The script
// must exit 0, and its output show each step's result: the item created,
// patched, deleted with its comment, restored, its ledger, the photo stored
// by the embedded S3 (204) and the item's image ready with both thumbnails.
func TestReadmeTryIt(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := tryItBlocks(t, string(readme))
	if len(blocks) < 2 {
		t.Fatalf("README has %d try-it blocks, want the API tour and the photo", len(blocks))
	}
	script := strings.Join(blocks, "\n")
	// Runnable as it is: no alias (not expanded in a script), no
	// placeholder to fill in, no eval, no jq (outside comments).
	code := regexp.MustCompile(`(?m)(^|\s)#.*$`).ReplaceAllString(script, "")
	for _, bad := range []string{"alias ", "...", "eval ", "jq "} {
		if strings.Contains(code, bad) {
			t.Errorf("the try-it blocks use %q", bad)
		}
	}

	dir := t.TempDir()
	local := buildTool(t, dir, ".", "depot-local")
	port := freePort(t)
	state := filepath.Join(dir, "state")
	env := append(cleanEnv(), "PORT="+strconv.Itoa(port), "DEPOT_STATE_DIR="+state)
	srv := exec.Command(local)
	srv.Env = env
	var serverOut devtest.SyncBuffer // its logs, and what the AWS SDK prints
	srv.Stdout = &serverOut
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	readBannerThen(t, stderr, &serverOut)

	file := filepath.Join(dir, "try-it.sh")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, "bash", "-e", file)
	run.Dir = "../.."
	run.Env = append(env, "API=http://127.0.0.1:"+strconv.Itoa(port), "MAKEFLAGS=", "MAKELEVEL=", "MFLAGS=")
	var out, errOut bytes.Buffer
	run.Stdout, run.Stderr = &out, &errOut
	if err := run.Run(); err != nil {
		t.Fatalf("bash -e (the try-it blocks): %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	stdout, stderrText := out.String(), errOut.String()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+"\nstdout:\n%s\nstderr:\n%s", append(args, stdout, stderrText)...)
	}

	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var created struct{ ID, SKU string }
	if err := json.Unmarshal([]byte(lines[0]), &created); err != nil || created.ID == "" || created.SKU != "WIDGET-1" {
		fail("the first line is not the created item (%v)", err)
	}
	for _, want := range []string{`"quantity":8`, `"comment":"damaged in transit"`, `"reason":"item_created"`, `"uploadId":`} {
		if !strings.Contains(stdout, want) {
			fail("stdout lacks %s", want)
		}
	}
	if !regexp.MustCompile(`(?m)^204$`).MatchString(stdout) {
		fail("the upload to S3 did not answer 204")
	}
	if !strings.HasPrefix(stderrText, "HTTP 201\n") || regexp.MustCompile(`HTTP [45]\d\d`).MatchString(stderrText) {
		fail("want HTTP 201 first and no error status")
	}

	var final struct {
		ID    string
		Image struct {
			Status     string
			URL        string
			Thumbnails []struct {
				Size int
				URL  string
			}
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil {
		fail("the last line is not the item: %v", err)
	}
	if final.ID != created.ID || final.Image.Status != "ready" || len(final.Image.Thumbnails) != 2 {
		fail("the last line is not item %s with its image ready and two thumbnails: %+v", created.ID, final)
	}
	// The embedded S3 keeps and returns checksums as S3 does, so the SDK
	// validates its reads and has nothing to warn about.
	if out := serverOut.String(); strings.Contains(out, "no supported checksum") || !strings.Contains(out, `"function":"MakeThumbnails"`) {
		t.Errorf("make run's output has checksum warnings, or no MakeThumbnails event line:\n%s", out)
	}
	for _, th := range final.Image.Thumbnails {
		resp, err := http.Get(th.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
			t.Errorf("thumbnail %d: %d %s", th.Size, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// TestReadmeLocalData: the README says where make run's data lives, that it
// survives a restart and a crash, how to start empty, and what make seed
// does, as the banner does (keptData).
func TestReadmeLocalData(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Local data\n")
	if !ok {
		t.Fatal("README has no Local data section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	section = strings.Join(strings.Fields(section), " ")
	if keptData != "kept across restarts in" || dataSubdir != "data" {
		t.Fatalf("the banner now says %q %q: update the README's Local data section, then this test", keptData, dataSubdir)
	}
	for _, want := range []string{"keeps its data", "in `.local/data/`", "from one run to the next", "survives a crash, even `kill -9`",
		"`make run FRESH=1` starts empty", "keeps the local issuer's signing key", "`DEPOT_STATE_DIR`", "`make seed`",
		"adds nothing", "no compaction", "`AWS_ENDPOINT_URL*`"} {
		if !strings.Contains(section, want) {
			t.Errorf("README's Local data section lacks %q:\n%s", want, section)
		}
	}
}

func buildTool(t *testing.T, dir, pkg, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}
