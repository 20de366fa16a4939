package inventory

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ReasonImport is the ledger reason of a stock change made by a CSV import.
const ReasonImport = "import"

func init() {
	// A line can have it; an adjustment can never give it (it is not one
	// of AdjustmentReasons).
	LedgerReasons = append(LedgerReasons, ReasonImport)
}

// ItemImport is what one row of an import file asks for an item: nil fields (and a nil Tags) are columns the file lacks or cells left empty that change nothing.
type ItemImport struct {
	SKU             string
	Name            *string
	Description     *string
	Tags            *[]string
	ReorderPoint    *int64
	ReorderPointSet bool // the file has a reorderPoint column: nil ReorderPoint then removes it
	Quantity        *int64
	OnHand          []ImportLevel // targets per location, in file order
}

// ImportLevel is one onHand:<CODE> cell of a row: what on hand at the
// location (LocationID, whose code Code is as the file's header names it)
// is to be.
type ImportLevel struct {
	LocationID, Code string
	OnHand           int64
}

// ImportItem returns the change one row makes. old nil: a new item with in.SKU; else old is the live item with that SKU and levels are its levels (read with it). ok false: nothing changes (then the change is zero).
//
// The row is validated by the rules of the API (CreateInput.Validate for a
// new item, as POST /items; Patch.Validate for an existing one, as PATCH),
// each OnHand target from 0 to MaxStockDelta, one per location; every
// field error names the column: /sku, /name, /description, /tags (a tag's
// own error too: its message says which), /quantity, /reorderPoint,
// /onHand:<CODE>. Every ledger line it writes has reason ReasonImport, and
// the item's Quantity is the sum of its levels' on hand after them.
//
// A new item is NewItem's (its created activity, version 1), with opening
// stock of its own: one import line per OnHand target that is not 0, each
// a new level at its location, in file order. Without such targets it
// opens at the default location with Quantity (or 0), as NewItem does, but
// with an import line rather than an item_created one. A target of 0 is
// no stock, as for an existing item at a location where it has no level:
// it makes no level. With targets, a Quantity must be their sum.
//
// An existing item gets the row's fields as a merge patch (ApplyPatch:
// values that are already the item's change nothing; the updated activity
// lists the others). Then, with OnHand targets, each target at a location
// whose on hand differs is one import line of the difference (a new level
// where the item has none); one below what is committed there is
// insufficient_stock on its column, and a Quantity that is not the item's
// total after the targets is a validation error on /quantity. Without
// targets, a Quantity is what PATCH makes of it (a correction of the one
// level holding stock, else the default location's; use_adjustments when
// several hold stock; insufficient_stock below what is committed), with an
// import line instead of a quantity_set one.
//
// The locations are the caller's to check (live ones, the codes resolved);
// storage fails a change that makes a level at a location deleted
// meanwhile. A change over MaxTransactionActions is change_too_large.
func ImportItem(old *Item, in ItemImport, levels []Level, actor string, now time.Time) (c ItemChange, ok bool, err error) {
	if old == nil {
		c, err = importNew(in, actor, now)
		ok = err == nil
	} else {
		c, ok, err = importInto(*old, in, levels, actor, now)
	}
	if err != nil || !ok {
		return ItemChange{}, false, err
	}
	if n := c.Actions(); n > MaxTransactionActions {
		return ItemChange{}, false, Errorf(KindConflict, CodeChangeTooLarge,
			"this row would write %d records, more than one transaction can hold (%d): each tag added or removed writes 2-3 records, and each location whose on hand changes 2-3; import it in two smaller rows (e.g. half of the tags, or of the onHand columns, at a time)",
			n, MaxTransactionActions)
	}
	return c, true, nil
}

// importNew is the change that creates the row's item.
func importNew(in ItemImport, actor string, now time.Time) (ItemChange, error) {
	ci := CreateInput{SKU: in.SKU, Name: deref(in.Name), Description: deref(in.Description), ReorderPoint: in.ReorderPoint}
	if in.Tags != nil {
		ci.Tags = *in.Tags
	}
	if in.Quantity != nil {
		ci.Quantity = *in.Quantity
	}
	var r rowErrors
	r.add(ci.Validate())
	r.v.targets(in.OnHand)
	if err := r.err(); err != nil {
		return ItemChange{}, err
	}
	opening := []ImportLevel{{LocationID: DefaultLocation, OnHand: ci.Quantity}}
	if len(in.OnHand) > 0 {
		total, err := importTotal(0, in.OnHand, nil)
		if err != nil {
			return ItemChange{}, err
		}
		if err := quantityAfter(in.Quantity, total); err != nil {
			return ItemChange{}, err
		}
		opening = slices.DeleteFunc(slices.Clone(in.OnHand), func(t ImportLevel) bool { return t.OnHand == 0 })
		if len(opening) == 0 {
			opening = []ImportLevel{{LocationID: DefaultLocation}}
		}
	}
	ci.Quantity, ci.LocationID = 0, ""
	c := NewItem(ci, actor, now)
	levels := make([]Level, len(opening))
	for i, t := range opening {
		levels[i] = Level{ItemID: c.Next.ID, LocationID: t.LocationID, SKU: c.Next.SKU}
	}
	m := newMoves(actor, c.Next.CreatedAt, levels)
	c.Next.Quantity = 0
	for i, t := range opening {
		m.move(i, t.OnHand, ReasonImport, "", "")
		c.Next.Quantity += t.OnHand // importTotal checked the sum
	}
	c.Levels, c.Ledger = m.result()
	return c, nil
}

