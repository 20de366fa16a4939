package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Records are encoded to and decoded from attribute maps by hand, straight
// from and to the domain types: no record structs in between, and no
// reflection on the read path (the reflection-based attributevalue decoder
// was the largest part of the handlers' own time on list pages). Every
// encoder has its decoder, and codec_test.go round-trips each.
//
// Empty lists are never stored: minidyn returns another attribute's value
// for an empty list read through an index, so an empty list is absent.

type attrMap = map[string]types.AttributeValue

// optional attributes

func putStr(m attrMap, name, v string) {
	if v != "" {
		m[name] = str(v)
	}
}

func putStrings(m attrMap, name string, v []string) {
	if len(v) == 0 {
		return
	}
	l := make([]types.AttributeValue, len(v))
	for i, s := range v {
		l[i] = str(s)
	}
	m[name] = &types.AttributeValueMemberL{Value: l}
}

func putNum(m attrMap, name string, v int64) {
	if v != 0 {
		m[name] = num(v)
	}
}

func encodeItem(it inventory.Item) attrMap {
	m := itemKey(it.ID)
	m["type"] = str("item")
	m["id"] = str(it.ID)
	m["sku"] = str(it.SKU)
	m["name"] = str(it.Name)
	m["description"] = str(it.Description)
	m["quantity"] = num(it.Quantity)
	m["committed"] = num(it.Committed)
	putStrings(m, "tags", it.Tags)
	putStrings(m, "groups", it.Groups)
	if it.ReorderPoint != nil {
		m["reorderPoint"] = num(*it.ReorderPoint)
	}
	m["createdAt"] = str(formatTime(it.CreatedAt))
	m["createdBy"] = str(it.CreatedBy)
	m["updatedAt"] = str(formatTime(it.UpdatedAt))
	m["updatedBy"] = str(it.UpdatedBy)
	m["version"] = num(it.Version)
	// A deleted item keeps its name and update keys in partitions of their
	// own rather than losing them: minidyn v0.8.2 leaves an index entry
	// behind when a Put drops a record's keys of that index, and a Query
	// of that partition then fails.
	byName, byUpdate := itemsByName, itemsByUpdate
	if it.Deleted != nil {
		byName, byUpdate = itemsByName+deletedSuffix, itemsByUpdate+deletedSuffix
	}
	m["GSI2PK"], m["GSI2SK"] = str(byName), str(nameSort(it.Name, it.ID))
	m["GSI4PK"], m["GSI4SK"] = str(byUpdate), str(formatTime(it.UpdatedAt)+"#"+it.ID)
	if d := it.Deleted; d != nil {
		putDeletion(m, deletedItems, it.ID, *d)
	} else {
		m["GSI1PK"], m["GSI1SK"] = str(liveItems), str(it.SKU)
		if it.IsLowStock() {
			m["GSI3PK"], m["GSI3SK"] = str(lowStockItems), str(it.SKU)
		}
	}
	if it.Image != nil {
		m["image"] = &types.AttributeValueMemberM{Value: encodeImage(*it.Image)}
	}
	return m
}

// putDeletion stores a soft deletion, and moves the record's GSI1 keys to
// the partition of its deleted list, newest deletion last.
func putDeletion(m attrMap, partition, id string, d inventory.Deletion) {
	m["GSI1PK"], m["GSI1SK"] = str(partition), str(deletedSort(d.At, id))
	m["deleted"] = &types.AttributeValueMemberM{Value: attrMap{
		"at": str(formatTime(d.At)), "by": str(d.By), "comment": str(d.Comment)}}
}

// deletion reads a soft deletion; nil if the record is live.
func (a *attrs) deletion() *inventory.Deletion {
	d := a.sub("deleted")
	if d == nil {
		return nil
	}
	defer a.keep(d)
	return &inventory.Deletion{At: d.time("at"), By: d.str("by"), Comment: d.str("comment")}
}

