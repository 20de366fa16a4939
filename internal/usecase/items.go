package usecase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// ItemDetail is an item as callers see it, with links to its image once the
// image is ready.
type ItemDetail struct {
	inventory.Item
	Links     *ImageLinks          // nil unless Item.Image is ready
	GroupRefs []inventory.GroupRef // the live groups it is in, named; GetItem sets it, others leave it nil
}

// ImageLinks are presigned URLs of a ready image.
type ImageLinks struct {
	Original   string
	Thumbnails []string // one per Item.Image.Thumbnails, in order
	ExpiresAt  time.Time
}

// CreateItem creates an item with its opening stock and activity.
func (s *Service) CreateItem(ctx context.Context, req Request, in inventory.CreateInput) (ItemDetail, bool, error) {
	if err := in.Validate(); err != nil {
		return ItemDetail{}, false, err
	}
	it, replayed, err := once(ctx, s, "CreateItem", req, in, func(p *pending) (inventory.Item, error) {
		for attempt := 1; ; attempt++ {
			if in.LocationID != "" && in.LocationID != inventory.DefaultLocation {
				// Read to answer clearly; storage checks it again as it
				// commits, and if it was deleted meanwhile, the next read
				// says so.
				if _, err := s.readLocation(ctx, in.LocationID, live); err != nil {
					return inventory.Item{}, err
				}
			}
			c := inventory.NewItem(in, req.Actor, s.now())
			var err error
			if c.Idempotency, err = p.record(c.Next); err != nil {
				return inventory.Item{}, err
			}
			err = s.Store.SaveItem(ctx, c)
			if !errors.Is(err, inventory.ErrStale) {
				return c.Next, err
			}
			if attempt == MaxSaveAttempts {
				return inventory.Item{}, inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict,
					"the item's location kept changing concurrently; retry")
			}
		}
	})
	return s.detailed(ctx, it, replayed, err)
}

// GetItem returns a live item, with the live groups it is a member of.
func (s *Service) GetItem(ctx context.Context, id string) (ItemDetail, error) {
	it, err := s.readItem(ctx, id, live)
	d, _, err := s.detailed(ctx, it, false, err)
	if err != nil {
		return d, err
	}
	d.GroupRefs = []inventory.GroupRef{}
	if len(it.Groups) == 0 {
		return d, nil
	}
	groups, err := s.Store.GetGroups(ctx, it.Groups)
	if err != nil {
		return d, err
	}
	for _, gid := range it.Groups {
		if g, ok := groups[gid]; ok && g.Deleted == nil {
			d.GroupRefs = append(d.GroupRefs, inventory.GroupRef{ID: g.ID, Name: g.Name})
		}
	}
	slices.SortFunc(d.GroupRefs, func(a, b inventory.GroupRef) int {
		return strings.Compare(inventory.NameKey(a.Name), inventory.NameKey(b.Name))
	})
	return d, nil
}

// UpdateItem applies a merge patch to a live item. A patch that changes
// nothing writes nothing and keeps the version.
func (s *Service) UpdateItem(ctx context.Context, req Request, id string, p inventory.Patch) (ItemDetail, error) {
	if err := p.Validate(); err != nil {
		return ItemDetail{}, err
	}
	it, err := s.changeItem(ctx, id, live, req, nil, func(old inventory.Item) (*inventory.ItemChange, error) {
		var levels []inventory.Level
		if (p.Quantity != nil && *p.Quantity != old.Quantity) || (p.SKU != nil && *p.SKU != old.SKU) {
			var err error
			if levels, err = s.Store.ListLevels(ctx, old.ID); err != nil {
				return nil, err
			}
		}
		c, ok, err := inventory.ApplyPatch(old, p, levels, req.Actor, s.now())
		if !ok || err != nil {
			return nil, err
		}
		if n := c.Actions(); n > inventory.MaxTransactionActions {
			return nil, inventory.Errorf(inventory.KindConflict, inventory.CodeChangeTooLarge,
				"this change would write %d records, more than one transaction can hold (%d): each tag added or removed writes 2-3 records, and a new SKU rewrites every tag, group, search key and stock level of the item; make the change in two smaller requests (e.g. the SKU apart, or half of the tags at a time)",
				n, inventory.MaxTransactionActions)
		}
		return &c, nil
	})
	d, _, err := s.detailed(ctx, it, false, err)
	return d, err
}

