package usecase_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// ---- Helpers of the group, tag and search tests

const unknownID = "01JBZ4Q7Y3M7R2K5X9V8N6T4PA"

func (f *fixture) mkGroup(name string) inventory.Group {
	f.t.Helper()
	g, _, err := f.svc.CreateGroup(f.ctx, alice, inventory.GroupInput{Name: name})
	if err != nil {
		f.t.Fatalf("create group %q: %v", name, err)
	}
	f.tick(time.Second)
	return g
}

func (f *fixture) mkItem(in inventory.CreateInput) usecase.ItemDetail {
	f.t.Helper()
	d, _, err := f.svc.CreateItem(f.ctx, alice, in)
	if err != nil {
		f.t.Fatalf("create %s: %v", in.SKU, err)
	}
	f.tick(time.Second)
	return d
}

// setMember makes an item a member of a group (or not), which must work.
func (f *fixture) setMember(groupID, itemID string, member bool) (inventory.Group, bool) {
	f.t.Helper()
	g, changed, err := f.svc.SetMember(f.ctx, bob, groupID, itemID, member)
	if err != nil {
		f.t.Fatalf("set member %s of %s to %v: %v", itemID, groupID, member, err)
	}
	f.tick(time.Second)
	return g, changed
}

func (f *fixture) group(id string) inventory.Group {
	f.t.Helper()
	g, err := f.store.GetGroup(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return g
}

// listSKUs follows the cursors of ListItems from the first page to the
// last and returns the SKUs listed, in order.
func (f *fixture) listSKUs(q inventory.ItemQuery, limit int) []string {
	f.t.Helper()
	out := []string{}
	pr := inventory.PageRequest{Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 5000 {
			f.t.Fatalf("listing %+v does not end", q)
		}
		p, err := f.svc.ListItems(f.ctx, pr, q)
		if err != nil {
			f.t.Fatalf("list %+v: %v", q, err)
		}
		if len(p.Items) > limit {
			f.t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		for _, d := range p.Items {
			out = append(out, d.SKU)
		}
		if pr.Cursor = p.NextCursor; pr.Cursor == "" {
			return out
		}
	}
}

// wantFields checks that err is a KindInvalid error with code whose field
// errors are exactly fields, each "field:code".
func wantFields(t *testing.T, err error, code string, fields ...string) {
	t.Helper()
	var e *inventory.Error
	if !errors.As(err, &e) || e.Kind != inventory.KindInvalid || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	var got []string
	for _, fe := range e.Fields {
		got = append(got, fe.Field+":"+fe.Code)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(fields))
	if !slices.Equal(got, want) {
		t.Fatalf("field errors %v, want %v (%v)", got, want, err)
	}
}

func groupNames(gs []inventory.Group) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func refNames(refs []inventory.GroupRef) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

// ---- Groups

func TestCreateGroupValidation(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name   string
		in     inventory.GroupInput
		fields []string
	}{
		{"empty name", inventory.GroupInput{Name: ""}, []string{"/name:required"}},
		{"blank name", inventory.GroupInput{Name: " \t "}, []string{"/name:required"}},
		{"no letter or digit", inventory.GroupInput{Name: "***"}, []string{"/name:no_words"}},
		{"name too long", inventory.GroupInput{Name: strings.Repeat("a", inventory.MaxGroupNameLen+1)}, []string{"/name:too_long"}},
		{"description too long", inventory.GroupInput{Name: "ok", Description: strings.Repeat("d", 2001)}, []string{"/description:too_long"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := f.svc.CreateGroup(f.ctx, alice, c.in)
			wantFields(t, err, inventory.CodeValidationFailed, c.fields...)
		})
	}
	// 100 characters is the limit, not over it.
	if _, _, err := f.svc.CreateGroup(f.ctx, alice, inventory.GroupInput{Name: strings.Repeat("é", 100)}); err != nil {
		t.Fatalf("a 100-character name: %v", err)
	}
	if n := f.store.Saves(); n != 1 {
		t.Fatalf("%d saves, want 1: refused groups wrote", n)
	}
	_, err := f.svc.UpdateGroup(f.ctx, alice, unknownID, inventory.GroupPatch{Name: ptr("***")})
	wantFields(t, err, inventory.CodeValidationFailed, "/name:no_words")
}

func TestGroupGetPatchAndNameUniqueness(t *testing.T) {
	f := newFixture(t)
	in := inventory.GroupInput{Name: "Spring sale", Description: "Up to 30% off"}
	g, replayed, err := f.svc.CreateGroup(f.ctx, with(alice, "g1"), in)
	if err != nil || replayed || g.Version != 1 || g.MemberCount != 0 || g.CreatedBy != alice.Actor || g.Deleted != nil {
		t.Fatalf("create = %+v %v %v", g, replayed, err)
	}
	f.tick(time.Minute)
	again, replayed, err := f.svc.CreateGroup(f.ctx, with(alice, "g1"), in)
	if err != nil || !replayed || again.ID != g.ID || !again.CreatedAt.Equal(g.CreatedAt) {
		t.Fatalf("replay = %+v %v %v", again, replayed, err)
	}
	_, _, err = f.svc.CreateGroup(f.ctx, with(alice, "g1"), inventory.GroupInput{Name: "Other"})
	wantCode(t, err, inventory.KindUnprocessable, inventory.CodeIdempotencyKeyReused)

	// Names clash without regard to case, accents and punctuation.
	for _, name := range []string{"SPRING-SALÉ", "spring  sale", "Spring, sale!"} {
		_, _, err = f.svc.CreateGroup(f.ctx, alice, inventory.GroupInput{Name: name})
		wantCode(t, err, inventory.KindConflict, inventory.CodeGroupNameConflict)
	}
	if n := f.store.Saves(); n != 1 {
		t.Fatalf("%d saves, want 1", n)
	}

	got, err := f.svc.GetGroup(f.ctx, g.ID)
	if err != nil || got.Name != "Spring sale" || got.Description != "Up to 30% off" || got.Version != 1 {
		t.Fatalf("get = %+v %v", got, err)
	}
	for _, id := range []string{unknownID, "..", "", strings.ToLower(g.ID)} {
		_, err = f.svc.GetGroup(f.ctx, id)
		wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupNotFound)
	}
	_, err = f.svc.UpdateGroup(f.ctx, alice, unknownID, inventory.GroupPatch{Description: ptr("x")})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupNotFound)

	// If-Match.
	_, err = f.svc.UpdateGroup(f.ctx, ifMatch(bob, 7), g.ID, inventory.GroupPatch{Description: ptr("x")})
	wantCode(t, err, inventory.KindPrecondition, inventory.CodePreconditionFailed)
	// A patch that changes nothing (also an empty one) keeps the version and writes nothing.
	for _, p := range []inventory.GroupPatch{{}, {Name: ptr("Spring sale")}, {Description: ptr("Up to 30% off")}} {
		same, err := f.svc.UpdateGroup(f.ctx, ifMatch(bob, 1), g.ID, p)
		if err != nil || same.Version != 1 || same.UpdatedBy != alice.Actor || f.store.Saves() != 1 {
			t.Fatalf("no-op patch %+v = %+v %v (%d saves)", p, same, err, f.store.Saves())
		}
	}
	up, err := f.svc.UpdateGroup(f.ctx, ifMatch(bob, 1), g.ID, inventory.GroupPatch{Description: ptr("Half off")})
	if err != nil || up.Version != 2 || up.Description != "Half off" || up.Name != "Spring sale" || up.UpdatedBy != bob.Actor {
		t.Fatalf("patch = %+v %v", up, err)
	}
	// A rename within the same name key keeps the group's own name.
	up, err = f.svc.UpdateGroup(f.ctx, bob, g.ID, inventory.GroupPatch{Name: ptr("SPRING SALE!")})
	if err != nil || up.Name != "SPRING SALE!" || up.Version != 3 {
		t.Fatalf("rename in place = %+v %v", up, err)
	}
	// Renaming onto another live group's name clashes; renaming away frees it.
	other := f.mkGroup("Clearance")
	_, err = f.svc.UpdateGroup(f.ctx, bob, other.ID, inventory.GroupPatch{Name: ptr("spring sale")})
	wantCode(t, err, inventory.KindConflict, inventory.CodeGroupNameConflict)
	if _, err := f.svc.UpdateGroup(f.ctx, bob, g.ID, inventory.GroupPatch{Name: ptr("Summer sale")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateGroup(f.ctx, bob, other.ID, inventory.GroupPatch{Name: ptr("Spring sale")}); err != nil {
		t.Fatalf("the old name of a renamed group: %v", err)
	}
}

func TestGroupDeleteRestoreAndLists(t *testing.T) {
	f := newFixture(t)
	spring := f.mkGroup("Spring sale")
	beta := f.mkGroup("beta")
	alpha := f.mkGroup("Alpha")
	a := f.create(alice, "A", 1)
	f.setMember(spring.ID, a.ID, true)

	_, _, err := f.svc.RestoreGroup(f.ctx, bob, spring.ID)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupNotDeleted)
	_, _, err = f.svc.RestoreGroup(f.ctx, bob, unknownID)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupNotFound)
	_, _, err = f.svc.DeleteGroup(f.ctx, bob, spring.ID, strings.Repeat("c", 501))
	wantCode(t, err, inventory.KindInvalid, inventory.CodeValidationFailed)
	_, _, err = f.svc.DeleteGroup(f.ctx, ifMatch(bob, 1), spring.ID, "over")
	if err != nil {
		t.Fatalf("delete on the group's version 1 (membership changes do not version a group): %v", err)
	}
	// That deleted it: restore and go on.
	if _, _, err := f.svc.RestoreGroup(f.ctx, bob, spring.ID); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)

	del, replayed, err := f.svc.DeleteGroup(f.ctx, with(bob, "del"), spring.ID, "season over")
	if err != nil || replayed || del.Deleted == nil || del.Deleted.Comment != "season over" || del.Deleted.By != bob.Actor || del.MemberCount != 1 {
		t.Fatalf("delete = %+v %v %v", del, replayed, err)
	}
	again, replayed, err := f.svc.DeleteGroup(f.ctx, with(bob, "del"), spring.ID, "season over")
	if err != nil || !replayed || again.Version != del.Version {
		t.Fatalf("delete replay = %+v %v %v", again, replayed, err)
	}
	_, err = f.svc.GetGroup(f.ctx, spring.ID)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupDeleted)
	_, err = f.svc.UpdateGroup(f.ctx, bob, spring.ID, inventory.GroupPatch{Description: ptr("x")})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupDeleted)
	_, _, err = f.svc.DeleteGroup(f.ctx, bob, spring.ID, "")
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupDeleted)
	f.tick(time.Second)
	if _, _, err := f.svc.DeleteGroup(f.ctx, bob, beta.ID, ""); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)

	// ListGroups: live ones, name order; ListDeletedGroups: newest deletion first.
	groups, err := f.svc.ListGroups(f.ctx, inventory.PageRequest{Limit: 10})
	if err != nil || !slices.Equal(groupNames(groups.Items), []string{"Alpha"}) || groups.NextCursor != "" {
		t.Fatalf("groups = %v %q %v", groupNames(groups.Items), groups.NextCursor, err)
	}
	gone, err := f.svc.ListDeletedGroups(f.ctx, inventory.PageRequest{Limit: 10})
	if err != nil || len(gone.Items) != 2 || gone.Items[0].ID != beta.ID || gone.Items[1].ID != spring.ID {
		t.Fatalf("deleted groups = %v %v", groupNames(gone.Items), err)
	}

	// Its name is free: another group takes it; the restore then clashes.
	taker := f.mkGroup("SPRING-SALÉ")
	_, _, err = f.svc.RestoreGroup(f.ctx, bob, spring.ID)
	wantCode(t, err, inventory.KindConflict, inventory.CodeGroupNameConflict)
	if _, _, err := f.svc.DeleteGroup(f.ctx, bob, taker.ID, ""); err != nil {
		t.Fatal(err)
	}
	back, replayed, err := f.svc.RestoreGroup(f.ctx, with(bob, "restore"), spring.ID)
	if err != nil || replayed || back.Deleted != nil || back.MemberCount != 1 || back.Version != del.Version+1 {
		t.Fatalf("restore = %+v %v %v", back, replayed, err)
	}
	if g, err := f.svc.GetGroup(f.ctx, spring.ID); err != nil || g.Name != "Spring sale" {
		t.Fatalf("get after restore = %+v %v", g, err)
	}

	// Paging with limit 1 lists each live group once, in name order.
	var names []string
	pr := inventory.PageRequest{Limit: 1}
	for range 10 {
		p, err := f.svc.ListGroups(f.ctx, pr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, groupNames(p.Items)...)
		if pr.Cursor = p.NextCursor; pr.Cursor == "" {
			break
		}
	}
	if !slices.Equal(names, []string{alpha.Name, "Spring sale"}) {
		t.Fatalf("paged groups %v", names)
	}
	_, err = f.svc.ListGroups(f.ctx, inventory.PageRequest{Limit: 1, Cursor: "no-id"})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidCursor)
	_, err = f.svc.ListDeletedGroups(f.ctx, inventory.PageRequest{Limit: 1, Cursor: "alpha~" + alpha.ID})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidCursor)
}

