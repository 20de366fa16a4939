package itest

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// TestUploadNeverSentExpires (issue 11, §1): an image upload asked for and
// never sent leaves the item pending only for the upload's window and the
// grace for processing; then every read shows it expired, as openapi.yaml
// describes it, and a replay of the request is upload_expired. A new
// upload replaces it.
func TestUploadNeverSentExpires(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnvWith(t, func(s *lambdafn.Settings) { s.Now = clock })
	id := e.createItem(`{"sku":"EXPIRE-1","name":"Never pictured"}`)["id"].(string)
	key := map[string]string{"Idempotency-Key": "never-sent"}
	up := e.must(http.StatusCreated, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: `{"contentType":"image/png"}`, Header: key}).json(t)
	status := func() string {
		t.Helper()
		img := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["image"].(map[string]any)
		listed := e.must(http.StatusOK, req{Method: "GET", Path: "/items?q=EXPIRE-1"}).json(t)["items"].([]any)
		if len(listed) != 1 || listed[0].(map[string]any)["image"].(map[string]any)["status"] != img["status"] || img["uploadId"] != up["uploadId"] {
			t.Fatalf("GET shows %v, the list %v", img, listed)
		}
		return img["status"].(string)
	}
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	advance(inventory.ImageUploadWindow + inventory.ImageUploadGrace - time.Minute)
	if got := status(); got != inventory.ImagePending {
		t.Fatalf("within the grace: %s", got)
	}
	advance(2 * time.Minute)
	if got := status(); got != inventory.ImageExpired {
		t.Fatalf("past the grace: %s", got)
	}
	res := e.must(http.StatusConflict, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: `{"contentType":"image/png"}`, Header: key})
	if code := res.code(t); code != inventory.CodeUploadExpired {
		t.Errorf("a replay: %s", code)
	}
	next := e.askUpload(id, "image/png")
	img := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["image"].(map[string]any)
	if img["status"] != inventory.ImagePending || img["uploadId"] != next["uploadId"] {
		t.Errorf("a new upload: %v", img)
	}
}