// DeleteItem soft-deletes a live item with a comment.
func (s *Service) DeleteItem(ctx context.Context, req Request, id, comment string) (ItemDetail, bool, error) {
	if err := inventory.ValidateComment(comment); err != nil {
		return ItemDetail{}, false, err
	}
	input := struct{ ID, Comment string }{id, comment}
	it, replayed, err := once(ctx, s, "DeleteItem", req, input, func(p *pending) (inventory.Item, error) {
		return s.changeItem(ctx, id, live, req, p, func(old inventory.Item) (*inventory.ItemChange, error) {
			c := inventory.Delete(old, req.Actor, comment, s.now())
			return &c, nil
		})
	})
	return s.detailed(ctx, it, replayed, err)
}

// RestoreItem makes a deleted item live again; its SKU must be free.
func (s *Service) RestoreItem(ctx context.Context, req Request, id string) (ItemDetail, bool, error) {
	input := struct{ ID string }{id}
	it, replayed, err := once(ctx, s, "RestoreItem", req, input, func(p *pending) (inventory.Item, error) {
		return s.changeItem(ctx, id, deleted, req, p, func(old inventory.Item) (*inventory.ItemChange, error) {
			c := inventory.Restore(old, req.Actor, s.now())
			return &c, nil
		})
	})
	return s.detailed(ctx, it, replayed, err)
}

// ItemList is one page of a filtered list of items. BudgetExhausted says
// the page stopped early: reading was bounded (inventory.ListBudgetItems
// candidates, inventory.ListBudgetReads reads) and it found fewer than
// the page's limit within it; NextCursor continues from where it stopped.
type ItemList struct {
	inventory.Page[ItemDetail]
	BudgetExhausted bool
}

// ListItems lists the live items that match a query, in its order. The
// query's source (inventory.ItemQuery.Source) is read page after page, its
// items filtered, until the page is full, the source is done, or the
// budget is spent.
func (s *Service) ListItems(ctx context.Context, pr inventory.PageRequest, q inventory.ItemQuery) (ItemList, error) {
	return s.listItems(ctx, pr, q, true)
}

// listItems is ListItems, with the images' links when linked (an export,
// which writes no link, presigns none).
func (s *Service) listItems(ctx context.Context, pr inventory.PageRequest, q inventory.ItemQuery, linked bool) (ItemList, error) {
	if err := q.Validate(); err != nil {
		return ItemList{}, err
	}
	r, err := inventory.ItemsCursor.Range(pr)
	if err != nil {
		return ItemList{}, err
	}
	if q.GroupID != "" {
		if _, err := s.readGroup(ctx, q.GroupID, live); err != nil {
			return ItemList{}, err
		}
	}
	if q.LocationID != "" {
		if _, err := s.readLocation(ctx, q.LocationID, anyState); err != nil {
			return ItemList{}, err
		}
	}
	src := q.Source()
	found := make([]inventory.Item, 0, r.Limit+1)
	var next inventory.Position
	after, examined, exhausted := r.After, 0, true
	batch := r.Limit
	for reads := 0; reads < inventory.ListBudgetReads && examined < inventory.ListBudgetItems; reads++ {
		items, pos, err := s.Store.ListItemSource(ctx, src, inventory.Range{Limit: min(batch, inventory.ListBudgetItems-examined), After: after})
		if err != nil {
			return ItemList{}, fmt.Errorf("list items: %w", err)
		}
		examined += len(items)
		for _, it := range items {
			if !q.Match(it) {
				continue
			}
			found = append(found, it)
			if len(found) == r.Limit {
				break
			}
		}
		if len(found) == r.Limit {
			last := found[len(found)-1]
			if last.ID == items[len(items)-1].ID && pos == nil {
				next = nil // the last candidate of the source
			} else {
				next = inventory.SortPosition(last, src.Sort)
			}
			exhausted = false
			break
		}
		if pos == nil {
			next, exhausted = nil, false
			break
		}
		after, next = pos, pos
		// What is left to find, scaled by the share of candidates the
		// filters kept so far (twice as many when they kept none).
		need := r.Limit - len(found)
		if len(found) == 0 {
			batch = 2 * batch
		} else {
			batch = (need*examined + len(found) - 1) / len(found)
		}
		batch = min(inventory.MaxPageSize, max(need, batch))
	}
	out := ItemList{Page: inventory.Page[ItemDetail]{Items: make([]ItemDetail, 0, len(found)), NextCursor: inventory.ItemsCursor.Encode(next)},
		BudgetExhausted: exhausted}
	for _, it := range found {
		d := ItemDetail{Item: it}
		if linked {
			if d, err = s.detail(ctx, it); err != nil {
				return ItemList{}, err
			}
		}
		out.Items = append(out.Items, d)
	}
	return out, nil
}

