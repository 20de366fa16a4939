package itest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// activity reads an item's whole activity trail, page by page.
func (e *env) activity(id string, limit int) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	path := fmt.Sprintf("/items/%s/activity?limit=%d", id, limit)
	for pages := 0; path != ""; pages++ {
		if pages > 50 {
			e.t.Fatal("too many pages")
		}
		page := e.must(http.StatusOK, req{Method: "GET", Path: path}).json(e.t)
		for _, a := range page["entries"].([]any) {
			out = append(out, a.(map[string]any))
		}
		path = ""
		if next, _ := page["nextCursor"].(string); next != "" {
			path = fmt.Sprintf("/items/%s/activity?limit=%d&cursor=%s", id, limit, url.QueryEscape(next))
		}
	}
	return out
}

func activityTypes(acts []map[string]any) string {
	var out []string
	for _, a := range acts {
		out = append(out, a["type"].(string))
	}
	return strings.Join(out, ",")
}

// TestActivityTrail: every change to an item is in its activity, newest
// first, with who, when, what and why; a change that fails leaves none.
func TestActivityTrail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"ACT-1","name":"Tracked","quantity":5,"tags":["a"]}`)["id"].(string)
	admin := as(adminEmail)
	admin["Content-Type"] = "application/json"
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Header: admin,
		Body: `{"name":"Tracked well","quantity":8,"tags":["a","b"],"reorderPoint":3}`})
	e.createItem(`{"sku":"ACT-2","name":"Other"}`)
	// A change that fails (the SKU is taken) writes no activity.
	e.must(http.StatusConflict, req{Method: "PATCH", Path: "/items/" + id, Body: `{"sku":"ACT-2"}`})
	up := e.askUpload(id, "image/png")
	e.postFile(up, pngWithAlpha(t, 64, 32))
	e.settle(id, up["uploadId"].(string))
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id, Body: `{"comment":"recalled"}`})
	e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + id + "/restore", Header: admin})

	acts := e.activity(id, 2) // small pages: the cursor is followed
	want := "restored,deleted,image_ready,updated,stock_changed,updated,stock_changed,created"
	if got := activityTypes(acts); got != want {
		t.Fatalf("activity %s, want %s", got, want)
	}
	for i := 1; i < len(acts); i++ {
		if acts[i-1]["at"].(string) < acts[i]["at"].(string) {
			t.Errorf("not newest first: %v then %v", acts[i-1]["at"], acts[i]["at"])
		}
	}
	restored, deleted, ready, asked, stock, updated, opening, created := acts[0], acts[1], acts[2], acts[3], acts[4], acts[5], acts[6], acts[7]
	if restored["actor"] != adminEmail || deleted["actor"] != editorEmail || deleted["comment"] != "recalled" {
		t.Errorf("restored %v, deleted %v", restored, deleted)
	}
	if ready["actor"] != editorEmail || ready["uploadId"] != up["uploadId"] {
		t.Errorf("image_ready %v: want the uploader and the upload", ready)
	}
	if ch := asked["changes"].([]any)[0].(map[string]any); ch["field"] != "image" || ch["from"] != nil ||
		ch["to"].(map[string]any)["status"] != "pending" {
		t.Errorf("upload asked for: %v", asked)
	}
	changes := map[string]map[string]any{}
	for _, c := range updated["changes"].([]any) {
		changes[c.(map[string]any)["field"].(string)] = c.(map[string]any)
	}
	if updated["actor"] != adminEmail || len(changes) != 3 || changes["name"]["from"] != "Tracked" || changes["name"]["to"] != "Tracked well" ||
		fmt.Sprint(changes["tags"]["to"]) != "[a b]" || changes["reorderPoint"]["from"] != nil || changes["reorderPoint"]["to"] != 3.0 {
		t.Errorf("updated %v", updated)
	}
	hist := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/history"}).json(t)["entries"].([]any)
	if len(hist) != 2 {
		t.Fatalf("history %v", hist)
	}
	for i, s := range []map[string]any{stock, opening} {
		h := hist[i].(map[string]any)
		if s["ledgerId"] != h["id"] || s["delta"] != h["delta"] || s["reason"] != h["reason"] || s["locationId"] != "default" {
			t.Errorf("stock_changed %v does not match ledger line %v", s, h)
		}
	}
	if created["actor"] != editorEmail || stock["delta"] != 3.0 || stock["onHandAfter"] != 8.0 {
		t.Errorf("created %v, stock %v", created, stock)
	}
	// The item itself says who changed it last.
	item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)
	if item["updatedBy"] != adminEmail || item["version"] != 6.0 {
		t.Errorf("item %v", item)
	}
	if code := e.must(http.StatusNotFound, req{Method: "GET", Path: "/items/01JBZ4Q7Y3M7R2K5X9V8N6T4PA/activity"}).code(t); code != "item_not_found" {
		t.Errorf("activity of no item: %s", code)
	}
	if code := e.must(http.StatusBadRequest, req{Method: "GET", Path: "/items/" + id + "/activity?cursor=BOLT~x"}).code(t); code != "invalid_cursor" {
		t.Errorf("bad cursor: %s", code)
	}
	e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/activity", Header: as(viewerEmail)})
}

// TestItemResponsesLinkReadyImages: every operation that answers with an
// item links its ready image with URLs that work, served as the image's
// type (the functions' roles may sign them).
func TestItemResponsesLinkReadyImages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"LINK-1","name":"Linked"}`)["id"].(string)
	up := e.askUpload(id, "image/png")
	e.postFile(up, pngWithAlpha(t, 50, 50))
	e.settle(id, up["uploadId"].(string))
	check := func(what string, item map[string]any) {
		t.Helper()
		img, _ := item["image"].(map[string]any)
		if img == nil || img["status"] != "ready" {
			t.Fatalf("%s: image %v", what, img)
		}
		urls := []string{img["url"].(string)}
		for _, th := range img["thumbnails"].([]any) {
			urls = append(urls, th.(map[string]any)["url"].(string))
		}
		for _, u := range urls {
			status, ct, _ := fetch(t, u)
			if status != http.StatusOK || ct != "image/png" {
				t.Errorf("%s: GET %s: %d %s", what, u, status, ct)
			}
		}
	}
	check("PATCH", e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"name":"Relinked"}`}).json(t))
	check("DELETE", e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id}).json(t))
	check("GET /deleted-items", e.must(http.StatusOK, req{Method: "GET", Path: "/deleted-items"}).json(t)["items"].([]any)[0].(map[string]any))
	check("restore", e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + id + "/restore"}).json(t))
	check("GET /items", e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any)[0].(map[string]any))
}

// TestIfMatchFollowsRFC9110: a value outside the grammar is invalid_header;
// comparison is strong, so a weak tag never matches.
func TestIfMatchFollowsRFC9110(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"IFM-1","name":"Guarded"}`)["id"].(string)
	patch := func(ifMatch string, want int) result {
		t.Helper()
		return e.must(want, req{Method: "PATCH", Path: "/items/" + id, Body: fmt.Sprintf(`{"description":%q}`, ifMatch),
			Header: map[string]string{"Content-Type": "application/json", "If-Match": ifMatch}})
	}
	for _, bad := range []string{`8`, `garbage`, `"1`, `W/1`, `"1",`} {
		if code := patch(bad, http.StatusBadRequest).code(t); code != "invalid_header" {
			t.Errorf("If-Match %s: %s", bad, code)
		}
	}
	for _, stale := range []string{`W/"1"`, `"2"`, `"abc"`, `W/"1", "7"`} {
		if code := patch(stale, http.StatusPreconditionFailed).code(t); code != "precondition_failed" {
			t.Errorf("If-Match %s: %s", stale, code)
		}
	}
	patch(`"7", "1"`, http.StatusOK)
	patch(`*`, http.StatusOK)
	if v := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["version"]; v != 3.0 {
		t.Fatalf("version %v, want 3: only the two matching patches wrote", v)
	}
}

func TestUnknownQueryParametersAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"Q-1","name":"Queried"}`)["id"].(string)
	for _, path := range []string{"/items?color=red", "/items?limit=1&limit=2", "/items/" + id + "?x=1",
		"/deleted-items?sort=sku", "/items/" + id + "/history?since=x", "/health?verbose=1"} {
		res := e.must(http.StatusBadRequest, req{Method: "GET", Path: path})
		if code := res.code(t); code != "invalid_parameter" || !hasFieldErrorPrefix(res.json(t), "") {
			t.Errorf("%s: %s %s", path, code, res.Body)
		}
	}
	if code := e.must(http.StatusBadRequest, req{Method: "POST", Path: "/items?dryRun=1", Body: `{"sku":"Q-2","name":"x"}`}).code(t); code != "invalid_parameter" {
		t.Errorf("POST with a parameter: %s", code)
	}
	if n := len(e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any)); n != 1 {
		t.Errorf("%d items: a refused request wrote", n)
	}
}

func hasFieldErrorPrefix(p map[string]any, prefix string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if f, _ := e.(map[string]any)["field"].(string); strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// TestZeroFractionIntegers: as JSON Schema says, 5.0 is the integer 5.
func TestZeroFractionIntegers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	item := e.createItem(`{"sku":"ZF-1","name":"Whole","quantity":5.0,"reorderPoint":2e0}`)
	if item["quantity"] != 5.0 || item["reorderPoint"] != 2.0 {
		t.Fatalf("item %v", item)
	}
	p := e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + item["id"].(string), Body: `{"quantity":70E-1}`}).json(t)
	if p["quantity"] != 7.0 {
		t.Fatalf("patched %v", p)
	}
	if code := e.must(http.StatusBadRequest, req{Method: "POST", Path: "/items", Body: `{"sku":"ZF-2","name":"x","quantity":5.5}`}).code(t); code != "invalid_type" {
		t.Fatalf("5.5: %s", code)
	}
}

// TestDotSegmentsAreNotFound: API Gateway hands the function the path as
// sent; "/items/.." is the item "..", which does not exist — a problem,
// never a redirect.
func TestDotSegmentsAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ method, path string }{
		{"GET", "/items/.."}, {"GET", "/items/."}, {"POST", "/items/../restore"}, {"GET", "/items/%2E%2E/history"},
	} {
		r, err := http.NewRequest(c.method, e.url+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.URL.Opaque = c.path // send the path as written, dot segments and all
		r.Header.Set("Authorization", "Bearer "+tokens[editorEmail])
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// TestIdempotencyScopesOfOtherCallersNeverMeet: the collision a probe
// found, "a@x#k" with key "1" and "a@x" with key "k#1", makes two items.
func TestIdempotencyScopesOfOtherCallersNeverMeet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for _, c := range []struct{ email, key, sku string }{{"a@x#k", "1", "SC-1"}, {"a@x", "k#1", "SC-2"}} {
		tok, err := issuer.Mint(localauth.Claims{Email: c.email, Groups: []string{"editor"}}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		res := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: `{"sku":"` + c.sku + `","name":"Scoped"}`,
			Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok, "Idempotency-Key": c.key}})
		if res.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("%s with key %s was answered with another caller's result: %s", c.email, c.key, res.Body)
		}
		ids = append(ids, res.json(t)["id"].(string))
	}
	if ids[0] == ids[1] {
		t.Fatal("one item for two callers")
	}
}

// TestUploadFormsAreNeverReplayedExpired: a replayed image-upload request
// whose form has expired is not handed back as usable.
func TestUploadFormsAreNeverReplayedExpired(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	offset := time.Duration(0)
	e := newEnvWith(t, func(s *lambdafn.Settings) {
		s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	})
	id := e.createItem(`{"sku":"EXP-1","name":"Late"}`)["id"].(string)
	key := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "late-photo"}
	body := `{"contentType":"image/png"}`
	first := e.must(http.StatusCreated, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: body, Header: key}).json(t)
	e.postFile(first, pngWithAlpha(t, 20, 20))
	e.settle(id, first["uploadId"].(string))
	mu.Lock()
	offset = 16 * time.Minute
	mu.Unlock()
	res := e.must(http.StatusConflict, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: body, Header: key})
	if code := res.code(t); code != "upload_expired" {
		t.Fatalf("replay of an expired form for a processed upload: %s", code)
	}
}

// TestOverLimitUploadIsRejectedForGood: an object over the limit (which
// the presigned POST's policy keeps out of S3, but which MakeThumbnails must
// not trust) fails the image and is deleted; it is not an error to retry.
func TestOverLimitUploadIsRejectedForGood(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(s *lambdafn.Settings) { s.MaxUpload = 1000 })
	id := e.createItem(`{"sku":"BIG-1","name":"Too big"}`)["id"].(string)
	up := e.askUpload(id, "image/png")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key := inventory.UploadKey(id, up["uploadId"].(string))
	data := append(pngWithAlpha(t, 8, 8), make([]byte, 2000)...) // a PNG with trailing bytes: over the limit
	if _, err := lambdafn.NewS3Client(cfg).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(e.stack.Settings.BucketName), Key: aws.String(key), Body: strings.NewReader(string(data)),
		ContentType: aws.String("image/png")}); err != nil {
		t.Fatal(err)
	}
	e.settle(id, up["uploadId"].(string))
	if err := e.stack.MakeThumbnails(context.Background(), s3Event(e.stack.Settings.BucketName, key)); err != nil {
		t.Fatalf("a permanent rejection was reported as an error to retry: %v", err)
	}
	img := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["image"].(map[string]any)
	if img["status"] != "failed" || !strings.Contains(img["reason"].(string), "larger than") {
		t.Fatalf("image %v", img)
	}
	if left := e.objects(""); len(left) != 0 {
		t.Fatalf("objects left: %v", left)
	}
}

// TestIdempotencyKeysWithCommas: API Gateway passes a header as one string;
// the Lambda adapter would split it at commas. A key with commas works.
func TestIdempotencyKeysWithCommas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "order 7, line 2,"}
	first := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: `{"sku":"COMMA-1","name":"Keyed"}`, Header: key})
	again := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: `{"sku":"COMMA-1","name":"Keyed"}`, Header: key})
	if again.Header.Get("Idempotent-Replayed") != "true" || again.json(t)["id"] != first.json(t)["id"] {
		t.Fatalf("the retry was not replayed: %s", again.Body)
	}
}

// TestCORSThroughTheGateway: the local gateway answers preflights and marks
// answers as template.yaml's CorsConfiguration says (the AllowedOrigins
// parameter's default, http://localhost:3000).
func TestCORSThroughTheGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	origin := "http://localhost:3000"
	pre, err := http.NewRequest(http.MethodOptions, e.url+"/items", nil)
	if err != nil {
		t.Fatal(err)
	}
	pre.Header.Set("Origin", origin)
	pre.Header.Set("Access-Control-Request-Method", "PATCH")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, if-match, content-type")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PATCH") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	res := e.must(http.StatusOK, req{Method: "GET", Path: "/items", Header: map[string]string{"Origin": origin}})
	if res.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("GET from %s: %v", origin, res.Header)
	}
	res = e.must(http.StatusOK, req{Method: "GET", Path: "/items", Header: map[string]string{"Origin": "https://evil.example"}})
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("GET from another origin: %v", res.Header)
	}
}

// TestCreateTakesNullForNotSet: as openapi.yaml says, null in a new item's
// description or reorderPoint is the same as leaving it out.
func TestCreateTakesNullForNotSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	item := e.createItem(`{"sku":"NULL-1","name":"Nothing set","description":null,"reorderPoint":null}`)
	if item["description"] != "" || item["reorderPoint"] != nil {
		t.Fatalf("item %v", item)
	}
}
