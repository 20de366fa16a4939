package itemcsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// hostile are cells that must survive a round trip and never reach a
// spreadsheet as a formula.
var hostile = []string{
	"=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-3", "@SUM(A1)", "\tTab", "\rCR", "'quoted", "''twice",
	"plain", "", "a,b", "say \"hi\"", "two\nlines", "crlf\r\nin", "Écrou ü ß 漢字", "emoji 🧰🔩", " padded ", "=",
}

func TestNeutralizeStopsFormulas(t *testing.T) {
	for _, c := range hostile {
		n := Neutralize(c)
		if n != "" && strings.ContainsRune("=+-@\t\r", rune(n[0])) {
			t.Errorf("Neutralize(%q) = %q starts a formula", c, n)
		}
		if Unneutralize(n) != c {
			t.Errorf("Unneutralize(Neutralize(%q)) = %q", c, Unneutralize(n))
		}
	}
}

// TestRecordsRoundTrip: every hostile value written by AppendRecord is read
// back by a standard RFC 4180 reader exactly, after one leading "'" is
// dropped, and every field of the file is quoted.
func TestRecordsRoundTrip(t *testing.T) {
	var buf []byte
	buf = AppendRecord(buf, hostile)
	buf = AppendRecord(buf, []string{"x"})
	if !bytes.HasSuffix(buf, []byte("\"x\"\r\n")) || !bytes.HasPrefix(buf, []byte(`"'=HYPERLINK(""http://evil"",""x"")"`)) {
		t.Fatalf("file = %q", buf)
	}
	r := NewReader(bytes.NewReader(append([]byte(BOM), buf...)))
	rec, line, err := r.Read()
	if err != nil || line != 1 {
		t.Fatal(line, err)
	}
	for i := range rec {
		rec[i] = Unneutralize(rec[i])
	}
	// encoding/csv reads "\r\n" inside a quoted field as "\n", as RFC
	// 4180 readers may; a CR alone at the start is kept.
	want := make([]string, len(hostile))
	for i, h := range hostile {
		want[i] = strings.ReplaceAll(h, "\r\n", "\n")
	}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("read back\n%q\nwant\n%q", rec, want)
	}
	// The first record spans three lines (two of its fields hold a line
	// break): the second starts on line 4.
	if _, line, err := r.Read(); err != nil || line != 4 {
		t.Errorf("second record at line %d: %v", line, err)
	}
	if _, _, err := r.Read(); !errors.Is(err, io.EOF) {
		t.Errorf("end: %v", err)
	}
}

func TestListsRoundTrip(t *testing.T) {
	for _, list := range [][]string{
		nil, {"a"}, {"a", "b"}, {"semi;colon", `back\slash`, " lead", "trail ", "mid space", "~#"},
		{"\\", ";", "  "}, {"Größe L", "🧰"},
	} {
		got := SplitList(JoinList(list))
		if len(list) == 0 && got == nil {
			continue
		}
		if !reflect.DeepEqual(got, list) {
			t.Errorf("SplitList(JoinList(%q)) = %q via %q", list, got, JoinList(list))
		}
	}
	// What a person types in a spreadsheet.
	for cell, want := range map[string][]string{
		"fasteners; m8 ;  outdoor": {"fasteners", "m8", "outdoor"},
		"a;;b;":                    {"a", "b"},
		"  ":                       nil,
		`a\;b`:                     {"a;b"},
	} {
		if got := SplitList(cell); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", cell, got, want)
		}
	}
}

