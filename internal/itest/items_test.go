package itest

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

func TestItemLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(http.StatusOK, req{Method: "GET", Path: "/health"})
	spec := e.must(http.StatusOK, req{Method: "GET", Path: "/openapi.yaml"})
	if !strings.Contains(string(spec.Body), "openapi: 3.1") {
		t.Fatalf("GET /openapi.yaml did not return the spec: %.80s", spec.Body)
	}

	created := e.must(http.StatusCreated, req{Method: "POST", Path: "/items",
		Body: `{"sku":"WIDGET-1","name":"Widget","description":"Blue","quantity":5,"tags":["blue","small"],"reorderPoint":2}`})
	item := created.json(t)
	id := item["id"].(string)
	if got := created.Header.Get("Location"); got != "/items/"+id {
		t.Errorf("Location = %q, want /items/%s", got, id)
	}
	if got := created.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag = %q, want \"1\"", got)
	}
	if item["createdBy"] != editorEmail || item["quantity"] != 5.0 || item["version"] != 1.0 {
		t.Errorf("created item = %v", item)
	}

	got := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)
	item["groups"] = []any{} // GET /items/{id} names the item's groups
	if !reflect.DeepEqual(got, item) {
		t.Errorf("GET = %v, want %v", got, item)
	}

	list := e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)
	if items := list["items"].([]any); len(items) != 1 || list["nextCursor"] != nil {
		t.Errorf("list = %v", list)
	}

	patched := e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id,
		Body: `{"quantity":8,"description":null}`, Header: map[string]string{"If-Match": `"1"`}})
	p := patched.json(t)
	if p["quantity"] != 8.0 || p["description"] != "" || p["version"] != 2.0 || patched.Header.Get("ETag") != `"2"` {
		t.Errorf("patched = %v (ETag %s)", p, patched.Header.Get("ETag"))
	}

	deleted := e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id,
		Body: `{"comment":"damaged in transit"}`}).json(t)
	del, _ := deleted["deleted"].(map[string]any)
	if del["comment"] != "damaged in transit" || del["by"] != editorEmail {
		t.Errorf("deleted = %v", deleted)
	}
	if code := e.must(http.StatusNotFound, req{Method: "GET", Path: "/items/" + id}).code(t); code != "item_deleted" {
		t.Errorf("GET deleted item code = %s", code)
	}
	if n := len(e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any)); n != 0 {
		t.Errorf("live list has %d items after delete", n)
	}
	dl := e.must(http.StatusOK, req{Method: "GET", Path: "/deleted-items"}).json(t)["items"].([]any)
	if len(dl) != 1 || dl[0].(map[string]any)["deleted"].(map[string]any)["comment"] != "damaged in transit" {
		t.Errorf("deleted list = %v", dl)
	}

	restored := e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + id + "/restore"}).json(t)
	if _, still := restored["deleted"]; still || restored["quantity"] != 8.0 {
		t.Errorf("restored = %v", restored)
	}
	hist := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/history"}).json(t)["entries"].([]any)
	if len(hist) != 2 {
		t.Fatalf("history has %d entries, want 2: %v", len(hist), hist)
	}
	newest, oldest := hist[0].(map[string]any), hist[1].(map[string]any)
	if newest["delta"] != 3.0 || newest["onHandAfter"] != 8.0 || newest["reason"] != "quantity_set" ||
		oldest["delta"] != 5.0 || oldest["reason"] != "item_created" || oldest["locationId"] != "default" {
		t.Errorf("history = %v", hist)
	}
}

func TestDeleteRestoreKeepsEveryField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	item := e.createItem(`{"sku":"KEEP-1","name":"Keeper","description":"all fields","quantity":3,"tags":["a","b"],"reorderPoint":0}`)
	id := item["id"].(string)
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id})
	restored := e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + id + "/restore"}).json(t)
	for _, f := range []string{"id", "sku", "name", "description", "quantity", "tags", "reorderPoint", "createdAt", "createdBy"} {
		if !reflect.DeepEqual(restored[f], item[f]) {
			t.Errorf("%s: restored %v, created %v", f, restored[f], item[f])
		}
	}
	if restored["version"] != 3.0 {
		t.Errorf("version = %v, want 3 (create, delete, restore)", restored["version"])
	}
	if code := e.must(http.StatusNotFound, req{Method: "POST", Path: "/items/" + id + "/restore"}).code(t); code != "item_not_deleted" {
		t.Errorf("restore of a live item: code %s", code)
	}
}

