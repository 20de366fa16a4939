package itest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/depot-inventory/depot/internal/inventory"
)

func (e *env) createGroup(name string) map[string]any {
	e.t.Helper()
	return e.must(http.StatusCreated, req{Method: "POST", Path: "/groups", Body: fmt.Sprintf(`{"name":%q}`, name)}).json(e.t)
}

func idsOf(t *testing.T, page map[string]any, field string) []string {
	t.Helper()
	var out []string
	for _, v := range page[field].([]any) {
		out = append(out, v.(map[string]any)["id"].(string))
	}
	return out
}

// TestGroupLifecycle: create, read, rename, members one by one and in a
// batch, the item's groups, soft delete and restore of a member item and of
// the group, with each answer in openapi.yaml.
func TestGroupLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createItem(`{"sku":"GRP-A","name":"Hex bolt M8×40","tags":["fasteners"]}`)["id"].(string)
	b := e.createItem(`{"sku":"GRP-B","name":"Écrou M8"}`)["id"].(string)
	first := e.must(http.StatusCreated, req{Method: "POST", Path: "/groups", Body: `{"name":"Spring sale"}`,
		Header: map[string]string{"Idempotency-Key": "spring"}})
	again := e.must(http.StatusCreated, req{Method: "POST", Path: "/groups", Body: `{"name":"Spring sale"}`,
		Header: map[string]string{"Idempotency-Key": "spring"}})
	if again.Header.Get("Idempotent-Replayed") != "true" || !jsonEqual(again.json(t), first.json(t)) {
		t.Errorf("replayed create = %s (%v)", again.Body, again.Header)
	}
	g := first.json(t)
	gid := g["id"].(string)
	if g["memberCount"] != 0.0 || g["version"] != 1.0 {
		t.Fatalf("new group = %v", g)
	}
	if code := e.must(http.StatusConflict, req{Method: "POST", Path: "/groups", Body: `{"name":"SPRING-SALÉ"}`}).code(t); code != inventory.CodeGroupNameConflict {
		t.Errorf("a name differing in case and accents: %s", code)
	}
	renamed := e.must(http.StatusOK, req{Method: "PATCH", Path: "/groups/" + gid, Body: `{"description":"April"}`,
		Header: map[string]string{"If-Match": `"1"`}})
	if renamed.Header.Get("ETag") != `"2"` {
		t.Errorf("patched ETag %s", renamed.Header.Get("ETag"))
	}

	if got := e.must(http.StatusCreated, req{Method: "PUT", Path: "/groups/" + gid + "/items/" + a}).json(t); got["memberCount"] != 1.0 {
		t.Errorf("after adding A: %v", got)
	}
	e.must(http.StatusOK, req{Method: "PUT", Path: "/groups/" + gid + "/items/" + a})
	e.must(http.StatusNoContent, req{Method: "DELETE", Path: "/groups/" + gid + "/items/" + b})
	res := e.must(http.StatusOK, req{Method: "POST", Path: "/groups/" + gid + "/items",
		Body: fmt.Sprintf(`{"add":[%q,%q,"01JDQ3ZK7X9V4M2N8P6R5T3W1Y"]}`, a, b)}).json(t)
	want := map[string]any{"added": []any{b}, "removed": []any{}, "unchanged": []any{a},
		"notFound": []any{"01JDQ3ZK7X9V4M2N8P6R5T3W1Y"}, "memberCount": 2.0}
	if !jsonEqual(res, want) {
		t.Errorf("batch = %v, want %v", res, want)
	}
	item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + a}).json(t)
	if gs, _ := item["groups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["name"] != "Spring sale" {
		t.Errorf("item's groups = %v", item["groups"])
	}
	members := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid + "/items"}).json(t)
	if got := idsOf(t, members, "items"); !slices.Equal(got, []string{a, b}) {
		t.Errorf("members = %v", got)
	}

	// A deleted member is hidden and not counted; restored, it is back.
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + b, Body: `{"comment":"gone"}`})
	if g := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid}).json(t); g["memberCount"] != 1.0 {
		t.Errorf("memberCount with a deleted member: %v", g["memberCount"])
	}
	if got := idsOf(t, e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid + "/items"}).json(t), "items"); !slices.Equal(got, []string{a}) {
		t.Errorf("members with one deleted = %v", got)
	}
	e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + b + "/restore"})
	// Removing a member: 204, and again 204 once it is not one.
	e.must(http.StatusNoContent, req{Method: "DELETE", Path: "/groups/" + gid + "/items/" + b})
	e.must(http.StatusNoContent, req{Method: "DELETE", Path: "/groups/" + gid + "/items/" + b})
	if g := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid}).json(t); g["memberCount"] != 1.0 {
		t.Errorf("memberCount after a removal: %v", g["memberCount"])
	}
	e.must(http.StatusCreated, req{Method: "PUT", Path: "/groups/" + gid + "/items/" + b})

	// The group's soft delete keeps its memberships; its restore brings them back.
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/groups/" + gid, Body: `{"comment":"season over"}`})
	for _, path := range []string{"/groups/" + gid, "/groups/" + gid + "/items", "/items?groupId=" + gid} {
		e.expectCode(http.StatusNotFound, path, inventory.CodeGroupDeleted)
	}
	if code := e.must(http.StatusNotFound, req{Method: "PUT", Path: "/groups/" + gid + "/items/" + a}).code(t); code != inventory.CodeGroupDeleted {
		t.Errorf("adding to a deleted group: %s", code)
	}
	if gs, _ := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + a}).json(t)["groups"].([]any); len(gs) != 0 {
		t.Errorf("a deleted group is still listed on the item: %v", gs)
	}
	deleted := e.must(http.StatusOK, req{Method: "GET", Path: "/deleted-groups"}).json(t)
	if got := idsOf(t, deleted, "groups"); !slices.Equal(got, []string{gid}) {
		t.Errorf("deleted groups = %v", got)
	}
	e.createGroup("spring sale") // the name is free while the group is deleted
	if code := e.must(http.StatusConflict, req{Method: "POST", Path: "/groups/" + gid + "/restore"}).code(t); code != inventory.CodeGroupNameConflict {
		t.Errorf("restore over a taken name: %s", code)
	}
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/groups/" + e.groupID("spring sale"), Body: `{"name":"Summer sale"}`})
	restored := e.must(http.StatusOK, req{Method: "POST", Path: "/groups/" + gid + "/restore"}).json(t)
	if restored["memberCount"] != 2.0 {
		t.Errorf("restored group = %v", restored)
	}
	if got := idsOf(t, e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid + "/items"}).json(t), "items"); !slices.Equal(got, []string{a, b}) {
		t.Errorf("members after the group's restore = %v", got)
	}
	groups := e.must(http.StatusOK, req{Method: "GET", Path: "/groups?limit=1"}).json(t)
	if got := idsOf(t, groups, "groups"); !slices.Equal(got, []string{gid}) || groups["nextCursor"] == nil {
		t.Errorf("first page of groups (name order) = %v", groups)
	}
	tags := e.must(http.StatusOK, req{Method: "GET", Path: "/tags"}).json(t)
	if !jsonEqual(tags["tags"], []any{map[string]any{"tag": "fasteners", "count": 1.0}}) {
		t.Errorf("tags = %v", tags)
	}
}

