package usecase_test

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/searchoracle"
	"github.com/depot-inventory/depot/internal/inventory"
)

// TestSearchOracleAtScale holds ListItems to the brute-force oracle on a
// generated catalogue (accents, tags, 6 groups, stock at 4 locations, 5%
// deleted) of 1,000 items, or DEPOT_ORACLE_ITEMS (5,000 for the issue's
// check: 100 s, the in-memory store sorting every list in full): every filter, every pair of filters and each
// sort, paged to the end, gives the oracle's items in its order, each once.
// The integration suite runs the same oracle through the API on both
// engines, on smaller catalogues (internal/itest, TestSearchOracle).
func TestSearchOracleAtScale(t *testing.T) {
	f := newFixture(t)
	var locs []string
	for _, code := range []string{"RTM-1", "HAM-2", "LYS-3"} {
		locs = append(locs, f.location(code).ID)
	}
	var groups []string
	for _, name := range []string{"Spring sale", "Écoles", "Werkstatt", "Top sellers", "Clearance", "Größe XL"} {
		groups = append(groups, f.mkGroup(name).ID)
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("DEPOT_ORACLE_ITEMS")); err == nil && v > 0 {
		n = v
	}
	plans := searchoracle.Generate(9, n, len(locs), len(groups))
	ids := make([]string, len(plans))
	for i, p := range plans {
		f.tick(time.Second)
		in, from := p.In, inventory.DefaultLocation
		if p.Location >= 0 {
			in.LocationID, from = locs[p.Location], locs[p.Location]
		}
		d, _, err := f.svc.CreateItem(f.ctx, alice, in)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = d.ID
		if p.MoveTo >= 0 {
			if _, _, err := f.svc.CreateTransfer(f.ctx, alice, inventory.TransferInput{ItemID: d.ID, FromLocationID: from,
				ToLocationID: locs[p.MoveTo], Quantity: p.Moved}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for gi, g := range groups {
		var members []string
		for i, p := range plans {
			if slices.Contains(p.Groups, gi) {
				members = append(members, ids[i])
			}
		}
		for chunk := range slices.Chunk(members, inventory.MaxMembershipIDs) {
			f.tick(time.Second)
			if _, _, err := f.svc.ChangeMembers(f.ctx, alice, g, inventory.MembershipInput{Add: chunk}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, p := range plans {
		if p.Deleted {
			if _, _, err := f.svc.DeleteItem(f.ctx, alice, ids[i], "discontinued"); err != nil {
				t.Fatal(err)
			}
		}
	}
	data := make([]searchoracle.Stored, len(ids))
	for i, id := range ids {
		data[i] = searchoracle.Stored{Item: f.item(id)}
		for _, loc := range append([]string{inventory.DefaultLocation}, locs...) {
			if f.onHand(id, loc) >= 0 {
				data[i].Locations = append(data[i].Locations, loc)
			}
		}
	}

	lists, pages, exhausted := 0, 0, 0
	for _, fs := range searchoracle.Cases(searchoracle.StandardFilters(locs, groups)) {
		for _, sort := range inventory.Sorts {
			oq := searchoracle.QueryOf(fs, sort)
			if oq.LocationID != "" && sort != inventory.SortSKU {
				continue // 400, checked elsewhere
			}
			q := inventory.ItemQuery{Q: oq.Q, Tag: oq.Tag, GroupID: oq.GroupID, LocationID: oq.LocationID,
				LowStock: oq.LowStock, MinQuantity: oq.MinQuantity, MaxQuantity: oq.MaxQuantity, Sort: sort}
			want := searchoracle.Answer(data, oq)
			if len(fs) == 1 && len(want) == 0 {
				t.Errorf("filter %v matches nothing: a weak check", fs)
			}
			var got []string
			pr := inventory.PageRequest{Limit: 50}
			for n := 1; ; n++ {
				p, err := f.svc.ListItems(f.ctx, pr, q)
				if err != nil {
					t.Fatalf("%v %s: %v", fs, sort, err)
				}
				pages++
				for _, d := range p.Items {
					got = append(got, d.ID)
				}
				if p.BudgetExhausted {
					exhausted++
				} else if p.NextCursor != "" && len(p.Items) < pr.Limit {
					t.Errorf("%v %s: a short page (%d) with a cursor and budget left", fs, sort, len(p.Items))
				}
				if p.NextCursor == "" || n > 500 {
					break
				}
				pr.Cursor = p.NextCursor
			}
			lists++
			if !slices.Equal(got, want) {
				t.Errorf("%v sort=%s: %d items, want %d", fs, sort, len(got), len(want))
			}
		}
	}
	t.Logf("%d items: %d lists, %d pages, %d of them stopped by the budget", n, lists, pages, exhausted)
}
