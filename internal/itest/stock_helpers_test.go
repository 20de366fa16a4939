package itest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Helpers of the locations and stock tests.

// admin is the header of an admin request with a JSON body.
func admin() map[string]string {
	h := as(adminEmail)
	h["Content-Type"] = "application/json"
	return h
}

// createLocation creates a location as admin and returns its id.
func (e *env) createLocation(code string) string {
	e.t.Helper()
	return e.must(http.StatusCreated, req{Method: "POST", Path: "/locations", Header: admin(),
		Body: fmt.Sprintf(`{"code":%q,"name":"Warehouse %s"}`, code, code)}).json(e.t)["id"].(string)
}

// line is one adjustment line.
type line struct {
	Item, Location string
	Delta          int64
}

func adjustment(reason string, lines ...line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprintf(`{"itemId":%q,"locationId":%q,"delta":%d}`, l.Item, l.Location, l.Delta)
	}
	return fmt.Sprintf(`{"reason":%q,"lines":[%s]}`, reason, strings.Join(parts, ","))
}

func transfer(item, from, to string, q int64) string {
	return fmt.Sprintf(`{"itemId":%q,"fromLocationId":%q,"toLocationId":%q,"quantity":%d}`, item, from, to, q)
}

// adjust sends an adjustment that must succeed.
func (e *env) adjust(reason string, lines ...line) map[string]any {
	e.t.Helper()
	return e.must(http.StatusCreated, req{Method: "POST", Path: "/adjustments", Body: adjustment(reason, lines...)}).json(e.t)
}

// levels returns an item's levels by location id, and its totals.
func (e *env) levels(itemID string) (map[string]map[string]any, map[string]any) {
	e.t.Helper()
	st := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + itemID + "/stock"}).json(e.t)
	out := map[string]map[string]any{}
	for _, l := range st["levels"].([]any) {
		m := l.(map[string]any)
		out[m["locationId"].(string)] = m
	}
	return out, st["totals"].(map[string]any)
}

// onHand is an item's on hand at a location (0 without a level).
func (e *env) onHand(itemID, location string) int64 {
	e.t.Helper()
	levels, _ := e.levels(itemID)
	if l, ok := levels[location]; ok {
		return int64(l["onHand"].(float64))
	}
	return 0
}

// history returns every ledger line of an item (at a location, if given),
// newest first, following cursors.
func (e *env) history(itemID, location string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		path := "/items/" + itemID + "/history?limit=100"
		if location != "" {
			path += "&locationId=" + location
		}
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := e.must(http.StatusOK, req{Method: "GET", Path: path}).json(e.t)
		for _, l := range page["entries"].([]any) {
			out = append(out, l.(map[string]any))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// reconcile checks the stock invariants of the items: for every level, the
// sum of its ledger deltas is its on hand, which is its newest line's
// onHandAfter; for every item, its quantity is the sum of its levels' on
// hand; and nothing is negative or over-committed.
func (e *env) reconcile(itemIDs ...string) {
	e.t.Helper()
	for _, id := range itemIDs {
		item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(e.t)
		levels, totals := e.levels(id)
		var sum int64
		for loc, l := range levels {
			onHand, committed := int64(l["onHand"].(float64)), int64(l["committed"].(float64))
			if onHand < committed || committed < 0 || l["incoming"].(float64) < 0 || int64(l["available"].(float64)) != onHand-committed {
				e.t.Errorf("item %s at %s breaks an invariant: %v", id, loc, l)
			}
			lines := e.history(id, loc)
			var deltas int64
			for _, ln := range lines {
				deltas += int64(ln["delta"].(float64))
				if ln["locationId"] != loc {
					e.t.Errorf("history of %s at %s lists a line at %v", id, loc, ln["locationId"])
				}
			}
			if deltas != onHand {
				e.t.Errorf("item %s at %s: Σ ledger deltas %d != onHand %d", id, loc, deltas, onHand)
			}
			if len(lines) > 0 && int64(lines[0]["onHandAfter"].(float64)) != onHand {
				e.t.Errorf("item %s at %s: newest line's onHandAfter %v != onHand %d", id, loc, lines[0]["onHandAfter"], onHand)
			}
			sum += onHand
		}
		if int64(item["quantity"].(float64)) != sum || int64(totals["onHand"].(float64)) != sum {
			e.t.Errorf("item %s: quantity %v, totals %v, Σ onHand %d", id, item["quantity"], totals["onHand"], sum)
		}
		if len(e.history(id, "")) == 0 {
			e.t.Errorf("item %s has no ledger", id)
		}
	}
}

// send is do for concurrent goroutines: it never stops the test, and
// reports problems with Errorf.
func (e *env) send(t *testing.T, method, path, body string, header map[string]string) (int, map[string]any) {
	r, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tokens[editorEmail])
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	if err := validator.ValidateResponse(r, resp.StatusCode, resp.Header, data); err != nil {
		t.Errorf("%s %s -> %d does not match openapi.yaml: %v\nbody: %s", method, path, resp.StatusCode, err, data)
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

// codes collects the error codes a test reached.
type codes map[string]bool

func (c codes) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !c[w] {
			t.Errorf("no request reached %s", w)
		}
	}
}
