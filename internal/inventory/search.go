package inventory

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Search: word-prefix search over an item's name and SKU, without regard to
// case or accents. Text is folded (compatibility-decomposed, accents
// dropped, lower-cased) and cut into words: runs of letters and digits. An
// item matches a query when each of the query's words is the beginning of
// one of the item's words: "bolt m8" finds "Hex bolt M8×40".
//
// Storage indexes every beginning of up to SearchPrefixLen characters of
// every word of a live item (its search keys), so that a query word is
// served by the index partition of its first SearchPrefixLen characters
// (docs/data-model.md §2.7).
const (
	// SearchPrefixLen is the longest word beginning indexed.
	SearchPrefixLen = 4
	// MaxSearchKeys bounds the search keys one item writes, so that its
	// create, delete and restore stay one transaction (at most 99, 96 and
	// 96 actions with 20 tags and 10 groups). An item with more is indexed
	// under FacetSearchOverflow instead, which every search reads too, so
	// that it is still found: a name of about 9 words or more.
	MaxSearchKeys = 32
	// MaxQueryWords bounds the words of a query.
	MaxQueryWords = 8
)

var folder = runes.Remove(runes.In(unicode.Mn))

// Fold returns s compatibility-decomposed, without accents (combining
// marks) and in lower case: "Ångström M8×40" is "angstrom m8×40".
func Fold(s string) string {
	out, _, err := transform.String(transform.Chain(norm.NFKD, folder, norm.NFC), s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// Words returns the words of s, folded: its runs of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// NameKey is the sort key of a name: its words, folded, joined by "!"
// (which sorts below every letter and digit, so the order is that of the
// words joined by spaces). Items in name order and groups are ordered by
// it; two group names with one key clash.
func NameKey(name string) string { return strings.Join(Words(name), "!") }

// SearchKeys returns the search keys of an item: every beginning, of 1 to
// SearchPrefixLen characters, of each word of its name and SKU, sorted;
// nil and true when there are more than MaxSearchKeys.
func SearchKeys(it Item) (keys []string, overflow bool) {
	for _, w := range slices.Concat(Words(it.Name), Words(it.SKU)) {
		n := 0
		for i := range w {
			if n == SearchPrefixLen {
				break
			}
			n++
			_, size := utf8.DecodeRuneInString(w[i:])
			if p := w[:i+size]; !slices.Contains(keys, p) {
				keys = append(keys, p)
			}
		}
	}
	if len(keys) > MaxSearchKeys {
		return nil, true
	}
	slices.Sort(keys)
	return keys, false
}

// SearchKeyOf is the search key that serves a query word: its first
// SearchPrefixLen characters.
func SearchKeyOf(word string) string {
	n := 0
	for i := range word {
		if n == SearchPrefixLen {
			return word[:i]
		}
		n++
	}
	return word
}

// MatchesWords reports whether each query word begins a word of the
// item's name or SKU.
func (it Item) MatchesWords(query []string) bool {
	words := slices.Concat(Words(it.Name), Words(it.SKU))
	for _, q := range query {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, q) }) {
			return false
		}
	}
	return true
}

// Facets of live items: index partitions, each in SKU order, that serve a
// filter of GET /items. A live item is in one partition per tag, per
// group, and per search key (or in FacetSearchOverflow); storage writes
// them with the item, so they change atomically with it.
const FacetSearchOverflow = "q*"

// TagFacet, GroupFacet and SearchFacet name the partitions of a tag, a
// group and a search key.
func TagFacet(tag string) string  { return "tag#" + tag }
func GroupFacet(id string) string { return "group#" + id }
func SearchFacet(k string) string { return "q#" + k }

// Facets returns the facets of an item: none for a deleted item.
func (it Item) Facets() []string {
	if it.Deleted != nil {
		return nil
	}
	var out []string
	for _, t := range it.Tags {
		out = append(out, TagFacet(t))
	}
	for _, g := range it.Groups {
		out = append(out, GroupFacet(g))
	}
	keys, overflow := SearchKeys(it)
	if overflow {
		out = append(out, FacetSearchOverflow)
	}
	for _, k := range keys {
		out = append(out, SearchFacet(k))
	}
	return out
}

// Actions is the number of actions of the transaction that commits the
// change (docs/data-model.md §4): the item; its SKU markers; its facet
// rows deleted and put (all put again when the SKU changes); one counter
// per tag and per group whose live count moves, or a check of LiveGroup;
// its levels, ledger lines and their locations' guards; its activity
// entries; and the idempotency record.
func (c ItemChange) Actions() int {
	n := 1 + len(c.Levels) + len(c.Ledger) + len(LocationGuards(c.Levels)) + len(c.Activity)
	var old Item
	oldLive := c.Old != nil && c.Old.Deleted == nil
	if c.Old != nil {
		old = *c.Old
	}
	nextLive := c.Next.Deleted == nil
	switch {
	case oldLive && nextLive && old.SKU != c.Next.SKU:
		n += 2
	case oldLive != nextLive:
		n++
	}
	before, after := old.Facets(), c.Next.Facets()
	resort := c.Old != nil && old.SKU != c.Next.SKU
	for _, f := range before {
		if !slices.Contains(after, f) {
			n++
		}
	}
	for _, f := range after {
		if resort || !slices.Contains(before, f) {
			n++
		}
	}
	liveSet := func(it Item, live bool, of func(Item) []string) []string {
		if !live {
			return nil
		}
		return of(it)
	}
	moved := func(a, b []string) []string {
		var out []string
		for _, v := range a {
			if !slices.Contains(b, v) {
				out = append(out, v)
			}
		}
		for _, v := range b {
			if !slices.Contains(a, v) {
				out = append(out, v)
			}
		}
		return out
	}
	tags := func(it Item) []string { return it.Tags }
	groups := func(it Item) []string { return it.Groups }
	n += len(moved(liveSet(old, oldLive, tags), liveSet(c.Next, nextLive, tags)))
	n += len(NewTags(c.Old, c.Next))
	movedGroups := moved(liveSet(old, oldLive, groups), liveSet(c.Next, nextLive, groups))
	n += len(movedGroups)
	if c.LiveGroup != "" && !slices.Contains(movedGroups, c.LiveGroup) {
		n++
	}
	if c.Idempotency != nil {
		n++
	}
	return n
}

// NewTags are the tags a live item gains in a change: tags it did not have
// before, even while deleted. Storage adds each to the list of tags.
func NewTags(old *Item, next Item) []string {
	if next.Deleted != nil {
		return nil
	}
	var out []string
	for _, t := range next.Tags {
		if old == nil || !slices.Contains(old.Tags, t) {
			out = append(out, t)
		}
	}
	return out
}