// ---- Membership

func TestSetMember(t *testing.T) {
	f := newFixture(t)
	g := f.mkGroup("Fasteners")
	a := f.create(alice, "A", 1)

	got, changed := f.setMember(g.ID, a.ID, true)
	if !changed || got.MemberCount != 1 || got.ID != g.ID || got.Version != g.Version {
		t.Fatalf("add = %+v %v", got, changed)
	}
	it := f.item(a.ID)
	if it.Version != 2 || !slices.Equal(it.Groups, []string{g.ID}) || it.UpdatedBy != bob.Actor {
		t.Fatalf("item after add = %+v", it)
	}
	acts := f.activity(a.ID)
	if acts[0].Type != inventory.ActivityUpdated || len(acts[0].Changes) != 1 || acts[0].Changes[0].Field != "groups" ||
		string(acts[0].Changes[0].From) != `[]` || string(acts[0].Changes[0].To) != `["`+g.ID+`"]` || acts[0].Actor != bob.Actor {
		t.Fatalf("activity %+v", acts[0])
	}
	saves := f.store.Saves()
	got, changed = f.setMember(g.ID, a.ID, true)
	if changed || got.MemberCount != 1 || f.item(a.ID).Version != 2 || f.store.Saves() != saves || len(f.activity(a.ID)) != len(acts) {
		t.Fatalf("add again = %+v %v (version %d, %d saves)", got, changed, f.item(a.ID).Version, f.store.Saves()-saves)
	}
	// If-Match on a membership is ignored: it has no version of its own.
	if _, _, err := f.svc.SetMember(f.ctx, ifMatch(bob, 99), g.ID, a.ID, true); err != nil {
		t.Fatalf("If-Match on a membership: %v", err)
	}

	got, changed = f.setMember(g.ID, a.ID, false)
	if !changed || got.MemberCount != 0 || f.item(a.ID).Version != 3 || f.item(a.ID).Groups != nil {
		t.Fatalf("remove = %+v %v, item %+v", got, changed, f.item(a.ID))
	}
	got, changed = f.setMember(g.ID, a.ID, false)
	if changed || got.MemberCount != 0 || f.item(a.ID).Version != 3 {
		t.Fatalf("remove again = %+v %v", got, changed)
	}

	// Unknown and deleted items and groups.
	gone := f.create(alice, "GONE", 0)
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, gone.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.svc.SetMember(f.ctx, bob, g.ID, gone.ID, true)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	_, _, err = f.svc.SetMember(f.ctx, bob, g.ID, unknownID, true)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemNotFound)
	_, _, err = f.svc.SetMember(f.ctx, bob, g.ID, "bad", false)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemNotFound)
	_, _, err = f.svc.SetMember(f.ctx, bob, unknownID, a.ID, true)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupNotFound)
	dead := f.mkGroup("Dead")
	if _, _, err := f.svc.DeleteGroup(f.ctx, bob, dead.ID, ""); err != nil {
		t.Fatal(err)
	}
	for _, member := range []bool{true, false} {
		_, _, err = f.svc.SetMember(f.ctx, bob, dead.ID, a.ID, member)
		wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupDeleted)
	}

	// The item group limit.
	var ten []inventory.Group
	for i := range inventory.MaxItemGroups {
		ten = append(ten, f.mkGroup(fmt.Sprintf("Group %d", i)))
		f.setMember(ten[i].ID, a.ID, true)
	}
	eleventh := f.mkGroup("Eleventh")
	saves = f.store.Saves()
	_, _, err = f.svc.SetMember(f.ctx, bob, eleventh.ID, a.ID, true)
	wantCode(t, err, inventory.KindConflict, inventory.CodeItemGroupLimit)
	_, _, err = f.svc.ChangeMembers(f.ctx, bob, eleventh.ID, inventory.MembershipInput{Add: []string{a.ID}})
	wantCode(t, err, inventory.KindConflict, inventory.CodeItemGroupLimit)
	var e *inventory.Error
	if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "/add/0" {
		t.Fatalf("batch limit error %+v", err)
	}
	if f.store.Saves() != saves || f.group(eleventh.ID).MemberCount != 0 || len(f.item(a.ID).Groups) != inventory.MaxItemGroups {
		t.Fatal("a refused membership wrote")
	}
	// Leaving one makes room.
	f.setMember(ten[0].ID, a.ID, false)
	if g, changed := f.setMember(eleventh.ID, a.ID, true); !changed || g.MemberCount != 1 {
		t.Fatalf("join after leaving one = %+v %v", g, changed)
	}
}

