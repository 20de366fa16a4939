package memstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/depot-inventory/depot/internal/inventory"
)

// sourceEntry is one entry of an item source: its position, and its item
// when that is live (nil: an entry that is read but not returned).
type sourceEntry struct {
	pos  inventory.Position
	item *inventory.Item
}

// ListItemSource reads up to r.Limit entries of a source after r.After,
// as the index that serves it is read, and returns the live items among
// them, in order, with the position of the last entry read (nil when no
// entry follows it). The sources, brute force over the items and levels:
//
//   - Sort SortName: every live item, by (NameKey of the name, id);
//   - SortUpdated: every live item, newest UpdatedAt first, then id
//     descending; position (UpdatedAt in inventory.TimeLayout, id);
//   - SortSKU (or ""), position (sku, id): with LocationID, the levels at
//     the location, of live and deleted items alike, by (Level.SKU, item
//     id) — a deleted or missing item's level is read, not returned; with
//     Facets, every item with any of them (inventory.Item.Facets: a
//     deleted item has none), once; with LowStock, the live items
//     inventory.Item.IsLowStock; else every live item.
//
// After a position is strictly after it in the source's order, whether
// or not an entry is at it. A source with more than one of Facets,
// LocationID and LowStock, or with one of them in another order than
// SKU's, or an unknown order, is an error, as is a limit below 1.
func (s *Store) ListItemSource(_ context.Context, src inventory.ItemSource, r inventory.Range) ([]inventory.Item, inventory.Position, error) {
	narrowed := 0
	for _, set := range []bool{len(src.Facets) > 0, src.LocationID != "", src.LowStock} {
		if set {
			narrowed++
		}
	}
	sort := src.Sort
	if sort == "" {
		sort = inventory.SortSKU
	}
	switch {
	case !slices.Contains(inventory.Sorts, sort):
		return nil, nil, fmt.Errorf("memstore: item source %+v: unknown order %q", src, src.Sort)
	case narrowed > 1:
		return nil, nil, fmt.Errorf("memstore: item source %+v: at most one of facets, location and low stock", src)
	case narrowed == 1 && sort != inventory.SortSKU:
		return nil, nil, fmt.Errorf("memstore: item source %+v: facets, a location and low stock are in SKU order only", src)
	case r.Limit < 1:
		return nil, nil, fmt.Errorf("memstore: item source %+v: limit %d", src, r.Limit)
	}

	s.mu.Lock()
	var entries []sourceEntry
	if src.LocationID != "" {
		for k, l := range s.levels {
			if k.LocationID != src.LocationID {
				continue
			}
			e := sourceEntry{pos: inventory.Position{l.SKU, k.ItemID}}
			if it, ok := s.items[k.ItemID]; ok && it.Deleted == nil {
				it = clone(it)
				e.item = &it
			}
			entries = append(entries, e)
		}
	} else {
		for _, it := range s.items {
			var in bool
			switch {
			case len(src.Facets) > 0:
				facets := it.Facets()
				in = slices.ContainsFunc(src.Facets, func(f string) bool { return slices.Contains(facets, f) })
			case src.LowStock:
				in = it.IsLowStock()
			default:
				in = it.Deleted == nil
			}
			if in {
				it = clone(it)
				entries = append(entries, sourceEntry{pos: inventory.SortPosition(it, sort), item: &it})
			}
		}
	}
	s.mu.Unlock()

	dir := 1
	if sort == inventory.SortUpdated {
		dir = -1
	}
	slices.SortFunc(entries, func(a, b sourceEntry) int { return dir * slices.Compare(a.pos, b.pos) })
	if r.After != nil {
		i := 0
		for i < len(entries) && dir*slices.Compare(entries[i].pos, r.After) <= 0 {
			i++
		}
		entries = entries[i:]
	}
	read := entries[:min(r.Limit, len(entries))]
	out := []inventory.Item{}
	for _, e := range read {
		if e.item != nil {
			out = append(out, *e.item)
		}
	}
	if len(read) == len(entries) {
		return out, nil, nil
	}
	return out, read[len(read)-1].pos, nil
}
