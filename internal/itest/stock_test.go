package itest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/depot-inventory/depot/internal/lambdafn"
)

func TestAdjustmentsCountsAndTransfers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rtm := e.createLocation("RTM")
	bolt := e.createItem(fmt.Sprintf(`{"sku":"BOLT","name":"Bolt","quantity":10,"locationId":%q}`, rtm))
	id := bolt["id"].(string)
	if bolt["quantity"] != 10.0 || bolt["available"] != 10.0 {
		t.Errorf("created %v", bolt)
	}
	nut := e.createItem(`{"sku":"NUT","name":"Nut","quantity":3}`)["id"].(string)

	// A multi-line adjustment: a new level at first use, totals per item.
	adj := e.must(http.StatusCreated, req{Method: "POST", Path: "/adjustments",
		Body: fmt.Sprintf(`{"reason":"received","note":"PO 7 arrived","reference":"PO-7","lines":[
			{"itemId":%q,"locationId":%q,"delta":5},{"itemId":%q,"locationId":"default","delta":2},{"itemId":%q,"locationId":%q,"delta":4}]}`,
			id, rtm, id, nut, rtm)}).json(t)
	if adj["reason"] != "received" || adj["note"] != "PO 7 arrived" || adj["reference"] != "PO-7" || adj["actor"] != editorEmail {
		t.Errorf("adjustment %v", adj)
	}
	lines := adj["lines"].([]any)
	if len(lines) != 3 || lines[0].(map[string]any)["onHandAfter"] != 15.0 || lines[1].(map[string]any)["onHandAfter"] != 2.0 ||
		lines[2].(map[string]any)["onHandAfter"] != 4.0 {
		t.Errorf("adjusted lines %v", lines)
	}
	levels, totals := e.levels(id)
	if levels[rtm]["onHand"] != 15.0 || levels["default"]["onHand"] != 2.0 || totals["onHand"] != 17.0 || totals["available"] != 17.0 {
		t.Errorf("levels %v totals %v", levels, totals)
	}
	item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)
	if item["quantity"] != 17.0 || item["available"] != 17.0 || item["version"] != 2.0 || item["updatedBy"] != editorEmail {
		t.Errorf("item after the adjustment %v", item)
	}
	hist := e.history(id, rtm)
	if hist[0]["reason"] != "received" || hist[0]["reference"] != "PO-7" || hist[0]["note"] != "PO 7 arrived" || hist[0]["onHandAfter"] != 15.0 {
		t.Errorf("ledger line %v", hist[0])
	}

	// All or nothing: one short line refuses the whole adjustment, naming
	// each short line with what is available.
	res := e.must(http.StatusConflict, req{Method: "POST", Path: "/adjustments",
		Body: adjustment("damaged", line{id, rtm, -1}, line{id, "default", -3}, line{nut, "default", -4})})
	p := res.json(t)
	if p["code"] != "insufficient_stock" {
		t.Fatalf("short adjustment %v", p)
	}
	errs := p["errors"].([]any)
	if len(errs) != 2 || errs[0].(map[string]any)["field"] != "/lines/1/delta" || errs[0].(map[string]any)["available"] != 2.0 ||
		errs[1].(map[string]any)["field"] != "/lines/2/delta" || errs[1].(map[string]any)["available"] != 3.0 {
		t.Errorf("short lines %v", errs)
	}
	if e.onHand(id, rtm) != 15 {
		t.Error("a refused adjustment changed stock")
	}

	// A cycle count sets on hand; with expected, it is compare-and-set.
	count := e.must(http.StatusCreated, req{Method: "POST", Path: "/counts",
		Body: fmt.Sprintf(`{"itemId":%q,"locationId":%q,"counted":12,"expected":15}`, id, rtm)}).json(t)
	if count["delta"] != -3.0 || count["onHandAfter"] != 12.0 || count["counted"] != 12.0 || count["expected"] != 15.0 {
		t.Errorf("count %v", count)
	}
	mismatch := e.must(http.StatusConflict, req{Method: "POST", Path: "/counts",
		Body: fmt.Sprintf(`{"itemId":%q,"locationId":%q,"counted":11,"expected":15}`, id, rtm)}).json(t)
	if mismatch["code"] != "count_mismatch" || mismatch["errors"].([]any)[0].(map[string]any)["onHand"] != 12.0 {
		t.Errorf("mismatch %v", mismatch)
	}
	if line := e.history(id, rtm)[0]; line["reason"] != "cycle_count" || line["delta"] != -3.0 || line["reference"] != count["id"] {
		t.Errorf("count's ledger line %v", line)
	}

	// A transfer: two lines sharing the transfer's id, the total unchanged.
	tr := e.must(http.StatusCreated, req{Method: "POST", Path: "/transfers",
		Body: fmt.Sprintf(`{"itemId":%q,"fromLocationId":%q,"toLocationId":"default","quantity":5,"note":"rebalance"}`, id, rtm)}).json(t)
	if tr["from"].(map[string]any)["onHandAfter"] != 7.0 || tr["to"].(map[string]any)["onHandAfter"] != 7.0 || tr["quantity"] != 5.0 || tr["note"] != "rebalance" {
		t.Errorf("transfer %v", tr)
	}
	out, in := e.history(id, rtm)[0], e.history(id, "default")[0]
	if out["reason"] != "transfer_out" || out["delta"] != -5.0 || in["reason"] != "transfer_in" || in["delta"] != 5.0 ||
		out["reference"] != tr["id"] || in["reference"] != tr["id"] {
		t.Errorf("transfer lines %v / %v", out, in)
	}
	if item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t); item["quantity"] != 14.0 {
		t.Errorf("item total after the transfer %v", item["quantity"])
	}
	short := e.must(http.StatusConflict, req{Method: "POST", Path: "/transfers", Body: transfer(id, rtm, "default", 8)}).json(t)
	if short["code"] != "insufficient_stock" || short["errors"].([]any)[0].(map[string]any)["available"] != 7.0 {
		t.Errorf("short transfer %v", short)
	}

	// Two lines may name one level: they apply in order, each its own line.
	twice := e.adjust("correction", line{nut, "default", 4}, line{nut, "default", -6})
	if tl := twice["lines"].([]any); tl[0].(map[string]any)["onHandAfter"] != 7.0 || tl[1].(map[string]any)["onHandAfter"] != 1.0 {
		t.Errorf("two lines on one level %v", tl)
	}
	res = e.must(http.StatusConflict, req{Method: "POST", Path: "/adjustments", Body: adjustment("damaged", line{nut, "default", -1}, line{nut, "default", -1})})
	if errs := res.json(t)["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "/lines/1/delta" || errs[0].(map[string]any)["available"] != 0.0 {
		t.Errorf("the second of two lines on one level is the short one: %s", res.Body)
	}

	// The activity trail lists every stock change with the item's other changes.
	acts := e.activity(id, 3)
	if got := activityTypes(acts); got != strings.Repeat("stock_changed,", 5)+"stock_changed,created" {
		t.Errorf("activity %s", got)
	}
	e.reconcile(id, nut)
}

func TestStockErrorCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := codes{}
	loc := e.createLocation("ERR")
	gone := e.createLocation("GONE")
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/locations/" + gone, Header: admin()})
	id := e.createItem(`{"sku":"ERR-1","name":"x","quantity":5}`)["id"].(string)
	dead := e.createItem(`{"sku":"ERR-2","name":"x","quantity":5}`)["id"].(string)
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + dead})
	const noSuch = "01JBZ4Q7Y3M7R2K5X9V8N6T4PA"
	for _, c := range []struct {
		status int
		path   string
		body   string
		code   string
		field  string
	}{
		{400, "/adjustments", `{"reason":"received","lines":[]}`, "validation_failed", "/lines"},
		{400, "/adjustments", adjustment("stolen", line{id, "default", 1}), "validation_failed", "/reason"},
		{400, "/adjustments", adjustment("received", line{id, "default", 0}), "validation_failed", "/lines/0/delta"},
		{400, "/adjustments", adjustment("received", line{"x", "nowhere!", 1}), "validation_failed", "/lines/0/itemId"},
		{400, "/adjustments", `{"reason":"received","lines":[{"itemId":"` + id + `","locationId":"default","delta":1,"extra":1}]}`, "unknown_field", "/lines/0/extra"},
		{400, "/adjustments", `{"reason":"received","lines":[{"itemId":"` + id + `","locationId":"default","delta":"1"}]}`, "invalid_type", "/lines/0/delta"},
		{400, "/adjustments", `{"reason":"received","reference":" ","lines":[{"itemId":"` + id + `","locationId":"default","delta":1}]}`, "validation_failed", "/reference"},
		{400, "/adjustments", adjustment("received", manyLines(id, 31)...), "validation_failed", "/lines"},
		{404, "/adjustments", adjustment("received", line{noSuch, "default", 1}), "item_not_found", "/lines/0/itemId"},
		{404, "/adjustments", adjustment("received", line{id, "default", 1}, line{dead, "default", 1}), "item_deleted", "/lines/1/itemId"},
		{404, "/adjustments", adjustment("received", line{id, noSuch, 1}), "location_not_found", "/lines/0/locationId"},
		{404, "/adjustments", adjustment("received", line{id, gone, 1}), "location_deleted", "/lines/0/locationId"},
		{409, "/adjustments", adjustment("shrinkage", line{id, "default", -6}), "insufficient_stock", "/lines/0/delta"},
		{400, "/counts", `{"itemId":"` + id + `","locationId":"default"}`, "validation_failed", "/counted"},
		{400, "/counts", `{"itemId":"` + id + `","locationId":"default","counted":-1}`, "validation_failed", "/counted"},
		{409, "/counts", `{"itemId":"` + id + `","locationId":"default","counted":4,"expected":3}`, "count_mismatch", "/expected"},
		{404, "/counts", `{"itemId":"` + dead + `","locationId":"default","counted":4}`, "item_deleted", "/itemId"},
		{404, "/counts", `{"itemId":"` + id + `","locationId":"` + gone + `","counted":4}`, "location_deleted", "/locationId"},
		{400, "/transfers", transfer(id, "default", "default", 1), "validation_failed", "/toLocationId"},
		{400, "/transfers", transfer(id, "default", loc, 0), "validation_failed", "/quantity"},
		{409, "/transfers", transfer(id, "default", loc, 6), "insufficient_stock", "/quantity"},
		{404, "/transfers", transfer(id, "default", gone, 1), "location_deleted", "/toLocationId"},
		{404, "/transfers", transfer(dead, "default", loc, 1), "item_deleted", "/itemId"},
		{404, "/transfers", transfer(noSuch, "default", loc, 1), "item_not_found", "/itemId"},
		{404, "/items", `{"sku":"ERR-3","name":"x","quantity":1,"locationId":"` + gone + `"}`, "location_deleted", ""},
		{404, "/items", `{"sku":"ERR-4","name":"x","quantity":1,"locationId":"` + noSuch + `"}`, "location_not_found", ""},
	} {
		res := e.do(req{Method: "POST", Path: c.path, Body: c.body})
		if res.Status != c.status {
			t.Errorf("POST %s %s: %d %s, want %d %s", c.path, c.body, res.Status, res.Body, c.status, c.code)
			continue
		}
		got := res.code(t)
		seen[got] = true
		if got != c.code || (c.field != "" && !hasFieldError(res.json(t), c.field)) {
			t.Errorf("POST %s %s: %s, want %s naming %s", c.path, c.body, res.Body, c.code, c.field)
		}
	}
	if e.onHand(id, "default") != 5 || len(e.history(id, "")) != 1 {
		t.Error("a refused stock change wrote something")
	}
	// PATCH quantity: a correction while the stock is at one location.
	e.adjust("received", line{id, loc, 2})
	res := e.must(http.StatusConflict, req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":9}`})
	seen[res.code(t)] = true
	if res.code(t) != "use_adjustments" {
		t.Errorf("PATCH quantity with stock at two locations: %s", res.Body)
	}
	for _, c := range []struct {
		path, query, code string
		status            int
	}{
		{"/items/" + id + "/stock", "at=yesterday", "invalid_parameter", 400},
		{"/items/" + id + "/stock", "at=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "invalid_parameter", 400},
		{"/items/" + dead + "/stock", "", "item_deleted", 404},
		{"/items", "lowStock=yes", "invalid_parameter", 400},
		{"/items/" + id + "/history", "locationId=" + noSuch, "location_not_found", 404},
		{"/locations/" + gone + "/stock", "", "location_deleted", 404},
		{"/locations/" + noSuch + "/history", "", "location_not_found", 404},
	} {
		res := e.must(c.status, req{Method: "GET", Path: c.path + "?" + c.query})
		if got := res.code(t); got != c.code {
			t.Errorf("GET %s?%s: %s, want %s", c.path, c.query, got, c.code)
		}
	}
	seen.expect(t, "validation_failed", "unknown_field", "invalid_type", "item_not_found", "item_deleted", "location_not_found",
		"location_deleted", "insufficient_stock", "count_mismatch", "use_adjustments")
}

func manyLines(item string, n int) []line {
	out := make([]line, n)
	for i := range out {
		out[i] = line{item, "default", int64(i + 1)}
	}
	return out
}

func TestPatchQuantityCorrectsTheOneStockedLevel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := e.createLocation("ONE")
	id := e.createItem(fmt.Sprintf(`{"sku":"PQ-1","name":"x","quantity":6,"locationId":%q}`, loc))["id"].(string)
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":4}`})
	if e.onHand(id, loc) != 4 || e.onHand(id, "default") != 0 {
		t.Errorf("the correction was not at the one stocked level")
	}
	// Corrected to 0 there, the location holds nothing and can go.
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":0}`})
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/locations/" + loc, Header: admin()})
	// With no stock anywhere, a new quantity goes to the default location.
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":3}`})
	if e.onHand(id, "default") != 3 {
		t.Errorf("the correction did not go to the default location")
	}
	// Opening a level with nothing at a live location checks the location.
	empty := e.createLocation("EMPTY")
	e.createItem(fmt.Sprintf(`{"sku":"PQ-2","name":"x","quantity":0,"locationId":%q}`, empty))
	e.must(http.StatusCreated, req{Method: "POST", Path: "/counts", Body: fmt.Sprintf(`{"itemId":%q,"locationId":%q,"counted":0}`, id, empty)})
	// One line empties a level while another fills one at the same location.
	other := e.createItem(`{"sku":"PQ-3","name":"x"}`)["id"].(string)
	e.adjust("received", line{id, empty, 2})
	e.adjust("correction", line{id, empty, -2}, line{other, empty, 5})
	e.must(http.StatusConflict, req{Method: "DELETE", Path: "/locations/" + empty, Header: admin()})
	// A count that finds goods at an emptied level stocks it again.
	e.must(http.StatusCreated, req{Method: "POST", Path: "/counts", Body: fmt.Sprintf(`{"itemId":%q,"locationId":%q,"counted":1}`, id, empty)})
	if e.onHand(id, empty) != 1 {
		t.Errorf("count did not set on hand")
	}
	e.reconcile(id, other)
}