func TestMembershipFollowsLiveness(t *testing.T) {
	f := newFixture(t)
	g := f.mkGroup("Sale")
	a := f.create(alice, "A", 1)
	b := f.create(alice, "B", 1)
	f.setMember(g.ID, a.ID, true)
	f.setMember(g.ID, b.ID, true)
	inGroup := inventory.ItemQuery{GroupID: g.ID}
	if n := f.group(g.ID).MemberCount; n != 2 {
		t.Fatalf("member count %d", n)
	}

	// A deleted member is not counted nor listed; a restore brings it back.
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n := f.group(g.ID).MemberCount; n != 1 {
		t.Fatalf("member count %d after deleting a member", n)
	}
	if skus := f.listSKUs(inGroup, 10); !slices.Equal(skus, []string{"B"}) {
		t.Fatalf("group items %v", skus)
	}
	if _, _, err := f.svc.RestoreItem(f.ctx, alice, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.group(g.ID).MemberCount; n != 2 {
		t.Fatalf("member count %d after restoring a member", n)
	}
	if skus := f.listSKUs(inGroup, 10); !slices.Equal(skus, []string{"A", "B"}) {
		t.Fatalf("group items %v", skus)
	}

	// Deleting the group keeps its memberships.
	if _, _, err := f.svc.DeleteGroup(f.ctx, bob, g.ID, "pause"); err != nil {
		t.Fatal(err)
	}
	if it := f.item(a.ID); !slices.Equal(it.Groups, []string{g.ID}) || it.Version != 4 {
		t.Fatalf("item after its group's delete = %+v", it)
	}
	_, err := f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 10}, inGroup)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupDeleted)
	_, _, err = f.svc.ChangeMembers(f.ctx, bob, g.ID, inventory.MembershipInput{Add: []string{a.ID}})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupDeleted)
	if d, err := f.svc.GetItem(f.ctx, a.ID); err != nil || len(d.GroupRefs) != 0 {
		t.Fatalf("GetItem lists a deleted group: %+v %v", d.GroupRefs, err)
	}
	// An item deleted while its group is deleted still counts down.
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, b.ID, ""); err != nil {
		t.Fatal(err)
	}
	back, _, err := f.svc.RestoreGroup(f.ctx, bob, g.ID)
	if err != nil || back.MemberCount != 1 {
		t.Fatalf("restore = %+v %v", back, err)
	}
	if skus := f.listSKUs(inGroup, 10); !slices.Equal(skus, []string{"A"}) {
		t.Fatalf("group items after restore %v", skus)
	}
	if _, _, err := f.svc.RestoreItem(f.ctx, alice, b.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.group(g.ID).MemberCount; n != 2 {
		t.Fatalf("member count %d", n)
	}
	if d, err := f.svc.GetItem(f.ctx, a.ID); err != nil || !slices.Equal(refNames(d.GroupRefs), []string{"Sale"}) {
		t.Fatalf("GetItem groups %+v %v", d.GroupRefs, err)
	}
}

