package itest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// BenchmarkSearch measures what the first page (limit 25) of GET /items
// reads, per filter, on catalogues of several sizes: the items it returns,
// the candidates it examines, the DynamoDB calls it makes and their RCU.
//
// The sizes come from DEPOT_SEARCH_BENCH_SIZES (comma-separated, default
// "5000,50000", the issue's; make bench passes "500,2000"). The catalogue is seeded straight through the store
// (usecase.Service over dynamo.New, 8 writers), with CreateItem only (tags,
// reorder point and location given at creation) and group memberships
// added with ChangeMembers in batches of 100: no transfers, no deletes.
// The embedded engine (minidyn) gets slow as its tables grow (a write
// costs O(n log n) in the table's size, and an item's creation is ~30
// records with its facets): measured, 300 items seed in ~5 s, 800 in
// ~35 s, 2,000 in ~5 min, so 5,000 takes the better part of an hour and
// 50,000 is out of reach on it. Lower the sizes with the variable, e.g.
// DEPOT_SEARCH_BENCH_SIZES=2000. A page's reads do not grow with the
// catalogue: it reads `limit` entries of one partition.
//
// Each page is one request through the local gateway to the ListItems
// function (stockEnv.do); the DynamoDB calls it made are taken from the
// capacityDB under the store, outputs included:
//
//   - rows:      records read by the Query calls (the candidates: items of
//     an index of whole items, or facet rows / levels, one per item);
//   - joined:    items read by BatchGetItem (joined sources only);
//   - examined:  the candidates examined, rows; cand/ret = rows / returned;
//   - reads:     rows + joined, every record read; reads/ret;
//   - RCU:       the engine's ConsumedCapacity when it returned one (not on
//     moto), else computed from the records (costOf).
//
// The goal, checked: on a page whose source is the filter's own
// index (none, q of one word of at most 4 letters, tag, groupId, locationId
// with no deleted items, lowStock), examined ≤ 1.2 × returned. minQuantity
// alone reads every live item by SKU and filters: its ratio is shown, not
// checked; neither is q of two words.
func BenchmarkSearch(b *testing.B) {
	sizes, err := searchBenchSizes()
	if err != nil {
		b.Fatal(err)
	}
	useEngineCapacity = !isMoto()
	var rows []searchRow
	for _, n := range sizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			e := newStockEnv(b)
			start := time.Now()
			fx := seedCatalogue(b, strings.TrimSuffix(e.shadowTable, "-raw"), n, true)
			seeded := time.Since(start)
			b.Logf("%d items seeded in %v", n, seeded.Round(time.Millisecond))
			fmt.Printf("BenchmarkSearch: %d items seeded in %v (DynamoDB: %s)\n", n, seeded.Round(time.Millisecond), engines.DynamoDB)
			for _, f := range searchBenchFilters(fx) {
				b.Run(f.name, func(b *testing.B) {
					var r searchRow
					for b.Loop() {
						r = e.searchPage(f)
					}
					r.size = n
					r.report(b)
					if f.goal && r.examined > 1.2*r.returned {
						b.Errorf("items=%d %s: examined %.0f for %.0f returned (%.2f×; goal ≤ 1.2×)", n, f.name, r.examined, r.returned, r.examined/r.returned)
					}
					if f.goal && r.returned == 0 {
						b.Errorf("items=%d %s: the page is empty: a weak check", n, f.name)
					}
					rows = append(rows, r)
				})
			}
		})
	}
	printSearchTable(rows)
}

func searchBenchSizes() ([]int, error) {
	v := os.Getenv("DEPOT_SEARCH_BENCH_SIZES")
	if v == "" {
		v = "5000,50000"
	}
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("DEPOT_SEARCH_BENCH_SIZES=%q: %q is not a positive size", v, s)
		}
		out = append(out, n)
	}
	return out, nil
}

type searchFilter struct {
	name  string
	query url.Values
	goal  bool // the source is the filter's own index: examined ≤ 1.2 × returned
}

