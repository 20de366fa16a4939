package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/depot-inventory/depot/internal/inventory"
)

type groupJSON struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	MemberCount int64         `json:"memberCount"`
	CreatedAt   string        `json:"createdAt"`
	CreatedBy   string        `json:"createdBy"`
	UpdatedAt   string        `json:"updatedAt"`
	UpdatedBy   string        `json:"updatedBy"`
	Version     int64         `json:"version"`
	Deleted     *deletionJSON `json:"deleted,omitempty"`
}

type groupRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type groupPageJSON struct {
	Groups     []groupJSON `json:"groups"`
	NextCursor *string     `json:"nextCursor"`
}

type tagCountJSON struct {
	Tag   string `json:"tag"`
	Count int64  `json:"count"`
}

type tagPageJSON struct {
	Tags       []tagCountJSON `json:"tags"`
	NextCursor *string        `json:"nextCursor"`
}

type membershipJSON struct {
	Added       []string `json:"added"`
	Removed     []string `json:"removed"`
	Unchanged   []string `json:"unchanged"`
	NotFound    []string `json:"notFound"`
	MemberCount int64    `json:"memberCount"`
}

type filteredPageJSON struct {
	Items           []itemJSON `json:"items"`
	NextCursor      *string    `json:"nextCursor"`
	BudgetExhausted bool       `json:"budgetExhausted"`
}

func groupView(g inventory.Group) groupJSON {
	j := groupJSON{ID: g.ID, Name: g.Name, Description: g.Description, MemberCount: g.MemberCount,
		CreatedAt: jsonTime(g.CreatedAt), CreatedBy: g.CreatedBy, UpdatedAt: jsonTime(g.UpdatedAt),
		UpdatedBy: g.UpdatedBy, Version: g.Version}
	if del := g.Deleted; del != nil {
		j.Deleted = &deletionJSON{At: jsonTime(del.At), By: del.By, Comment: del.Comment}
	}
	return j
}

func groupRefsView(refs []inventory.GroupRef) *[]groupRefJSON {
	if refs == nil {
		return nil
	}
	out := make([]groupRefJSON, 0, len(refs))
	for _, g := range refs {
		out = append(out, groupRefJSON{ID: g.ID, Name: g.Name})
	}
	return &out
}

func nonNilIDs(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// groupReply is a group with its ETag, marked when it replays a first
// response.
func groupReply(status int, g inventory.Group, replayed bool) reply {
	return versioned(status, groupView(g), g.Version, replayed)
}

var groupFields = []string{"name", "description"}

func (a *api) createGroup(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, groupFields)
	if err != nil {
		return reply{}, err
	}
	in := inventory.GroupInput{Name: deref(obj.str("name", false)), Description: deref(obj.str("description", true))}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	g, replayed, err := a.Service.CreateGroup(r.Context(), req, in)
	if err != nil {
		return reply{}, err
	}
	rep := groupReply(http.StatusCreated, g, replayed)
	rep.header.Set("Location", "/groups/"+g.ID)
	return rep, nil
}

func (a *api) getGroup(r *http.Request) (reply, error) {
	g, err := a.Service.GetGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return groupReply(http.StatusOK, g, false), nil
}

func (a *api) updateGroup(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, groupFields, "application/merge-patch+json")
	if err != nil {
		return reply{}, err
	}
	p := inventory.GroupPatch{Name: obj.str("name", false), Description: obj.str("description", true)}
	if obj.isNull("description") {
		p.Description = new(string)
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	g, err := a.Service.UpdateGroup(r.Context(), req, r.PathValue("id"), p)
	if err != nil {
		return reply{}, err
	}
	return groupReply(http.StatusOK, g, false), nil
}

func (a *api) deleteGroup(r *http.Request) (reply, error) {
	g, replayed, err := softDelete(r, a.Service.DeleteGroup)
	if err != nil {
		return reply{}, err
	}
	return groupReply(http.StatusOK, g, replayed), nil
}

func (a *api) restoreGroup(r *http.Request) (reply, error) {
	g, replayed, err := restore(r, a.Service.RestoreGroup)
	if err != nil {
		return reply{}, err
	}
	return groupReply(http.StatusOK, g, replayed), nil
}

func (a *api) listGroups(r *http.Request) (reply, error) {
	return a.groupPage(r, a.Service.ListGroups)
}

func (a *api) listDeletedGroups(r *http.Request) (reply, error) {
	return a.groupPage(r, a.Service.ListDeletedGroups)
}

