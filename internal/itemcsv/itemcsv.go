// Package itemcsv is the CSV form of items: the columns of an export, how a
// row is written and read back, and how cells are made safe to open in a
// spreadsheet. It knows nothing of storage or HTTP; the export and import
// workers stream through it a row at a time, so memory does not grow with
// the file.
//
// The file is RFC 4180: UTF-8 (optionally after a byte order mark, for
// spreadsheet programs), a header row, one row per item, every field in
// double quotes (a quote inside doubled), lines ending in CRLF. The columns
// (docs/csv.md):
//
//	id, sku, name, description, tags, quantity, available, reorderPoint, createdAt, updatedAt
//	onHand:<CODE>  one per location, in code order   (include "stock")
//	groups         the item's groups' names          (include "groups")
//
// tags and groups list their values separated by ";", a ";" or "\" inside
// a value and a space at either end of it escaped with "\". Times are UTC
// RFC 3339 with milliseconds. An empty reorderPoint is none.
//
// Formula injection (OWASP, "CSV Injection"): a cell that begins with "=",
// "+", "-", "@", a tab or a carriage return is read by spreadsheet programs
// as a formula, so it is written with a "'" in front, which they show as
// text; so is a cell that begins with "'" itself, so that reading drops
// exactly one leading "'" from any cell and every value comes back as it
// was written.
package itemcsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/depot-inventory/depot/internal/inventory"
)

// The base columns, in order.
const (
	ColID           = "id"
	ColSKU          = "sku"
	ColName         = "name"
	ColDescription  = "description"
	ColTags         = "tags"
	ColQuantity     = "quantity"
	ColAvailable    = "available"
	ColReorderPoint = "reorderPoint"
	ColCreatedAt    = "createdAt"
	ColUpdatedAt    = "updatedAt"
	ColGroups       = "groups"
	// OnHandPrefix begins the column of one location's on hand:
	// "onHand:RTM-DC1".
	OnHandPrefix = "onHand:"
)

// BaseColumns are the columns of every export, in order.
var BaseColumns = []string{ColID, ColSKU, ColName, ColDescription, ColTags, ColQuantity, ColAvailable,
	ColReorderPoint, ColCreatedAt, ColUpdatedAt}

// BOM is the UTF-8 byte order mark an export may begin with.
const BOM = "\uFEFF"

// Layout is the columns of one export.
type Layout struct {
	Locations []inventory.Location // include "stock": one column each, in this order
	Groups    bool                 // include "groups"
}

// Header is the layout's header row.
func (l Layout) Header() []string {
	h := slices.Clone(BaseColumns)
	for _, loc := range l.Locations {
		h = append(h, OnHandPrefix+loc.Code)
	}
	if l.Groups {
		h = append(h, ColGroups)
	}
	return h
}

// Row is what one row says of an item.
type Row struct {
	Item   inventory.Item
	OnHand map[string]int64 // by location id; a location without a level is 0
	Groups []string         // names of the item's live groups
}

// Record is the row's fields, in the layout's order.
func (l Layout) Record(r Row) []string {
	it := r.Item
	rec := []string{it.ID, it.SKU, it.Name, it.Description, JoinList(it.Tags),
		strconv.FormatInt(it.Quantity, 10), strconv.FormatInt(it.Available(), 10), "",
		it.CreatedAt.UTC().Format(inventory.TimeLayout), it.UpdatedAt.UTC().Format(inventory.TimeLayout)}
	if it.ReorderPoint != nil {
		rec[7] = strconv.FormatInt(*it.ReorderPoint, 10)
	}
	for _, loc := range l.Locations {
		rec = append(rec, strconv.FormatInt(r.OnHand[loc.ID], 10))
	}
	if l.Groups {
		rec = append(rec, JoinList(r.Groups))
	}
	return rec
}

// Neutralize makes a cell safe to open in a spreadsheet: a "'" in front of
// a cell a spreadsheet would read as a formula, or that begins with "'".
func Neutralize(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r'", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// Unneutralize is the inverse of Neutralize: one leading "'" dropped.
func Unneutralize(cell string) string { return strings.TrimPrefix(cell, "'") }

// AppendRecord appends a record to buf as one line of the file: each field
// neutralized and quoted, CRLF at the end.
func AppendRecord(buf []byte, rec []string) []byte {
	for i, f := range rec {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		f = Neutralize(f)
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				break
			}
			buf = append(buf, f[:j+1]...)
			buf = append(buf, '"')
			f = f[j+1:]
		}
		buf = append(buf, f...)
		buf = append(buf, '"')
	}
	return append(buf, '\r', '\n')
}

