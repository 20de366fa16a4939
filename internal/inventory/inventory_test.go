package inventory

import (
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestCreateInputValidate(t *testing.T) {
	cases := []struct {
		name   string
		in     CreateInput
		fields []string
	}{
		{"minimal", CreateInput{SKU: "A-1", Name: "Widget"}, nil},
		{"all fields", CreateInput{SKU: "a.b_c-1", Name: "W", Description: "d", Quantity: 3, Tags: []string{"x"}, ReorderPoint: ptr[int64](0)}, nil},
		{"missing sku and name", CreateInput{}, []string{"/sku", "/name"}},
		{"sku with space", CreateInput{SKU: "A 1", Name: "W"}, []string{"/sku"}},
		{"sku 64", CreateInput{SKU: strings.Repeat("A", 64), Name: "W"}, nil},
		{"sku 65", CreateInput{SKU: strings.Repeat("A", 65), Name: "W"}, []string{"/sku"}},
		{"name 200 runes", CreateInput{SKU: "A", Name: strings.Repeat("é", 200)}, nil},
		{"name 201", CreateInput{SKU: "A", Name: strings.Repeat("n", 201)}, []string{"/name"}},
		{"name control char", CreateInput{SKU: "A", Name: "a\x00b"}, []string{"/name"}},
		{"negative quantity", CreateInput{SKU: "A", Name: "W", Quantity: -1}, []string{"/quantity"}},
		{"negative reorder", CreateInput{SKU: "A", Name: "W", ReorderPoint: ptr[int64](-1)}, []string{"/reorderPoint"}},
		{"21 tags", CreateInput{SKU: "A", Name: "W", Tags: strings.Split(strings.Repeat("t,", 20)+"u", ",")}, nil}, // duplicates collapse to 2
		{"blank tag", CreateInput{SKU: "A", Name: "W", Tags: []string{" "}}, []string{"/tags/0"}},
		{"long tag", CreateInput{SKU: "A", Name: "W", Tags: []string{"ok", strings.Repeat("t", 51)}}, []string{"/tags/1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.in.Validate()
			got := fieldsOf(err)
			if strings.Join(got, ",") != strings.Join(c.fields, ",") {
				t.Fatalf("fields %v, want %v (err %v)", got, c.fields, err)
			}
		})
	}
}

func TestTooManyDistinctTags(t *testing.T) {
	var tags []string
	for i := range 21 {
		tags = append(tags, strings.Repeat("t", i+1))
	}
	in := CreateInput{SKU: "A", Name: "W", Tags: tags}
	if got := fieldsOf(in.Validate()); len(got) != 1 || got[0] != "/tags" {
		t.Fatalf("fields %v, want [/tags]", got)
	}
}

func fieldsOf(err error) []string {
	if err == nil {
		return nil
	}
	e := err.(*Error)
	if e.Code != CodeValidationFailed {
		panic(e.Code)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestApplyPatch(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	old, _ := NewItem(CreateInput{SKU: "A", Name: "W", Quantity: 5, Tags: []string{"x"}, ReorderPoint: ptr[int64](2)}, "alice", t0)

	next, entry, changed := ApplyPatch(old, Patch{Quantity: ptr[int64](3)}, "bob", t0.Add(time.Hour))
	if !changed || next.Quantity != 3 || next.Version != 2 || next.UpdatedBy != "bob" || next.CreatedBy != "alice" {
		t.Fatalf("next = %+v", next)
	}
	if entry == nil || entry.Delta != -2 || entry.QuantityAfter != 3 || entry.Actor != "bob" || entry.Reason != ReasonQuantitySet {
		t.Fatalf("entry = %+v", entry)
	}

	same, entry, changed := ApplyPatch(old, Patch{Quantity: ptr[int64](5), Tags: &[]string{"x"}}, "bob", t0)
	if changed || entry != nil || same.Version != 1 {
		t.Fatalf("no-op patch changed the item: %+v", same)
	}

	cleared, entry, changed := ApplyPatch(old, Patch{ReorderPointSet: true}, "bob", t0)
	if !changed || cleared.ReorderPoint != nil || entry != nil {
		t.Fatalf("clearing reorderPoint: %+v %+v", cleared, entry)
	}
	if old.ReorderPoint == nil || *old.ReorderPoint != 2 {
		t.Fatal("ApplyPatch changed its input")
	}
}

func TestDeleteRestore(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	it, _ := NewItem(CreateInput{SKU: "A", Name: "W"}, "alice", t0)
	del := Delete(it, "bob", "broken", t0.Add(time.Minute))
	if del.Deleted == nil || del.Deleted.By != "bob" || del.Deleted.Comment != "broken" || del.Version != 2 {
		t.Fatalf("deleted = %+v", del)
	}
	back := Restore(del, "carol", t0.Add(2*time.Minute))
	if back.Deleted != nil || back.Version != 3 || back.UpdatedBy != "carol" || back.SKU != "A" {
		t.Fatalf("restored = %+v", back)
	}
}

func TestIDsAreSortableAndValid(t *testing.T) {
	now := time.Now()
	a, b := NewID(now), NewID(now)
	if !(a < b) || !IsValidID(a) || IsValidID("not-an-id") || IsValidID(strings.ToLower(a)+"x") {
		t.Fatalf("ids %s %s", a, b)
	}
}

func TestIsLowStock(t *testing.T) {
	cases := []struct {
		qty   int64
		point *int64
		want  bool
	}{{1, ptr[int64](2), true}, {2, ptr[int64](2), false}, {0, nil, false}}
	for _, c := range cases {
		if got := (Item{Quantity: c.qty, ReorderPoint: c.point}).IsLowStock(); got != c.want {
			t.Errorf("qty %d point %v: %v", c.qty, c.point, got)
		}
	}
}
