// Package searchoracle generates a realistic catalogue and answers item
// lists by brute force, independently of how Depot serves them: the
// oracle the search tests hold GET /items to (internal/itest on the
// engines, internal/usecase on the in-memory store). It is dev-only.
package searchoracle

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Word lists of generated names and tags: several languages, accents,
// sizes with signs (×, Ø, ", #), and tags holding "~" and "#".
var (
	Nouns = []string{"bolt", "Schraube", "écrou", "washer", "rondelle", "Hex bolt", "clé", "Ölfilter", "bearing",
		"roulement", "Dübel", "gasket", "joint", "spring", "Feder", "café filter", "tube", "Rohr", "valve", "Ventil",
		"hinge", "Scharnier", "crème pot", "label", "étiquette", "pallet", "Größe", "naïve plug", "façade panel", "chain"}
	Adjectives = []string{"hex", "flat", "zinc plated", "stainless", "galvanisé", "rostfrei", "heavy-duty", "mini",
		"Ø8", "blue", "rouge", "grün", "long", "kurz", "coarse"}
	Sizes = []string{"M8×40", "M6×20", "M10", "12mm", "3/8\"", "DN50", "1,5m", "#4", "Nr. 7", ""}
	Tags  = []string{"fasteners", "plumbing", "électrique", "outdoor", "spare~part", "A#1", "Größe L", "promo",
		"fragile", "bulk", "hazmat", "seasonal"}
)

// Plan is one generated item: what to create, where to move some stock,
// which groups (by index) to put it in, and whether to delete it.
type Plan struct {
	In       inventory.CreateInput
	Location int // -1: created at the default location; else an index of the caller's locations
	MoveTo   int // -1: no transfer; else an index of the caller's locations
	Moved    int64
	Groups   []int
	Deleted  bool
}

// Generate returns n plans from seed, for a catalogue with locations and
// groups (counts).
func Generate(seed uint64, n, locations, groups int) []Plan {
	rng := rand.New(rand.NewPCG(seed, seed))
	plans := make([]Plan, n)
	for i := range plans {
		name := Adjectives[rng.IntN(len(Adjectives))] + " " + Nouns[rng.IntN(len(Nouns))]
		if s := Sizes[rng.IntN(len(Sizes))]; s != "" {
			name += " " + s
		}
		if rng.IntN(3) == 0 {
			r := []rune(name)
			name = strings.ToUpper(string(r[:1])) + string(r[1:])
		}
		p := Plan{In: inventory.CreateInput{
			SKU:      fmt.Sprintf("%s-%05d", []string{"BLT", "NUT", "WSH", "PLB", "ELC"}[rng.IntN(5)], i),
			Name:     name,
			Quantity: int64(rng.IntN(120)),
		}, Location: -1, MoveTo: -1}
		for _, tg := range Tags {
			if rng.IntN(6) == 0 {
				p.In.Tags = append(p.In.Tags, tg)
			}
		}
		if rng.IntN(4) == 0 {
			rp := int64(rng.IntN(60))
			p.In.ReorderPoint = &rp
		}
		if rng.IntN(3) == 0 {
			p.Location = rng.IntN(locations)
		}
		if p.In.Quantity > 10 && rng.IntN(4) == 0 {
			if to := rng.IntN(locations); to != p.Location {
				p.MoveTo, p.Moved = to, p.In.Quantity/3
			}
		}
		for g := range groups {
			if rng.IntN(7) == 0 {
				p.Groups = append(p.Groups, g)
			}
		}
		p.Deleted = rng.IntN(20) == 0
		plans[i] = p
	}
	return plans
}

// Stored is what the oracle knows of an item: the item as stored and the
// locations where it has a level.
type Stored struct {
	Item      inventory.Item
	Locations []string
}

// Query is a list request in the oracle's terms.
type Query struct {
	Q, Tag, GroupID, LocationID string
	LowStock                    bool
	MinQuantity, MaxQuantity    *int64
	Sort                        string // "sku" when empty
}