// JoinList writes a list cell: the values separated by ";", with "\", ";"
// and a white space at either end of a value escaped by "\".
func JoinList(values []string) string {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteByte(';')
		}
		runes := []rune(v)
		for j, r := range runes {
			edge := j == 0 || j == len(runes)-1
			if r == '\\' || r == ';' || (edge && unicode.IsSpace(r)) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SplitList reads a list cell: values separated by unescaped ";", white
// space around each dropped unless escaped, empty values dropped.
func SplitList(cell string) []string {
	var out []string
	var cur []rune
	var escaped []bool
	flush := func() {
		lo, hi := 0, len(cur)
		for lo < hi && !escaped[lo] && unicode.IsSpace(cur[lo]) {
			lo++
		}
		for hi > lo && !escaped[hi-1] && unicode.IsSpace(cur[hi-1]) {
			hi--
		}
		if hi > lo {
			out = append(out, string(cur[lo:hi]))
		}
		cur, escaped = cur[:0], escaped[:0]
	}
	esc := false
	for _, r := range cell {
		switch {
		case esc:
			cur, escaped, esc = append(cur, r), append(escaped, true), false
		case r == '\\':
			esc = true
		case r == ';':
			flush()
		default:
			cur, escaped = append(cur, r), append(escaped, false)
		}
	}
	if esc {
		cur, escaped = append(cur, '\\'), append(escaped, true)
	}
	flush()
	return out
}

// Columns is a header read from a file: which column holds what. Header
// names are matched without regard to case; columns it does not know are
// listed and ignored.
type Columns struct {
	index   map[string]int // base column or "groups" -> position
	onHand  map[string]int // location code -> position
	Unknown []string
	width   int
}

// ErrNoSKU is a header without a sku column.
var ErrNoSKU = errors.New("the header has no sku column: every row is matched to an item by its sku")

// ReadHeader reads a header row.
func ReadHeader(rec []string) (Columns, error) {
	c := Columns{index: map[string]int{}, onHand: map[string]int{}, width: len(rec)}
	known := append(slices.Clone(BaseColumns), ColGroups)
	for i, name := range rec {
		name = strings.TrimSpace(name)
		if i == 0 {
			name = strings.TrimPrefix(name, BOM)
		}
		if code, ok := cutFold(name, OnHandPrefix); ok {
			code = strings.ToUpper(strings.TrimSpace(code))
			if _, dup := c.onHand[code]; dup {
				return c, fmt.Errorf("the header names column %q twice", name)
			}
			c.onHand[code] = i
			continue
		}
		j := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, name) })
		if j < 0 {
			c.Unknown = append(c.Unknown, name)
			continue
		}
		if _, dup := c.index[known[j]]; dup {
			return c, fmt.Errorf("the header names column %q twice", known[j])
		}
		c.index[known[j]] = i
	}
	if _, ok := c.index[ColSKU]; !ok {
		return c, ErrNoSKU
	}
	return c, nil
}

func cutFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// Has reports whether the file has a column.
func (c Columns) Has(col string) bool { _, ok := c.index[col]; return ok }

