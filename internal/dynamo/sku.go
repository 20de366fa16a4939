package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/depot-inventory/depot/internal/inventory"
)

// FindItemBySKU reads the live item with a SKU: its SKU marker (docs/data-model.md §2.2),
// then the item, each with a strongly consistent read. No marker is
// item_not_found, and so is a marker whose item is missing, deleted or now
// has another SKU: between the two reads, a transaction released the
// marker (a delete, a SKU change), so no item had the SKU when the item was
// read.
func (s *Store) FindItemBySKU(ctx context.Context, sku string) (inventory.Item, error) {
	notFound := func() error {
		return inventory.Errorf(inventory.KindNotFound, inventory.CodeItemNotFound, "no live item has sku %q", sku)
	}
	// Every live item's SKU is valid (it is checked on every write):
	// another string names no item, and may not even fit in a key.
	if !inventory.IsValidSKU(sku) {
		return inventory.Item{}, notFound()
	}
	id, err := getRecord(ctx, s, skuKey(sku), "sku marker "+sku, decodeSKUMarker, notFound)
	if err != nil {
		return inventory.Item{}, err
	}
	it, err := getRecord(ctx, s, itemKey(id), "item "+id, decodeItem, notFound)
	if err != nil {
		return inventory.Item{}, err
	}
	if it.Deleted != nil || it.SKU != sku {
		return inventory.Item{}, notFound()
	}
	return it, nil
}

// decodeSKUMarker returns the id of the item a SKU marker names.
func decodeSKUMarker(m attrMap) (string, error) {
	a := &attrs{m: m}
	id := a.str("itemId")
	if a.err == nil && id == "" {
		a.err = errors.New("attribute itemId: missing")
	}
	if a.err != nil {
		return "", fmt.Errorf("decode sku marker: %w", a.err)
	}
	return id, nil
}
