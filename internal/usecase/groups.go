package usecase

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/depot-inventory/depot/internal/inventory"
)

// CreateGroup creates a group; its name must be free among live groups.
func (s *Service) CreateGroup(ctx context.Context, req Request, in inventory.GroupInput) (inventory.Group, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.Group{}, false, err
	}
	return once(ctx, s, "CreateGroup", req, in, func(p *pending) (inventory.Group, error) {
		g := inventory.NewGroup(in, req.Actor, s.now())
		rec, err := p.record(g)
		if err != nil {
			return inventory.Group{}, err
		}
		return g, s.Store.SaveGroup(ctx, inventory.GroupChange{Next: g, Idempotency: rec})
	})
}

// GetGroup returns a live group.
func (s *Service) GetGroup(ctx context.Context, id string) (inventory.Group, error) {
	return s.readGroup(ctx, id, live)
}

// UpdateGroup applies a merge patch to a live group.
func (s *Service) UpdateGroup(ctx context.Context, req Request, id string, p inventory.GroupPatch) (inventory.Group, error) {
	if err := p.Validate(); err != nil {
		return inventory.Group{}, err
	}
	return s.changeGroup(ctx, id, live, req, nil, func(old inventory.Group) *inventory.Group {
		next, ok := inventory.ApplyGroupPatch(old, p, req.Actor, s.now())
		if !ok {
			return nil
		}
		return &next
	})
}

// DeleteGroup soft-deletes a live group. Its items and their memberships
// are not touched: a restore brings the group back with its members.
func (s *Service) DeleteGroup(ctx context.Context, req Request, id, comment string) (inventory.Group, bool, error) {
	if err := inventory.ValidateComment(comment); err != nil {
		return inventory.Group{}, false, err
	}
	input := struct{ ID, Comment string }{id, comment}
	return once(ctx, s, "DeleteGroup", req, input, func(p *pending) (inventory.Group, error) {
		return s.changeGroup(ctx, id, live, req, p, func(old inventory.Group) *inventory.Group {
			next := inventory.DeleteGroup(old, req.Actor, comment, s.now())
			return &next
		})
	})
}

// RestoreGroup makes a deleted group live again; its name must be free.
func (s *Service) RestoreGroup(ctx context.Context, req Request, id string) (inventory.Group, bool, error) {
	input := struct{ ID string }{id}
	return once(ctx, s, "RestoreGroup", req, input, func(p *pending) (inventory.Group, error) {
		return s.changeGroup(ctx, id, deleted, req, p, func(old inventory.Group) *inventory.Group {
			next := inventory.RestoreGroup(old, req.Actor, s.now())
			return &next
		})
	})
}

// ListGroups lists live groups in name order.
func (s *Service) ListGroups(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Group], error) {
	return listPage(ctx, inventory.GroupsCursor, pr, s.Store.ListGroups)
}

// ListDeletedGroups lists deleted groups, newest deletion first.
func (s *Service) ListDeletedGroups(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Group], error) {
	return listPage(ctx, inventory.DeletedGroupsCursor, pr, s.Store.ListDeletedGroups)
}

// changeGroup changes a group in the read-modify-write loop, like
// changeLocation: a membership change meanwhile (its member count) also
// makes the write stale.
func (s *Service) changeGroup(ctx context.Context, id string, state itemState, req Request, idem *pending,
	edit func(old inventory.Group) *inventory.Group) (inventory.Group, error) {
	return readModifyWrite(ctx, s, "group", req, func() (inventory.Group, int64, error) {
		g, err := s.readGroup(ctx, id, state)
		return g, g.Version, err
	}, func(old inventory.Group) (inventory.Group, error) {
		next := edit(old)
		if next == nil {
			return old, nil
		}
		c := inventory.GroupChange{Old: &old, Next: *next}
		var err error
		if c.Idempotency, err = idem.record(c.Next); err != nil {
			return inventory.Group{}, err
		}
		return c.Next, s.Store.SaveGroup(ctx, c)
	})
}

