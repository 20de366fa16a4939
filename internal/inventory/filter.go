package inventory

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// Orders of GET /items.
const (
	SortSKU     = "sku"
	SortName    = "name"
	SortUpdated = "-updatedAt"
)

// Sorts are the orders GET /items offers.
var Sorts = []string{SortSKU, SortName, SortUpdated}

// ItemQuery is what GET /items asks for: live items matching every filter
// set, in one order.
type ItemQuery struct {
	Q           string
	Words       []string // Q's words, set by Validate
	Tag         string
	GroupID     string
	LocationID  string // items with a level there
	LowStock    bool
	MinQuantity *int64
	MaxQuantity *int64
	Sort        string // "": SortSKU
}

// Validate checks the query, answering invalid_parameter with a field
// error per bad parameter, and sets Words and the default Sort.
func (q *ItemQuery) Validate() error {
	var fields []FieldError
	bad := func(field, code, format string, args ...any) {
		fields = append(fields, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	if q.Sort == "" {
		q.Sort = SortSKU
	}
	if !slices.Contains(Sorts, q.Sort) {
		bad("sort", "enum", "sort must be one of %v", Sorts)
	}
	if q.Q != "" {
		q.Words = nil
		for _, w := range Words(q.Q) {
			if !slices.Contains(q.Words, w) {
				q.Words = append(q.Words, w)
			}
		}
		switch {
		case utf8.RuneCountInString(q.Q) > MaxNameLen:
			bad("q", "too_long", "q must be at most %d characters", MaxNameLen)
		case len(q.Words) == 0:
			bad("q", "no_words", "q must hold at least one letter or digit")
		case len(q.Words) > MaxQueryWords:
			bad("q", "too_many", "q must hold at most %d words", MaxQueryWords)
		}
	}
	if q.Tag != "" {
		var v validator
		v.text("tag", q.Tag, 1, MaxTagLen)
		if blank(q.Tag) {
			v.add("tag", "blank", "tag must not be blank")
		}
		if e, ok := v.err().(*Error); ok {
			fields = append(fields, e.Fields...)
		}
	}
	if q.GroupID != "" && !IsValidID(q.GroupID) {
		bad("groupId", "pattern", "groupId must be a group id (a 26-character ULID)")
	}
	if q.LocationID != "" && !IsValidLocationID(q.LocationID) {
		bad("locationId", "pattern", "locationId must be a location id (a 26-character ULID or default)")
	}
	for name, n := range map[string]*int64{"minQuantity": q.MinQuantity, "maxQuantity": q.MaxQuantity} {
		if n != nil && *n < 0 {
			bad(name, "minimum", "%s must be 0 or more", name)
		}
	}
	if q.MinQuantity != nil && q.MaxQuantity != nil && *q.MinQuantity > *q.MaxQuantity {
		bad("maxQuantity", "range", "maxQuantity (%d) must not be below minQuantity (%d)", *q.MaxQuantity, *q.MinQuantity)
	}
	if q.LocationID != "" && q.Sort != SortSKU {
		bad("sort", "unsupported", "locationId lists items in SKU order only (through the location's stock levels); leave sort out or use sort=sku")
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b FieldError) int {
			if a.Field < b.Field {
				return -1
			}
			if a.Field > b.Field {
				return 1
			}
			return 0
		})
		return Invalid(CodeInvalidParameter, "the list's parameters are not valid: "+fields[0].Message, fields...)
	}
	return nil
}

// Match reports whether a live item meets every filter but LocationID,
// which its source serves (ItemSource).
func (q ItemQuery) Match(it Item) bool {
	switch {
	case it.Deleted != nil:
		return false
	case len(q.Words) > 0 && !it.MatchesWords(q.Words):
		return false
	case q.Tag != "" && !slices.Contains(it.Tags, q.Tag):
		return false
	case q.GroupID != "" && !slices.Contains(it.Groups, q.GroupID):
		return false
	case q.LowStock && !it.IsLowStock():
		return false
	case q.MinQuantity != nil && it.Quantity < *q.MinQuantity:
		return false
	case q.MaxQuantity != nil && it.Quantity > *q.MaxQuantity:
		return false
	}
	return true
}

// ItemSource is a list of live items, in one order, that storage reads
// from one index: the candidates of a query, which Match then filters.
type ItemSource struct {
	Sort string // SortSKU, SortName or SortUpdated
	// At most one of the following; none: every live item in Sort order.
	Facets     []string // SKU order: the union of these facets' partitions
	LocationID string   // SKU order: the items with a level at this location (deleted ones dropped)
	LowStock   bool     // SKU order: the low-stock index
}

// Source chooses the index that serves the query: the one that should
// hold the fewest candidates. Other orders than SKU are served by their
// own index of every live item, the filters applied to what it reads.
// For SKU order, the most selective first: a location's levels (the only
// index of them), a group, a tag, the search key of the longest query word
// (with the overflow partition), low stock, then every live item.
func (q ItemQuery) Source() ItemSource {
	src := ItemSource{Sort: q.Sort}
	if q.Sort != SortSKU {
		return src
	}
	switch {
	case q.LocationID != "":
		src.LocationID = q.LocationID
	case q.GroupID != "":
		src.Facets = []string{GroupFacet(q.GroupID)}
	case q.Tag != "":
		src.Facets = []string{TagFacet(q.Tag)}
	case len(q.Words) > 0:
		longest := ""
		for _, w := range q.Words {
			if k := SearchKeyOf(w); utf8.RuneCountInString(k) > utf8.RuneCountInString(longest) {
				longest = k
			}
		}
		src.Facets = []string{SearchFacet(longest), FacetSearchOverflow}
	case q.LowStock:
		src.LowStock = true
	}
	return src
}

// SortPosition is an item's position in a list in order sort.
func SortPosition(it Item, sort string) Position {
	switch sort {
	case SortName:
		return Position{NameKey(it.Name), it.ID}
	case SortUpdated:
		return Position{it.UpdatedAt.UTC().Format(TimeLayout), it.ID}
	}
	return Position{it.SKU, it.ID}
}

// Bounds of one filtered page: reading stops when it has this many
// candidates or made this many reads, and the page says it stopped early.
const (
	ListBudgetItems = 1000
	ListBudgetReads = 10
)
