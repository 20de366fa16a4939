package itest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/depot-inventory/depot/internal/dev/searchoracle"
	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// The oracle: a catalogue generated with realistic names (accents, sizes,
// several scripts of punctuation), tags, groups, stock at several
// locations and some deleted items; every filter of GET /items, every pair
// of filters and each sort is checked against a brute-force answer
// computed here from the items as stored: the same items, in the same
// order, each exactly once across pages, and every page full unless it is
// the last or says its budget ran out.

// oracleItems is the size of the generated catalogue: DEPOT_ORACLE_ITEMS,
// else 300 on the embedded engines and 40 on an external one (one page of
// 100 holds 40 items, as it held the 80 of before: on moto the oracle
// checks what each filter and sort selects, on minidyn's 300 the paging
// too). Both local engines slow down with the size of the table: minidyn keeps each index
// as a sorted slice that it re-sorts on every write, and moto deep-copies
// every table it holds on every transaction (to roll back). A catalogue of
// 5,000 items is about 200,000 records; measured here, moto took 444 s for
// the first 200 items and then died, minidyn 18 s for 300 (so hours for
// 5,000). The use cases' oracle at 5,000 items runs on the in-memory store
// (internal/usecase, TestSearchOracleAtScale).
func oracleItems() int {
	if n, err := strconv.Atoi(os.Getenv("DEPOT_ORACLE_ITEMS")); err == nil && n > 0 {
		return n
	}
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return 40
	}
	return 300
}

// catalogue is a generated catalogue (searchoracle.Generate) seeded on a
// table through the use cases.
type catalogue struct {
	store             *dynamo.Store
	locs, groups, ids []string
	plans             []searchoracle.Plan
}

// seedCatalogue creates 3 locations, 6 groups and n generated items on the
// table, 8 writers at a time; plain leaves out the transfers and deletes.
// The memberships go one writer per group (batches of one group contend on
// its counter).
func seedCatalogue(tb testing.TB, table string, n int, plain bool) catalogue {
	tb.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	c := catalogue{store: dynamo.New(lambdafn.NewDynamoClient(cfg), table)}
	svc := &usecase.Service{Store: c.store}
	actor := usecase.Request{Actor: editorEmail}
	for _, code := range []string{"RTM-1", "HAM-2", "LYS-3"} {
		l, _, err := svc.CreateLocation(ctx, actor, inventory.LocationInput{Code: code, Name: code})
		if err != nil {
			tb.Fatal(err)
		}
		c.locs = append(c.locs, l.ID)
	}
	for _, name := range []string{"Spring sale", "Écoles", "Werkstatt", "Top sellers", "Clearance", "Größe XL"} {
		g, _, err := svc.CreateGroup(ctx, actor, inventory.GroupInput{Name: name})
		if err != nil {
			tb.Fatal(err)
		}
		c.groups = append(c.groups, g.ID)
	}
	c.plans = searchoracle.Generate(9, n, len(c.locs), len(c.groups))
	c.ids = make([]string, n)
	start := time.Now()
	parallel(tb, n, func(i int) error {
		p := c.plans[i]
		in, from := p.In, inventory.DefaultLocation
		if p.Location >= 0 {
			in.LocationID, from = c.locs[p.Location], c.locs[p.Location]
		}
		d, _, err := svc.CreateItem(ctx, actor, in)
		if err != nil {
			return fmt.Errorf("create %s: %w", in.SKU, err)
		}
		c.ids[i] = d.ID
		if p.MoveTo >= 0 && !plain {
			if _, _, err := svc.CreateTransfer(ctx, actor, inventory.TransferInput{ItemID: d.ID, FromLocationID: from,
				ToLocationID: c.locs[p.MoveTo], Quantity: p.Moved}); err != nil {
				return fmt.Errorf("transfer %s: %w", in.SKU, err)
			}
		}
		return nil
	})
	tb.Logf("%d items created in %v", n, time.Since(start).Round(time.Millisecond))
	parallel(tb, len(c.groups), func(g int) error {
		var members []string
		for i, p := range c.plans {
			if slices.Contains(p.Groups, g) {
				members = append(members, c.ids[i])
			}
		}
		for chunk := range slices.Chunk(members, inventory.MaxMembershipIDs) {
			res, _, err := svc.ChangeMembers(ctx, actor, c.groups[g], inventory.MembershipInput{Add: chunk})
			if err != nil || len(res.Added) != len(chunk) {
				return fmt.Errorf("add members: %+v, %v", res, err)
			}
		}
		return nil
	})
	if !plain {
		parallel(tb, n, func(i int) error {
			if !c.plans[i].Deleted {
				return nil
			}
			_, _, err := svc.DeleteItem(ctx, actor, c.ids[i], "discontinued")
			return err
		})
	}
	tb.Logf("catalogue seeded in %v", time.Since(start).Round(time.Millisecond))
	return c
}

