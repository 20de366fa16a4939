package memstore

import (
	"context"

	"github.com/depot-inventory/depot/internal/inventory"
)

// FindItemBySKU reads the live item with a SKU: the item its marker names.
// As in storage, a marker whose item is missing, deleted or has another
// SKU names no item (here the markers always change with their items, so
// only a missing marker is ever the answer).
func (s *Store) FindItemBySKU(_ context.Context, sku string) (inventory.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, marked := s.skus[sku]
	it, exists := s.items[id]
	if !marked || !exists || it.Deleted != nil || it.SKU != sku {
		return inventory.Item{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeItemNotFound, "no live item has sku %q", sku)
	}
	return clone(it), nil
}
