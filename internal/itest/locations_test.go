package itest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
)

func TestDefaultLocationExistsOnAFreshDeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.must(http.StatusOK, req{Method: "GET", Path: "/locations/default", Header: as(viewerEmail)})
	loc := res.json(t)
	if loc["id"] != "default" || loc["code"] != "DEFAULT" || loc["version"] != 1.0 || res.Header.Get("ETag") != `"1"` {
		t.Errorf("default location %v (ETag %s)", loc, res.Header.Get("ETag"))
	}
	list := e.must(http.StatusOK, req{Method: "GET", Path: "/locations"}).json(t)["locations"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != "default" {
		t.Errorf("locations %v", list)
	}
	// Deploying again (a stack update) keeps it as it is.
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/locations/default", Header: admin(), Body: `{"name":"Main warehouse"}`})
	// What the custom resource does on a stack update.
	if err := seedfn.Seed(context.Background(), e.stack.Settings); err != nil {
		t.Fatal(err)
	}
	if loc := e.must(http.StatusOK, req{Method: "GET", Path: "/locations/default"}).json(t); loc["name"] != "Main warehouse" || loc["version"] != 2.0 {
		t.Errorf("after a second seeding: %v", loc)
	}
}

func TestLocationLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := codes{}
	code := func(want int, q req) {
		t.Helper()
		seen[e.must(want, q).code(t)] = true
	}

	res := e.must(http.StatusCreated, req{Method: "POST", Path: "/locations", Header: admin(),
		Body: `{"code":"RTM-1","name":"Rotterdam DC","address":"Waalhaven 12, Rotterdam"}`})
	rtm := res.json(t)
	id := rtm["id"].(string)
	if res.Header.Get("Location") != "/locations/"+id || res.Header.Get("ETag") != `"1"` || rtm["createdBy"] != adminEmail ||
		rtm["updatedBy"] != adminEmail || rtm["address"] != "Waalhaven 12, Rotterdam" || rtm["version"] != 1.0 {
		t.Errorf("created %v, headers %v", rtm, res.Header)
	}
	ams := e.createLocation("AMS")
	e.createLocation("BER-2")

	// Codes: a pattern, unique among live locations; roles.
	code(http.StatusBadRequest, req{Method: "POST", Path: "/locations", Header: admin(), Body: `{"code":"rtm","name":"x"}`})
	code(http.StatusBadRequest, req{Method: "POST", Path: "/locations", Header: admin(), Body: `{"code":"-AB","name":"x"}`})
	code(http.StatusConflict, req{Method: "POST", Path: "/locations", Header: admin(), Body: `{"code":"RTM-1","name":"again"}`})
	e.must(http.StatusForbidden, req{Method: "POST", Path: "/locations", Body: `{"code":"EDT","name":"by an editor"}`})
	e.must(http.StatusForbidden, req{Method: "GET", Path: "/deleted-locations"})

	// Code order, with pages of one.
	var codesListed []string
	cursor := ""
	for range 10 {
		path := "/locations?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := e.must(http.StatusOK, req{Method: "GET", Path: path, Header: as(viewerEmail)}).json(t)
		for _, l := range page["locations"].([]any) {
			codesListed = append(codesListed, l.(map[string]any)["code"].(string))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if got := strings.Join(codesListed, ","); got != "AMS,BER-2,DEFAULT,RTM-1" {
		t.Errorf("locations in code order: %s", got)
	}

	// Merge patch with If-Match.
	patched := e.must(http.StatusOK, req{Method: "PATCH", Path: "/locations/" + id,
		Header: map[string]string{"Authorization": admin()["Authorization"], "Content-Type": "application/merge-patch+json", "If-Match": `"1"`},
		Body:   `{"name":"Rotterdam","address":null}`}).json(t)
	if patched["name"] != "Rotterdam" || patched["address"] != nil || patched["version"] != 2.0 || patched["code"] != "RTM-1" {
		t.Errorf("patched %v", patched)
	}
	h := admin()
	h["If-Match"] = `"1"`
	code(http.StatusPreconditionFailed, req{Method: "PATCH", Path: "/locations/" + id, Header: h, Body: `{"name":"stale"}`})
	code(http.StatusConflict, req{Method: "PATCH", Path: "/locations/" + id, Header: admin(), Body: `{"code":"AMS"}`})
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/locations/" + id, Header: admin(), Body: `{"code":"RTM-2"}`})
	// The old code is free again.
	e.createLocation("RTM-1")

	// The default location: renamed, never deleted nor recoded.
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/locations/default", Header: admin(), Body: `{"name":"Main"}`})
	code(http.StatusConflict, req{Method: "PATCH", Path: "/locations/default", Header: admin(), Body: `{"code":"MAIN"}`})
	code(http.StatusConflict, req{Method: "DELETE", Path: "/locations/default", Header: admin()})

	// A location with stock is not deleted; emptied, it is.
	item := e.createItem(fmt.Sprintf(`{"sku":"LOC-1","name":"Stocked","quantity":4,"locationId":%q}`, ams))["id"].(string)
	code(http.StatusConflict, req{Method: "DELETE", Path: "/locations/" + ams, Header: admin(), Body: `{"comment":"closing"}`})
	e.must(http.StatusCreated, req{Method: "POST", Path: "/transfers", Body: transfer(item, ams, "default", 4)})
	deleted := e.must(http.StatusOK, req{Method: "DELETE", Path: "/locations/" + ams, Header: admin(), Body: `{"comment":"closing"}`}).json(t)
	if d, _ := deleted["deleted"].(map[string]any); d == nil || d["comment"] != "closing" || d["by"] != adminEmail {
		t.Errorf("deleted %v", deleted)
	}
	code(http.StatusNotFound, req{Method: "GET", Path: "/locations/" + ams})
	// Its history stays readable through the item's.
	if lines := e.history(item, ams); len(lines) != 2 || lines[0]["reason"] != "transfer_out" {
		t.Errorf("history of a deleted location %v", lines)
	}
	code(http.StatusNotFound, req{Method: "GET", Path: "/locations/01JBZ4Q7Y3M7R2K5X9V8N6T4PA"})
	code(http.StatusNotFound, req{Method: "GET", Path: "/locations/not-an-id"})
	code(http.StatusNotFound, req{Method: "POST", Path: "/locations/" + id + "/restore", Header: admin()})
	dl := e.must(http.StatusOK, req{Method: "GET", Path: "/deleted-locations", Header: as(adminEmail)}).json(t)["locations"].([]any)
	if len(dl) != 1 || dl[0].(map[string]any)["id"] != ams {
		t.Errorf("deleted locations %v", dl)
	}
	// Its code is free: taken by another, the restore conflicts; freed, it works.
	other := e.createLocation("AMS")
	code(http.StatusConflict, req{Method: "POST", Path: "/locations/" + ams + "/restore", Header: admin()})
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/locations/" + other, Header: admin(), Body: `{"code":"AMS-OLD"}`})
	restored := e.must(http.StatusOK, req{Method: "POST", Path: "/locations/" + ams + "/restore", Header: admin()}).json(t)
	if _, still := restored["deleted"]; still || restored["code"] != "AMS" {
		t.Errorf("restored %v", restored)
	}
	seen.expect(t, "validation_failed", "location_code_conflict", "precondition_failed", "location_protected",
		"location_not_empty", "location_deleted", "location_not_found", "location_not_deleted")
}

func TestLocationStockAndHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := e.createLocation("HST")
	var items []string
	for i := range 3 {
		items = append(items, e.createItem(fmt.Sprintf(`{"sku":"HST-%d","name":"Item %d","quantity":%d,"locationId":%q}`, i, i, i+1, loc))["id"].(string))
	}
	e.adjust("received", line{items[0], loc, 10}, line{items[1], "default", 5})
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + items[2]})

	// Levels at the location, with their items' SKU and name, a page at a time.
	var got []string
	cursor := ""
	for range 5 {
		path := "/locations/" + loc + "/stock?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := e.must(http.StatusOK, req{Method: "GET", Path: path, Header: as(viewerEmail)}).json(t)
		for _, l := range page["levels"].([]any) {
			m := l.(map[string]any)
			got = append(got, fmt.Sprintf("%s:%v:%v", m["sku"], m["onHand"], m["itemDeleted"]))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if s := strings.Join(got, ","); s != "HST-0:11:false,HST-1:2:false,HST-2:3:true" {
		t.Errorf("location stock %s", s)
	}

	// Every item's lines at the location, newest first, across pages.
	var lines []map[string]any
	cursor = ""
	for range 10 {
		path := "/locations/" + loc + "/history?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := e.must(http.StatusOK, req{Method: "GET", Path: path}).json(t)
		for _, l := range page["entries"].([]any) {
			lines = append(lines, l.(map[string]any))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(lines) != 4 {
		t.Fatalf("location history has %d lines, want 4: %v", len(lines), lines)
	}
	for i, l := range lines {
		if l["locationId"] != loc || (i > 0 && l["id"].(string) > lines[i-1]["id"].(string)) {
			t.Errorf("line %d: %v", i, l)
		}
	}
	if lines[0]["reason"] != "received" || lines[0]["delta"] != 10.0 || lines[0]["onHandAfter"] != 11.0 {
		t.Errorf("newest line %v", lines[0])
	}
	if code := e.must(http.StatusBadRequest, req{Method: "GET", Path: "/locations/" + loc + "/history?cursor=nope"}).code(t); code != "invalid_cursor" {
		t.Errorf("bad cursor: %s", code)
	}
}