// readGroup reads a group that must be in state.
func (s *Service) readGroup(ctx context.Context, id string, state itemState) (inventory.Group, error) {
	if !inventory.IsValidID(id) {
		return inventory.Group{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeGroupNotFound,
			"no group with id %q (group ids are 26-character ULIDs)", id)
	}
	g, err := s.Store.GetGroup(ctx, id)
	if err != nil {
		return g, err
	}
	switch {
	case state == live && g.Deleted != nil:
		return g, inventory.Errorf(inventory.KindNotFound, inventory.CodeGroupDeleted,
			"group %s (%s) was deleted at %s by %s; restore it with POST /groups/%s/restore",
			g.ID, g.Name, g.Deleted.At.Format(inventory.TimeLayout), g.Deleted.By, g.ID)
	case state == deleted && g.Deleted == nil:
		return g, inventory.Errorf(inventory.KindNotFound, inventory.CodeGroupNotDeleted, "group %s is not deleted", g.ID)
	}
	return g, nil
}

// SetMember makes a live item a member of a live group (member true), or
// not. changed is false when it already was what is asked; the group is
// returned as it is after the change.
func (s *Service) SetMember(ctx context.Context, req Request, groupID, itemID string, member bool) (g inventory.Group, changed bool, err error) {
	req.IfMatch = nil // a membership has no version of its own
	if _, err := s.readGroup(ctx, groupID, live); err != nil {
		return inventory.Group{}, false, err
	}
	_, err = s.changeItem(ctx, itemID, live, req, nil, func(old inventory.Item) (*inventory.ItemChange, error) {
		c, ok, err := inventory.SetMembership(old, groupID, member, req.Actor, s.now())
		changed = ok
		if !ok || err != nil {
			return nil, err
		}
		return &c, nil
	}, func() error {
		// A lost race may be the group's deletion: then say so.
		_, err := s.readGroup(ctx, groupID, live)
		return err
	})
	if err != nil {
		return inventory.Group{}, false, err
	}
	g, err = s.readGroup(ctx, groupID, anyState)
	return g, changed, err
}

// membershipChunk bounds the items of one membership transaction: each
// writes the item, one facet row and one activity entry, and the chunk one
// group counter and the idempotency record (3×30+2 ≤ 100).
const membershipChunk = 30

