package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/devtest"
	"github.com/depot-inventory/depot/internal/dev/localauth"
)

// localRun is a depot-local process started by a test.
type localRun struct {
	cmd    *exec.Cmd
	api    string
	banner string
	logs   *devtest.SyncBuffer
}

// startLocal runs the built depot-local with state as its state directory
// on a free port, and waits for its banner.
func startLocal(t *testing.T, bin, state string, args ...string) *localRun {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), "PORT="+strconv.Itoa(port), "DEPOT_STATE_DIR="+state)
	logs := &devtest.SyncBuffer{}
	cmd.Stdout = logs
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := &localRun{cmd: cmd, api: "http://127.0.0.1:" + strconv.Itoa(port), logs: logs}
	r.banner = readBannerThen(t, stderr, logs)
	return r
}

// kill9 kills the process as a crash would: no shutdown, no flush.
func (r *localRun) kill9(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = r.cmd.Wait()
}

// stop is Ctrl-C.
func (r *localRun) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("after Ctrl-C: %v", err)
	}
}

// replayed is the banner's count of changes replayed.
func (r *localRun) replayed(t *testing.T) (int, string) {
	t.Helper()
	m := regexp.MustCompile(`\((\d+) changes, ([0-9.]+ [kM]B), replayed in ([^;]+);`).FindStringSubmatch(r.banner)
	if m == nil {
		t.Fatalf("the banner does not say what it replayed:\n%s", r.banner)
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2] + " in " + m[3]
}

// client calls the API with a token.
type client struct {
	t     *testing.T
	api   string
	token string
}

