package main

import (
	"net/url"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/devtest"
)

// pages reads every page of a list.
func (c client) pages(path, field string) []any {
	c.t.Helper()
	var out []any
	q := url.Values{"limit": {"100"}}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for {
		page := c.ok("GET", path+sep+q.Encode(), nil)
		out = append(out, page[field].([]any)...)
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return out
		}
		q.Set("cursor", next)
	}
}

// seeded is what a person sees of the sample data, by the numbers and as
// listed.
type seeded struct {
	locations, items, deleted, groups, photos, lowStock, ledgerLines int
	lists                                                            map[string]any
}

func readSeeded(t *testing.T, c client) seeded {
	t.Helper()
	var s seeded
	s.lists = map[string]any{}
	locs := c.pages("/locations", "locations")
	s.locations = len(locs)
	for _, l := range locs {
		id := l.(map[string]any)["id"].(string)
		s.ledgerLines += len(c.pages("/locations/"+id+"/history", "entries"))
	}
	items := c.pages("/items", "items")
	s.items = len(items)
	for _, it := range items {
		if img, ok := it.(map[string]any)["image"].(map[string]any); ok && img["status"] == "ready" {
			s.photos++
		}
	}
	deleted := c.pages("/deleted-items", "items")
	s.deleted = len(deleted)
	for _, it := range deleted {
		if it.(map[string]any)["deleted"].(map[string]any)["comment"] == "" {
			t.Errorf("a deleted item without a comment: %v", it)
		}
	}
	groups := c.pages("/groups", "groups")
	s.groups = len(groups)
	for _, g := range groups {
		if g.(map[string]any)["memberCount"].(float64) < 5 {
			t.Errorf("a group with few members: %v", g)
		}
	}
	s.lowStock = len(c.pages("/items?lowStock=true", "items"))
	s.lists["/items"], s.lists["/deleted-items"], s.lists["/groups"], s.lists["/locations"] = stable(items), stable(deleted), stable(groups), stable(locs)
	s.lists["/tags"] = stable(c.pages("/tags", "tags"))
	return s
}

// TestSeed runs make seed's command against depot-local: the sample data is
// there through the API (3 warehouses and default, 200 items, 5 deleted with
// a comment, 4 groups, 10 photos with thumbnails, a ledger with history);
// a second run adds nothing; and all of it survives kill -9.
func TestSeed(t *testing.T) {
	dir := t.TempDir()
	bin := buildTool(t, dir, ".", "depot-local")
	seedBin := buildTool(t, dir, "../depot-seed", "depot-seed")
	state := filepath.Join(dir, "state")
	run := startLocal(t, bin, state)
	// The first run is told the API; the second finds it as make seed
	// does, in make run's run.json.
	seed := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(seedBin, "-v", "-timeout", "10m") // the race detector on a busy machine: minutes, not seconds
		cmd.Env = append(append(devtest.EnvWithout("AWS_", "API="), "DEPOT_STATE_DIR="+state), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("depot-seed: %v\n%s\ndepot-local's log:\n%s", err, out, run.logs.String())
		}
		t.Logf("depot-seed:\n%s", out)
		return string(out)
	}
	seed("API=" + run.api)
	viewer := client{t, run.api, tokenFor(t, state, "viewer")}
	got := readSeeded(t, viewer)
	want := seeded{locations: 4, items: 200, deleted: 5, groups: 4, photos: 10}
	if got.locations != want.locations || got.items != want.items || got.deleted != want.deleted || got.groups != want.groups || got.photos != want.photos {
		t.Errorf("seeded %d locations, %d items, %d deleted, %d groups, %d photos; want %d, %d, %d, %d, %d",
			got.locations, got.items, got.deleted, got.groups, got.photos, want.locations, want.items, want.deleted, want.groups, want.photos)
	}
	// Every item's creation, then the purchase orders, transfers, counts,
	// damage and returns.
	if got.ledgerLines < 300 || got.lowStock == 0 {
		t.Errorf("%d ledger lines (want 300 or more), %d items low on stock (want some)", got.ledgerLines, got.lowStock)
	}

	out := seed()
	for _, want := range []string{"3 locations (0 new)", "200 items (0 new)", "5 deleted (0 now)", "4 groups (0 new)", "0 stock movements", "10 photos (0 new)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the second run does not say %q", want)
		}
	}
	if again := readSeeded(t, viewer); !reflect.DeepEqual(again, got) {
		t.Errorf("a second run changed the data: %d ledger lines, was %d", again.ledgerLines, got.ledgerLines)
	}

	run.kill9(t)
	run = startLocal(t, bin, state)
	n, took := run.replayed(t)
	t.Logf("a seeded store: %d changes, %s", n, took)
	viewer.api = run.api
	if after := readSeeded(t, viewer); !reflect.DeepEqual(after, got) {
		t.Errorf("the seeded data differs after kill -9 and a restart")
		for k, v := range got.lists {
			if !reflect.DeepEqual(after.lists[k], v) {
				t.Errorf("%s differs", k)
			}
		}
	}
}