func TestLowStockIsExact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := e.createLocation("LOW")
	a := e.createItem(`{"sku":"LOW-A","name":"a","quantity":5,"reorderPoint":5}`)["id"].(string)
	b := e.createItem(`{"sku":"LOW-B","name":"b","quantity":2,"reorderPoint":5}`)["id"].(string)
	c := e.createItem(`{"sku":"LOW-C","name":"c","quantity":1}`)["id"].(string)
	low := func() string {
		t.Helper()
		var skus []string
		for _, it := range e.must(http.StatusOK, req{Method: "GET", Path: "/items?lowStock=true", Header: as(viewerEmail)}).json(t)["items"].([]any) {
			skus = append(skus, it.(map[string]any)["sku"].(string))
		}
		return strings.Join(skus, ",")
	}
	if got := low(); got != "LOW-B" {
		t.Errorf("low stock %q, want LOW-B", got)
	}
	e.adjust("damaged", line{a, "default", -1})
	if got := low(); got != "LOW-A,LOW-B" {
		t.Errorf("low stock %q after A fell below", got)
	}
	e.adjust("received", line{b, loc, 10})
	// A transfer changes no total: A stays low.
	e.must(http.StatusCreated, req{Method: "POST", Path: "/transfers", Body: transfer(a, "default", loc, 4)})
	if got := low(); got != "LOW-A" {
		t.Errorf("low stock %q after B was received", got)
	}
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + a})
	if got := low(); got != "" {
		t.Errorf("low stock %q lists a deleted item", got)
	}
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + c, Body: `{"reorderPoint":2}`})
	if got := low(); got != "LOW-C" {
		t.Errorf("low stock %q after C got a reorder point", got)
	}
	all := e.must(http.StatusOK, req{Method: "GET", Path: "/items?lowStock=false"}).json(t)["items"].([]any)
	if len(all) != 2 {
		t.Errorf("lowStock=false lists %d items, want every live item", len(all))
	}
}

