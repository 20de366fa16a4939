package itemcsv

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
	"github.com/depot-inventory/depot/internal/inventory"
)

// fuzzFiles are seeds of the file targets: an export's own lines, and the
// edges of RFC 4180 and of the import's columns.
var fuzzFiles = []string{
	BOM + "\"id\",\"sku\",\"name\",\"description\",\"tags\",\"quantity\",\"available\",\"reorderPoint\",\"createdAt\",\"updatedAt\",\"onHand:RTM-1\",\"groups\"\r\n" +
		"\"01JDQ3ZK7X9V4M2N8P6R5T3W1Y\",\"BOLT-1\",\"Bolt, \"\"M8\"\"\",\"'=1+1\",\"a\\;b;\\ c\",\"5\",\"5\",\"\",\"2024-11-25T09:30:00.000Z\",\"2024-11-25T09:30:00.000Z\",\"5\",\"Sale\"\r\n",
	"sku,name,quantity\nA-1,One,1\nA-2,\"two\nlines\",2\n\nA-3,Three,\n",
	"SKU,Name,OnHand:rtm-1,onHand: RTM-1\r\nA,B,1,2\r\n",
	"sku,name\r\n\"unterminated,x\r\n",
	"sku,tags\r\nA,\" fasteners; m8 ;\"\r\nB,\\\r\n",
	"name\r\nx\r\n",
	"sku,quantity,reorderPoint\r\nA,+5, 007 \r\nB,x,-1\r\nC,9223372036854775808,\r\n",
	"sku,name\r\nA,\"a\"\"b\r\nc\"\r\nB,b\"c\r\n",
	"\"sku\"\r\n\"\"\r\n",
	"sku,description\r\nA,\"x\ry\"\r\n",
}

// readerBound: reading a file allocates its records and the reader's
// buffers: at worst a field per byte (",,,,…"), each a string header and
// encoding/csv's index and position of it, in slices grown by doubling
// (measured: up to 115 bytes a byte), plus bufio's and encoding/csv's
// buffers.
var readerBound = fuzzcheck.Bound{PerByte: 256, Fixed: 64 << 10}

// FuzzReader: the CSV reader on any bytes. Records come with the line
// they start on (from 1, in order) and the offset after each (growing,
// within the file); reading stops with io.EOF or a *NotCSVError naming a
// line; a reader resumed at any record's Offset and NextLine (as an
// import's checkpoint does) reads the same records at the same lines and
// offsets; every record written back with AppendRecord reads back the
// same (but a CRLF in a field: see FuzzRecords); memory is linear in the
// file.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzFiles {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type read struct {
			rec        []string
			line, next int
			off        int64
		}
		var recs []read
		var end error
		readerBound.Check(t, "reading the file", len(data), func() {
			r := NewReader(bytes.NewReader(data))
			for {
				rec, line, err := r.Read()
				if err != nil {
					end = err
					return
				}
				recs = append(recs, read{rec, line, r.NextLine(), r.Offset()})
			}
		})
		var notCSV *NotCSVError
		if end != io.EOF && (!errors.As(end, &notCSV) || notCSV.Line < 1) {
			t.Fatalf("reading stopped with %v", end)
		}
		line, off := 1, int64(0)
		for i, r := range recs {
			if r.line < line || r.next <= r.line || r.off <= off || r.off > int64(len(data)) || len(r.rec) == 0 {
				t.Fatalf("record %d %q: line %d (next %d), offset %d; the previous ended before line %d at %d", i, r.rec, r.line, r.next, r.off, line, off)
			}
			line, off = r.next, r.off
		}
		// Resumed after each of the first few records, and after the
		// last: the same records.
		for i, r := range recs {
			if i > 3 && i < len(recs)-1 {
				continue
			}
			rest := NewReaderAt(bytes.NewReader(data[r.off:]), r.off, r.next)
			for j := i + 1; ; j++ {
				rec, line, err := rest.Read()
				if j == len(recs) {
					var resumed *NotCSVError
					if err != end && !(errors.As(err, &resumed) && end == error(notCSV) && resumed.Line == notCSV.Line) {
						t.Fatalf("resumed after record %d: ended with %v, not %v", i, err, end)
					}
					break
				}
				if err != nil || line != recs[j].line || !slices.Equal(rec, recs[j].rec) || rest.Offset() != recs[j].off || rest.NextLine() != recs[j].next {
					t.Fatalf("resumed after record %d at %d, line %d: record %d is %q at line %d (offset %d, next %d), %v; want %q at %d (%d, %d)",
						i, r.off, r.next, j, rec, line, rest.Offset(), rest.NextLine(), err, recs[j].rec, recs[j].line, recs[j].off, recs[j].next)
				}
			}
		}
		// Written back, each record reads the same, but for the CRLF that
		// encoding/csv reads as LF (as in FuzzRecords): a field read
		// holds one where the file has CR CR LF inside quotes.
		for _, r := range recs {
			written := AppendRecord(nil, r.rec)
			back, _, err := NewReader(bytes.NewReader(written)).Read()
			want := make([]string, len(r.rec))
			for i := range back {
				back[i] = Unneutralize(back[i])
			}
			for i, f := range r.rec {
				want[i] = strings.ReplaceAll(f, "\r\n", "\n")
			}
			if err != nil || !slices.Equal(back, want) {
				t.Fatalf("record %q written as %q read back as %q, %v", r.rec, written, back, err)
			}
		}
	})
}