func encodeImage(im inventory.Image) attrMap {
	m := attrMap{"status": str(im.Status), "uploadId": str(im.UploadID)}
	putStr(m, "contentType", im.ContentType)
	putStr(m, "requestedBy", im.RequestedBy)
	putNum(m, "width", int64(im.Width))
	putNum(m, "height", int64(im.Height))
	putNum(m, "bytes", im.Bytes)
	putStr(m, "reason", im.Reason)
	putStr(m, "original", im.Original)
	if len(im.Thumbnails) > 0 {
		l := make([]types.AttributeValue, len(im.Thumbnails))
		for i, t := range im.Thumbnails {
			l[i] = &types.AttributeValueMemberM{Value: attrMap{
				"size": num(int64(t.Size)), "width": num(int64(t.Width)), "height": num(int64(t.Height)),
				"contentType": str(t.ContentType), "key": str(t.Key)}}
		}
		m["thumbnails"] = &types.AttributeValueMemberL{Value: l}
	}
	putStrings(m, "replaces", im.Replaces)
	return m
}

func decodeItem(m attrMap) (inventory.Item, error) {
	a := &attrs{m: m}
	it := inventory.Item{
		ID: a.str("id"), SKU: a.str("sku"), Name: a.str("name"), Description: a.str("description"),
		Quantity: a.int("quantity"), Committed: a.int("committed"), Tags: a.strings("tags"), Groups: a.strings("groups"), ReorderPoint: a.optInt("reorderPoint"),
		CreatedAt: a.time("createdAt"), CreatedBy: a.str("createdBy"),
		UpdatedAt: a.time("updatedAt"), UpdatedBy: a.str("updatedBy"), Version: a.int("version"),
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	it.Deleted = a.deletion()
	if im := a.sub("image"); im != nil {
		it.Image = decodeImage(im)
		a.keep(im)
	}
	if a.err != nil {
		return it, fmt.Errorf("decode item %s: %w", it.ID, a.err)
	}
	return it, nil
}

func decodeImage(a *attrs) *inventory.Image {
	im := &inventory.Image{
		Status: a.str("status"), UploadID: a.str("uploadId"), ContentType: a.str("contentType"),
		RequestedBy: a.str("requestedBy"), Width: int(a.int("width")), Height: int(a.int("height")),
		Bytes: a.int("bytes"), Reason: a.str("reason"), Original: a.str("original"), Replaces: a.strings("replaces"),
	}
	for _, t := range a.maps("thumbnails") {
		im.Thumbnails = append(im.Thumbnails, inventory.Thumbnail{
			Size: int(t.int("size")), Width: int(t.int("width")), Height: int(t.int("height")),
			ContentType: t.str("contentType"), Key: t.str("key")})
		a.keep(t)
	}
	return im
}

func encodeLevel(l inventory.Level) attrMap {
	m := stockKey(l.ItemID, l.LocationID)
	m["GSI2PK"], m["GSI2SK"] = str(locPrefix+l.LocationID), str(levelSort(l))
	m["type"] = str("stock")
	putStr(m, "sku", l.SKU)
	m["itemId"] = str(l.ItemID)
	m["locationId"] = str(l.LocationID)
	m["onHand"] = num(l.OnHand)
	m["committed"] = num(l.Committed)
	m["incoming"] = num(l.Incoming)
	m["updatedAt"] = str(formatTime(l.UpdatedAt))
	m["lastLedgerId"] = str(l.LastLedgerID)
	return m
}

func decodeLevel(m attrMap) (inventory.Level, error) {
	a := &attrs{m: m}
	l := inventory.Level{
		ItemID: a.str("itemId"), LocationID: a.str("locationId"), SKU: a.str("sku"), OnHand: a.int("onHand"),
		Committed: a.int("committed"), Incoming: a.int("incoming"), UpdatedAt: a.time("updatedAt"),
		LastLedgerID: a.str("lastLedgerId"),
	}
	if _, ok := m["lastLedgerId"]; !ok {
		// A level written before levels had these.
		l.OnHand, l.LastLedgerID = a.int("quantity"), legacyLevel
	}
	if a.err != nil {
		return l, fmt.Errorf("decode stock level %s/%s: %w", l.ItemID, l.LocationID, a.err)
	}
	return l, nil
}

func encodeLedger(e inventory.LedgerEntry) attrMap {
	m := ledgerKey(e.ItemID, e.ID)
	m["GSI1PK"], m["GSI1SK"] = str(levelLedger(e.ItemID, e.LocationID)), str(e.ID)
	m["GSI2PK"], m["GSI2SK"] = str(locPrefix+e.LocationID), str(ledgerPrefix+e.ID)
	m["type"] = str("ledger")
	m["id"] = str(e.ID)
	m["itemId"] = str(e.ItemID)
	m["locationId"] = str(e.LocationID)
	m["delta"] = num(e.Delta)
	m["onHandAfter"] = num(e.OnHandAfter)
	m["committedAfter"] = num(e.CommittedAfter)
	m["incomingAfter"] = num(e.IncomingAfter)
	m["reason"] = str(e.Reason)
	putStr(m, "reference", e.Reference)
	putStr(m, "note", e.Note)
	m["actor"] = str(e.Actor)
	m["at"] = str(formatTime(e.At))
	return m
}

func decodeLedger(m attrMap) (inventory.LedgerEntry, error) {
	a := &attrs{m: m}
	e := inventory.LedgerEntry{
		ID: a.str("id"), ItemID: a.str("itemId"), LocationID: a.str("locationId"),
		Delta: a.int("delta"), OnHandAfter: a.int("onHandAfter"), CommittedAfter: a.int("committedAfter"),
		IncomingAfter: a.int("incomingAfter"), Reason: a.str("reason"),
		Reference: a.str("reference"), Note: a.str("note"), Actor: a.str("actor"), At: a.time("at"),
	}
	if _, ok := m["onHandAfter"]; !ok {
		e.OnHandAfter = a.int("quantityAfter") // a line written before the rename
	}
	if a.err != nil {
		return e, fmt.Errorf("decode ledger entry %s: %w", e.ID, a.err)
	}
	return e, nil
}

// nameSort is an item's GSI2 sort key in name order: the NameKey of its
// name (letters and digits, joined by "!"), a space (which sorts below
// them all) and its id.
func nameSort(name, id string) string { return inventory.NameKey(name) + " " + id }

// encodeFacet is the row that files a live item under a facet, in SKU
// order (docs/data-model.md §2.7).
func encodeFacet(it inventory.Item, facet string) attrMap {
	m := facetKey(it.ID, facet)
	m["GSI1PK"], m["GSI1SK"] = str(facetPrefix+facet), str(it.SKU)
	m["type"] = str("facet")
	m["itemId"] = str(it.ID)
	return m
}

func encodeGroup(g inventory.Group) attrMap {
	m := groupKey(g.ID)
	m["type"] = str("group")
	m["id"] = str(g.ID)
	m["name"] = str(g.Name)
	m["description"] = str(g.Description)
	m["memberCount"] = num(g.MemberCount)
	m["createdAt"] = str(formatTime(g.CreatedAt))
	m["createdBy"] = str(g.CreatedBy)
	m["updatedAt"] = str(formatTime(g.UpdatedAt))
	m["updatedBy"] = str(g.UpdatedBy)
	m["version"] = num(g.Version)
	if d := g.Deleted; d != nil {
		putDeletion(m, deadGroups, g.ID, *d)
	} else {
		m["GSI1PK"], m["GSI1SK"] = str(liveGroups), str(inventory.NameKey(g.Name))
	}
	return m
}

func decodeGroup(m attrMap) (inventory.Group, error) {
	a := &attrs{m: m}
	g := inventory.Group{
		ID: a.str("id"), Name: a.str("name"), Description: a.str("description"), MemberCount: a.int("memberCount"),
		CreatedAt: a.time("createdAt"), CreatedBy: a.str("createdBy"),
		UpdatedAt: a.time("updatedAt"), UpdatedBy: a.str("updatedBy"), Version: a.int("version"),
	}
	g.Deleted = a.deletion()
	if a.err != nil {
		return g, fmt.Errorf("decode group %s: %w", g.ID, a.err)
	}
	return g, nil
}

// encodeTag is a tag's entry in the list of tags. It is put, always the
// same, whenever an item gains the tag, and never deleted: its count is
// another record (tagCountKey), moved with ADD. (A tag's entry is not
// written by an UpdateItem that sets its index keys: minidyn v0.8.2
// corrupts an index when an update adds a record to it.)
func encodeTag(tag string) attrMap {
	m := tagKey(tag)
	m["GSI1PK"], m["GSI1SK"] = str(allTags), str(tag)
	m["type"], m["tag"] = str("tag"), str(tag)
	return m
}

func decodeTagCount(m attrMap) (inventory.TagCount, error) {
	a := &attrs{m: m}
	t := inventory.TagCount{Tag: a.str("tag"), Count: a.int("itemCount")}
	if a.err != nil {
		return t, fmt.Errorf("decode tag count %q: %w", t.Tag, a.err)
	}
	return t, nil
}

func encodeLocation(l inventory.Location) attrMap {
	m := locationKey(l.ID)
	m["type"] = str("location")
	m["id"] = str(l.ID)
	m["code"] = str(l.Code)
	m["name"] = str(l.Name)
	putStr(m, "address", l.Address)
	m["createdAt"] = str(formatTime(l.CreatedAt))
	m["createdBy"] = str(l.CreatedBy)
	m["updatedAt"] = str(formatTime(l.UpdatedAt))
	m["updatedBy"] = str(l.UpdatedBy)
	m["version"] = num(l.Version)
	m["stockedLevels"] = num(l.StockedLevels)
	if d := l.Deleted; d != nil {
		putDeletion(m, deadLocations, l.ID, *d)
	} else {
		m["GSI1PK"], m["GSI1SK"] = str(liveLocations), str(l.Code)
	}
	return m
}

func decodeLocation(m attrMap) (inventory.Location, error) {
	a := &attrs{m: m}
	l := inventory.Location{
		ID: a.str("id"), Code: a.str("code"), Name: a.str("name"), Address: a.str("address"),
		CreatedAt: a.time("createdAt"), CreatedBy: a.str("createdBy"),
		UpdatedAt: a.time("updatedAt"), UpdatedBy: a.str("updatedBy"), Version: a.int("version"),
		StockedLevels: a.int("stockedLevels"),
	}
	l.Deleted = a.deletion()
	if a.err != nil {
		return l, fmt.Errorf("decode location %s: %w", l.ID, a.err)
	}
	return l, nil
}

func encodeActivity(v inventory.Activity) attrMap {
	m := activityKey(v.ItemID, v.ID)
	m["type"] = str("activity")
	m["id"] = str(v.ID)
	m["itemId"] = str(v.ItemID)
	m["activity"] = str(v.Type)
	m["actor"] = str(v.Actor)
	m["at"] = str(formatTime(v.At))
	if len(v.Changes) > 0 {
		l := make([]types.AttributeValue, len(v.Changes))
		for i, c := range v.Changes {
			l[i] = &types.AttributeValueMemberM{Value: attrMap{
				"field": str(c.Field), "from": str(string(c.From)), "to": str(string(c.To))}}
		}
		m["changes"] = &types.AttributeValueMemberL{Value: l}
	}
	putStr(m, "comment", v.Comment)
	putStr(m, "uploadId", v.UploadID)
	putStr(m, "imageReason", v.ImageReason)
	return m
}

func decodeActivity(m attrMap) (inventory.Activity, error) {
	a := &attrs{m: m}
	v := inventory.Activity{
		ID: a.str("id"), ItemID: a.str("itemId"), Type: a.str("activity"), Actor: a.str("actor"), At: a.time("at"),
		Comment: a.str("comment"), UploadID: a.str("uploadId"), ImageReason: a.str("imageReason"),
	}
	for _, c := range a.maps("changes") {
		v.Changes = append(v.Changes, inventory.FieldChange{
			Field: c.str("field"), From: []byte(c.str("from")), To: []byte(c.str("to"))})
		a.keep(c)
	}
	if a.err != nil {
		return v, fmt.Errorf("decode activity %s: %w", v.ID, a.err)
	}
	return v, nil
}

func encodeIdempotency(r inventory.IdempotencyRecord) attrMap {
	m := idemKey(r.Scope)
	m["type"] = str("idempotency")
	m["operation"] = str(r.Operation)
	m["requestHash"] = str(r.RequestHash)
	m["result"] = str(string(r.Result))
	m["createdAt"] = str(formatTime(r.CreatedAt))
	m["expiresAtEpoch"] = num(r.ExpiresAt.Unix())
	return m
}

func decodeIdempotency(scope string, m attrMap) (inventory.IdempotencyRecord, error) {
	a := &attrs{m: m}
	r := inventory.IdempotencyRecord{
		Scope: scope, Operation: a.str("operation"), RequestHash: a.str("requestHash"),
		Result: []byte(a.str("result")), CreatedAt: a.time("createdAt"),
		ExpiresAt: time.Unix(a.int("expiresAtEpoch"), 0).UTC(),
	}
	if a.err != nil {
		return r, fmt.Errorf("decode idempotency record: %w", a.err)
	}
	return r, nil
}

// attrs reads typed attributes of one record, keeping the first error.
type attrs struct {
	m   attrMap
	err error
}

func (a *attrs) fail(name, want string) {
	if a.err == nil {
		a.err = fmt.Errorf("attribute %s: not %s", name, want)
	}
}

// keep takes the first error of a nested reader.
func (a *attrs) keep(b *attrs) {
	if a.err == nil {
		a.err = b.err
	}
}

func (a *attrs) str(name string) string {
	v, ok := a.m[name]
	if !ok {
		return ""
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		a.fail(name, "a string")
		return ""
	}
	return s.Value
}

func (a *attrs) time(name string) time.Time {
	s := a.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := parseTime(s)
	if err != nil {
		a.fail(name, "a time")
	}
	return t
}

func (a *attrs) int(name string) int64 {
	v, ok := a.m[name]
	if !ok {
		return 0
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		a.fail(name, "a number")
		return 0
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		a.fail(name, "an integer")
	}
	return i
}

func (a *attrs) bool(name string) bool {
	v, ok := a.m[name]
	if !ok || isNull(v) {
		return false
	}
	b, ok := v.(*types.AttributeValueMemberBOOL)
	if !ok {
		a.fail(name, "a boolean")
		return false
	}
	return b.Value
}

func (a *attrs) optInt(name string) *int64 {
	if v, ok := a.m[name]; !ok || isNull(v) {
		return nil
	}
	i := a.int(name)
	return &i
}

func (a *attrs) list(name string) []types.AttributeValue {
	v, ok := a.m[name]
	if !ok || isNull(v) {
		return nil
	}
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		a.fail(name, "a list")
		return nil
	}
	return l.Value
}

func (a *attrs) strings(name string) []string {
	l := a.list(name)
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(*types.AttributeValueMemberS)
		if !ok {
			a.fail(name, "a list of strings")
			return nil
		}
		out = append(out, s.Value)
	}
	return out
}

func (a *attrs) maps(name string) []*attrs {
	var out []*attrs
	for _, e := range a.list(name) {
		m, ok := e.(*types.AttributeValueMemberM)
		if !ok {
			a.fail(name, "a list of maps")
			return nil
		}
		out = append(out, &attrs{m: m.Value})
	}
	return out
}

// sub returns the attributes of a map attribute, or nil if absent.
func (a *attrs) sub(name string) *attrs {
	v, ok := a.m[name]
	if !ok || isNull(v) {
		return nil
	}
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok {
		a.fail(name, "a map")
		return nil
	}
	return &attrs{m: m.Value}
}

func isNull(v types.AttributeValue) bool {
	_, ok := v.(*types.AttributeValueMemberNULL)
	return ok
}