func TestChangeMembersOutcomes(t *testing.T) {
	f := newFixture(t)
	g := f.mkGroup("Batch")
	member := f.create(alice, "MEMBER", 1)
	add1 := f.create(alice, "ADD-1", 1)
	add2 := f.create(alice, "ADD-2", 1)
	leaving := f.create(alice, "LEAVING", 1)
	outsider := f.create(alice, "OUTSIDER", 1)
	gone := f.create(alice, "GONE", 1)
	f.setMember(g.ID, member.ID, true)
	f.setMember(g.ID, leaving.ID, true)
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, gone.ID, ""); err != nil {
		t.Fatal(err)
	}
	saves := f.store.Saves()
	in := inventory.MembershipInput{
		Add:    []string{add1.ID, member.ID, unknownID, add2.ID, gone.ID},
		Remove: []string{leaving.ID, outsider.ID},
	}
	res, replayed, err := f.svc.ChangeMembers(f.ctx, bob, g.ID, in)
	if err != nil || replayed {
		t.Fatalf("batch: %v %v", replayed, err)
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"added", res.Added, []string{add1.ID, add2.ID}},
		{"removed", res.Removed, []string{leaving.ID}},
		{"unchanged", res.Unchanged, []string{member.ID, outsider.ID}},
		{"notFound", res.NotFound, []string{unknownID, gone.ID}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if res.MemberCount != 3 || f.group(g.ID).MemberCount != 3 {
		t.Fatalf("member count %d (stored %d), want 3", res.MemberCount, f.group(g.ID).MemberCount)
	}
	if n := f.store.Saves() - saves; n != 1 {
		t.Fatalf("%d saves, want 1 transaction", n)
	}
	for _, c := range []struct {
		item    usecase.ItemDetail
		version int64
		member  bool
	}{{add1, 2, true}, {add2, 2, true}, {member, 2, true}, {leaving, 3, false}, {outsider, 1, false}} {
		it := f.item(c.item.ID)
		if it.Version != c.version || slices.Contains(it.Groups, g.ID) != c.member {
			t.Errorf("%s: version %d groups %v, want version %d member %v", it.SKU, it.Version, it.Groups, c.version, c.member)
		}
	}
	if acts := f.activity(add1.ID); acts[0].Type != inventory.ActivityUpdated || acts[0].Changes[0].Field != "groups" || acts[0].Actor != bob.Actor {
		t.Fatalf("activity of an added item %+v", acts[0])
	}
	if skus := f.listSKUs(inventory.ItemQuery{GroupID: g.ID}, 10); !slices.Equal(skus, []string{"ADD-1", "ADD-2", "MEMBER"}) {
		t.Fatalf("group items %v", skus)
	}
	_, _, err = f.svc.ChangeMembers(f.ctx, bob, unknownID, inventory.MembershipInput{Add: []string{add1.ID}})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupNotFound)
}

func TestChangeMembersManyChunks(t *testing.T) {
	f := newFixture(t)
	g := f.mkGroup("Hundred")
	var ids, skus []string
	for i := range inventory.MaxMembershipIDs {
		d := f.create(alice, fmt.Sprintf("H-%03d", i), 1)
		ids, skus = append(ids, d.ID), append(skus, d.SKU)
	}
	saves := f.store.Saves()
	res, _, err := f.svc.ChangeMembers(f.ctx, bob, g.ID, inventory.MembershipInput{Add: ids})
	if err != nil || !slices.Equal(res.Added, ids) || len(res.Unchanged)+len(res.Removed)+len(res.NotFound) != 0 || res.MemberCount != 100 {
		t.Fatalf("batch of 100: added %d, %+v, %v", len(res.Added), res.MemberCount, err)
	}
	if n := f.store.Saves() - saves; n != 4 { // 30+30+30+10
		t.Fatalf("%d transactions, want 4", n)
	}
	if got := f.listSKUs(inventory.ItemQuery{GroupID: g.ID}, 100); !slices.Equal(got, skus) {
		t.Fatalf("group lists %d items", len(got))
	}
	// All again, removing them: every one changes.
	res, _, err = f.svc.ChangeMembers(f.ctx, bob, g.ID, inventory.MembershipInput{Remove: ids})
	if err != nil || len(res.Removed) != 100 || res.MemberCount != 0 {
		t.Fatalf("remove 100: %d removed, count %d, %v", len(res.Removed), res.MemberCount, err)
	}
}

func TestChangeMembersValidation(t *testing.T) {
	f := newFixture(t)
	g := f.mkGroup("V")
	var many []string
	for i := range inventory.MaxMembershipIDs + 1 {
		many = append(many, inventory.NewID(f.now.Add(time.Duration(i)*time.Millisecond)))
	}
	for _, c := range []struct {
		name   string
		in     inventory.MembershipInput
		fields []string
	}{
		{"no ids", inventory.MembershipInput{}, []string{"/add:required"}},
		{"empty lists", inventory.MembershipInput{Add: []string{}, Remove: []string{}}, []string{"/add:required"}},
		{"101 ids", inventory.MembershipInput{Add: many[:60], Remove: many[60:]}, []string{"/add:too_many"}},
		{"in add and remove", inventory.MembershipInput{Add: many[:2], Remove: many[1:2]}, []string{"/remove/0:duplicate"}},
		{"twice in add", inventory.MembershipInput{Add: []string{many[0], many[0]}}, []string{"/add/1:duplicate"}},
		{"malformed", inventory.MembershipInput{Add: []string{many[0], "not-an-id"}, Remove: []string{many[1][:25]}},
			[]string{"/add/1:pattern", "/remove/0:pattern"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := f.svc.ChangeMembers(f.ctx, bob, g.ID, c.in)
			wantFields(t, err, inventory.CodeValidationFailed, c.fields...)
		})
	}
	// 100 in all is the limit, not over it (all unknown here).
	res, _, err := f.svc.ChangeMembers(f.ctx, bob, g.ID, inventory.MembershipInput{Add: many[:50], Remove: many[50:100]})
	if err != nil || len(res.NotFound) != 100 || res.MemberCount != 0 {
		t.Fatalf("100 unknown ids: %d not found, %v", len(res.NotFound), err)
	}
}

