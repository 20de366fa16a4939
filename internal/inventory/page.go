package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Page sizes.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// Position is where a list stands: the sort-key fields of the last entry of
// a page, in the list's order. The next page starts after it.
type Position []string

// Range asks storage for one page: at most Limit entries after After (nil:
// from the start).
type Range struct {
	Limit int
	After Position
}

// PageRequest is a caller's request for one page of a list.
type PageRequest struct {
	Limit  int    // 1 to MaxPageSize; callers that let it be chosen send DefaultPageSize
	Cursor string // "": the first page
}

// Page is one page of a list and the cursor of the next ("" on the last).
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// CursorFormat is the grammar of one list's cursors. A cursor names a
// position in the list's order: its fields joined by "~", each matching its
// pattern (no pattern admits "~"). Cursors are opaque to clients, which only
// pass back what a page returned; but every string of the grammar is a
// position, so any cursor the API's schema admits is one the list accepts,
// and anything else is 400 invalid_cursor.
type CursorFormat struct {
	Name     string   // the list, for messages
	Patterns []string // one per field, unanchored, in RE2 and ECMA-262 syntax alike
	Example  string
	// re compiles Pattern on first use rather than at init: a NameKey
	// field's {0,800} makes a program of about 450 KiB, and a function
	// decodes the cursors of one list at most, so compiling every format
	// at init cost each function's cold start about 1.5 ms and 1.5 MiB of
	// heap (make bench's cold start line). TestCursorExamples checks each
	// Example against its pattern, which init used to do.
	re func() *regexp.Regexp
}

// cursorFormats are the formats newCursorFormat made, for
// TestCursorExamples.
var cursorFormats []*CursorFormat

const cursorSep = "~"

// Field patterns of cursors.
const (
	cursorULID = `[0-9A-HJKMNP-TV-Z]{26}`
	cursorSKU  = `[A-Za-z0-9._-]{1,64}`
	cursorTime = `[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z`
	cursorCode = `[A-Z0-9][A-Z0-9-]{1,15}`
	cursorLoc  = `(default|[0-9A-HJKMNP-TV-Z]{26})`
	// cursorNameKey: a NameKey (folded words joined by "!"; no spaces).
	cursorNameKey = `[^~\x00-\x20]{0,800}`
	// cursorHex: text as lower-case hexadecimal UTF-8, for fields (tags)
	// that may hold any character, "~" included.
	cursorHex = `([0-9a-f]{2}){1,200}`
)

// The lists' cursor formats.
var (
	// ItemsCursor: live items (GET /items, a group's items) in the order
	// asked for; position (sort value, id), the sort value being the SKU,
	// the NameKey of the name, or the update time. One grammar admits all
	// three, so a cursor is never refused for its order.
	ItemsCursor = newCursorFormat("items", "BOLT-M8-40~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorNameKey, cursorULID)
	// DeletedItemsCursor: deleted items, newest deletion first; position
	// (deleted at, id).
	DeletedItemsCursor = newCursorFormat("deleted items", "2024-11-26T10:00:00.000Z~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorTime, cursorULID)
	// LedgerCursor: an item's ledger, newest first; position (entry id).
	LedgerCursor = newCursorFormat("ledger", "01JDQ4A2B3C4D5E6F7G8H9J0KM", cursorULID)
	// ActivityCursor: an item's activity, newest first; position (entry id).
	ActivityCursor = newCursorFormat("activity", "01JDQ4A2B3C4D5E6F7G8H9J0KM", cursorULID)
	// LocationsCursor: live locations in code order; position (code, id).
	LocationsCursor = newCursorFormat("locations", "RTM-DC1~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorCode, cursorLoc)
	// DeletedLocationsCursor: deleted locations, newest deletion first;
	// position (deleted at, id).
	DeletedLocationsCursor = newCursorFormat("deleted locations", "2024-11-26T10:00:00.000Z~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorTime, cursorULID)
	// LocationStockCursor: the levels at a location, in the SKU order of
	// their items; position (sku, item id).
	LocationStockCursor = newCursorFormat("location stock", "BOLT-M8-40~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorSKU, cursorULID)
	// GroupsCursor: live groups in name order; position (NameKey, id).
	GroupsCursor = newCursorFormat("groups", "spring!sale~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorNameKey, cursorULID)
	// DeletedGroupsCursor: deleted groups, newest deletion first;
	// position (deleted at, id).
	DeletedGroupsCursor = newCursorFormat("deleted groups", "2024-11-26T10:00:00.000Z~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorTime, cursorULID)
	// TagsCursor: tags in order; position (the tag, as hexadecimal UTF-8).
	TagsCursor = newCursorFormat("tags", "666173746e6572", cursorHex)
	// LocationLedgerCursor: every item's ledger lines at a location, newest
	// first; position (line id, item id).
	LocationLedgerCursor = newCursorFormat("location history", "01JDQ4A2B3C4D5E6F7G8H9J0KM~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorULID, cursorULID)
	// ExportsCursor: export jobs, newest first; position (created at, id).
	ExportsCursor = newCursorFormat("exports", "2024-11-26T10:00:00.000Z~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorTime, cursorULID)
	// ImportsCursor: import jobs, newest first; position (created at, id).
	ImportsCursor = newCursorFormat("imports", "2024-11-26T10:00:00.000Z~01JDQ3ZK7X9V4M2N8P6R5T3W1Y", cursorTime, cursorULID)
)

func newCursorFormat(name, example string, patterns ...string) *CursorFormat {
	f := &CursorFormat{Name: name, Patterns: patterns, Example: example}
	f.re = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(f.Pattern()) })
	cursorFormats = append(cursorFormats, f)
	return f
}

// Pattern is the anchored regular expression of the whole cursor, as
// openapi.yaml states it.
func (f *CursorFormat) Pattern() string {
	return "^" + strings.Join(f.Patterns, cursorSep) + "$"
}

// Encode returns the cursor of a position; "" for nil (the last page).
func (f *CursorFormat) Encode(p Position) string {
	if p == nil {
		return ""
	}
	return strings.Join(p, cursorSep)
}

// Decode returns the position a cursor names; nil for "" (the first page).
func (f *CursorFormat) Decode(cursor string) (Position, error) {
	if cursor == "" {
		return nil, nil
	}
	// Go's regexp reads each byte of invalid UTF-8 as U+FFFD, which a
	// NameKey field admits; storage keys are UTF-8, so such a cursor is not
	// one a list issued.
	if !utf8.ValidString(cursor) || !f.re().MatchString(cursor) {
		return nil, Invalid(CodeInvalidCursor,
			fmt.Sprintf("the cursor is not one the %s list issued; pass back nextCursor as it was, or start again without one", f.Name),
			FieldError{Field: "cursor", Code: "pattern", Message: "cursor must match " + f.Pattern()})
	}
	return strings.Split(cursor, cursorSep), nil
}

// Range returns the storage range of a page request: the limit checked, the
// cursor decoded.
func (f *CursorFormat) Range(req PageRequest) (Range, error) {
	limit := req.Limit
	if limit < 1 || limit > MaxPageSize {
		return Range{}, Invalid(CodeInvalidParameter, fmt.Sprintf("limit must be an integer from 1 to %d", MaxPageSize),
			FieldError{Field: "limit", Code: "range", Message: fmt.Sprintf("limit must be an integer from 1 to %d, got %d", MaxPageSize, req.Limit)})
	}
	after, err := f.Decode(req.Cursor)
	return Range{Limit: limit, After: after}, err
}
