package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
)

// TestSyntheticExport runs the benchmark's export at a small size, in
// parts of 64 KiB (the sink's minimum lowered to match), keeping the
// bytes, and reads the file back: the header, one row per item in SKU
// order, each row the item the catalogue makes (and, with stock and
// groups, its levels and group names), the digest the file's. The store
// calls are the ones the command's doc names, and no others.
func TestSyntheticExport(t *testing.T) {
	const part = 64 << 10
	for _, c := range []struct {
		items   int
		include []string
	}{
		{3000, nil},
		{2999, []string{inventory.IncludeStock, inventory.IncludeGroups}},
		{0, []string{inventory.IncludeGroups}},
	} {
		t.Run(fmt.Sprintf("%d items %v", c.items, c.include), func(t *testing.T) {
			out := &sink{Keep: true, MinPartSize: part}
			res, cat, err := runExport(context.Background(), options{items: c.items, include: c.include, partSize: part, timeout: time.Minute}, out)
			if err != nil {
				t.Fatal(err)
			}
			data := out.Kept.Bytes()
			sum := sha256.Sum256(data)
			if res.Rows != int64(c.items) || res.Bytes != int64(len(data)) || res.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("result %+v; file of %d bytes, sha256 %x", res, len(data), sum)
			}
			if want := len(data)/part + 1; c.items > 0 && (res.Parts < want-1 || res.Parts > want) {
				t.Errorf("%d parts of %d bytes, want about %d", res.Parts, len(data), want)
			}

			stock, groups := slices.Contains(c.include, inventory.IncludeStock), slices.Contains(c.include, inventory.IncludeGroups)
			wantHeader := slices.Clone(itemcsv.BaseColumns)
			if stock {
				for _, code := range []string{"AMS-1", "DEFAULT", "RTM-DC1", "UTR-2"} {
					wantHeader = append(wantHeader, itemcsv.OnHandPrefix+code)
				}
			}
			if groups {
				wantHeader = append(wantHeader, itemcsv.ColGroups)
			}
			r := itemcsv.NewReader(bytes.NewReader(data))
			header, _, err := r.Read()
			if err != nil || !slices.Equal(header, wantHeader) {
				t.Fatalf("header %q, %v; want %q", header, err, wantHeader)
			}
			cols, err := itemcsv.ReadHeader(header)
			if err != nil {
				t.Fatal(err)
			}
			groupNames := map[string]string{}
			for _, g := range cat.groups {
				groupNames[g.ID] = g.Name
			}
			locationCode := map[string]string{}
			for _, l := range cat.locations {
				locationCode[l.ID] = l.Code
			}
			rows := 0
			for {
				rec, line, err := r.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				i := rows
				rows++
				if i >= c.items {
					t.Fatalf("line %d: more rows than items", line)
				}
				it := cat.item(i)
				row, err := cols.Row(rec, line)
				if err != nil {
					t.Fatalf("line %d: %v", line, err)
				}
				if rec[0] != it.ID || row.SKU != fmt.Sprintf("SKU-%08d", i) || *row.Name != it.Name || *row.Description != it.Description ||
					!slices.Equal(*row.Tags, it.Tags) || *row.Quantity != it.Quantity || rec[6] != strconv.FormatInt(it.Available(), 10) ||
					!equalPtr(row.ReorderPoint, it.ReorderPoint) || rec[9] != it.UpdatedAt.Format(inventory.TimeLayout) {
					t.Fatalf("line %d: %q\nwant item %+v", line, rec, it)
				}
				if stock {
					want := map[string]int64{"AMS-1": 0, "DEFAULT": 0, "RTM-DC1": 0, "UTR-2": 0}
					var total int64
					for _, l := range cat.levels(i, it.ID) {
						want[locationCode[l.LocationID]] = l.OnHand
						total += l.OnHand
					}
					if !maps.Equal(row.OnHand, want) || total != it.Quantity {
						t.Fatalf("line %d: on hand %v, want %v (adding up to %d, quantity %d)", line, row.OnHand, want, total, it.Quantity)
					}
				}
				if groups {
					var want []string
					for _, g := range it.Groups {
						want = append(want, groupNames[g])
					}
					if got := itemcsv.SplitList(rec[len(rec)-1]); !slices.Equal(got, want) {
						t.Fatalf("line %d: groups %q, want %q", line, got, want)
					}
				}
			}
			if rows != c.items {
				t.Fatalf("%d rows, want %d", rows, c.items)
			}

			wantCalls := map[string]int64{"ListItemSource": int64(max(1, (c.items+99)/100))}
			if stock {
				wantCalls["ListLevels"], wantCalls["ListLocations"] = int64(c.items), 1
			}
			if groups {
				wantCalls["ListGroups"] = 1
			}
			if !maps.Equal(res.StoreCalls, wantCalls) {
				t.Errorf("store calls %v, want %v", res.StoreCalls, wantCalls)
			}
		})
	}
}

