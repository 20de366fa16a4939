package inventory

import (
	"fmt"
	"slices"
	"time"
)

// Limits of groups.
const (
	MaxGroupNameLen = 100
	// MaxItemGroups bounds the groups one item is a member of, so that an
	// item's delete or restore, which moves its memberships with it, stays
	// one transaction.
	MaxItemGroups = 10
	// MaxMembershipIDs bounds the ids of one membership batch.
	MaxMembershipIDs = 100
)

// Group is a named collection of items. Its name is unique among live
// groups by NameKey: without regard to case, accents, spacing or
// punctuation.
type Group struct {
	ID          string
	Name        string
	Description string
	// MemberCount is the number of live items in the group, kept exact by
	// every transaction that changes a membership or an item's liveness.
	MemberCount int64
	CreatedAt   time.Time
	CreatedBy   string
	UpdatedAt   time.Time
	UpdatedBy   string
	Version     int64
	Deleted     *Deletion
}

// GroupRef names a group an item is a member of.
type GroupRef struct {
	ID   string
	Name string
}

// GroupChange is one change of a group: Old as read (nil to create) and
// Next; storage refuses it with ErrStale if the stored group is no longer
// Old, and with group_name_conflict if another live group has Next's name.
type GroupChange struct {
	Old         *Group
	Next        Group
	Idempotency *IdempotencyRecord
}

// GroupInput is a new group.
type GroupInput struct {
	Name        string
	Description string
}

// GroupPatch is a merge patch of a group.
type GroupPatch struct {
	Name        *string
	Description *string
}

func (v *validator) groupName(field, s string) {
	n := len(v.fields)
	if blank(s) {
		v.add(field, "required", "name is required and must not be blank")
		return
	}
	v.text(field, s, 1, MaxGroupNameLen)
	if len(v.fields) == n && NameKey(s) == "" {
		v.add(field, "no_words", "name must hold at least one letter or digit")
	}
}

// Validate checks a new group.
func (in *GroupInput) Validate() error {
	var v validator
	v.groupName("/name", in.Name)
	v.description("/description", in.Description)
	return v.err()
}

// Validate checks a group patch.
func (p *GroupPatch) Validate() error {
	var v validator
	if p.Name != nil {
		v.groupName("/name", *p.Name)
	}
	if p.Description != nil {
		v.description("/description", *p.Description)
	}
	return v.err()
}

// NewGroup returns a new group.
func NewGroup(in GroupInput, actor string, now time.Time) Group {
	now = instant(now)
	return Group{ID: NewID(now), Name: in.Name, Description: in.Description, CreatedAt: now, CreatedBy: actor,
		UpdatedAt: now, UpdatedBy: actor, Version: 1}
}

func touchGroup(next *Group, old Group, actor string, now time.Time) {
	next.UpdatedAt, next.UpdatedBy, next.Version = instant(now), actor, old.Version+1
}

// ApplyGroupPatch returns the group a validated patch makes; ok is false
// when it changes nothing.
func ApplyGroupPatch(old Group, p GroupPatch, actor string, now time.Time) (next Group, ok bool) {
	next = old
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if next.Name == old.Name && next.Description == old.Description {
		return old, false
	}
	touchGroup(&next, old, actor, now)
	return next, true
}

// DeleteGroup soft-deletes a group. Its memberships stay: the items are
// not changed, and a restore brings the group back with its members.
func DeleteGroup(old Group, actor, comment string, now time.Time) Group {
	next := old
	next.Deleted = &Deletion{At: instant(now), By: actor, Comment: comment}
	touchGroup(&next, old, actor, now)
	return next
}

// RestoreGroup makes a deleted group live again.
func RestoreGroup(old Group, actor string, now time.Time) Group {
	next := old
	next.Deleted = nil
	touchGroup(&next, old, actor, now)
	return next
}

// MembershipInput is a batch of membership changes of one group.
type MembershipInput struct {
	Add    []string
	Remove []string
}

// Validate checks the batch: 1 to MaxMembershipIDs item ids in all, each
// well formed and named once.
func (in *MembershipInput) Validate() error {
	var v validator
	n := len(in.Add) + len(in.Remove)
	if n == 0 {
		v.add("/add", "required", "add or remove must name at least one item id")
	}
	if n > MaxMembershipIDs {
		v.add("/add", "too_many", "add and remove may name at most %d item ids in all, got %d", MaxMembershipIDs, n)
	}
	seen := map[string]bool{}
	for _, list := range []struct {
		field string
		ids   []string
	}{{"/add", in.Add}, {"/remove", in.Remove}} {
		for i, id := range list.ids {
			field := fmt.Sprintf("%s/%d", list.field, i)
			switch {
			case !IsValidID(id):
				v.add(field, "pattern", "%s must be an item id (a 26-character ULID)", field)
			case seen[id]:
				v.add(field, "duplicate", "item %s is named more than once", id)
			}
			seen[id] = true
		}
	}
	return v.err()
}

// MembershipResult is what a membership batch did, item by item.
type MembershipResult struct {
	Added       []string
	Removed     []string
	Unchanged   []string
	NotFound    []string // unknown or deleted items
	MemberCount int64
}

// SetMembership returns the change that makes a live item a member of the
// group (member true) or not; ok is false when it already is what is
// asked. Joining an item's MaxItemGroups+1st group is item_group_limit.
func SetMembership(old Item, groupID string, member bool, actor string, now time.Time) (c ItemChange, ok bool, err error) {
	if slices.Contains(old.Groups, groupID) == member {
		return ItemChange{}, false, nil
	}
	next := old
	if member {
		if len(old.Groups) >= MaxItemGroups {
			return ItemChange{}, false, Errorf(KindConflict, CodeItemGroupLimit,
				"item %s is already a member of %d groups, the most an item can be in; remove it from one first", old.ID, MaxItemGroups)
		}
		next.Groups = append(slices.Clone(old.Groups), groupID)
		slices.Sort(next.Groups)
	} else {
		next.Groups = slices.DeleteFunc(slices.Clone(old.Groups), func(g string) bool { return g == groupID })
	}
	if len(next.Groups) == 0 {
		next.Groups = nil
	}
	now = instant(now)
	touch(&next, old, actor, now)
	a := newActivity(old.ID, ActivityUpdated, actor, now)
	a.Changes = []FieldChange{{Field: "groups", From: jsonValue(nonNil(old.Groups)), To: jsonValue(nonNil(next.Groups))}}
	return ItemChange{Old: &old, Next: next, Activity: []Activity{a}, LiveGroup: groupID}, true, nil
}

// TagCount is a tag and the number of live items that have it.
type TagCount struct {
	Tag   string
	Count int64
}