func TestChangeMembersReplay(t *testing.T) {
	f := newFixture(t)
	g := f.mkGroup("Replay")
	a := f.create(alice, "A", 1)
	b := f.create(alice, "B", 1)
	in := inventory.MembershipInput{Add: []string{a.ID, b.ID}}
	first, replayed, err := f.svc.ChangeMembers(f.ctx, with(bob, "batch"), g.ID, in)
	if err != nil || replayed || len(first.Added) != 2 || first.MemberCount != 2 {
		t.Fatalf("first = %+v %v %v", first, replayed, err)
	}
	itemSaves := 0
	f.store.BeforeSave = func(inventory.ItemChange) error { itemSaves++; return nil }
	saves := f.store.Saves()
	f.tick(time.Minute)
	again, replayed, err := f.svc.ChangeMembers(f.ctx, with(bob, "batch"), g.ID, in)
	if err != nil || !replayed {
		t.Fatalf("replay: %v %v", replayed, err)
	}
	if itemSaves != 0 || f.store.Saves() != saves {
		t.Fatalf("a replay wrote: %d item saves, %d commits", itemSaves, f.store.Saves()-saves)
	}
	if !slices.Equal(again.Added, first.Added) || !slices.Equal(again.Removed, first.Removed) ||
		!slices.Equal(again.Unchanged, first.Unchanged) || !slices.Equal(again.NotFound, first.NotFound) {
		t.Fatalf("replay = %+v, first %+v", again, first)
	}
	// A replay answers the group's count as of the replay: unchanged here.
	if again.MemberCount != first.MemberCount {
		t.Errorf("replayed memberCount %d, first answer %d", again.MemberCount, first.MemberCount)
	}
	_, _, err = f.svc.ChangeMembers(f.ctx, with(bob, "batch"), g.ID, inventory.MembershipInput{Remove: []string{a.ID}})
	wantCode(t, err, inventory.KindUnprocessable, inventory.CodeIdempotencyKeyReused)
	// The same body under another key runs again: now all unchanged.
	res, replayed, err := f.svc.ChangeMembers(f.ctx, with(bob, "batch-2"), g.ID, in)
	if err != nil || replayed || !slices.Equal(res.Unchanged, []string{a.ID, b.ID}) || len(res.Added) != 0 || itemSaves != 0 {
		t.Fatalf("retry under a new key = %+v %v %v (%d item saves)", res, replayed, err, itemSaves)
	}
}

func TestChangeMembersRetriesAStaleChunk(t *testing.T) {
	for _, c := range []struct {
		name string
		real bool // a concurrent SetMember of the chunk's first item, rather than an injected ErrStale
	}{{"injected", false}, {"concurrent writer", true}} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			g := f.mkGroup("Raced")
			var ids []string
			for i := range 40 {
				ids = append(ids, f.create(alice, fmt.Sprintf("R-%02d", i), 1).ID)
			}
			calls := 0
			f.store.BeforeSave = func(inventory.ItemChange) error {
				calls++
				if calls > 1 {
					return nil
				}
				if !c.real {
					return fmt.Errorf("lost the race: %w", inventory.ErrStale)
				}
				hook := f.store.BeforeSave
				f.store.BeforeSave = nil
				if _, _, err := f.svc.SetMember(f.ctx, alice, g.ID, ids[0], true); err != nil {
					t.Error(err)
				}
				f.store.BeforeSave = hook
				return nil // the store finds ids[0] changed: the chunk is stale
			}
			res, _, err := f.svc.ChangeMembers(f.ctx, bob, g.ID, inventory.MembershipInput{Add: ids})
			if err != nil {
				t.Fatal(err)
			}
			wantAdded, wantUnchanged := ids, []string(nil)
			if c.real {
				wantAdded, wantUnchanged = ids[1:], ids[:1]
			}
			if !slices.Equal(res.Added, wantAdded) || !slices.Equal(res.Unchanged, wantUnchanged) || len(res.NotFound) != 0 {
				t.Fatalf("added %d, unchanged %v", len(res.Added), res.Unchanged)
			}
			if calls != 3 || res.MemberCount != 40 || f.group(g.ID).MemberCount != 40 {
				t.Fatalf("%d commit attempts (want 3), member count %d (stored %d), want 40", calls, res.MemberCount, f.group(g.ID).MemberCount)
			}
			for _, id := range ids {
				if it := f.item(id); it.Version != 2 || !slices.Equal(it.Groups, []string{g.ID}) {
					t.Fatalf("item %s = version %d groups %v", it.SKU, it.Version, it.Groups)
				}
			}
		})
	}
}

func TestChangeMembersGroupDeletedDuringTheBatch(t *testing.T) {
	f := newFixture(t)
	g := f.mkGroup("Vanishing")
	var ids []string
	for i := range 3 {
		ids = append(ids, f.create(alice, fmt.Sprintf("V-%d", i), 1).ID)
	}
	f.store.BeforeSave = func(inventory.ItemChange) error {
		f.store.BeforeSave = nil
		_, _, err := f.svc.DeleteGroup(f.ctx, alice, g.ID, "")
		return err
	}
	_, _, err := f.svc.ChangeMembers(f.ctx, bob, g.ID, inventory.MembershipInput{Add: ids})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupDeleted)
	for _, id := range ids {
		if it := f.item(id); len(it.Groups) != 0 {
			t.Fatalf("item joined a deleted group: %+v", it.Groups)
		}
	}
}

// ---- ListItems

// catalogue is a small catalogue for the filter tests.
type catalogue struct {
	f                       *fixture
	bolt, nut, washer, glue usecase.ItemDetail
	group                   inventory.Group
	shelf                   inventory.Location
}

func newCatalogue(t *testing.T) catalogue {
	f := newFixture(t)
	c := catalogue{f: f}
	c.bolt = f.mkItem(inventory.CreateInput{SKU: "BOLT-M8-40", Name: "Hex bolt M8×40", Quantity: 10, Tags: []string{"fastener", "steel"}})
	c.nut = f.mkItem(inventory.CreateInput{SKU: "NUT-M6", Name: "Écrou M6", Quantity: 3, Tags: []string{"fastener"}, ReorderPoint: ptr[int64](5)})
	c.washer = f.mkItem(inventory.CreateInput{SKU: "WASHER-8", Name: "Washer 8 mm", Quantity: 50, Tags: []string{"steel"}})
	c.glue = f.mkItem(inventory.CreateInput{SKU: "GLUE-1", Name: "Glue stick", Quantity: 0, ReorderPoint: ptr[int64](1)})
	c.group = f.mkGroup("Small parts")
	f.setMember(c.group.ID, c.nut.ID, true)
	f.setMember(c.group.ID, c.glue.ID, true)
	c.shelf = f.location("SHELF-1")
	if _, _, err := f.svc.CreateTransfer(f.ctx, alice, inventory.TransferInput{ItemID: c.washer.ID, FromLocationID: def, ToLocationID: c.shelf.ID, Quantity: 5}); err != nil {
		t.Fatal(err)
	}
	// Touch every item in a known order, for -updatedAt.
	for _, d := range []usecase.ItemDetail{c.washer, c.bolt, c.glue, c.nut} {
		f.tick(time.Second)
		if _, err := f.svc.UpdateItem(f.ctx, bob, d.ID, inventory.Patch{Description: ptr("touched")}); err != nil {
			t.Fatal(err)
		}
	}
	f.tick(time.Second)
	return c
}