func TestDeleteFreesSKUAndRestoreConflicts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.createItem(`{"sku":"DUP-1","name":"First"}`)["id"].(string)
	if code := e.must(http.StatusConflict, req{Method: "POST", Path: "/items", Body: `{"sku":"DUP-1","name":"Again"}`}).code(t); code != "sku_conflict" {
		t.Fatalf("duplicate sku code = %s", code)
	}
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + first})
	second := e.createItem(`{"sku":"DUP-1","name":"Second"}`)["id"].(string)
	if code := e.must(http.StatusConflict, req{Method: "POST", Path: "/items/" + first + "/restore"}).code(t); code != "sku_conflict" {
		t.Fatalf("restore onto a taken sku: code %s", code)
	}
	// Renaming the second frees the SKU for the first.
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + second, Body: `{"sku":"DUP-2"}`})
	e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + first + "/restore"})
	if code := e.must(http.StatusConflict, req{Method: "PATCH", Path: "/items/" + second, Body: `{"sku":"DUP-1"}`}).code(t); code != "sku_conflict" {
		t.Fatalf("patch onto a taken sku: code %s", code)
	}
}

func TestConcurrentCreatesOfOneSKU(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.do(req{Method: "POST", Path: "/items", Body: fmt.Sprintf(`{"sku":"RACE-1","name":"racer %d","quantity":1}`, i)}).Status
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses = %v, want one 201 and %d 409", count, n-1)
	}
	if items := e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("%d live items, want 1", len(items))
	}
}