// ListDeletedItems lists deleted items, newest deletion first.
func (s *Service) ListDeletedItems(ctx context.Context, pr inventory.PageRequest) (inventory.Page[ItemDetail], error) {
	return s.itemPage(ctx, inventory.DeletedItemsCursor, pr, s.Store.ListDeletedItems)
}

func (s *Service) itemPage(ctx context.Context, f *inventory.CursorFormat, pr inventory.PageRequest,
	list func(context.Context, inventory.Range) ([]inventory.Item, inventory.Position, error)) (inventory.Page[ItemDetail], error) {
	items, err := listPage(ctx, f, pr, list)
	if err != nil {
		return inventory.Page[ItemDetail]{}, err
	}
	out := inventory.Page[ItemDetail]{Items: make([]ItemDetail, 0, len(items.Items)), NextCursor: items.NextCursor}
	for _, it := range items.Items {
		d, err := s.detail(ctx, it)
		if err != nil {
			return inventory.Page[ItemDetail]{}, err
		}
		out.Items = append(out.Items, d)
	}
	return out, nil
}

// ListHistory lists a live item's stock ledger, newest first; with a
// location id, only its lines at that location (which may be deleted: its
// history stays history). A deleted item's ledger is kept, and readable
// again once the item is restored; meanwhile it answers item_deleted, as
// the item does.
func (s *Service) ListHistory(ctx context.Context, id, locationID string, pr inventory.PageRequest) (inventory.Page[inventory.LedgerEntry], error) {
	if locationID == "" {
		return itemLog(ctx, s, id, inventory.LedgerCursor, pr, s.Store.ListLedger)
	}
	if _, err := inventory.LedgerCursor.Range(pr); err != nil {
		return inventory.Page[inventory.LedgerEntry]{}, err
	}
	if _, err := s.readLocation(ctx, locationID, anyState); err != nil {
		return inventory.Page[inventory.LedgerEntry]{}, err
	}
	return itemLog(ctx, s, id, inventory.LedgerCursor, pr, func(ctx context.Context, id string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
		return s.Store.ListLevelLedger(ctx, id, locationID, r)
	})
}