func TestSearchOracle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	n := oracleItems()
	start := time.Now()
	c := seedCatalogue(t, e.stack.Settings.TableName, n, false)
	seeded := time.Since(start)
	store, ids, locs, groups := c.store, c.ids, c.locs, c.groups

	// The oracle's data: each item as stored (a strongly consistent read),
	// and where it has levels.
	data := make([]searchoracle.Stored, n)
	parallel(t, n, func(i int) error {
		it, err := store.GetItem(ctx, ids[i])
		if err != nil {
			return err
		}
		levels, err := store.ListLevels(ctx, ids[i])
		if err != nil {
			return err
		}
		data[i] = searchoracle.Stored{Item: it}
		for _, l := range levels {
			data[i].Locations = append(data[i].Locations, l.LocationID)
		}
		return nil
	})

	cases := searchoracle.Cases(searchoracle.StandardFilters(locs, groups))
	lists, pages := 0, 0
	for _, fs := range cases {
		for _, sort := range inventory.Sorts {
			v := url.Values{"sort": {sort}, "limit": {"100"}}
			for _, f := range fs {
				v.Set(f.Name, f.Value)
			}
			if v.Has("locationId") && sort != inventory.SortSKU {
				e.expectCode(http.StatusBadRequest, "/items?"+v.Encode(), inventory.CodeInvalidParameter)
				continue
			}
			want := searchoracle.Answer(data, searchoracle.QueryOf(fs, sort))
			if len(fs) == 1 && len(want) == 0 {
				t.Errorf("filter %v matches nothing: a weak check", fs)
			}
			got, n := e.pageThrough(v)
			lists, pages = lists+1, pages+n
			if !slices.Equal(got, want) {
				t.Errorf("GET /items?%s: %d items, want %d; first difference at %d", v.Encode(), len(got), len(want), firstDiff(got, want))
			}
		}
	}
	t.Logf("%d items seeded in %v; %d lists checked against the oracle in %d pages, in %v", n, seeded.Round(time.Millisecond),
		lists, pages, (time.Since(start) - seeded).Round(time.Millisecond))
}

// parallel runs f for 0..n-1 with 8 workers and fails the test on the
// first error.
func parallel(t testing.TB, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}

// pageThrough reads a list to its end and returns its ids, checking that
// every page but the last is full unless its budget ran out.
func (e *env) pageThrough(v url.Values) ([]string, int) {
	e.t.Helper()
	limit, _ := strconv.Atoi(v.Get("limit"))
	var ids []string
	for pages := 1; pages <= 1000; pages++ {
		page := e.must(http.StatusOK, req{Method: "GET", Path: "/items?" + v.Encode()}).json(e.t)
		items := page["items"].([]any)
		for _, it := range items {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return ids, pages
		}
		if len(items) < limit && page["budgetExhausted"] != true {
			e.t.Errorf("GET /items?%s: a page of %d items with a next cursor and no budget exhausted", v.Encode(), len(items))
		}
		v.Set("cursor", next)
	}
	e.t.Fatalf("GET /items?%s: over 1000 pages", v.Encode())
	return nil, 0
}

func (e *env) expectCode(status int, path, code string) {
	e.t.Helper()
	if got := e.must(status, req{Method: "GET", Path: path}).code(e.t); got != code {
		e.t.Errorf("GET %s: code %q, want %q", path, got, code)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