func searchBenchFilters(fx catalogue) []searchFilter {
	f := func(name string, goal bool, kv ...string) searchFilter {
		v := url.Values{"limit": {"25"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return searchFilter{name: name, query: v, goal: goal}
	}
	return []searchFilter{
		f("none", true),
		f("q=bolt", true, "q", "bolt"),
		f("q=zinc_pl", false, "q", "zinc pl"),
		f("tag", true, "tag", "fasteners"),
		f("groupId", true, "groupId", fx.groups[0]),
		f("locationId", true, "locationId", fx.locs[0]),
		f("lowStock", true, "lowStock", "true"),
		f("minQuantity", false, "minQuantity", "40"),
	}
}

// searchRow is one page's reads.
type searchRow struct {
	size                                 int
	filter                               string
	returned, rows, joined, examined     float64
	calls, rcu                           float64
	budgetExhausted, more, engineCapUsed bool
}

// searchPage requests the filter's first page and sums what its DynamoDB
// calls read.
func (e *stockEnv) searchPage(f searchFilter) searchRow {
	e.b.Helper()
	path := "/items?" + f.query.Encode()
	data, _ := e.exchange(editorEmail, http.StatusOK, "GET", path, "")
	line := e.logs.request(e.b)
	recorded, calls := e.rec.take(), e.cap.take()
	if line.DDBCalls != len(calls) || len(recorded) != len(calls) {
		e.b.Fatalf("GET %s: log line counts %d DynamoDB calls, %d recorded, %d seen", path, line.DDBCalls, len(recorded), len(calls))
	}
	var page struct {
		Items           []json.RawMessage `json:"items"`
		NextCursor      *string           `json:"nextCursor"`
		BudgetExhausted bool              `json:"budgetExhausted"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		e.b.Fatalf("GET %s: %v: %s", path, err, data)
	}
	r := searchRow{filter: f.name, returned: float64(len(page.Items)), calls: float64(len(calls)),
		budgetExhausted: page.BudgetExhausted, more: page.NextCursor != nil, engineCapUsed: true}
	for _, c := range calls {
		switch out := c.out.(type) {
		case *dynamodb.QueryOutput:
			if out != nil {
				r.rows += float64(len(out.Items))
			}
		case *dynamodb.BatchGetItemOutput:
			if out != nil {
				for _, rs := range out.Responses {
					r.joined += float64(len(rs))
				}
			}
		}
		cc := costOf(c)
		r.rcu += cc.rcu
		r.engineCapUsed = r.engineCapUsed && cc.used
	}
	r.examined = r.rows
	return r
}

func perReturned(x, returned float64) float64 {
	if returned == 0 {
		return 0
	}
	return x / returned
}

func (r searchRow) report(b *testing.B) {
	b.ReportMetric(r.returned, "returned")
	b.ReportMetric(r.examined, "examined")
	b.ReportMetric(perReturned(r.examined, r.returned), "examined/returned")
	b.ReportMetric(r.rows+r.joined, "records-read")
	b.ReportMetric(r.calls, "calls")
	b.ReportMetric(r.rcu, "rcu")
	b.ReportMetric(0, "ns/op") // the time is BenchmarkOperations' subject
}

func printSearchTable(rows []searchRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Printf("\nGET /items first page (limit 25) per filter; DynamoDB: %s\n", engines.DynamoDB)
	fmt.Printf("%8s %-12s %8s %6s %6s %8s %8s %6s %8s %6s %7s %-9s %s\n",
		"items", "filter", "returned", "rows", "joined", "examined", "cand/ret", "reads", "reads/ret", "calls", "RCU", "RCU from", "notes")
	for _, r := range rows {
		from := "engine"
		if !r.engineCapUsed {
			from = "computed"
		}
		var notes []string
		if r.budgetExhausted {
			notes = append(notes, "budgetExhausted")
		}
		if !r.more {
			notes = append(notes, "last page")
		}
		fmt.Printf("%8d %-12s %8.0f %6.0f %6.0f %8.0f %8.2f %6.0f %8.2f %6.0f %7.2f %-9s %s\n",
			r.size, r.filter, r.returned, r.rows, r.joined, r.examined, perReturned(r.examined, r.returned),
			r.rows+r.joined, perReturned(r.rows+r.joined, r.returned), r.calls, r.rcu, from, strings.Join(notes, ", "))
	}
	fmt.Print(`rows: records read by Query (whole items, or facet rows / levels of joined sources); joined: items read by BatchGetItem;
examined = rows (the candidates, one per item); reads = rows + joined. Goal (issue): examined ≤ 1.2 × returned where
the source is the filter's own index (none, q of one short word, tag, groupId, locationId, lowStock).
`)
}