// ListActivity lists every change to a live item, newest first: its
// activity records merged with its ledger lines, each of which is a
// stock_changed entry. Like the ledger, a deleted item's activity answers
// item_deleted until the item is restored.
func (s *Service) ListActivity(ctx context.Context, id string, pr inventory.PageRequest) (inventory.Page[inventory.Activity], error) {
	return itemLog(ctx, s, id, inventory.ActivityCursor, pr, func(ctx context.Context, id string, r inventory.Range) ([]inventory.Activity, inventory.Position, error) {
		acts, actMore, err := s.Store.ListActivity(ctx, id, r)
		if err != nil {
			return nil, nil, err
		}
		lines, ledgerMore, err := s.Store.ListLedger(ctx, id, r)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range lines {
			acts = append(acts, inventory.StockActivity(e))
		}
		// Ids are ULIDs: their order is time order, newest first.
		slices.SortFunc(acts, func(a, b inventory.Activity) int { return strings.Compare(b.ID, a.ID) })
		// A list with more to read is complete only down to its position
		// (the last record it read, which it may have skipped): entries
		// of the other list older than that wait for the next page.
		cut := ""
		for _, p := range []inventory.Position{actMore, ledgerMore} {
			if p != nil && p[0] > cut {
				cut = p[0]
			}
		}
		if cut != "" {
			n, _ := slices.BinarySearchFunc(acts, cut, func(a inventory.Activity, id string) int { return strings.Compare(id, a.ID) })
			for n < len(acts) && acts[n].ID >= cut {
				n++
			}
			acts = acts[:n]
		}
		switch {
		case len(acts) > r.Limit:
			acts = acts[:r.Limit]
			return acts, inventory.Position{acts[len(acts)-1].ID}, nil
		case cut != "":
			return acts, inventory.Position{cut}, nil
		}
		return acts, nil, nil
	})
}

// itemLog reads one page of a list kept per item, once the item is known.
func itemLog[T any](ctx context.Context, s *Service, id string, f *inventory.CursorFormat, pr inventory.PageRequest,
	list func(context.Context, string, inventory.Range) ([]T, inventory.Position, error)) (inventory.Page[T], error) {
	if _, err := f.Range(pr); err != nil {
		return inventory.Page[T]{}, err
	}
	if _, err := s.readItem(ctx, id, live); err != nil {
		return inventory.Page[T]{}, err
	}
	return listPage(ctx, f, pr, func(ctx context.Context, r inventory.Range) ([]T, inventory.Position, error) {
		return list(ctx, id, r)
	})
}

// listPage reads one page of a list: the request checked, the cursor
// decoded into a position and the next one encoded.
func listPage[T any](ctx context.Context, f *inventory.CursorFormat, pr inventory.PageRequest,
	list func(context.Context, inventory.Range) ([]T, inventory.Position, error)) (inventory.Page[T], error) {
	r, err := f.Range(pr)
	if err != nil {
		return inventory.Page[T]{}, err
	}
	items, next, err := list(ctx, r)
	if err != nil {
		return inventory.Page[T]{}, fmt.Errorf("list %s: %w", f.Name, err)
	}
	return inventory.Page[T]{Items: items, NextCursor: f.Encode(next)}, nil
}

// detailed adds the links to an item a use case returns.
func (s *Service) detailed(ctx context.Context, it inventory.Item, replayed bool, err error) (ItemDetail, bool, error) {
	if err != nil {
		return ItemDetail{}, false, err
	}
	d, err := s.detail(ctx, it)
	return d, replayed, err
}

// detail presigns the links of the item's image, if it is ready, and
// shows a pending image whose upload can no longer come as expired.
func (s *Service) detail(ctx context.Context, it inventory.Item) (ItemDetail, error) {
	d := ItemDetail{Item: it}
	im := it.Image
	if im != nil && im.Shown(s.now()) != im.Status {
		shown := *im
		shown.Status = im.Shown(s.now())
		d.Item.Image = &shown
	}
	if im == nil || im.Status != inventory.ImageReady {
		return d, nil
	}
	if s.Signer == nil {
		return d, fmt.Errorf("item %s has a ready image, but no signer is configured to link it", it.ID)
	}
	links := &ImageLinks{ExpiresAt: s.now().Add(DownloadURLTTL)}
	var err error
	if links.Original, err = s.Signer.PresignGet(ctx, im.Original, im.ContentType, DownloadURLTTL); err != nil {
		return d, fmt.Errorf("link the image of %s: %w", it.ID, err)
	}
	for _, t := range im.Thumbnails {
		url, err := s.Signer.PresignGet(ctx, t.Key, t.ContentType, DownloadURLTTL)
		if err != nil {
			return d, fmt.Errorf("link a thumbnail of %s: %w", it.ID, err)
		}
		links.Thumbnails = append(links.Thumbnails, url)
	}
	d.Links = links
	return d, nil
}