// Words folds text as the API promises — without regard to case or
// accents — and cuts it into words of letters and digits.
func Words(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.FieldsFunc(b.String(), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Answer is the ids of the live items that match every filter of q, in
// q's order, by brute force.
func Answer(data []Stored, q Query) []string {
	var out []Stored
	for _, d := range data {
		if matches(d, q) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Stored) int {
		x, y := a.Item, b.Item
		switch q.Sort {
		case inventory.SortName:
			return cmp.Or(strings.Compare(strings.Join(Words(x.Name), " "), strings.Join(Words(y.Name), " ")),
				strings.Compare(x.ID, y.ID))
		case inventory.SortUpdated:
			return cmp.Or(y.UpdatedAt.Compare(x.UpdatedAt), strings.Compare(y.ID, x.ID))
		}
		return cmp.Or(strings.Compare(x.SKU, y.SKU), strings.Compare(x.ID, y.ID))
	})
	ids := make([]string, len(out))
	for i, d := range out {
		ids[i] = d.Item.ID
	}
	return ids
}

func matches(d Stored, q Query) bool {
	it := d.Item
	if it.Deleted != nil {
		return false
	}
	if q.Q != "" {
		words := append(Words(it.Name), Words(it.SKU)...)
		for _, term := range Words(q.Q) {
			if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, term) }) {
				return false
			}
		}
	}
	switch {
	case q.Tag != "" && !slices.Contains(it.Tags, q.Tag),
		q.GroupID != "" && !slices.Contains(it.Groups, q.GroupID),
		q.LocationID != "" && !slices.Contains(d.Locations, q.LocationID),
		q.LowStock && !(it.ReorderPoint != nil && it.Quantity-it.Committed < *it.ReorderPoint),
		q.MinQuantity != nil && it.Quantity < *q.MinQuantity,
		q.MaxQuantity != nil && it.Quantity > *q.MaxQuantity:
		return false
	}
	return true
}

// Filter is one filter of a list request, as GET /items names it.
type Filter struct{ Name, Value string }

// Cases returns the lists to check: none, each filter alone, and each pair
// of filters of different kinds (the first value of each kind).
func Cases(filters []Filter) [][]Filter {
	first := map[string]Filter{}
	var kinds []string
	for _, f := range filters {
		if _, ok := first[f.Name]; !ok {
			first[f.Name] = f
			kinds = append(kinds, f.Name)
		}
	}
	cases := [][]Filter{nil}
	for _, f := range filters {
		cases = append(cases, []Filter{f})
	}
	for i, a := range kinds {
		for _, b := range kinds[i+1:] {
			cases = append(cases, []Filter{first[a], first[b]})
		}
	}
	return cases
}

// StandardFilters are the filters the search tests check, given the ids
// of the catalogue's locations and groups (at least 1 and 6).
func StandardFilters(locations, groups []string) []Filter {
	return []Filter{
		{"q", "bolt"}, {"q", "ECROU"}, {"q", "zinc pl"}, {"q", "gro"}, {"q", "blt 000"}, {"q", "Ø8"},
		{"tag", "fasteners"}, {"tag", "spare~part"}, {"tag", "A#1"},
		{"groupId", groups[0]}, {"groupId", groups[len(groups)-1]},
		{"locationId", locations[0]}, {"locationId", inventory.DefaultLocation},
		{"lowStock", "true"}, {"minQuantity", "40"}, {"maxQuantity", "70"},
	}
}

// QueryOf is the oracle query of a case in an order.
func QueryOf(filters []Filter, sort string) Query {
	q := Query{Sort: sort}
	for _, f := range filters {
		switch f.Name {
		case "q":
			q.Q = f.Value
		case "tag":
			q.Tag = f.Value
		case "groupId":
			q.GroupID = f.Value
		case "locationId":
			q.LocationID = f.Value
		case "lowStock":
			q.LowStock = f.Value == "true"
		case "minQuantity", "maxQuantity":
			var n int64
			fmt.Sscan(f.Value, &n)
			if f.Name == "minQuantity" {
				q.MinQuantity = &n
			} else {
				q.MaxQuantity = &n
			}
		}
	}
	return q
}