// groupID finds a live group by exact name in the first page of groups.
func (e *env) groupID(name string) string {
	e.t.Helper()
	for _, g := range e.must(http.StatusOK, req{Method: "GET", Path: "/groups?limit=100"}).json(e.t)["groups"].([]any) {
		if m := g.(map[string]any); m["name"] == name {
			return m["id"].(string)
		}
	}
	e.t.Fatalf("no group %q", name)
	return ""
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestCountsStayExactUnderConcurrency: concurrent membership batches and
// tag edits on overlapping items leave memberCount and every tag count equal
// to what the items say.
func TestCountsStayExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const items = 24
	var ids []string
	for i := range items {
		ids = append(ids, e.createItem(fmt.Sprintf(`{"sku":"CC-%02d","name":"Item %d","tags":["t%d"]}`, i, i, i%3))["id"].(string))
	}
	gid := e.createGroup("Busy")["id"].(string)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 4 {
				// Overlapping batches: add a window, remove another.
				start := (w*4 + round) % (items - 6)
				add := ids[start : start+6]
				var rem []string
				for _, id := range ids[((w+3)*5+round)%items:] {
					if !slices.Contains(add, id) && len(rem) < 4 {
						rem = append(rem, id)
					}
				}
				body, _ := json.Marshal(map[string][]string{"add": add, "remove": rem})
				res := e.do(req{Method: "POST", Path: "/groups/" + gid + "/items", Body: string(body)})
				if res.Status != http.StatusOK && res.Status != http.StatusConflict {
					t.Errorf("batch: %d %s", res.Status, res.Body)
				}
				// A tag edit on one of the same items.
				id := ids[(w*7+round*5)%items]
				res = e.do(req{Method: "PATCH", Path: "/items/" + id,
					Body: fmt.Sprintf(`{"tags":["t%d","x%d"]}`, (w+round)%3, w%2)})
				if res.Status != http.StatusOK && res.Status != http.StatusConflict {
					t.Errorf("tag edit: %d %s", res.Status, res.Body)
				}
			}
		}()
	}
	wg.Wait()

	members, tagCounts := 0, map[string]int{}
	for _, id := range ids {
		it := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)
		if gs := it["groups"].([]any); len(gs) == 1 {
			members++
		}
		for _, tg := range it["tags"].([]any) {
			tagCounts[tg.(string)]++
		}
	}
	g := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid}).json(t)
	if g["memberCount"] != float64(members) {
		t.Errorf("memberCount %v, the items say %d", g["memberCount"], members)
	}
	listed := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid + "/items?limit=100"}).json(t)
	if n := len(listed["items"].([]any)); n != members {
		t.Errorf("the group lists %d items, the items say %d", n, members)
	}
	got := map[string]int{}
	for _, tg := range e.must(http.StatusOK, req{Method: "GET", Path: "/tags?limit=100"}).json(t)["tags"].([]any) {
		m := tg.(map[string]any)
		got[m["tag"].(string)] = int(m["count"].(float64))
	}
	if !jsonEqual(got, tagCounts) {
		t.Errorf("tag counts %v, the items say %v", got, tagCounts)
	}
	if members == 0 || len(tagCounts) < 3 {
		t.Errorf("the workload did too little: %d members, tags %v", members, tagCounts)
	}
}