func tokenFor(t *testing.T, state, role string) string {
	t.Helper()
	issuer, err := localauth.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := issuer.Mint(localauth.Claims{Email: role + "@example.com", Groups: []string{role}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request and returns its status and body.
func (c client) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.api+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, data
}

// ok sends a request that must succeed and decodes its JSON answer.
func (c client) ok(method, path string, body any) map[string]any {
	c.t.Helper()
	status, data := c.do(method, path, body)
	if status/100 != 2 {
		c.t.Fatalf("%s %s: %d %s", method, path, status, data)
	}
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return out
}

// stable drops what differs from one read to the next by design: presigned
// URLs (signed at the read) and their expiry.
func stable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if k != "url" && k != "urlExpiresAt" {
				out[k] = stable(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = stable(x)
		}
		return out
	}
	return v
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for y := range 200 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postForm sends a presigned POST upload as a browser does.
func postForm(t *testing.T, up map[string]any, data []byte) {
	t.Helper()
	fields := up["fields"].(map[string]any)
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Slice(names, func(a, b int) bool { return names[a] == "key" || (names[b] != "key" && names[a] < names[b]) })
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, k := range names {
		mw.WriteField(k, fields[k].(string))
	}
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write(data)
	mw.Close()
	resp, err := http.Post(up["url"].(string), mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("upload: %d %s", resp.StatusCode, msg)
	}
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return data
}

// readAll reads what a person sees of the data: each item's JSON, stock,
// history and activity, the lists of items, deleted items and locations,
// and the photo's thumbnails, byte for byte.
func readAll(t *testing.T, c client, ids []string, location string) map[string]any {
	t.Helper()
	got := map[string]any{}
	for _, id := range ids {
		for _, p := range []string{"", "/stock", "/history", "/activity"} {
			got["/items/"+id+p] = stable(c.ok("GET", "/items/"+id+p, nil))
		}
		item := c.ok("GET", "/items/"+id, nil)
		if img, ok := item["image"].(map[string]any); ok {
			for _, th := range img["thumbnails"].([]any) {
				th := th.(map[string]any)
				got[fmt.Sprintf("thumbnail %s %v", id, th["size"])] = fetch(t, th["url"].(string))
			}
			got["original "+id] = fetch(t, img["url"].(string))
		}
	}
	for _, p := range []string{"/items", "/deleted-items", "/locations", "/locations/" + location + "/history", "/tags"} {
		got[p] = stable(c.ok("GET", p, nil))
	}
	return got
}

// TestDataSurvivesKill9 writes through the API (items, a location, an
// adjustment, a transfer, a photo and its thumbnails, a deletion), kills
// depot-local with SIGKILL right after its last acknowledged write, starts
// it again on the same state directory, and reads everything back as it
// was; then make run FRESH=1 (-fresh) starts empty, with the same key.
func TestDataSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	bin := buildTool(t, dir, ".", "depot-local")
	state := filepath.Join(dir, "state")
	run := startLocal(t, bin, state)
	if n, _ := run.replayed(t); n != 0 {
		t.Fatalf("a new state directory replayed %d changes", n)
	}
	editor := client{t, run.api, tokenFor(t, state, "editor")}
	admin := client{t, run.api, tokenFor(t, state, "admin")}

	wh := admin.ok("POST", "/locations", map[string]any{"code": "KILL-9", "name": "Crash test DC", "address": "1 Test Lane"})["id"].(string)
	var ids []string
	for i := range 3 {
		it := editor.ok("POST", "/items", map[string]any{"sku": fmt.Sprintf("K9-%d", i), "name": fmt.Sprintf("Survivor %d", i),
			"quantity": 5 + i, "tags": []string{"durable", "test"}, "reorderPoint": 4})
		ids = append(ids, it["id"].(string))
	}
	editor.ok("POST", "/adjustments", map[string]any{"reason": "received", "reference": "PO-9",
		"lines": []any{map[string]any{"itemId": ids[0], "locationId": wh, "delta": 10}}})
	editor.ok("POST", "/transfers", map[string]any{"itemId": ids[0], "fromLocationId": wh, "toLocationId": "default", "quantity": 4})
	editor.ok("PATCH", "/items/"+ids[1], map[string]any{"name": "Survivor 1, renamed"})
	up := editor.ok("POST", "/items/"+ids[0]+"/image-uploads", map[string]any{"contentType": "image/png"})
	postForm(t, up, testPNG(t))
	deadline := time.Now().Add(30 * time.Second)
	for {
		img, _ := editor.ok("GET", "/items/"+ids[0], nil)["image"].(map[string]any)
		if img != nil && img["status"] == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the photo is not ready after 30 s: %v\n%s", img, run.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	before := readAll(t, editor, ids, wh)
	// The last write: acknowledged, then at once the crash.
	editor.ok("DELETE", "/items/"+ids[2], map[string]any{"comment": "written just before kill -9"})
	run.kill9(t)

	run = startLocal(t, bin, state)
	n, took := run.replayed(t)
	t.Logf("replayed %d changes, %s", n, took)
	editor.api, admin.api = run.api, run.api
	if st, body := editor.do("GET", "/items/"+ids[2], nil); st != http.StatusNotFound || !strings.Contains(string(body), `"code":"item_deleted"`) {
		t.Errorf("the deletion acknowledged just before kill -9 is lost: %d %s", st, body)
	}
	after := readAll(t, editor, ids[:2], wh)
	for k, v := range before {
		if strings.Contains(k, ids[2]) || k == "/items" || k == "/deleted-items" || k == "/tags" {
			continue // item 2 was deleted since
		}
		if !reflect.DeepEqual(after[k], v) {
			t.Errorf("%s after the restart differs:\n got %.600v\nwant %.600v", k, after[k], v)
		}
	}
	deleted := editor.ok("GET", "/deleted-items", nil)["items"].([]any)
	if len(deleted) != 1 || deleted[0].(map[string]any)["id"] != ids[2] ||
		deleted[0].(map[string]any)["deleted"].(map[string]any)["comment"] != "written just before kill -9" {
		t.Errorf("deleted items after the restart: %v", deleted)
	}
	if items := editor.ok("GET", "/items", nil)["items"].([]any); len(items) != 2 {
		t.Errorf("%d live items after the restart, want 2", len(items))
	}
	// The store goes on: a write after the restart, and another restart.
	editor.ok("POST", "/items", map[string]any{"sku": "K9-AFTER", "name": "Written after the restart"})
	run.stop(t)
	run = startLocal(t, bin, state)
	editor.api = run.api
	if items := editor.ok("GET", "/items", nil)["items"].([]any); len(items) != 3 {
		t.Errorf("%d live items after a second restart, want 3", len(items))
	}
	run.stop(t)

	// FRESH=1: empty, and the same signing key (the old token still works).
	run = startLocal(t, bin, state, "-fresh")
	editor.api, admin.api = run.api, run.api
	if items := editor.ok("GET", "/items", nil)["items"].([]any); len(items) != 0 {
		t.Errorf("%d items after -fresh", len(items))
	}
	locs := admin.ok("GET", "/locations", nil)["locations"].([]any)
	if len(locs) != 1 || locs[0].(map[string]any)["id"] != "default" {
		t.Errorf("locations after -fresh: %v", locs)
	}
	if st, _ := editor.do("GET", "/items/"+ids[0], nil); st != http.StatusNotFound {
		t.Errorf("GET an old item after -fresh: %d", st)
	}
}