func TestConcurrentPatchesWithOneETag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"ETAG-1","name":"Contended","quantity":1}`)["id"].(string)
	const n = 2
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.do(req{Method: "PATCH", Path: "/items/" + id, Body: fmt.Sprintf(`{"quantity":%d}`, 10+i),
				Header: map[string]string{"If-Match": `"1"`}}).Status
		})
	}
	wg.Wait()
	ok, failed := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusPreconditionFailed:
			failed++
		}
	}
	if ok != 1 || failed != 1 {
		t.Fatalf("statuses = %v, want one 200 and one 412", statuses)
	}
	hist := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/history"}).json(t)["entries"].([]any)
	if len(hist) != 2 {
		t.Fatalf("history has %d entries, want 2 (create + one patch)", len(hist))
	}
	if code := e.must(http.StatusPreconditionFailed, req{Method: "PATCH", Path: "/items/" + id, Body: `{"name":"x"}`,
		Header: map[string]string{"If-Match": `"1"`}}).code(t); code != "precondition_failed" {
		t.Fatalf("stale If-Match: code %s", code)
	}
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id, Header: map[string]string{"If-Match": `"2"`}})
}

func TestCursorPagesCoverEveryItemOnce(t *testing.T) {
	t.Parallel()
	const limit = 3
	for _, n := range []int{0, 1, limit, limit + 1, 2*limit + 2} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t)
			want := map[string]bool{}
			for i := range n {
				// Created in reverse SKU order, listed in SKU order.
				it := e.createItem(fmt.Sprintf(`{"sku":"P-%03d","name":"page item"}`, n-i))
				want[it["sku"].(string)] = true
			}
			seen := map[string]bool{}
			var order []string
			path := fmt.Sprintf("/items?limit=%d", limit)
			for pages := 0; ; pages++ {
				if pages > n+1 {
					t.Fatal("too many pages")
				}
				page := e.must(http.StatusOK, req{Method: "GET", Path: path}).json(t)
				for _, it := range page["items"].([]any) {
					sku := it.(map[string]any)["sku"].(string)
					if seen[sku] {
						t.Fatalf("sku %s listed twice", sku)
					}
					seen[sku] = true
					order = append(order, sku)
				}
				next, _ := page["nextCursor"].(string)
				if next == "" {
					break
				}
				path = fmt.Sprintf("/items?limit=%d&cursor=%s", limit, next)
			}
			if !reflect.DeepEqual(seen, want) && !(len(seen) == 0 && len(want) == 0) {
				t.Fatalf("listed %v, want %v", seen, want)
			}
			for i := 1; i < len(order); i++ {
				if order[i-1] >= order[i] {
					t.Fatalf("not in SKU order: %v", order)
				}
			}
		})
	}
}

func TestDeletedItemsNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, e.createItem(fmt.Sprintf(`{"sku":"D-%d","name":"to delete"}`, i))["id"].(string))
	}
	for _, id := range ids {
		e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id, Body: `{"comment":"gone ` + id + `"}`})
	}
	var got []string
	path := "/deleted-items?limit=2"
	for path != "" {
		page := e.must(http.StatusOK, req{Method: "GET", Path: path}).json(t)
		for _, it := range page["items"].([]any) {
			got = append(got, it.(map[string]any)["id"].(string))
		}
		path = ""
		if next, _ := page["nextCursor"].(string); next != "" {
			path = "/deleted-items?limit=2&cursor=" + next
		}
	}
	if want := []string{ids[2], ids[1], ids[0]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("deleted list order %v, want %v", got, want)
	}
}

func TestIdempotentReplayWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := map[string]string{"Idempotency-Key": "create-widget-7"}
	body := `{"sku":"IDEM-1","name":"Once","quantity":4}`
	first := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: body, Header: key})
	id := first.json(t)["id"].(string)
	second := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: body, Header: key})
	if second.Header.Get("Idempotent-Replayed") != "true" || string(second.Body) != string(first.Body) ||
		second.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay differs: %s %v vs %s", second.Body, second.Header, first.Body)
	}
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("first response marked as replayed")
	}
	if code := e.must(http.StatusUnprocessableEntity, req{Method: "POST", Path: "/items", Body: `{"sku":"IDEM-2","name":"Other"}`, Header: key}).code(t); code != "idempotency_key_reused" {
		t.Fatalf("reused key: code %s", code)
	}
	items := e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any)
	hist := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/history"}).json(t)["entries"].([]any)
	if len(items) != 1 || len(hist) != 1 {
		t.Fatalf("after replay: %d items, %d ledger entries; want 1 and 1", len(items), len(hist))
	}

	delKey := map[string]string{"Idempotency-Key": "delete-widget-7"}
	d1 := e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id, Body: `{"comment":"x"}`, Header: delKey})
	d2 := e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id, Body: `{"comment":"x"}`, Header: delKey})
	if d2.Header.Get("Idempotent-Replayed") != "true" || string(d1.Body) != string(d2.Body) {
		t.Fatalf("delete replay differs")
	}
	// Concurrent retries of one create: one item, every answer the same.
	var wg sync.WaitGroup
	bodies := make([]string, 5)
	for i := range bodies {
		wg.Go(func() {
			bodies[i] = string(e.do(req{Method: "POST", Path: "/items", Body: `{"sku":"IDEM-3","name":"Race"}`,
				Header: map[string]string{"Idempotency-Key": "race-key"}}).Body)
		})
	}
	wg.Wait()
	items = e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["sku"] != "IDEM-3" {
		t.Fatalf("concurrent retries made %d live items: %v", len(items), items)
	}
	for _, b := range bodies {
		if b != bodies[0] && !strings.Contains(b, "idempotency_in_progress") {
			t.Fatalf("concurrent retries answered differently: %s vs %s", b, bodies[0])
		}
	}
}

// TestIdempotencyRecordsLastADay: the stored first response is found within
// 24 hours of the request and not after.
func TestIdempotencyRecordsLastADay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: `{"sku":"TTL-1","name":"Once a day"}`,
		Header: map[string]string{"Idempotency-Key": "ttl-key"}})
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(lambdafn.NewDynamoClient(cfg), e.stack.Settings.TableName)
	scope := inventory.IdempotencyScope(editorEmail, "ttl-key")
	for _, c := range []struct {
		after time.Duration
		found bool
	}{{time.Minute, true}, {23 * time.Hour, true}, {25 * time.Hour, false}} {
		rec, err := store.GetIdempotency(context.Background(), scope, time.Now().Add(c.after))
		if err != nil {
			t.Fatal(err)
		}
		if (rec != nil) != c.found || (rec != nil && rec.Operation != "CreateItem") {
			t.Errorf("%v after: record %+v, want found=%v", c.after, rec, c.found)
		}
	}
}