func TestListItemsFilters(t *testing.T) {
	c := newCatalogue(t)
	f := c.f
	for _, tc := range []struct {
		name string
		q    inventory.ItemQuery
		want []string
	}{
		{"all", inventory.ItemQuery{}, []string{"BOLT-M8-40", "GLUE-1", "NUT-M6", "WASHER-8"}},
		{"q word prefixes", inventory.ItemQuery{Q: "bolt m8"}, []string{"BOLT-M8-40"}},
		{"q any case, any order", inventory.ItemQuery{Q: "M8 HEX"}, []string{"BOLT-M8-40"}},
		{"q without accents", inventory.ItemQuery{Q: "ecrou"}, []string{"NUT-M6"}},
		{"q with accents", inventory.ItemQuery{Q: "ÉCR"}, []string{"NUT-M6"}},
		{"q on the SKU", inventory.ItemQuery{Q: "nut-m"}, []string{"NUT-M6"}},
		{"q prefix of many", inventory.ItemQuery{Q: "m"}, []string{"BOLT-M8-40", "NUT-M6", "WASHER-8"}},
		{"q long word", inventory.ItemQuery{Q: "washer"}, []string{"WASHER-8"}},
		{"q not a prefix", inventory.ItemQuery{Q: "olt"}, []string{}},
		{"q one word missing", inventory.ItemQuery{Q: "bolt m6"}, []string{}},
		{"tag", inventory.ItemQuery{Tag: "steel"}, []string{"BOLT-M8-40", "WASHER-8"}},
		{"tag exact", inventory.ItemQuery{Tag: "Steel"}, []string{}},
		{"group", inventory.ItemQuery{GroupID: c.group.ID}, []string{"GLUE-1", "NUT-M6"}},
		{"location", inventory.ItemQuery{LocationID: c.shelf.ID}, []string{"WASHER-8"}},
		{"low stock", inventory.ItemQuery{LowStock: true}, []string{"GLUE-1", "NUT-M6"}},
		{"min quantity", inventory.ItemQuery{MinQuantity: ptr[int64](10)}, []string{"BOLT-M8-40", "WASHER-8"}},
		{"max quantity", inventory.ItemQuery{MaxQuantity: ptr[int64](3)}, []string{"GLUE-1", "NUT-M6"}},
		{"min and max", inventory.ItemQuery{MinQuantity: ptr[int64](3), MaxQuantity: ptr[int64](10)}, []string{"BOLT-M8-40", "NUT-M6"}},
		{"min equals max", inventory.ItemQuery{MinQuantity: ptr[int64](0), MaxQuantity: ptr[int64](0)}, []string{"GLUE-1"}},
		{"tag and max", inventory.ItemQuery{Tag: "fastener", MaxQuantity: ptr[int64](5)}, []string{"NUT-M6"}},
		{"group and q", inventory.ItemQuery{GroupID: c.group.ID, Q: "glue"}, []string{"GLUE-1"}},
		{"location and tag", inventory.ItemQuery{LocationID: c.shelf.ID, Tag: "fastener"}, []string{}},
		{"sort by name", inventory.ItemQuery{Sort: inventory.SortName}, []string{"NUT-M6", "GLUE-1", "BOLT-M8-40", "WASHER-8"}},
		{"sort by name, filtered", inventory.ItemQuery{Sort: inventory.SortName, Tag: "fastener"}, []string{"NUT-M6", "BOLT-M8-40"}},
		{"newest update first", inventory.ItemQuery{Sort: inventory.SortUpdated}, []string{"NUT-M6", "GLUE-1", "BOLT-M8-40", "WASHER-8"}},
		{"newest update first, filtered", inventory.ItemQuery{Sort: inventory.SortUpdated, Q: "m"}, []string{"NUT-M6", "BOLT-M8-40", "WASHER-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.listSKUs(tc.q, 25); !slices.Equal(got, tc.want) {
				t.Fatalf("listed %v, want %v", got, tc.want)
			}
			// Paging one by one lists each once, in the same order.
			if got := f.listSKUs(tc.q, 1); !slices.Equal(got, tc.want) {
				t.Fatalf("paged by 1: %v, want %v", got, tc.want)
			}
		})
	}
	// A deleted item is in no list.
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, c.nut.ID, ""); err != nil {
		t.Fatal(err)
	}
	for _, q := range []inventory.ItemQuery{{}, {Q: "ecrou"}, {Tag: "fastener"}, {GroupID: c.group.ID}, {LowStock: true},
		{Sort: inventory.SortName}, {Sort: inventory.SortUpdated}, {LocationID: def}} {
		if got := f.listSKUs(q, 2); slices.Contains(got, "NUT-M6") {
			t.Errorf("%+v lists a deleted item: %v", q, got)
		}
	}
}

func TestListItemsRenameAndResortMove(t *testing.T) {
	c := newCatalogue(t)
	f := c.f
	// A rename moves the item in name order and in search; a new SKU in SKU order.
	if _, err := f.svc.UpdateItem(f.ctx, bob, c.bolt.ID, inventory.Patch{Name: ptr("Anchor bolt"), SKU: ptr("ZZ-BOLT")}); err != nil {
		t.Fatal(err)
	}
	if got := f.listSKUs(inventory.ItemQuery{Sort: inventory.SortName}, 1); !slices.Equal(got, []string{"ZZ-BOLT", "NUT-M6", "GLUE-1", "WASHER-8"}) {
		t.Fatalf("by name %v", got)
	}
	if got := f.listSKUs(inventory.ItemQuery{}, 1); !slices.Equal(got, []string{"GLUE-1", "NUT-M6", "WASHER-8", "ZZ-BOLT"}) {
		t.Fatalf("by sku %v", got)
	}
	if got := f.listSKUs(inventory.ItemQuery{Q: "hex"}, 5); len(got) != 0 {
		t.Fatalf("the old name is still found: %v", got)
	}
	if got := f.listSKUs(inventory.ItemQuery{Q: "anchor"}, 5); !slices.Equal(got, []string{"ZZ-BOLT"}) {
		t.Fatalf("the new name is not found: %v", got)
	}
	if got := f.listSKUs(inventory.ItemQuery{Sort: inventory.SortUpdated}, 2); got[0] != "ZZ-BOLT" {
		t.Fatalf("newest first %v", got)
	}
}