func (a *api) groupPage(r *http.Request, list func(context.Context, inventory.PageRequest) (inventory.Page[inventory.Group], error)) (reply, error) {
	groups, next, err := pageOf(r, list, groupView)
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, groupPageJSON{Groups: groups, NextCursor: next}), nil
}

func (a *api) addGroupMember(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	g, added, err := a.Service.SetMember(r.Context(), req, r.PathValue("id"), r.PathValue("itemId"), true)
	if err != nil {
		return reply{}, err
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	return groupReply(status, g, false), nil
}

func (a *api) removeGroupMember(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	if _, _, err := a.Service.SetMember(r.Context(), req, r.PathValue("id"), r.PathValue("itemId"), false); err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusNoContent, header: http.Header{}}, nil
}

func (a *api) changeGroupMembers(r *http.Request) (reply, error) {
	req, err := request(r)
	if err != nil {
		return reply{}, err
	}
	obj, err := readJSON(r, []string{"add", "remove"})
	if err != nil {
		return reply{}, err
	}
	var in inventory.MembershipInput
	if ids := obj.strings("add"); ids != nil {
		in.Add = *ids
	}
	if ids := obj.strings("remove"); ids != nil {
		in.Remove = *ids
	}
	if err := obj.err(); err != nil {
		return reply{}, err
	}
	res, replayed, err := a.Service.ChangeMembers(r.Context(), req, r.PathValue("id"), in)
	if err != nil {
		return reply{}, err
	}
	rep := jsonReply(http.StatusOK, membershipJSON{Added: nonNilIDs(res.Added), Removed: nonNilIDs(res.Removed),
		Unchanged: nonNilIDs(res.Unchanged), NotFound: nonNilIDs(res.NotFound), MemberCount: res.MemberCount})
	if replayed {
		rep.header.Set("Idempotent-Replayed", "true")
	}
	return rep, nil
}

func (a *api) listGroupItems(r *http.Request) (reply, error) {
	return a.filteredPage(r, inventory.ItemQuery{GroupID: r.PathValue("id")})
}

func (a *api) listTags(r *http.Request) (reply, error) {
	tags, next, err := pageOf(r, a.Service.ListTags, func(t inventory.TagCount) tagCountJSON {
		return tagCountJSON{Tag: t.Tag, Count: t.Count}
	})
	if err != nil {
		return reply{}, err
	}
	return jsonReply(http.StatusOK, tagPageJSON{Tags: tags, NextCursor: next}), nil
}

func (a *api) listItems(r *http.Request) (reply, error) {
	q := r.URL.Query()
	var err error
	query := inventory.ItemQuery{Q: q.Get("q"), Tag: q.Get("tag"), GroupID: q.Get("groupId"),
		LocationID: q.Get("locationId"), Sort: q.Get("sort")}
	for _, name := range []string{"q", "tag", "groupId", "locationId", "sort"} {
		if q.Has(name) && q.Get(name) == "" {
			return reply{}, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, name+" must not be empty; omit it instead",
				inventory.FieldError{Field: name, Code: "required", Message: name + " must not be empty"})
		}
	}
	if query.LowStock, err = boolParam(r, "lowStock"); err != nil {
		return reply{}, err
	}
	if query.MinQuantity, err = intParam(r, "minQuantity"); err != nil {
		return reply{}, err
	}
	if query.MaxQuantity, err = intParam(r, "maxQuantity"); err != nil {
		return reply{}, err
	}
	return a.filteredPage(r, query)
}

func (a *api) filteredPage(r *http.Request, query inventory.ItemQuery) (reply, error) {
	pr, err := pageRequest(r)
	if err != nil {
		return reply{}, err
	}
	list, err := a.Service.ListItems(r.Context(), pr, query)
	if err != nil {
		return reply{}, err
	}
	out := filteredPageJSON{Items: make([]itemJSON, 0, len(list.Items)), NextCursor: nextCursor(list.NextCursor),
		BudgetExhausted: list.BudgetExhausted}
	for _, d := range list.Items {
		out.Items = append(out.Items, itemView(d))
	}
	return jsonReply(http.StatusOK, out), nil
}

// intParam reads a query parameter that is a non-negative integer; nil
// when absent.
func intParam(r *http.Request, name string) (*int64, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return nil, nil
	}
	v := q.Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, problem(inventory.KindInvalid, inventory.CodeInvalidParameter, name+" must be an integer",
			inventory.FieldError{Field: name, Code: "invalid_type", Message: fmt.Sprintf("%s must be an integer, got %q", name, v)})
	}
	return &n, nil
}
