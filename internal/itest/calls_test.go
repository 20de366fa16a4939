package itest

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

// TestDynamoDBCallsPerOperation pins the DynamoDB calls each operation makes,
// read from the request's log line (counted by an SDK middleware).
func TestDynamoDBCallsPerOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"CALLS-1","name":"Counted","quantity":1}`)["id"].(string)
	idem := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "calls-key"}
	cases := []struct {
		req  req
		want map[string]int
	}{
		{req{Method: "GET", Path: "/health"}, map[string]int{}},
		{req{Method: "POST", Path: "/items", Body: `{"sku":"CALLS-2","name":"x"}`}, map[string]int{"TransactWriteItems": 1}},
		{req{Method: "POST", Path: "/items", Body: `{"sku":"CALLS-3","name":"x"}`, Header: idem}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "POST", Path: "/items", Body: `{"sku":"CALLS-3","name":"x"}`, Header: idem}, map[string]int{"GetItem": 1}},
		{req{Method: "GET", Path: "/items"}, map[string]int{"Query": 1}},
		{req{Method: "GET", Path: "/items/" + id}, map[string]int{"GetItem": 1}},
		// A new quantity reads the item's levels (where is its stock?).
		{req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":2}`}, map[string]int{"GetItem": 1, "Query": 1, "TransactWriteItems": 1}},
		{req{Method: "PATCH", Path: "/items/" + id, Body: `{"name":"Renamed"}`}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":2}`}, map[string]int{"GetItem": 1}},
		{req{Method: "GET", Path: "/items/" + id + "/history"}, map[string]int{"GetItem": 1, "Query": 1}},
		{req{Method: "DELETE", Path: "/items/" + id}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "GET", Path: "/deleted-items"}, map[string]int{"Query": 1}},
		{req{Method: "POST", Path: "/items/" + id + "/restore"}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "POST", Path: "/items", Body: `{"sku":""}`}, map[string]int{}},
	}
	for _, c := range cases {
		before := len(e.logs.requests(t))
		res := e.do(c.req)
		if res.Status >= 500 {
			t.Fatalf("%s %s: %d %s", c.req.Method, c.req.Path, res.Status, res.Body)
		}
		lines := e.logs.requests(t)
		if len(lines) != before+1 {
			t.Fatalf("%s %s logged %d request lines, want 1", c.req.Method, c.req.Path, len(lines)-before)
		}
		line := lines[len(lines)-1]
		got := map[string]int{}
		ops, _ := line["ddbOps"].(map[string]any) // absent when there were none
		for op, n := range ops {
			got[op] = int(n.(float64))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: DynamoDB calls %v, want %v", c.req.Method, c.req.Path, got, c.want)
		}
		if got["Scan"] != 0 {
			t.Errorf("%s %s scanned", c.req.Method, c.req.Path)
		}
		for _, f := range []string{"requestId", "route", "status", "durationMs", "ddbCalls"} {
			if _, ok := line[f]; !ok {
				t.Errorf("log line lacks %s: %v", f, line)
			}
		}
		if line["status"] != float64(res.Status) {
			t.Errorf("logged status %v, response %d", line["status"], res.Status)
		}
	}
	_ = http.StatusOK
}

// TestDynamoDBCallsOfStockOperations pins the calls of the location and
// stock operations: a stock change is one BatchGetItem and one
// transaction; reading stock as of a time is one Query per level more.
func TestDynamoDBCallsOfStockOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := e.createLocation("CALLS")
	id := e.createItem(`{"sku":"CALLS-S","name":"Counted","quantity":5}`)["id"].(string)
	e.adjust("received", line{id, loc, 2})
	h := admin()
	cases := []struct {
		req  req
		want map[string]int
	}{
		{req{Method: "POST", Path: "/adjustments", Body: adjustment("received", line{id, "default", 1}, line{id, loc, 1})}, map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "POST", Path: "/counts", Body: `{"itemId":"` + id + `","locationId":"default","counted":9}`}, map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "POST", Path: "/transfers", Body: transfer(id, loc, "default", 1)}, map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "GET", Path: "/items/" + id + "/stock"}, map[string]int{"GetItem": 1, "Query": 1}},
		{req{Method: "GET", Path: "/items/" + id + "/stock?at=2026-01-01T00:00:00Z"}, map[string]int{"GetItem": 1, "Query": 1}},
		{req{Method: "GET", Path: "/items/" + id + "/history?locationId=" + loc}, map[string]int{"GetItem": 2, "Query": 1}},
		{req{Method: "GET", Path: "/items/" + id + "/activity"}, map[string]int{"GetItem": 1, "Query": 2}},
		{req{Method: "GET", Path: "/items?lowStock=true"}, map[string]int{"Query": 1}},
		{req{Method: "POST", Path: "/locations", Header: h, Body: `{"code":"CALLS-2","name":"x"}`}, map[string]int{"TransactWriteItems": 1}},
		{req{Method: "GET", Path: "/locations"}, map[string]int{"Query": 1}},
		{req{Method: "GET", Path: "/locations/" + loc}, map[string]int{"GetItem": 1}},
		{req{Method: "PATCH", Path: "/locations/" + loc, Header: h, Body: `{"name":"renamed"}`}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		{req{Method: "GET", Path: "/locations/" + loc + "/stock"}, map[string]int{"GetItem": 1, "Query": 1, "BatchGetItem": 1}},
		{req{Method: "GET", Path: "/locations/" + loc + "/history"}, map[string]int{"GetItem": 1, "Query": 1}},
	}
	for _, c := range cases {
		before := len(e.logs.requests(t))
		res := e.do(c.req)
		if res.Status >= 300 {
			t.Fatalf("%s %s: %d %s", c.req.Method, c.req.Path, res.Status, res.Body)
		}
		lines := e.logs.requests(t)
		if len(lines) != before+1 {
			t.Fatalf("%s %s logged %d request lines, want 1", c.req.Method, c.req.Path, len(lines)-before)
		}
		got := map[string]int{}
		ops, _ := lines[len(lines)-1]["ddbOps"].(map[string]any)
		for op, n := range ops {
			got[op] = int(n.(float64))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: DynamoDB calls %v, want %v", c.req.Method, c.req.Path, got, c.want)
		}
	}
	// As of now, one more Query per level (two here).
	res := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/stock?at=" + time.Now().UTC().Format(time.RFC3339Nano)})
	lines := e.logs.requests(t)
	if ops := lines[len(lines)-1]["ddbOps"].(map[string]any); ops["Query"] != 3.0 || ops["GetItem"] != 1.0 {
		t.Errorf("stock as of now: calls %v; %s", ops, res.Body)
	}
}