func TestListItemsInvalidParameters(t *testing.T) {
	c := newCatalogue(t)
	f := c.f
	pr := inventory.PageRequest{Limit: 10}
	for _, tc := range []struct {
		name   string
		q      inventory.ItemQuery
		fields []string
	}{
		{"unknown sort", inventory.ItemQuery{Sort: "price"}, []string{"sort:enum"}},
		{"q without words", inventory.ItemQuery{Q: "***"}, []string{"q:no_words"}},
		{"q too long", inventory.ItemQuery{Q: strings.Repeat("a", 201)}, []string{"q:too_long"}},
		{"q too many words", inventory.ItemQuery{Q: "a b c d e f g h i"}, []string{"q:too_many"}},
		{"min above max", inventory.ItemQuery{MinQuantity: ptr[int64](5), MaxQuantity: ptr[int64](2)}, []string{"maxQuantity:range"}},
		{"negative min", inventory.ItemQuery{MinQuantity: ptr[int64](-1)}, []string{"minQuantity:minimum"}},
		{"negative max", inventory.ItemQuery{MaxQuantity: ptr[int64](-1)}, []string{"maxQuantity:minimum"}},
		{"location by name", inventory.ItemQuery{LocationID: c.shelf.ID, Sort: inventory.SortName}, []string{"sort:unsupported"}},
		{"location by update", inventory.ItemQuery{LocationID: def, Sort: inventory.SortUpdated}, []string{"sort:unsupported"}},
		{"malformed group", inventory.ItemQuery{GroupID: "sale"}, []string{"groupId:pattern"}},
		{"malformed location", inventory.ItemQuery{LocationID: "shelf"}, []string{"locationId:pattern"}},
		{"tag too long", inventory.ItemQuery{Tag: strings.Repeat("t", 51)}, []string{"tag:too_long"}},
		{"blank tag", inventory.ItemQuery{Tag: "  "}, []string{"tag:blank"}},
		{"several", inventory.ItemQuery{Sort: "price", MinQuantity: ptr[int64](-1)}, []string{"sort:enum", "minQuantity:minimum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.ListItems(f.ctx, pr, tc.q)
			wantFields(t, err, inventory.CodeInvalidParameter, tc.fields...)
		})
	}
	_, err := f.svc.ListItems(f.ctx, pr, inventory.ItemQuery{GroupID: unknownID})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeGroupNotFound)
	_, err = f.svc.ListItems(f.ctx, pr, inventory.ItemQuery{LocationID: unknownID})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeLocationNotFound)
	_, err = f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 0}, inventory.ItemQuery{})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidParameter)
	_, err = f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 10, Cursor: "no id"}, inventory.ItemQuery{})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidCursor)
	// A cursor of one order is a position in every other.
	p, err := f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 1}, inventory.ItemQuery{Sort: inventory.SortName})
	if err != nil || p.NextCursor == "" {
		t.Fatal(p, err)
	}
	if _, err := f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 1, Cursor: p.NextCursor}, inventory.ItemQuery{Sort: inventory.SortUpdated}); err != nil {
		t.Fatalf("a name cursor in update order: %v", err)
	}
	// locationId "default" lists the items with a level there.
	if skus := f.listSKUs(inventory.ItemQuery{LocationID: def}, 10); !slices.Contains(skus, "BOLT-M8-40") || !slices.Contains(skus, "WASHER-8") {
		t.Fatalf("items at the default location %v", skus)
	}
}

func TestListItemsBudget(t *testing.T) {
	f := newFixture(t)
	const n = 1100
	for i := range n {
		qty := int64(0)
		if i == n-1 {
			qty = 7
		}
		if _, _, err := f.svc.CreateItem(f.ctx, alice, inventory.CreateInput{SKU: fmt.Sprintf("B-%04d", i), Name: "Bulk", Quantity: qty}); err != nil {
			t.Fatal(err)
		}
	}
	q := inventory.ItemQuery{MinQuantity: ptr[int64](5)}
	pr := inventory.PageRequest{Limit: 10}
	first, err := f.svc.ListItems(f.ctx, pr, q)
	if err != nil || !first.BudgetExhausted || first.NextCursor == "" || len(first.Items) >= pr.Limit {
		t.Fatalf("first page: %d items, exhausted %v, cursor %q, %v", len(first.Items), first.BudgetExhausted, first.NextCursor, err)
	}
	var found []string
	pages := 0
	for p := first; ; {
		pages++
		for _, d := range p.Items {
			found = append(found, d.SKU)
		}
		if p.NextCursor == "" {
			if p.BudgetExhausted {
				t.Fatal("the last page says the budget is exhausted")
			}
			break
		}
		if pages > 20 {
			t.Fatalf("%d pages and counting", pages)
		}
		pr.Cursor = p.NextCursor
		if p, err = f.svc.ListItems(f.ctx, pr, q); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(found, []string{fmt.Sprintf("B-%04d", n-1)}) || pages < 2 {
		t.Fatalf("found %v in %d pages", found, pages)
	}
	// A page that fills within the budget is not exhausted.
	all, err := f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 100}, inventory.ItemQuery{})
	if err != nil || all.BudgetExhausted || len(all.Items) != 100 || all.NextCursor != "B-0099~"+all.Items[99].ID {
		t.Fatalf("unfiltered page: %d items, exhausted %v, cursor %q, %v", len(all.Items), all.BudgetExhausted, all.NextCursor, err)
	}
}

// ---- ListTags

func (f *fixture) tagCounts(limit int) []string {
	f.t.Helper()
	out := []string{}
	pr := inventory.PageRequest{Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 100 {
			f.t.Fatal("tags do not end")
		}
		p, err := f.svc.ListTags(f.ctx, pr)
		if err != nil {
			f.t.Fatal(err)
		}
		if len(p.Items) > limit {
			f.t.Fatalf("%d tags, limit %d", len(p.Items), limit)
		}
		for _, tc := range p.Items {
			out = append(out, fmt.Sprintf("%s=%d", tc.Tag, tc.Count))
		}
		if pr.Cursor = p.NextCursor; pr.Cursor == "" {
			return out
		}
	}
}