// TestConcurrentAdjustmentsOnOneLevel: 100 adjustments on one level from 16
// workers. Every 2xx is exactly one ledger line, the final on hand is the
// start plus the 2xx deltas, and on hand never went below 0.
func TestConcurrentAdjustmentsOnOneLevel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"HOT-1","name":"Hot","quantity":20}`)["id"].(string)
	const workers, total = 16, 100
	var (
		mu       sync.Mutex
		sum      int64
		accepted = map[string]int64{} // adjustment id -> delta
		statuses = map[int]int{}
		wg       sync.WaitGroup
	)
	jobs := make(chan int64)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				status, body := e.send(t, "POST", "/adjustments", adjustment("correction", line{id, "default", d}), nil)
				mu.Lock()
				statuses[status]++
				if status == http.StatusCreated {
					sum += d
					accepted[body["id"].(string)] = d
					if after := body["lines"].([]any)[0].(map[string]any)["onHandAfter"].(float64); after < 0 {
						t.Errorf("on hand went to %v", after)
					}
				} else if status != http.StatusConflict {
					t.Errorf("adjustment answered %d %v", status, body)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range total {
		d := int64(i%7 - 3) // -3..3, never 0 below
		if d == 0 {
			d = 5
		}
		jobs <- d
	}
	close(jobs)
	wg.Wait()
	t.Logf("statuses %v", statuses)
	if statuses[http.StatusCreated] == 0 {
		t.Fatal("no adjustment succeeded")
	}
	if got := e.onHand(id, "default"); got != 20+sum {
		t.Errorf("on hand %d, want 20 + Σ accepted deltas %d = %d", got, sum, 20+sum)
	}
	lines := e.history(id, "")
	byRef := map[string]int{}
	for _, l := range lines[:len(lines)-1] { // the oldest is the opening line
		byRef[l["reference"].(string)]++
	}
	if len(lines)-1 != len(accepted) {
		t.Errorf("%d ledger lines for %d accepted adjustments", len(lines)-1, len(accepted))
	}
	for ref, d := range accepted {
		if byRef[ref] != 1 {
			t.Errorf("adjustment %s (delta %d) has %d ledger lines", ref, d, byRef[ref])
		}
	}
	for i := 1; i < len(lines); i++ {
		prev, cur := lines[i], lines[i-1] // oldest to newest
		if cur["onHandAfter"].(float64) != prev["onHandAfter"].(float64)+cur["delta"].(float64) {
			t.Errorf("ledger does not chain: %v then %v", prev, cur)
		}
	}
	e.reconcile(id)
}

// TestTransfersRacingAdjustments: transfers both ways between two levels
// race adjustments of both; the total across locations changes by exactly
// the accepted adjustments' deltas.
func TestTransfersRacingAdjustments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createLocation("RACE-A")
	b := e.createLocation("RACE-B")
	id := e.createItem(fmt.Sprintf(`{"sku":"RACE","name":"Raced","quantity":30,"locationId":%q}`, a))["id"].(string)
	e.adjust("received", line{id, b, 30})
	var (
		mu  sync.Mutex
		sum int64
		ok  = map[string]int{}
		wg  sync.WaitGroup
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				var status int
				var kind string
				switch (w + i) % 4 {
				case 0:
					kind = "transfer"
					status, _ = e.send(t, "POST", "/transfers", transfer(id, a, b, 3), nil)
				case 1:
					kind = "transfer"
					status, _ = e.send(t, "POST", "/transfers", transfer(id, b, a, 2), nil)
				default:
					kind = "adjustment"
					loc, d := a, int64(w-4)
					if i%2 == 0 {
						loc = b
					}
					if d == 0 {
						d = 1
					}
					status, _ = e.send(t, "POST", "/adjustments", adjustment("correction", line{id, loc, d}), nil)
					if status == http.StatusCreated {
						mu.Lock()
						sum += d
						mu.Unlock()
					}
				}
				if status != http.StatusCreated && status != http.StatusConflict {
					t.Errorf("%s answered %d", kind, status)
				}
				mu.Lock()
				ok[fmt.Sprint(kind, " ", status)]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("answers %v", ok)
	_, totals := e.levels(id)
	if got := int64(totals["onHand"].(float64)); got != 60+sum {
		t.Errorf("total %d, want 60 + Σ accepted adjustments %d", got, sum)
	}
	e.reconcile(id)
}

// TestTransferToALocationDeletedMeanwhile: the destination is deleted
// between the transfer's read and its commit; the transfer fails whole.
func TestTransferToALocationDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	var (
		once  sync.Once
		onTx  func()
		fired bool
	)
	// Just before the transfer's transaction is sent, delete the
	// destination through the API.
	hook := middleware.InitializeMiddlewareFunc("DeleteDestinationFirst", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok && isTransfer(tx) {
			once.Do(func() { fired = true; onTx() })
		}
		return next.HandleInitialize(ctx, in)
	})
	e := newEnvWith(t, func(s *lambdafn.Settings) {
		s.DynamoDBOptions = append(s.DynamoDBOptions, func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error { return st.Initialize.Add(hook, middleware.Before) })
		})
	})
	to := e.createLocation("DOOMED")
	id := e.createItem(`{"sku":"ATOM","name":"Atomic","quantity":9}`)["id"].(string)
	onTx = func() {
		status, body := e.send(t, "DELETE", "/locations/"+to, `{"comment":"closed during the transfer"}`, as(adminEmail))
		if status != http.StatusOK {
			t.Errorf("delete of the destination: %d %v", status, body)
		}
	}
	res := e.must(http.StatusNotFound, req{Method: "POST", Path: "/transfers", Body: transfer(id, "default", to, 4)})
	if !fired || res.code(t) != "location_deleted" {
		t.Fatalf("transfer: %s (hook fired: %v)", res.Body, fired)
	}
	levels, _ := e.levels(id)
	if len(levels) != 1 || levels["default"]["onHand"] != 9.0 {
		t.Errorf("levels after the failed transfer %v", levels)
	}
	if hist := e.history(id, ""); len(hist) != 1 {
		t.Errorf("the failed transfer left ledger lines: %v", hist)
	}
	e.reconcile(id)
}

// isTransfer reports whether a transaction writes a transfer_in line.
func isTransfer(tx *dynamodb.TransactWriteItemsInput) bool {
	for _, it := range tx.TransactItems {
		if it.Put == nil {
			continue
		}
		if r, ok := it.Put.Item["reason"].(*types.AttributeValueMemberS); ok && r.Value == "transfer_in" {
			return true
		}
	}
	return false
}

// TestEveryPOSTIsIdempotent: a retry with the same Idempotency-Key answers
// the first result and writes nothing more.
func TestEveryPOSTIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := e.createLocation("IDEM")
	id := e.createItem(`{"sku":"IDEM-1","name":"x","quantity":10}`)["id"].(string)
	retry := func(method, path, body, key string, header map[string]string) map[string]any {
		t.Helper()
		h := map[string]string{"Idempotency-Key": key}
		for k, v := range header {
			h[k] = v
		}
		first := e.do(req{Method: method, Path: path, Body: body, Header: h})
		second := e.do(req{Method: method, Path: path, Body: body, Header: h})
		if first.Status >= 300 || second.Status != first.Status || string(second.Body) != string(first.Body) ||
			second.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("%s %s: first %d %s, retry %d %s (replayed %q)", method, path, first.Status, first.Body,
				second.Status, second.Body, second.Header.Get("Idempotent-Replayed"))
		}
		return first.json(t)
	}
	retry("POST", "/adjustments", adjustment("received", line{id, loc, 4}), "adj-1", nil)
	retry("POST", "/transfers", transfer(id, loc, "default", 1), "tr-1", nil)
	retry("POST", "/counts", fmt.Sprintf(`{"itemId":%q,"locationId":"default","counted":20}`, id), "count-1", nil)
	newLoc := retry("POST", "/locations", `{"code":"ONCE","name":"Once"}`, "loc-1", admin())["id"].(string)
	retry("DELETE", "/locations/"+newLoc, `{"comment":"gone"}`, "del-1", admin())
	retry("POST", "/locations/"+newLoc+"/restore", "", "res-1", admin())
	item := retry("POST", "/items", fmt.Sprintf(`{"sku":"IDEM-2","name":"y","quantity":2,"locationId":%q}`, loc), "item-1", nil)
	if lines := e.history(id, ""); len(lines) != 5 { // opening, adjustment, 2 transfer lines, count
		t.Errorf("%d ledger lines, want 5", len(lines))
	}
	if got := e.onHand(id, loc); got != 3 {
		t.Errorf("on hand at %s %d, want 3", loc, got)
	}
	if got := e.onHand(id, "default"); got != 20 {
		t.Errorf("on hand at default %d, want 20", got)
	}
	if got := e.onHand(item["id"].(string), loc); got != 2 {
		t.Errorf("new item on hand %d, want 2", got)
	}
	if l := e.must(http.StatusOK, req{Method: "GET", Path: "/locations/" + newLoc}).json(t); l["version"] != 3.0 {
		t.Errorf("location after delete and restore retried: version %v, want 3", l["version"])
	}
	// The same key with another body is refused.
	res := e.must(http.StatusUnprocessableEntity, req{Method: "POST", Path: "/adjustments",
		Body: adjustment("received", line{id, loc, 5}), Header: map[string]string{"Idempotency-Key": "adj-1"}})
	if res.code(t) != "idempotency_key_reused" {
		t.Errorf("reused key: %s", res.Body)
	}
	e.reconcile(id, item["id"].(string))
}

// TestStockAsOfATime checks GET /items/{id}/stock?at= against a timeline
// the test keeps from the answers, at instants before, on and between
// lines, including two lines in one millisecond.
func TestStockAsOfATime(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	e := newEnvWith(t, func(s *lambdafn.Settings) { s.Now = now })
	loc := e.createLocation("ASOF")
	start := now()
	tick(time.Millisecond)
	id := e.createItem(`{"sku":"ASOF","name":"Timed","quantity":5}`)["id"].(string)

	// The timeline: each accepted change's instant and the levels after it.
	type point struct {
		at     time.Time
		levels map[string]int64
	}
	current := map[string]int64{"default": 5}
	timeline := []point{{now(), map[string]int64{"default": 5}}}
	record := func(at string, changes map[string]int64) {
		ts, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range changes {
			current[k] = v
		}
		snap := map[string]int64{}
		for k, v := range current {
			snap[k] = v
		}
		timeline = append(timeline, point{ts, snap})
	}
	tick(time.Millisecond)
	a := e.adjust("received", line{id, "default", 3})
	record(a["at"].(string), map[string]int64{"default": 8})
	// Two changes in the same millisecond.
	a = e.adjust("received", line{id, loc, 2})
	record(a["at"].(string), map[string]int64{loc: 2})
	tr := e.must(http.StatusCreated, req{Method: "POST", Path: "/transfers", Body: transfer(id, "default", loc, 6)}).json(t)
	record(tr["at"].(string), map[string]int64{"default": 2, loc: 8})
	tick(2 * time.Millisecond)
	c := e.must(http.StatusCreated, req{Method: "POST", Path: "/counts", Body: fmt.Sprintf(`{"itemId":%q,"locationId":%q,"counted":7}`, id, loc)}).json(t)
	record(c["at"].(string), map[string]int64{loc: 7})
	tick(time.Millisecond)

	expected := func(at time.Time) map[string]int64 {
		var out map[string]int64
		for _, p := range timeline {
			if !p.at.After(at) {
				out = p.levels
			}
		}
		return out
	}
	var probes []time.Time
	for _, p := range timeline {
		probes = append(probes, p.at.Add(-time.Nanosecond), p.at, p.at.Add(500*time.Microsecond), p.at.Add(time.Millisecond-time.Nanosecond))
	}
	probes = append(probes, start, now())
	for _, at := range probes {
		if at.After(now()) {
			continue
		}
		res := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/stock?at=" + at.Format(time.RFC3339Nano)}).json(t)
		got := map[string]int64{}
		var total int64
		for _, l := range res["levels"].([]any) {
			m := l.(map[string]any)
			got[m["locationId"].(string)] = int64(m["onHand"].(float64))
			total += int64(m["onHand"].(float64))
		}
		want := expected(at)
		if fmt.Sprint(got) != fmt.Sprint(nonNilLevels(want)) {
			t.Errorf("at %s: levels %v, want %v", at.Format(time.RFC3339Nano), got, want)
		}
		if int64(res["totals"].(map[string]any)["onHand"].(float64)) != total {
			t.Errorf("at %s: totals %v do not add up", at.Format(time.RFC3339Nano), res["totals"])
		}
	}
	// Now and without at agree.
	nowLevels, _ := e.levels(id)
	if nowLevels[loc]["onHand"] != 7.0 || nowLevels["default"]["onHand"] != 2.0 {
		t.Errorf("levels now %v", nowLevels)
	}
}

func nonNilLevels(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}
