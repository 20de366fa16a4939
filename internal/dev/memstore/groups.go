package memstore

import (
	"context"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Groups and tags: a group's record carries its count of live members,
// which the transactions of item changes keep (saveItems); a live group's
// name is held by a marker keyed by its NameKey, as a live location's code
// is; tags are only counts, kept the same way.

// SaveGroup applies a change of a group with its name marker: the record
// on the condition that its version and its count of live members are
// still as read (a count changes without a new version, and a write of the
// group must not undo one made meanwhile), or that it does not exist; the
// marker of Old's name released (if it is the group's) and that of Next's
// taken (if no live group has it), when the group leaves or gets a name
// key by a rename, a delete or a restore; and the idempotency record.
func (s *Store) SaveGroup(_ context.Context, c inventory.GroupChange) error {
	if s.BeforeSaveGroup != nil {
		if err := s.BeforeSaveGroup(c); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.Next.ID
	t := newTxn("save group " + id)
	s.putIdempotency(t, c.Idempotency)
	cur, exists := s.groups[id]
	next := cloneGroup(c.Next)
	put := func() { s.groups[id] = next }
	if c.Old == nil {
		t.add("groupRecord", "group#"+id, !exists, put)
	} else {
		t.add("groupRecord", "group#"+id, exists && cur.Version == c.Old.Version && cur.MemberCount == c.Old.MemberCount, put)
	}
	oldLive := c.Old != nil && c.Old.Deleted == nil
	nextLive := c.Next.Deleted == nil
	var oldKey string
	if c.Old != nil {
		oldKey = inventory.NameKey(c.Old.Name)
	}
	newKey := inventory.NameKey(c.Next.Name)
	if oldLive && (!nextLive || oldKey != newKey) {
		t.add("nameRelease", "groupName#"+oldKey, s.names[oldKey] == id, func() { delete(s.names, oldKey) })
	}
	if nextLive && (!oldLive || oldKey != newKey) {
		_, taken := s.names[newKey]
		t.add("name", "groupName#"+newKey, !taken, func() { s.names[newKey] = id })
	}
	return t.commit(s, func(failed map[string]bool) error {
		if failed["name"] {
			holder := s.groups[s.names[newKey]]
			return inventory.Errorf(inventory.KindConflict, inventory.CodeGroupNameConflict,
				"the live group %s is named %q, which is %q but for case, accents, spacing or punctuation",
				holder.ID, holder.Name, c.Next.Name)
		}
		return nil
	})
}

// GetGroup returns a group, live or deleted.
func (s *Store) GetGroup(_ context.Context, id string) (inventory.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[id]
	if !ok {
		return inventory.Group{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeGroupNotFound, "no group with id %s", id)
	}
	return cloneGroup(g), nil
}

// GetGroups returns the groups of the ids that exist.
func (s *Store) GetGroups(_ context.Context, ids []string) (map[string]inventory.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]inventory.Group, len(ids))
	for _, id := range ids {
		if g, ok := s.groups[id]; ok {
			out[id] = cloneGroup(g)
		}
	}
	return out, nil
}

// ListGroups lists live groups in name order; position (NameKey of the
// name, id).
func (s *Store) ListGroups(_ context.Context, r inventory.Range) ([]inventory.Group, inventory.Position, error) {
	return s.listGroups(r, func(g inventory.Group) bool { return g.Deleted == nil },
		func(g inventory.Group) inventory.Position { return inventory.Position{inventory.NameKey(g.Name), g.ID} }, 1)
}

// ListDeletedGroups lists deleted groups, newest deletion first; position
// (deleted at, id).
func (s *Store) ListDeletedGroups(_ context.Context, r inventory.Range) ([]inventory.Group, inventory.Position, error) {
	return s.listGroups(r, func(g inventory.Group) bool { return g.Deleted != nil },
		func(g inventory.Group) inventory.Position {
			return inventory.Position{g.Deleted.At.UTC().Format(inventory.TimeLayout), g.ID}
		}, -1)
}

func (s *Store) listGroups(r inventory.Range, keep func(inventory.Group) bool, pos func(inventory.Group) inventory.Position, dir int) ([]inventory.Group, inventory.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []inventory.Group
	for _, g := range s.groups {
		if keep(g) {
			all = append(all, cloneGroup(g))
		}
	}
	return page(all, r, pos, dir)
}

// ListTags lists the tags live items have, with their counts, in byte
// order of the tag; position (the tag itself: the use case, not storage,
// writes it in hexadecimal in a cursor).
func (s *Store) ListTags(_ context.Context, r inventory.Range) ([]inventory.TagCount, inventory.Position, error) {
	s.mu.Lock()
	all := make([]inventory.TagCount, 0, len(s.tags))
	for tag, n := range s.tags {
		all = append(all, inventory.TagCount{Tag: tag, Count: n})
	}
	s.mu.Unlock()
	return page(all, r, func(tc inventory.TagCount) inventory.Position { return inventory.Position{tc.Tag} }, 1)
}

func cloneGroup(g inventory.Group) inventory.Group {
	if g.Deleted != nil {
		d := *g.Deleted
		g.Deleted = &d
	}
	return g
}