// TestExportReimports: the rows an export writes read back, through the
// header a file carries, as the values they were written from.
func TestExportReimports(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 123e6, time.UTC)
	rp := int64(5)
	layout := Layout{Locations: []inventory.Location{{ID: "L1", Code: "RTM-1"}, {ID: "default", Code: "DEFAULT"}}, Groups: true}
	items := []Row{
		{Item: inventory.Item{ID: "01JDQ3ZK7X9V4M2N8P6R5T3W1Y", SKU: "BOLT-M8", Name: "=cmd|' /C calc'!A0", Description: "line1\nline2, \"quoted\"",
			Tags: []string{"a;b", " x"}, Quantity: 12, Committed: 2, ReorderPoint: &rp, CreatedAt: now, UpdatedAt: now},
			OnHand: map[string]int64{"L1": 10, "default": 2}, Groups: []string{"Spring; sale"}},
		{Item: inventory.Item{ID: "01JDQ3ZK7X9V4M2N8P6R5T3W1Z", SKU: "NUT-1", Name: "Écrou 🔩", Tags: []string{}, CreatedAt: now, UpdatedAt: now},
			OnHand: map[string]int64{}},
	}
	var buf []byte
	buf = append(buf, BOM...)
	buf = AppendRecord(buf, layout.Header())
	for _, r := range items {
		buf = AppendRecord(buf, layout.Record(r))
	}
	// Any RFC 4180 reader reads it (after the BOM), every row as wide.
	std := csv.NewReader(bytes.NewReader(buf[len(BOM):]))
	all, err := std.ReadAll()
	if err != nil || len(all) != 3 || len(all[0]) != 13 {
		t.Fatalf("standard reader: %d records, %v", len(all), err)
	}
	if got := strings.Join(all[0], ","); got != "id,sku,name,description,tags,quantity,available,reorderPoint,createdAt,updatedAt,onHand:RTM-1,onHand:DEFAULT,groups" {
		t.Errorf("header %s", got)
	}
	if all[1][6] != "10" || all[1][8] != "2026-11-30T09:00:00.123Z" || all[2][7] != "" {
		t.Errorf("rows %q", all[1:])
	}

	r := NewReader(bytes.NewReader(buf))
	head, _, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ReadHeader(head)
	if err != nil || len(cols.Unknown) != 0 || !reflect.DeepEqual(cols.OnHandCodes(), []string{"DEFAULT", "RTM-1"}) {
		t.Fatalf("header: %+v %v", cols, err)
	}
	for i, want := range items {
		rec, line, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		row, err := cols.Row(rec, line)
		if err != nil {
			t.Fatal(err)
		}
		it := want.Item
		if row.Line != []int{2, 4}[i] || row.SKU != it.SKU || *row.Name != it.Name || *row.Description != it.Description ||
			!reflect.DeepEqual(*row.Tags, it.Tags) || *row.Quantity != it.Quantity || !row.ReorderPointSet ||
			!reflect.DeepEqual(row.ReorderPoint, it.ReorderPoint) {
			t.Errorf("row %d = %+v, want %+v", i, row, it)
		}
		wantOnHand := map[string]int64{"RTM-1": want.OnHand["L1"], "DEFAULT": want.OnHand["default"]}
		if !reflect.DeepEqual(row.OnHand, wantOnHand) {
			t.Errorf("row %d on hand %v, want %v", i, row.OnHand, wantOnHand)
		}
	}
}