// ChangeMembers adds items to a live group and removes others, item by
// item: a missing or deleted item is notFound, one already as asked is
// unchanged. Changes commit in transactions of up to membershipChunk
// items, each with the group's counter, so MemberCount stays exact under
// concurrent batches; a chunk that loses a race is read again and
// recomputed. Retrying a batch is safe: what is done is then unchanged.
func (s *Service) ChangeMembers(ctx context.Context, req Request, groupID string, in inventory.MembershipInput) (inventory.MembershipResult, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.MembershipResult{}, false, err
	}
	input := struct {
		ID string
		In inventory.MembershipInput
	}{groupID, in}
	res, replayed, err := once(ctx, s, "ChangeMembers", req, input, func(p *pending) (inventory.MembershipResult, error) {
		if _, err := s.readGroup(ctx, groupID, live); err != nil {
			return inventory.MembershipResult{}, err
		}
		type ask struct {
			id     string
			member bool
		}
		var asks []ask
		for _, id := range in.Add {
			asks = append(asks, ask{id, true})
		}
		for _, id := range in.Remove {
			asks = append(asks, ask{id, false})
		}
		var res inventory.MembershipResult
		chunks := slices.Collect(slices.Chunk(asks, membershipChunk))
		for n, chunk := range chunks {
			var ids []string
			for _, a := range chunk {
				ids = append(ids, a.id)
			}
			for attempt := 1; ; attempt++ {
				st, err := s.Store.ReadStock(ctx, inventory.StockKeys{Items: ids})
				if err != nil {
					return res, err
				}
				var changes []inventory.ItemChange
				var added, removed, unchanged, notFound []string
				var limited []inventory.FieldError
				for i, a := range chunk {
					it, ok := st.Items[a.id]
					if !ok || it.Deleted != nil {
						notFound = append(notFound, a.id)
						continue
					}
					c, ok, err := inventory.SetMembership(it, groupID, a.member, req.Actor, s.now())
					switch {
					case err != nil:
						limited = append(limited, inventory.FieldError{Field: fieldOf(in, n*membershipChunk+i), Code: inventory.CodeItemGroupLimit,
							Message: "item " + a.id + " is already in the most groups an item can be in"})
					case !ok:
						unchanged = append(unchanged, a.id)
					case a.member:
						added = append(added, a.id)
						changes = append(changes, c)
					default:
						removed = append(removed, a.id)
						changes = append(changes, c)
					}
				}
				if len(limited) > 0 {
					return res, &inventory.Error{Kind: inventory.KindConflict, Code: inventory.CodeItemGroupLimit,
						Message: "an item can be a member of at most 10 groups; these items are already in 10", Fields: limited}
				}
				var rec *inventory.IdempotencyRecord
				last := n == len(chunks)-1
				if last {
					done := res
					done.Added, done.Removed = append(slices.Clone(done.Added), added...), append(slices.Clone(done.Removed), removed...)
					done.Unchanged, done.NotFound = append(slices.Clone(done.Unchanged), unchanged...), append(slices.Clone(done.NotFound), notFound...)
					if rec, err = p.record(done); err != nil {
						return res, err
					}
				}
				if len(changes) > 0 || rec != nil {
					err = s.Store.SaveItems(ctx, changes, rec)
				}
				if err == nil {
					res.Added, res.Removed = append(res.Added, added...), append(res.Removed, removed...)
					res.Unchanged, res.NotFound = append(res.Unchanged, unchanged...), append(res.NotFound, notFound...)
					break
				}
				if !errors.Is(err, inventory.ErrStale) {
					return res, err
				}
				if _, gErr := s.readGroup(ctx, groupID, live); gErr != nil {
					return res, gErr
				}
				if attempt == MaxStockAttempts {
					return res, inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict,
						"the items kept changing concurrently; retry (what was done is kept, and a retry reports it unchanged)")
				}
				if err := s.wait(ctx, jitter(attempt, 400*time.Millisecond)); err != nil {
					return res, err
				}
			}
		}
		return res, nil
	})
	if err != nil {
		return res, replayed, err
	}
	// The group's count as of the answer, a replay's too.
	g, err := s.readGroup(ctx, groupID, anyState)
	res.MemberCount = g.MemberCount
	return res, replayed, err
}

// fieldOf names the i-th id of a batch (adds first, then removes).
func fieldOf(in inventory.MembershipInput, i int) string {
	if i < len(in.Add) {
		return "/add/" + strconv.Itoa(i)
	}
	return "/remove/" + strconv.Itoa(i-len(in.Add))
}

// ListTags lists the tags of live items with their counts, in tag order.
// Its cursor is the position's tag in hexadecimal, since a tag may hold
// any character.
func (s *Service) ListTags(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.TagCount], error) {
	return listPage(ctx, inventory.TagsCursor, pr, func(ctx context.Context, r inventory.Range) ([]inventory.TagCount, inventory.Position, error) {
		if r.After != nil {
			b, err := hex.DecodeString(r.After[0])
			if err != nil || !utf8.Valid(b) {
				return nil, nil, inventory.Invalid(inventory.CodeInvalidCursor, "the cursor is not one the tags list issued; pass back nextCursor as it was",
					inventory.FieldError{Field: "cursor", Code: "pattern", Message: "cursor must be a tag in hexadecimal UTF-8"})
			}
			r.After = inventory.Position{string(b)}
		}
		tags, next, err := s.Store.ListTags(ctx, r)
		if next != nil {
			next = inventory.Position{hex.EncodeToString([]byte(next[0]))}
		}
		return tags, next, err
	})
}

func isCode(err error, code string) bool {
	var e *inventory.Error
	return errors.As(err, &e) && e.Code == code
}