// importInto is the change the row makes to the live item old.
func importInto(old Item, in ItemImport, levels []Level, actor string, now time.Time) (ItemChange, bool, error) {
	if old.SKU != in.SKU || old.Deleted != nil {
		return ItemChange{}, false, fmt.Errorf("inventory: a row with sku %q imported into item %s (sku %q, deleted %v)",
			in.SKU, old.ID, old.SKU, old.Deleted != nil)
	}
	p := Patch{Name: in.Name, Description: in.Description, Tags: in.Tags, Quantity: in.Quantity,
		ReorderPoint: in.ReorderPoint, ReorderPointSet: in.ReorderPointSet}
	var r rowErrors
	r.add(p.Validate())
	r.v.targets(in.OnHand)
	if err := r.err(); err != nil {
		return ItemChange{}, false, err
	}
	if len(in.OnHand) > 0 {
		p.Quantity = nil // the targets say where; Quantity only checks them
	}
	c, ok, err := ApplyPatch(old, p, levels, actor, now)
	if err != nil {
		return ItemChange{}, false, err
	}
	for i := range c.Ledger {
		c.Ledger[i].Reason = ReasonImport // ApplyPatch's correction of Quantity
	}
	if len(in.OnHand) == 0 {
		return c, ok, nil
	}

	current := map[string]Level{}
	for _, l := range levels {
		current[l.LocationID] = l
	}
	level := func(loc string) Level {
		if l, found := current[loc]; found {
			return l
		}
		return Level{ItemID: old.ID, LocationID: loc}
	}
	total, err := importTotal(old.Quantity, in.OnHand, level)
	if err != nil {
		return ItemChange{}, false, err
	}
	if err := quantityAfter(in.Quantity, total); err != nil {
		return ItemChange{}, false, err
	}
	var moved []Level
	var deltas []int64
	var short []FieldError
	for _, t := range in.OnHand {
		l := level(t.LocationID)
		switch {
		case t.OnHand == l.OnHand:
			continue
		case t.OnHand < l.Committed:
			short = append(short, FieldError{Field: onHandField(t.Code), Code: CodeInsufficientStock, Available: ptr(l.Available()),
				Message: fmt.Sprintf("%d are committed at %s; on hand there can go down by at most %d", l.Committed, t.Code, l.Available())})
			continue
		}
		l.SKU = old.SKU
		moved = append(moved, l)
		deltas = append(deltas, t.OnHand-l.OnHand)
	}
	if len(short) > 0 {
		return ItemChange{}, false, Short(fmt.Sprintf("the row's on hand would be below what is committed at %d location(s); nothing changed", len(short)), short...)
	}
	if len(moved) == 0 {
		return c, ok, nil
	}
	if !ok {
		next := old
		next.Tags = slices.Clone(old.Tags)
		touch(&next, old, actor, instant(now))
		c = ItemChange{Old: &old, Next: next}
	}
	m := newMoves(actor, now, moved)
	for i, d := range deltas {
		m.move(i, d, ReasonImport, "", "")
	}
	c.Levels, c.Ledger = m.result()
	c.Next.Quantity = total
	c.Next.UpdatedAt = m.at
	return c, true, nil
}

// importTotal is the item's quantity after the targets: quantity, with
// each target's difference from the on hand of level(its location) (nil:
// none, a new item), or a validation error where it would overflow.
func importTotal(quantity int64, targets []ImportLevel, level func(string) Level) (int64, error) {
	for _, t := range targets {
		d := t.OnHand
		if level != nil {
			d -= level(t.LocationID).OnHand
		}
		var ok bool
		if quantity, ok = addChecked(quantity, d); !ok {
			return 0, Invalid(CodeValidationFailed, "the row has invalid fields",
				FieldError{Field: onHandField(t.Code), Code: "range", Message: "the item's total quantity would overflow"})
		}
	}
	return quantity, nil
}

// quantityAfter checks a row's quantity, if any, against the total its
// onHand targets make.
func quantityAfter(quantity *int64, total int64) error {
	if quantity == nil || *quantity == total {
		return nil
	}
	return Invalid(CodeValidationFailed, "the row has invalid fields", FieldError{Field: "/quantity", Code: "mismatch",
		Message: fmt.Sprintf("quantity is %d, but the row's onHand columns make the item's quantity %d; leave quantity empty or make it their total", *quantity, total)})
}

func onHandField(code string) string { return "/onHand:" + code }

// targets checks a row's onHand targets: from 0 to MaxStockDelta, at a
// location named once.
func (v *validator) targets(targets []ImportLevel) {
	seen := map[string]bool{}
	for _, t := range targets {
		field := onHandField(t.Code)
		v.locationID(field, t.LocationID)
		if seen[t.LocationID] {
			v.add(field, "duplicate", "another onHand column names the same location (%s)", t.LocationID)
		}
		seen[t.LocationID] = true
		v.quantity(field, t.OnHand, 0)
	}
}

// rowErrors gathers the field errors of a row, from the API's validators
// and its own, each naming its column.
type rowErrors struct{ v validator }

// add takes the fields of a validation error (nil: none); a tag's
// (/tags/<i>) is the tags column's, its message saying which tag.
func (r *rowErrors) add(err error) {
	var e *Error
	if !errors.As(err, &e) {
		return
	}
	for _, f := range e.Fields {
		if i, isTag := strings.CutPrefix(f.Field, "/tags/"); isTag {
			if n, err := strconv.Atoi(i); err == nil {
				f.Field, f.Message = "/tags", fmt.Sprintf("tag %d: %s", n+1, f.Message)
			}
		}
		r.v.fields = append(r.v.fields, f)
	}
}

func (r *rowErrors) err() error {
	if len(r.v.fields) == 0 {
		return nil
	}
	return Invalid(CodeValidationFailed, "the row has invalid fields", r.v.fields...)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