// FuzzRecords: AppendRecord then the reader give back any record's fields
// (the cells Depot writes: names, descriptions, lists, hostile formulas),
// with one exception that encoding/csv makes and the test states: a CRLF
// inside a field is read as LF. Every cell written is in quotes and none
// begins with a character a spreadsheet reads as a formula.
func FuzzRecords(f *testing.F) {
	f.Add("id\x00BOLT-1\x00Bolt, \"M8\"\x00=HYPERLINK(\"x\")\x00a\\;b")
	f.Add("+1\x00-2\x00@x\x00\tTab\x00\rCR\x00'q\x00''")
	f.Add("two\nlines\x00crlf\r\nlines\x00\x00")
	f.Add("")
	f.Add("\xff\x00caf\u00e9")
	f.Fuzz(func(t *testing.T, joined string) {
		rec := strings.Split(joined, "\x00")
		line := AppendRecord(nil, rec)
		if !bytes.HasSuffix(line, []byte("\r\n")) {
			t.Fatalf("%q written without CRLF: %q", rec, line)
		}
		r := NewReader(bytes.NewReader(line))
		back, n, err := r.Read()
		if err != nil || n != 1 || len(back) != len(rec) || r.Offset() != int64(len(line)) {
			t.Fatalf("%q written as %q read back as %q at line %d (offset %d), %v", rec, line, back, n, r.Offset(), err)
		}
		for i, cell := range back {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("cell %q written as %q, which a spreadsheet takes for a formula", rec[i], cell)
			}
			if got, want := Unneutralize(cell), strings.ReplaceAll(rec[i], "\r\n", "\n"); got != want {
				t.Fatalf("cell %q written in %q read back as %q", rec[i], line, got)
			}
		}
		if _, _, err := r.Read(); err != io.EOF {
			t.Fatalf("%q written as %q: a second record, %v", rec, line, err)
		}
	})
}

// FuzzRows: ReadHeader and Columns.Row on any file (its first record the
// header). A header without sku, or naming a column twice, is refused;
// a row of another width, or with a count that is not a whole number, is
// validation_failed naming the columns; a row read re-encodes (each value
// written as an export writes it: neutralized, lists joined) to a record
// that reads as the same row.
func FuzzRows(f *testing.F) {
	for _, s := range fuzzFiles {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		header, _, err := r.Read()
		if err != nil {
			return
		}
		cols, err := ReadHeader(header)
		if err != nil {
			if !errors.Is(err, ErrNoSKU) && !strings.Contains(err.Error(), "twice") {
				t.Fatalf("header %q: %v", header, err)
			}
			return
		}
		if !cols.Has(ColSKU) {
			t.Fatalf("header %q accepted without sku", header)
		}
		for {
			rec, line, err := r.Read()
			if err != nil {
				return
			}
			row, err := cols.Row(rec, line)
			if err != nil {
				var e *inventory.Error
				if !errors.As(err, &e) || e.Code != inventory.CodeValidationFailed || (len(rec) == len(header)) != (len(e.Fields) > 0) {
					t.Fatalf("row %q of header %q: %v", rec, header, err)
				}
				for _, fe := range e.Fields {
					if !strings.HasPrefix(fe.Field, "/") || fe.Code != "invalid_type" {
						t.Fatalf("row %q: field error %+v", rec, fe)
					}
				}
				continue
			}
			if row.Line != line || row.SKU != strings.TrimSpace(cols.Cell(rec, ColSKU)) {
				t.Fatalf("row %q: %+v", rec, row)
			}
			if row.Tags != nil {
				for _, tag := range *row.Tags {
					if tag == "" || !utf8.ValidString(tag) {
						t.Fatalf("row %q: tag %q", rec, tag)
					}
				}
			}
			again, err := cols.Row(encodeRow(header, cols, row), line)
			if err != nil || !reflect.DeepEqual(again, row) {
				t.Fatalf("row %q read as %+v; re-encoded as %q it reads %+v, %v", rec, row, encodeRow(header, cols, row), again, err)
			}
		}
	})
}

