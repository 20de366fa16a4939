package itest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/config"
	"golang.org/x/text/unicode/norm"

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

// oracleItems is the size of the generated catalogue: 300 in make test,
// DEPOT_ORACLE_ITEMS otherwise (5,000 for the check, on moto: the
// embedded minidyn keeps each index as a sorted slice that it re-sorts on
// every write, so a 5,000-item catalogue, about 100,000 records, takes it
// hours to load).
func oracleItems() int {
	if n, err := strconv.Atoi(os.Getenv("DEPOT_ORACLE_ITEMS")); err == nil && n > 0 {
		return n
	}
	return 300
}

var (
	oracleNouns = []string{"bolt", "Schraube", "écrou", "washer", "rondelle", "Hex bolt", "clé", "Ölfilter", "bearing",
		"roulement", "Dübel", "gasket", "joint", "spring", "Feder", "café filter", "tube", "Rohr", "valve", "Ventil",
		"hinge", "Scharnier", "crème pot", "label", "étiquette", "pallet", "Größe", "naïve plug", "façade panel", "chain"}
	oracleAdjectives = []string{"hex", "flat", "zinc plated", "stainless", "galvanisé", "rostfrei", "heavy-duty", "mini",
		"Ø8", "blue", "rouge", "grün", "long", "kurz", "coarse"}
	oracleSizes = []string{"M8×40", "M6×20", "M10", "12mm", "3/8\"", "DN50", "1,5m", "#4", "Nr. 7", ""}
	oracleTags  = []string{"fasteners", "plumbing", "électrique", "outdoor", "spare~part", "A#1", "Größe L", "promo",
		"fragile", "bulk", "hazmat", "seasonal"}
)

// stored is what the oracle knows of an item.
type stored struct {
	item      inventory.Item
	locations []string // where it has a level
}