func TestListTags(t *testing.T) {
	f := newFixture(t)
	a := f.mkItem(inventory.CreateInput{SKU: "A", Name: "a", Tags: []string{"steel", "a~b", "café"}})
	f.mkItem(inventory.CreateInput{SKU: "B", Name: "b", Tags: []string{"steel", "Ünï"}})
	c := f.mkItem(inventory.CreateInput{SKU: "C", Name: "c", Tags: []string{"solo"}})
	want := []string{"a~b=1", "café=1", "solo=1", "steel=2", "Ünï=1"}
	if got := f.tagCounts(100); !slices.Equal(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	if got := f.tagCounts(1); !slices.Equal(got, want) {
		t.Fatalf("tags paged by 1: %v, want %v", got, want)
	}
	if got := f.tagCounts(2); !slices.Equal(got, want) {
		t.Fatalf("tags paged by 2: %v, want %v", got, want)
	}
	// A deleted item's tags do not count; its only tag is gone.
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	// A tag removed from its only item is gone.
	if _, err := f.svc.UpdateItem(f.ctx, alice, a.ID, inventory.Patch{Tags: &[]string{"steel", "new"}}); err != nil {
		t.Fatal(err)
	}
	want = []string{"new=1", "steel=2", "Ünï=1"}
	if got := f.tagCounts(1); !slices.Equal(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	// A restore counts it again.
	if _, _, err := f.svc.RestoreItem(f.ctx, alice, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.tagCounts(10); !slices.Equal(got, []string{"new=1", "solo=1", "steel=2", "Ünï=1"}) {
		t.Fatalf("tags after restore %v", got)
	}
	// The cursor is the tag in hex: one that names no tag still is a position.
	p, err := f.svc.ListTags(f.ctx, inventory.PageRequest{Limit: 10, Cursor: "6f"}) // "o"
	if err != nil || len(p.Items) != 3 || p.Items[0].Tag != "solo" {
		t.Fatalf("tags after %q: %+v %v", "o", p.Items, err)
	}
	for _, cursor := range []string{"zz", "ff", "c3", "6", "6F", "new"} {
		_, err := f.svc.ListTags(f.ctx, inventory.PageRequest{Limit: 10, Cursor: cursor})
		wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidCursor)
	}
	_, err = f.svc.ListTags(f.ctx, inventory.PageRequest{Limit: 101})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidParameter)
}

// ---- GetItem's groups

func TestGetItemGroups(t *testing.T) {
	f := newFixture(t)
	a := f.create(alice, "A", 0)
	d, err := f.svc.GetItem(f.ctx, a.ID)
	if err != nil || d.GroupRefs == nil || len(d.GroupRefs) != 0 {
		t.Fatalf("groups of an item in none: %#v %v", d.GroupRefs, err)
	}
	var gamma inventory.Group
	for _, name := range []string{"beta", "Gamma", "Éclair", "Alpha"} {
		g := f.mkGroup(name)
		if name == "Gamma" {
			gamma = g
		}
		f.setMember(g.ID, a.ID, true)
	}
	if _, _, err := f.svc.DeleteGroup(f.ctx, bob, gamma.ID, ""); err != nil {
		t.Fatal(err)
	}
	d, err = f.svc.GetItem(f.ctx, a.ID)
	if err != nil || !slices.Equal(refNames(d.GroupRefs), []string{"Alpha", "beta", "Éclair"}) {
		t.Fatalf("groups %v %v", refNames(d.GroupRefs), err)
	}
	for _, r := range d.GroupRefs {
		if g := f.group(r.ID); g.Name != r.Name {
			t.Fatalf("ref %+v names group %+v", r, g)
		}
	}
	// A renamed group is listed under its new name, in its new place.
	if _, err := f.svc.UpdateGroup(f.ctx, bob, d.GroupRefs[0].ID, inventory.GroupPatch{Name: ptr("Zulu")}); err != nil {
		t.Fatal(err)
	}
	if d, _ = f.svc.GetItem(f.ctx, a.ID); !slices.Equal(refNames(d.GroupRefs), []string{"beta", "Éclair", "Zulu"}) {
		t.Fatalf("groups after a rename %v", refNames(d.GroupRefs))
	}
}

// ---- change_too_large

func TestUpdateItemChangeTooLarge(t *testing.T) {
	f := newFixture(t)
	var tags, newTags []string
	for i := range inventory.MaxTags {
		tags, newTags = append(tags, fmt.Sprintf("t%02d", i)), append(newTags, fmt.Sprintf("u%02d", i))
	}
	d := f.mkItem(inventory.CreateInput{SKU: "BIG-1", Name: "Big thing", Tags: tags})
	var lines []inventory.AdjustmentLine
	var locs []string
	for i := range 5 {
		loc := f.location(fmt.Sprintf("L%d", i))
		locs = append(locs, loc.ID)
		lines = append(lines, ln(d.ID, loc.ID, 1))
	}
	if _, _, err := f.svc.CreateAdjustment(f.ctx, alice, adjustment(inventory.ReasonReceived, lines...)); err != nil {
		t.Fatal(err)
	}
	g := f.mkGroup("Bigs")
	f.setMember(g.ID, d.ID, true)

	big := inventory.Patch{SKU: ptr("BIG-2"), Name: ptr("Renamed big thing"), Tags: &newTags}
	levels, err := f.store.ListLevels(f.ctx, d.ID)
	if err != nil || len(levels) < 5 {
		t.Fatalf("levels %d %v", len(levels), err)
	}
	c, ok, err := inventory.ApplyPatch(f.item(d.ID), big, levels, bob.Actor, f.now)
	if err != nil || !ok || c.Actions() <= inventory.MaxTransactionActions {
		t.Fatalf("the big change has %d actions (%v %v), want over %d", c.Actions(), ok, err, inventory.MaxTransactionActions)
	}
	before := f.item(d.ID)
	saves := f.store.Saves()
	_, err = f.svc.UpdateItem(f.ctx, bob, d.ID, big)
	wantCode(t, err, inventory.KindConflict, inventory.CodeChangeTooLarge)
	if f.store.Saves() != saves || f.item(d.ID).Version != before.Version {
		t.Fatal("a refused change wrote")
	}
	// The same edits one request at a time fit.
	plain := inventory.Patch{SKU: ptr("BIG-2")}
	c, _, _ = inventory.ApplyPatch(f.item(d.ID), plain, levels, bob.Actor, f.now)
	if n := c.Actions(); n > inventory.MaxTransactionActions {
		t.Fatalf("a plain SKU change has %d actions", n)
	}
	up, err := f.svc.UpdateItem(f.ctx, bob, d.ID, plain)
	if err != nil || up.SKU != "BIG-2" || up.Version != before.Version+1 || !slices.Equal(up.Tags, tags) {
		t.Fatalf("plain SKU change = %+v %v", up, err)
	}
	for _, loc := range locs {
		if l, ok := f.store.Stock(d.ID, loc); !ok || l.SKU != "BIG-2" || l.OnHand != 1 {
			t.Fatalf("level at %s = %+v %v after the SKU change", loc, l, ok)
		}
	}
	if got := f.listSKUs(inventory.ItemQuery{LocationID: locs[2]}, 10); !slices.Equal(got, []string{"BIG-2"}) {
		t.Fatalf("items at a location %v", got)
	}
	if got := f.listSKUs(inventory.ItemQuery{GroupID: g.ID, Tag: "t07"}, 10); !slices.Equal(got, []string{"BIG-2"}) {
		t.Fatalf("group items %v", got)
	}
	half := slices.Concat(newTags[:10], tags[10:])
	if _, err := f.svc.UpdateItem(f.ctx, bob, d.ID, inventory.Patch{Name: ptr("Renamed big thing"), Tags: &half}); err != nil {
		t.Fatalf("rename and retag: %v", err)
	}
	if got := f.listSKUs(inventory.ItemQuery{Tag: "u09", Q: "renamed"}, 10); !slices.Equal(got, []string{"BIG-2"}) {
		t.Fatalf("retagged item %v", got)
	}
}