// encodeRow writes row back into a record of header's columns, as an
// export writes values: neutralized, lists joined, counts in decimal.
func encodeRow(header []string, cols Columns, row ImportRow) []string {
	rec := make([]string, len(header))
	count := func(n *int64) string {
		if n == nil {
			return ""
		}
		return strconv.FormatInt(*n, 10)
	}
	for col, i := range cols.index {
		switch col {
		case ColID:
			rec[i] = row.ID
		case ColSKU:
			rec[i] = row.SKU
		case ColName:
			rec[i] = *row.Name
		case ColDescription:
			rec[i] = *row.Description
		case ColTags:
			rec[i] = JoinList(*row.Tags)
		case ColQuantity:
			rec[i] = count(row.Quantity)
		case ColReorderPoint:
			rec[i] = count(row.ReorderPoint)
		}
	}
	for code, i := range cols.onHand {
		if n, ok := row.OnHand[code]; ok {
			rec[i] = count(&n)
		}
	}
	for i := range rec {
		rec[i] = Neutralize(rec[i])
	}
	return rec
}

// listBound: a list cell is split and joined in a small multiple of its
// size (a rune and a flag per character).
var listBound = fuzzcheck.Bound{PerByte: 64, Fixed: 16 << 10}

// FuzzLists: SplitList reads any cell as values that are non-empty UTF-8,
// and JoinList writes any list of such values (here the cell's, and the
// fuzzer's own split at NUL) as a cell that SplitList reads back as the
// same list. Neutralize makes any cell safe (it begins with no formula
// character) and Unneutralize gives it back.
func FuzzLists(f *testing.F) {
	for _, s := range []string{"fasteners; m8 ;", `a\;b;\\;\ x\ `, `x\`, ";;", " \u00a0 ", "t;1\x00@t2\x00 lead\x00trail \x00a\\b", "\xff;\u2028x"} {
		f.Add(s)
	}
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cell string) {
		var values []string
		listBound.Check(t, "SplitList", len(cell), func() { values = SplitList(cell) })
		for _, v := range values {
			if v == "" || !utf8.ValidString(v) {
				t.Fatalf("SplitList(%q) = %q", cell, values)
			}
		}
		if back := SplitList(JoinList(values)); !slices.Equal(back, values) {
			t.Fatalf("SplitList(%q) = %q, joined %q, split again %q", cell, values, JoinList(values), back)
		}
		var own []string
		for _, v := range strings.Split(cell, "\x00") {
			if v != "" && utf8.ValidString(v) {
				own = append(own, v)
			}
		}
		if back := SplitList(JoinList(own)); !slices.Equal(back, own) {
			t.Fatalf("%q joined as %q split as %q", own, JoinList(own), back)
		}
		safe := Neutralize(cell)
		if safe != cell && safe != "'"+cell || safe != "" && strings.ContainsRune("=+-@\t\r", rune(safe[0])) {
			t.Fatalf("Neutralize(%q) = %q", cell, safe)
		}
		if Unneutralize(safe) != cell {
			t.Fatalf("Neutralize(%q) = %q, Unneutralize gives %q", cell, safe, Unneutralize(safe))
		}
	})
}