func TestSearchOracle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(lambdafn.NewDynamoClient(cfg), e.stack.Settings.TableName)
	svc := &usecase.Service{Store: store}
	actor := usecase.Request{Actor: editorEmail}
	rng := rand.New(rand.NewPCG(9, 9))

	var locs []string
	for _, code := range []string{"RTM-1", "HAM-2", "LYS-3"} {
		l, _, err := svc.CreateLocation(ctx, actor, inventory.LocationInput{Code: code, Name: code})
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, l.ID)
	}
	var groups []string
	for _, name := range []string{"Spring sale", "Écoles", "Werkstatt", "Top sellers", "Clearance", "Größe XL"} {
		g, _, err := svc.CreateGroup(ctx, actor, inventory.GroupInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g.ID)
	}

	// The catalogue, created by 8 writers.
	n := oracleItems()
	type plan struct {
		in       inventory.CreateInput
		transfer string // a second location to move some stock to
		moved    int64
		groups   []string
		deleted  bool
	}
	plans := make([]plan, n)
	for i := range plans {
		name := oracleAdjectives[rng.IntN(len(oracleAdjectives))] + " " + oracleNouns[rng.IntN(len(oracleNouns))]
		if s := oracleSizes[rng.IntN(len(oracleSizes))]; s != "" {
			name += " " + s
		}
		if rng.IntN(3) == 0 {
			r := []rune(name)
			name = strings.ToUpper(string(r[:1])) + string(r[1:])
		}
		p := plan{in: inventory.CreateInput{
			SKU:      fmt.Sprintf("%s-%05d", []string{"BLT", "NUT", "WSH", "PLB", "ELC"}[rng.IntN(5)], i),
			Name:     name,
			Quantity: int64(rng.IntN(120)),
		}}
		for _, tg := range oracleTags {
			if rng.IntN(6) == 0 {
				p.in.Tags = append(p.in.Tags, tg)
			}
		}
		if rng.IntN(4) == 0 {
			rp := int64(rng.IntN(60))
			p.in.ReorderPoint = &rp
		}
		if rng.IntN(3) == 0 {
			p.in.LocationID = locs[rng.IntN(len(locs))]
		}
		if p.in.Quantity > 10 && rng.IntN(4) == 0 {
			p.transfer, p.moved = locs[rng.IntN(len(locs))], p.in.Quantity/3
		}
		for _, g := range groups {
			if rng.IntN(7) == 0 {
				p.groups = append(p.groups, g)
			}
		}
		p.deleted = rng.IntN(20) == 0
		plans[i] = p
	}
	ids := make([]string, n)
	start := time.Now()
	parallel(t, n, func(i int) error {
		p := plans[i]
		d, _, err := svc.CreateItem(ctx, actor, p.in)
		if err != nil {
			return fmt.Errorf("create %s: %w", p.in.SKU, err)
		}
		ids[i] = d.ID
		from := cmp.Or(p.in.LocationID, inventory.DefaultLocation)
		if p.transfer != "" && p.transfer != from {
			if _, _, err := svc.CreateTransfer(ctx, actor, inventory.TransferInput{ItemID: d.ID, FromLocationID: from,
				ToLocationID: p.transfer, Quantity: p.moved}); err != nil {
				return fmt.Errorf("transfer %s: %w", p.in.SKU, err)
			}
		}
		return nil
	})
	t.Logf("%d items created in %v", n, time.Since(start))
	for _, g := range groups {
		var members []string
		for i, p := range plans {
			if slices.Contains(p.groups, g) {
				members = append(members, ids[i])
			}
		}
		for chunk := range slices.Chunk(members, inventory.MaxMembershipIDs) {
			res, _, err := svc.ChangeMembers(ctx, actor, g, inventory.MembershipInput{Add: chunk})
			if err != nil || len(res.Added) != len(chunk) {
				t.Fatalf("add members: %+v, %v", res, err)
			}
		}
	}
	parallel(t, n, func(i int) error {
		if !plans[i].deleted {
			return nil
		}
		_, _, err := svc.DeleteItem(ctx, actor, ids[i], "discontinued")
		return err
	})

	// The oracle's data: each item as stored (a strongly consistent read),
	// and where it has levels.
	data := make([]stored, n)
	parallel(t, n, func(i int) error {
		it, err := store.GetItem(ctx, ids[i])
		if err != nil {
			return err
		}
		levels, err := store.ListLevels(ctx, ids[i])
		if err != nil {
			return err
		}
		data[i] = stored{item: it}
		for _, l := range levels {
			data[i].locations = append(data[i].locations, l.LocationID)
		}
		return nil
	})

	t.Logf("catalogue ready in %v", time.Since(start))
	type filter struct{ name, value string }
	filters := []filter{
		{"q", "bolt"}, {"q", "ECROU"}, {"q", "zinc pl"}, {"q", "gro"}, {"q", "blt 000"}, {"q", "Ø8"},
		{"tag", "fasteners"}, {"tag", "spare~part"}, {"tag", "A#1"},
		{"groupId", groups[0]}, {"groupId", groups[5]},
		{"locationId", locs[0]}, {"locationId", inventory.DefaultLocation},
		{"lowStock", "true"}, {"minQuantity", "40"}, {"maxQuantity", "70"},
	}
	// Pairs: one value per kind.
	first := map[string]filter{}
	var kinds []string
	for _, f := range filters {
		if _, ok := first[f.name]; !ok {
			first[f.name] = f
			kinds = append(kinds, f.name)
		}
	}
	var cases [][]filter
	cases = append(cases, nil)
	for _, f := range filters {
		cases = append(cases, []filter{f})
	}
	for i, a := range kinds {
		for _, b := range kinds[i+1:] {
			cases = append(cases, []filter{first[a], first[b]})
		}
	}
	lists, pages := 0, 0
	for _, fs := range cases {
		for _, sort := range inventory.Sorts {
			v := url.Values{"sort": {sort}, "limit": {"100"}}
			for _, f := range fs {
				v.Set(f.name, f.value)
			}
			if v.Has("locationId") && sort != inventory.SortSKU {
				e.expectCode(http.StatusBadRequest, "/items?"+v.Encode(), inventory.CodeInvalidParameter)
				continue
			}
			want := oracleAnswer(data, v)
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
	t.Logf("%d items; %d lists checked against the oracle in %d pages", n, lists, pages)
}

// parallel runs f for 0..n-1 with 8 workers and fails the test on the
// first error.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
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

// oracleWords folds text as the API promises — without regard to case or
// accents — and cuts it into words of letters and digits.
func oracleWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.FieldsFunc(b.String(), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// oracleAnswer is the ids of the live items that match every filter of v,
// in v's order, by brute force.
func oracleAnswer(data []stored, v url.Values) []string {
	var out []stored
	for _, d := range data {
		it := d.item
		if it.Deleted != nil {
			continue
		}
		if q := v.Get("q"); q != "" {
			words := append(oracleWords(it.Name), oracleWords(it.SKU)...)
			ok := true
			for _, term := range oracleWords(q) {
				ok = ok && slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, term) })
			}
			if !ok {
				continue
			}
		}
		if tg := v.Get("tag"); tg != "" && !slices.Contains(it.Tags, tg) {
			continue
		}
		if g := v.Get("groupId"); g != "" && !slices.Contains(it.Groups, g) {
			continue
		}
		if l := v.Get("locationId"); l != "" && !slices.Contains(d.locations, l) {
			continue
		}
		if v.Get("lowStock") == "true" && !(it.ReorderPoint != nil && it.Quantity-it.Committed < *it.ReorderPoint) {
			continue
		}
		if m := v.Get("minQuantity"); m != "" {
			if n, _ := strconv.ParseInt(m, 10, 64); it.Quantity < n {
				continue
			}
		}
		if m := v.Get("maxQuantity"); m != "" {
			if n, _ := strconv.ParseInt(m, 10, 64); it.Quantity > n {
				continue
			}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b stored) int {
		x, y := a.item, b.item
		switch v.Get("sort") {
		case inventory.SortName:
			return cmp.Or(strings.Compare(strings.Join(oracleWords(x.Name), " "), strings.Join(oracleWords(y.Name), " ")),
				strings.Compare(x.ID, y.ID))
		case inventory.SortUpdated:
			return cmp.Or(y.UpdatedAt.Compare(x.UpdatedAt), strings.Compare(y.ID, x.ID))
		}
		return cmp.Or(strings.Compare(x.SKU, y.SKU), strings.Compare(x.ID, y.ID))
	})
	ids := make([]string, len(out))
	for i, d := range out {
		ids[i] = d.item.ID
	}
	return ids
}