func equalPtr(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// TestCatalogueIsDeterministic: the catalogue makes the same items every
// time, SKUs in order, and names, descriptions and tags that exercise the
// CSV (quotes, commas, accents, line breaks, formula characters).
func TestCatalogueIsDeterministic(t *testing.T) {
	a, b := newCatalogue(1000), newCatalogue(1000)
	var text strings.Builder
	size := 0
	for i := range 1000 {
		x, y := a.item(i), b.item(i)
		if x.ID != y.ID || x.SKU != y.SKU || x.Name != y.Name || x.Description != y.Description || a.itemNumber(x.ID) != i {
			t.Fatalf("item %d: %+v and %+v", i, x, y)
		}
		if i > 0 && x.SKU <= a.item(i-1).SKU {
			t.Fatalf("item %d: SKU %s not after %s", i, x.SKU, a.item(i-1).SKU)
		}
		size += len(x.Description)
		text.WriteString(x.Name + x.Description)
	}
	if avg := size / 1000; avg < 180 || avg > 230 {
		t.Errorf("descriptions of %d bytes on average, want about 200", avg)
	}
	for _, s := range []string{`"`, ",", "é", "\n", "\n=", "\n-", ";"} {
		if s[0] == '\n' && len(s) > 1 {
			if !slices.ContainsFunc(descriptions, func(d string) bool { return strings.HasPrefix(d, s[1:]) }) {
				t.Errorf("no description begins with %q", s[1:])
			}
			continue
		}
		if !strings.Contains(text.String(), s) {
			t.Errorf("no name or description holds %q", s)
		}
	}
	if a.itemNumber(a.item(999).ID) != 999 || a.itemNumber(newCatalogue(2000).item(1500).ID) != -1 {
		t.Error("itemNumber")
	}
}

// TestSinkChecksTheUpload: parts in order, every one but the last at
// least the minimum, the ETags given back.
func TestSinkChecksTheUpload(t *testing.T) {
	ctx := context.Background()
	start := func() (*sink, string) {
		s := &sink{MinPartSize: 10}
		id, err := s.CreateMultipartUpload(ctx, "k", "text/csv; charset=utf-8")
		if err != nil {
			t.Fatal(err)
		}
		return s, id
	}
	put := func(s *sink, id string, n int32, data string) inventory.UploadedPart {
		etag, err := s.UploadPart(ctx, "k", id, n, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return inventory.UploadedPart{Number: n, ETag: etag, Bytes: int64(len(data))}
	}

	s, id := start()
	parts := []inventory.UploadedPart{put(s, id, 1, "0123456789"), put(s, id, 2, "abc")}
	if _, err := s.Open(ctx, "k", 0, ""); !errors.Is(err, inventory.ErrObjectNotFound) {
		t.Errorf("open before completion: %v", err)
	}
	if err := s.CompleteMultipartUpload(ctx, "k", id, parts); err != nil {
		t.Fatal(err)
	}
	if obj, err := s.Open(ctx, "k", 12, ""); err != nil || obj.Size != 13 {
		t.Errorf("open the completed file: %+v, %v", obj, err)
	}
	if sum := sha256.Sum256([]byte("0123456789abc")); s.Digest() != hex.EncodeToString(sum[:]) || s.bytes != 13 || len(s.Kept.Bytes()) != 0 {
		t.Errorf("digest %s, %d bytes, kept %d", s.Digest(), s.bytes, s.Kept.Len())
	}

	s, id = start()
	parts = []inventory.UploadedPart{put(s, id, 1, "short"), put(s, id, 2, "abc")}
	if err := s.CompleteMultipartUpload(ctx, "k", id, parts); err == nil || !strings.Contains(err.Error(), "minimum") {
		t.Errorf("a small part but the last: %v", err)
	}

	s, id = start()
	if _, err := s.UploadPart(ctx, "k", id, 2, []byte("x")); err == nil {
		t.Error("part 2 first was taken")
	}
	p := put(s, id, 1, "0123456789")
	p.ETag = `"other"`
	if err := s.CompleteMultipartUpload(ctx, "k", id, []inventory.UploadedPart{p}); err == nil {
		t.Error("a wrong ETag was taken")
	}
}

// TestRatio: the -ratio form runs each size in turn, round after round,
// and compares the medians of the peak RSS of the largest and smallest.
func TestRatio(t *testing.T) {
	for _, c := range []struct {
		peaks   map[int][]int64
		verdict string
	}{
		{map[int][]int64{100: {20, 40, 21}, 1000: {25, 22, 90}}, "1.190 (goal < 1.3: ok)"},
		{map[int][]int64{100: {20, 20, 20}, 1000: {26, 26, 27}}, "1.300 (goal < 1.3: OVER)"},
	} {
		var order []int
		calls := map[int]int{}
		fake := func(_ context.Context, mode string, n int, o options) (result, error) {
			order = append(order, n)
			peak := c.peaks[n][calls[n]] << 20
			calls[n]++
			return result{Mode: mode, Items: n, Rows: int64(n), PeakRSS: peak, RowsPerS: float64(n), Seconds: 1}, nil
		}
		var w strings.Builder
		if err := ratio(context.Background(), "export", options{sizes: []int{100, 1000}, runs: 3}, &w, fake); err != nil {
			t.Fatal(err)
		}
		out := w.String()
		if !slices.Equal(order, []int{100, 1000, 100, 1000, 100, 1000}) || strings.Count(out, `{"mode":"export"`) != 6 ||
			!strings.Contains(out, "peak RSS 1000 items / 100 items: "+c.verdict) || !strings.Contains(out, "median of 3 runs") {
			t.Errorf("order %v, output:\n%s", order, out)
		}
	}
}

// TestSyntheticImport runs the benchmark's import at a small size: three
// passes, each of every row, with the counts, saves and ledger lines each
// must have (runImport checks every item against its row too), and the
// lines the mode prints.
func TestSyntheticImport(t *testing.T) {
	for _, index := range []bool{false, true} {
		t.Run(fmt.Sprintf("index-levels=%v", index), func(t *testing.T) { testSyntheticImport(t, index) })
	}
}

func testSyntheticImport(t *testing.T, indexLevels bool) {
	const n = 2000
	var got []importResult
	err := runImport(context.Background(), options{rows: n, timeout: time.Minute, indexLevels: indexLevels}, func(r importResult) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []importResult{
		{Mode: "import", Pass: "created", Rows: n, Created: n, ItemSaves: n, LedgerLines: n, ResultRows: n},
		{Mode: "import", Pass: "unchanged", Rows: n, Unchanged: n, ItemSaves: 0, LedgerLines: 0, ResultRows: n},
		{Mode: "import", Pass: "updated", Rows: n, Updated: n, ItemSaves: n, LedgerLines: n, ResultRows: n},
	}
	if len(got) != len(want) {
		t.Fatalf("%d passes, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Mode != w.Mode || g.Pass != w.Pass || g.IndexLevels != indexLevels || g.Rows != w.Rows || g.Created != w.Created || g.Updated != w.Updated ||
			g.Unchanged != w.Unchanged || g.Failed != 0 || g.ItemSaves != w.ItemSaves || g.LedgerLines != w.LedgerLines ||
			g.ResultRows != w.ResultRows {
			t.Errorf("pass %d: %+v\nwant %+v", i+1, g, w)
		}
		// Saves of the job: requested, started, checked, resumed, one a
		// chunk of 500 rows, results started, succeeded.
		if chunks := int64((n + 499) / 500); g.JobSaves != 6+chunks || g.Seconds <= 0 || g.RowsPerS <= 0 || g.Bytes < n*200 {
			t.Errorf("pass %s: %d job saves, %.3f s, %.0f rows/s, %d bytes", g.Pass, g.JobSaves, g.Seconds, g.RowsPerS, g.Bytes)
		}
	}

	var w strings.Builder
	if err := run(context.Background(), "import", options{rows: 50, timeout: time.Minute}, &w); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"pass":"created"`) || !strings.Contains(lines[2], `"updated":50`) {
		t.Errorf("import mode printed:\n%s", w.String())
	}
}

// TestImportFileIsWhatTheChecksExpect: the file's rows read back (as the
// import reads them) are the rows check compares the items with, in every
// generation, and a file of too many rows is refused before it runs.
func TestImportFileIsWhatTheChecksExpect(t *testing.T) {
	b := newImportBench(300, false)
	for rev := range 2 {
		r := itemcsv.NewReader(bytes.NewReader(b.file(rev)))
		header, _, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		cols, err := itemcsv.ReadHeader(header)
		if err != nil || len(cols.Unknown) > 0 {
			t.Fatalf("header %q: %v", header, err)
		}
		for i := 0; ; i++ {
			rec, line, err := r.Read()
			if err == io.EOF {
				if i != 300 {
					t.Fatalf("rev %d: %d rows", rev, i)
				}
				break
			}
			row, err := cols.Row(rec, line)
			if err != nil {
				t.Fatal(err)
			}
			want := b.importRow(i, rev)
			if row.SKU != want.SKU || *row.Name != want.Name || *row.Description != want.Description ||
				!slices.Equal(*row.Tags, want.Tags) || *row.Quantity != want.Quantity {
				t.Fatalf("rev %d, line %d: %+v, want %+v", rev, line, row, want)
			}
			if rev == 1 && (want.Name == b.importRow(i, 0).Name || want.Quantity == b.importRow(i, 0).Quantity) {
				t.Fatalf("row %d: rev 1 keeps its name or quantity", i)
			}
		}
	}
	if _, _, err := parseFlags([]string{"-mode", "import", "-rows", "0"}); err == nil {
		t.Error("-rows 0 was taken")
	}
}

func TestFlags(t *testing.T) {
	o, mode, err := parseFlags([]string{"-mode", "export-ratio", "-sizes", "10, 20", "-include", "stock,groups", "-runs", "2"})
	if err != nil || mode != "export-ratio" || !slices.Equal(o.sizes, []int{10, 20}) || !slices.Equal(o.include, []string{"stock", "groups"}) || o.runs != 2 {
		t.Errorf("%+v %q %v", o, mode, err)
	}
	if err := run(context.Background(), "import-ratio", o, io.Discard); err == nil {
		t.Error("an unknown mode ran")
	}
	if _, _, err := parseFlags([]string{"-items", "-1"}); err == nil {
		t.Error("-items -1 was taken")
	}
}
