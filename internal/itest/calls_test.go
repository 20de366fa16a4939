package itest

import (
	"net/http"
	"reflect"
	"testing"
)

// TestDynamoDBCallsPerOperation pins the DynamoDB calls each operation makes,
// read from the request's log line (counted by an SDK middleware).
func TestDynamoDBCallsPerOperation(t *testing.T) {
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
		{req{Method: "PATCH", Path: "/items/" + id, Body: `{"quantity":2}`}, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
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