// OnHandCodes are the location codes of the file's onHand columns.
func (c Columns) OnHandCodes() []string {
	codes := make([]string, 0, len(c.onHand))
	for code := range c.onHand {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

// ImportRow is what one row of a file asks for an item. A column the file
// lacks is nil; so is an empty quantity or onHand cell (no change of
// stock). An empty description is "", an empty tags cell no tags, an
// empty reorderPoint none. id, available, createdAt, updatedAt and groups
// are read-only: ignored.
type ImportRow struct {
	Line         int    // the line of the file the row starts on (the header's is 1)
	ID           string // the id column's cell, read-only: it only tells a deleted item
	SKU          string
	Name         *string
	Description  *string
	Tags         *[]string
	Quantity     *int64
	ReorderPoint *int64
	// ReorderPointSet is true when the file has a reorderPoint column.
	ReorderPointSet bool
	OnHand          map[string]int64 // by location code, for the non-empty onHand cells
}

// Row reads one record. Field errors name the column (e.g. "/quantity").
func (c Columns) Row(rec []string, line int) (ImportRow, error) {
	r := ImportRow{Line: line}
	var fields []inventory.FieldError
	bad := func(col, code, format string, args ...any) {
		fields = append(fields, inventory.FieldError{Field: "/" + col, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	if len(rec) != c.width {
		return r, inventory.Invalid(inventory.CodeValidationFailed,
			fmt.Sprintf("line %d has %d fields, the header %d", line, len(rec), c.width))
	}
	cell := func(col string) (string, bool) {
		i, ok := c.index[col]
		if !ok {
			return "", false
		}
		return Unneutralize(rec[i]), true
	}
	count := func(col, v string) *int64 {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad(col, "invalid_type", "%s must be a whole number, got %q", col, v)
			return nil
		}
		return &n
	}
	r.SKU, _ = cell(ColSKU)
	r.SKU = strings.TrimSpace(r.SKU)
	r.ID, _ = cell(ColID)
	r.ID = strings.TrimSpace(r.ID)
	if v, ok := cell(ColName); ok {
		r.Name = &v
	}
	if v, ok := cell(ColDescription); ok {
		r.Description = &v
	}
	if v, ok := cell(ColTags); ok {
		tags := SplitList(v)
		if tags == nil {
			tags = []string{}
		}
		r.Tags = &tags
	}
	if v, ok := cell(ColQuantity); ok {
		r.Quantity = count(ColQuantity, v)
	}
	if v, ok := cell(ColReorderPoint); ok {
		r.ReorderPointSet = true
		r.ReorderPoint = count(ColReorderPoint, v)
	}
	for code, i := range c.onHand {
		if n := count(OnHandPrefix+code, Unneutralize(rec[i])); n != nil {
			if r.OnHand == nil {
				r.OnHand = map[string]int64{}
			}
			r.OnHand[code] = *n
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b inventory.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return r, inventory.Invalid(inventory.CodeValidationFailed, fmt.Sprintf("line %d has invalid fields", line), fields...)
	}
	return r, nil
}

// Reader reads a file's records one at a time, with their line numbers
// and the byte offset after each.
type Reader struct {
	r    *csv.Reader
	base int64 // the file's offset of the reader's first byte
	line int   // lines before the reader's first byte
	next int   // the line after the last record read
}

// NewReader reads CSV from r: RFC 4180, CRLF or LF, a leading byte order
// mark allowed.
func NewReader(r io.Reader) *Reader {
	br := bufio.NewReader(r)
	var base int64
	if b, err := br.Peek(len(BOM)); err == nil && string(b) == BOM {
		_, _ = br.Discard(len(BOM))
		base = int64(len(BOM))
	}
	return newReader(br, base, 0)
}

// NewReaderAt reads the rest of a file from a record boundary: r holds
// the file's bytes from offset on, which begin on line (a previous
// Reader's Offset and NextLine).
func NewReaderAt(r io.Reader, offset int64, line int) *Reader {
	return newReader(bufio.NewReader(r), offset, line-1)
}

func newReader(r io.Reader, base int64, line int) *Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a row of another width is that row's error
	cr.ReuseRecord = false
	return &Reader{r: cr, base: base, line: line, next: line + 1}
}

// Offset is the file's offset after the last record read.
func (r *Reader) Offset() int64 { return r.base + r.r.InputOffset() }

// NextLine is the line after the last record read (which ends on a later
// line than it starts when a field holds line breaks): where the next
// record starts.
func (r *Reader) NextLine() int { return r.next }

// Read returns the next record and the line it starts on (a field may
// hold line breaks, so a record may span lines); io.EOF at the end. A record that is not CSV is an error that names its line.
func (r *Reader) Read() ([]string, int, error) {
	rec, err := r.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, r.line + pe.StartLine, &NotCSVError{Line: r.line + pe.StartLine, Err: pe.Err}
		}
		return nil, 0, err
	}
	line, _ := r.r.FieldPos(0)
	last, _ := r.r.FieldPos(len(rec) - 1)
	r.next = r.line + last + strings.Count(rec[len(rec)-1], "\n") + 1
	return rec, r.line + line, nil
}

// NotCSVError is a record that is not CSV.
type NotCSVError struct {
	Line int // where the record starts
	Err  error
}

func (e *NotCSVError) Error() string { return fmt.Sprintf("line %d is not CSV: %v", e.Line, e.Err) }

// Cell is a record's cell of a column ("" when the file has no such column
// or the record is too short), unneutralized.
func (c Columns) Cell(rec []string, col string) string {
	i, ok := c.index[col]
	if !ok || i >= len(rec) {
		return ""
	}
	return Unneutralize(rec[i])
}

// Filename is the name an export is downloaded as.
func Filename(at time.Time) string {
	return "depot-items-" + at.UTC().Format("2006-01-02") + ".csv"
}

// HasBOM reports whether data begins with the byte order mark.
func HasBOM(data []byte) bool { return bytes.HasPrefix(data, []byte(BOM)) }