// TestSearchAndGroupErrors: each error code of groups, membership and the
// filters of GET /items is reached, as a problem with its code.
func TestSearchAndGroupErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	item := e.createItem(`{"sku":"ERR-1","name":"Hex bolt"}`)["id"].(string)
	gone := e.createItem(`{"sku":"ERR-2","name":"Gone"}`)["id"].(string)
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + gone})
	gid := e.createGroup("Errors")["id"].(string)
	var ten []string
	for i := range inventory.MaxItemGroups {
		id := e.createGroup(fmt.Sprintf("Full %d", i))["id"].(string)
		e.must(http.StatusCreated, req{Method: "PUT", Path: "/groups/" + id + "/items/" + item})
		ten = append(ten, id)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/groups/01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "", 404, inventory.CodeGroupNotFound},
		{"GET", "/groups/nope", "", 404, inventory.CodeGroupNotFound},
		{"POST", "/groups/" + gid + "/restore", "", 404, inventory.CodeGroupNotDeleted},
		{"POST", "/groups", `{"name":"***"}`, 400, inventory.CodeValidationFailed},
		{"POST", "/groups", `{"name":"errors"}`, 409, inventory.CodeGroupNameConflict},
		{"PATCH", "/groups/" + gid, `{"name":"x"}`, 412, inventory.CodePreconditionFailed},
		{"PUT", "/groups/" + gid + "/items/" + gone, "", 404, inventory.CodeItemDeleted},
		{"PUT", "/groups/" + gid + "/items/01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "", 404, inventory.CodeItemNotFound},
		{"PUT", "/groups/" + gid + "/items/" + item, "", 409, inventory.CodeItemGroupLimit},
		{"POST", "/groups/" + gid + "/items", fmt.Sprintf(`{"add":[%q]}`, item), 409, inventory.CodeItemGroupLimit},
		{"POST", "/groups/" + gid + "/items", `{"add":[]}`, 400, inventory.CodeValidationFailed},
		{"POST", "/groups/" + gid + "/items", fmt.Sprintf(`{"add":[%q],"remove":[%q]}`, item, item), 400, inventory.CodeValidationFailed},
		{"GET", "/items?sort=price", "", 400, inventory.CodeInvalidParameter},
		{"GET", "/items?q=***", "", 400, inventory.CodeInvalidParameter},
		{"GET", "/items?minQuantity=5&maxQuantity=2", "", 400, inventory.CodeInvalidParameter},
		{"GET", "/items?minQuantity=-1", "", 400, inventory.CodeInvalidParameter},
		{"GET", "/items?minQuantity=many", "", 400, inventory.CodeInvalidParameter},
		{"GET", "/items?locationId=default&sort=name", "", 400, inventory.CodeInvalidParameter},
		{"GET", "/items?groupId=nope", "", 400, inventory.CodeInvalidParameter},
		{"GET", "/items?groupId=01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "", 404, inventory.CodeGroupNotFound},
		{"GET", "/items?locationId=01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "", 404, inventory.CodeLocationNotFound},
		{"GET", "/items?cursor=no-tilde", "", 400, inventory.CodeInvalidCursor},
		{"GET", "/tags?cursor=ff", "", 400, inventory.CodeInvalidCursor},
		{"GET", "/groups?cursor=a~b", "", 400, inventory.CodeInvalidCursor},
	} {
		h := map[string]string{}
		if c.status == 412 {
			h["If-Match"] = `"99"`
		}
		res := e.do(req{Method: c.method, Path: c.path, Body: c.body, Header: h})
		if res.Status != c.status || res.code(t) != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, res.Status, res.Body, c.status, c.code)
		}
	}
	// Any cursor the grammar admits is a position: an empty sort value is
	// the start, one longer than an index key can hold is shortened.
	long := strings.Repeat("ü", 800) + "~01JDQ3ZK7X9V4M2N8P6R5T3W1Y"
	for _, path := range []string{"/items?cursor=" + long, "/items?sort=name&cursor=" + long, "/items?tag=a0&cursor=" + long,
		"/items?locationId=default&cursor=" + long, "/groups?cursor=" + long, "/groups?cursor=~01JDQ3ZK7X9V4M2N8P6R5T3W1Y",
		"/items?cursor=~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", "/items?q=word&cursor=~01JDQ3ZK7X9V4M2N8P6R5T3W1Y"} {
		e.must(http.StatusOK, req{Method: "GET", Path: path})
	}
	// A SKU change that would write more than one transaction holds.
	big := e.createItem(`{"sku":"BIG-1","name":"word","tags":[` + quoted("a", 20) + `]}`)["id"].(string)
	for _, g := range ten[:9] {
		e.must(http.StatusCreated, req{Method: "PUT", Path: "/groups/" + g + "/items/" + big})
	}
	res := e.do(req{Method: "PATCH", Path: "/items/" + big, Body: `{"sku":"BIG-2","name":"` + longName() + `","tags":[` + quoted("b", 20) + `]}`})
	if res.Status != http.StatusConflict || res.code(t) != inventory.CodeChangeTooLarge {
		t.Errorf("a too large change: %d %s", res.Status, res.Body)
	}
	if got := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + big}).json(t); got["sku"] != "BIG-1" || got["version"] != 10.0 {
		t.Errorf("after a refused change: %v", got)
	}
	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + big, Body: `{"sku":"BIG-2"}`})
}

func quoted(prefix string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%q", fmt.Sprintf("%s%d", prefix, i))
	}
	return strings.Join(parts, ",")
}

// longName has more search keys than an item indexes one by one.
func longName() string { return "alpha bravo charlie delta echo foxtrot golf hotel" }