func TestHeaderAndRowErrors(t *testing.T) {
	if _, err := ReadHeader([]string{"name", "quantity"}); !errors.Is(err, ErrNoSKU) {
		t.Errorf("no sku: %v", err)
	}
	if _, err := ReadHeader([]string{"sku", "SKU"}); err == nil {
		t.Error("a column named twice is accepted")
	}
	if _, err := ReadHeader([]string{"sku", "onhand:rtm-1", "ONHAND:RTM-1"}); err == nil {
		t.Error("an onHand column named twice is accepted")
	}
	cols, err := ReadHeader([]string{" SKU ", "Quantity", "REORDERPOINT", "OnHand:rtm-1", "notes"})
	if err != nil || !reflect.DeepEqual(cols.Unknown, []string{"notes"}) || !cols.Has(ColQuantity) ||
		!reflect.DeepEqual(cols.OnHandCodes(), []string{"RTM-1"}) {
		t.Fatalf("case-insensitive header: %+v %v", cols, err)
	}
	row, err := cols.Row([]string{"A-1", "", "", " 7 ", "x"}, 2)
	if err != nil || row.Quantity != nil || !row.ReorderPointSet || row.ReorderPoint != nil || row.OnHand["RTM-1"] != 7 || row.Name != nil {
		t.Errorf("empty cells: %+v %v", row, err)
	}
	_, err = cols.Row([]string{"A-1", "many", "-", "1.5", "x"}, 9)
	var e *inventory.Error
	if !errors.As(err, &e) || e.Code != inventory.CodeValidationFailed || len(e.Fields) != 3 ||
		e.Fields[0].Field != "/onHand:RTM-1" || e.Fields[1].Field != "/quantity" || e.Fields[2].Field != "/reorderPoint" {
		t.Errorf("bad numbers: %+v", err)
	}
	if _, err := cols.Row([]string{"A-1"}, 3); err == nil || !strings.Contains(err.Error(), "line 3 has 1 fields") {
		t.Errorf("a short row: %v", err)
	}
	r := NewReader(strings.NewReader("sku\n\"open"))
	if _, _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if _, line, err := r.Read(); err == nil || line != 2 || !strings.Contains(err.Error(), "line 2 is not CSV") {
		t.Errorf("a broken quote: line %d, %v", line, err)
	}
}

func TestFilename(t *testing.T) {
	if got := Filename(time.Date(2026, 11, 30, 23, 30, 0, 0, time.FixedZone("x", -3600))); got != "depot-items-2026-12-01.csv" {
		t.Errorf("Filename = %s", got)
	}
}

// BenchmarkAppendRecord: a typical row, written into a reused buffer.
func BenchmarkAppendRecord(b *testing.B) {
	rp := int64(5)
	now := time.Now()
	l := Layout{Locations: []inventory.Location{{ID: "L1", Code: "RTM-1"}}, Groups: true}
	r := Row{Item: inventory.Item{ID: "01JDQ3ZK7X9V4M2N8P6R5T3W1Y", SKU: "BOLT-M8-40", Name: "Hex bolt M8×40", Description: "Zinc plated, \"DIN 933\"",
		Tags: []string{"fasteners", "m8"}, Quantity: 12, ReorderPoint: &rp, CreatedAt: now, UpdatedAt: now},
		OnHand: map[string]int64{"L1": 12}, Groups: []string{"Spring sale"}}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRecord(buf[:0], l.Record(r))
	}
	b.SetBytes(int64(len(buf)))
}

// TestReaderResumes: a reader started at the offset and line another left
// off at reads the same records with the same lines, fields with line
// breaks and a BOM included.
func TestReaderResumes(t *testing.T) {
	file := BOM + "sku,name\r\nA,\"two\r\nlines\"\r\nB,b\nC,\"x\ny\nz\"\r\nD,d\r\n"
	var want []string
	r := NewReader(strings.NewReader(file))
	for {
		rec, line, err := r.Read()
		if err != nil {
			break
		}
		want = append(want, fmt.Sprintf("%d%v", line, rec))
	}
	if strings.Join(want, "|") != "1[sku name]|2[A two\nlines]|4[B b]|5[C x\ny\nz]|8[D d]" {
		t.Fatalf("records %q", want)
	}
	for stop := 1; stop < len(want); stop++ {
		r := NewReader(strings.NewReader(file))
		for range stop {
			if _, _, err := r.Read(); err != nil {
				t.Fatal(err)
			}
		}
		off, line := r.Offset(), r.NextLine()
		rest := NewReaderAt(strings.NewReader(file[off:]), off, line)
		got := want[:stop:stop]
		for {
			rec, line, err := rest.Read()
			if err != nil {
				break
			}
			got = append(got, fmt.Sprintf("%d%v", line, rec))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("resumed after %d at %d, line %d: %q", stop, off, line, got)
		}
	}
}
