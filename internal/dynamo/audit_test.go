package dynamo

import (
	"context"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/depot-inventory/depot/internal/inventory"
)

// The audit's own mechanics on a table held in memory: paging, segments,
// the confirming pass, the cap per kind, image objects. The integration
// suite (internal/itest/audit_test.go) plants every kind of drift in a
// real engine.

var auditNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// fakeScan serves Scan from records, two a page; honour says whether it
// splits segments (by a hash of PK), as DynamoDB does, or answers every
// segment with the whole table, as minidyn v0.8.2 does.
type fakeScan struct {
	mu      sync.Mutex
	records []attrMap
	honour  bool
	passes  int              // Scans from the start of a segment, not probes
	onPass  func(passes int) // called as each starts, to change the table between passes
}

func (f *fakeScan) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.ExclusiveStartKey == nil && in.Limit == nil {
		f.passes++
		if f.onPass != nil {
			f.onPass(f.passes)
		}
	}
	var seg []attrMap
	for _, m := range f.records {
		if f.honour && in.TotalSegments != nil {
			h := fnv.New32a()
			h.Write([]byte(sOf(m, "PK")))
			if int32(h.Sum32()%uint32(*in.TotalSegments)) != *in.Segment {
				continue
			}
		}
		seg = append(seg, m)
	}
	start := 0
	if k := in.ExclusiveStartKey; k != nil {
		start = slices.IndexFunc(seg, func(m attrMap) bool { return recordName(m) == recordName(k) }) + 1
	}
	n := 2
	if in.Limit != nil {
		n = int(*in.Limit)
	}
	end := min(start+n, len(seg))
	out := &dynamodb.ScanOutput{Items: seg[start:end]}
	if end < len(seg) {
		out.LastEvaluatedKey = tableKey(sOf(seg[end-1], "PK"), sOf(seg[end-1], "SK"))
	}
	return out, nil
}

// fakeObjects is a bucket's keys and their modification times.
type fakeObjects map[string]time.Time

func (fakeObjects) Bucket() string { return "bucket" }

func (o fakeObjects) ListObjects(_ context.Context, prefix string, fn func(string, time.Time) error) error {
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range o {
			if !yield(k) {
				return
			}
		}
	}) {
		if strings.HasPrefix(k, prefix) {
			if err := fn(k, o[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// catalogue is a consistent table: the default location, a location with
// stock, a group, and an item with a tag, a group, stock at both
// locations (a creation, then a transfer) and a ready image.
func catalogue() ([]attrMap, fakeObjects, inventory.Item) {
	at := auditNow.Add(-time.Hour)
	def := inventory.DefaultLocationRecord(at)
	rtm := inventory.Location{ID: inventory.NewID(at), Code: "RTM", Name: "Rotterdam", CreatedAt: at, UpdatedAt: at,
		Version: 1, StockedLevels: 1}
	g := inventory.Group{ID: inventory.NewID(at), Name: "Spring sale", MemberCount: 1, CreatedAt: at, UpdatedAt: at, Version: 1}
	it := inventory.Item{ID: inventory.NewID(at), SKU: "BOLT-1", Name: "Hex bolt", Quantity: 5, Tags: []string{"m8"},
		Groups: []string{g.ID}, CreatedAt: at, UpdatedAt: at, Version: 3}
	upload := inventory.NewID(at)
	it.Image = &inventory.Image{Status: inventory.ImageReady, UploadID: upload, ContentType: "image/png",
		Original:   inventory.OriginalKey(it.ID, upload),
		Thumbnails: []inventory.Thumbnail{{Size: 160, ContentType: "image/png", Key: inventory.ThumbnailKey(it.ID, upload, 160, "png")}}}
	l1, l2, l3 := inventory.NewID(at), inventory.NewID(at.Add(time.Millisecond)), inventory.NewID(at.Add(2*time.Millisecond))
	records := []attrMap{
		encodeLocation(def), marker(locCodeKey(def.Code), "locationCode", "locationId", def.ID),
		encodeLocation(rtm), marker(locCodeKey(rtm.Code), "locationCode", "locationId", rtm.ID),
		encodeGroup(g), marker(groupNameKey(g.Name), "groupName", "groupId", g.ID),
		encodeItem(it), marker(skuKey(it.SKU), "sku", "itemId", it.ID),
		encodeTag("m8"), {"PK": str(tagPrefix + "m8"), "SK": str(tagCountSK), "type": str("tagCount"), "tag": str("m8"), "itemCount": num(1)},
		encodeLevel(inventory.Level{ItemID: it.ID, LocationID: def.ID, SKU: it.SKU, OnHand: 3, UpdatedAt: at, LastLedgerID: l2}),
		encodeLevel(inventory.Level{ItemID: it.ID, LocationID: rtm.ID, SKU: it.SKU, OnHand: 2, UpdatedAt: at, LastLedgerID: l3}),
		encodeLedger(inventory.LedgerEntry{ID: l1, ItemID: it.ID, LocationID: def.ID, Delta: 5, OnHandAfter: 5, Reason: "item_created", Actor: "a", At: at}),
		encodeLedger(inventory.LedgerEntry{ID: l2, ItemID: it.ID, LocationID: def.ID, Delta: -2, OnHandAfter: 3, Reason: "transfer_out", Actor: "a", At: at}),
		encodeLedger(inventory.LedgerEntry{ID: l3, ItemID: it.ID, LocationID: rtm.ID, Delta: 2, OnHandAfter: 2, Reason: "transfer_in", Actor: "a", At: at}),
		encodeActivity(inventory.Activity{ID: l1, ItemID: it.ID, Type: inventory.ActivityCreated, Actor: "a", At: at}),
	}
	for _, f := range it.Facets() {
		records = append(records, encodeFacet(it, f))
	}
	objects := fakeObjects{}
	for _, k := range it.Image.Keys() {
		objects[k] = at
	}
	return records, objects, it
}

func marker(k key, typ, owner, id string) attrMap {
	k["type"], k[owner] = str(typ), str(id)
	return k
}

func audit(t *testing.T, db ScanAPI, objects ObjectLister, o AuditOptions) *AuditReport {
	t.Helper()
	o.Now = func() time.Time { return auditNow }
	o.ConfirmAfter = time.Millisecond
	r, err := Audit(context.Background(), db, "t", objects, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kinds(r *AuditReport) []string {
	var out []string
	for _, d := range r.Drifts {
		out = append(out, d.Kind+" "+strings.Join(d.Keys, " "))
	}
	return out
}

func TestAuditConsistentCatalogue(t *testing.T) {
	records, objects, _ := catalogue()
	for _, honour := range []bool{true, false} {
		db := &fakeScan{records: records, honour: honour}
		r := audit(t, db, objects, AuditOptions{Segments: 3})
		if r.Drift != 0 || len(r.Drifts) != 0 {
			t.Errorf("honour %v: drift %d: %v", honour, r.Drift, kinds(r))
		}
		// An engine that ignores segments is scanned as one.
		if want := map[bool]int{true: 3, false: 1}[honour]; r.Segments != want || r.Passes != 1 {
			t.Errorf("honour %v: %d segments, %d passes; want %d, 1", honour, r.Segments, r.Passes, want)
		}
		want := map[string]int64{"item": 1, "stock": 2, "ledger": 3, "activity": 1, "location": 2, "locationCode": 2,
			"group": 1, "groupName": 1, "sku": 1, "tag": 1, "tagCount": 1, "facet": int64(len(records) - 16)}
		for k, n := range want {
			if r.Records[k] != n {
				t.Errorf("honour %v: records[%s] = %d, want %d (%v)", honour, k, r.Records[k], n, r.Records)
			}
		}
		if r.Objects[inventory.ThumbnailPrefix] != 2 {
			t.Errorf("objects %v", r.Objects)
		}
	}
}

// The first pass's drift is reported only if the second pass finds it
// too: a change in flight between two reads is not drift.
func TestAuditConfirmsDrift(t *testing.T) {
	records, objects, it := catalogue()
	item := slices.IndexFunc(records, func(m attrMap) bool { return sOf(m, "SK") == itemSK })
	wrong := encodeItem(func() inventory.Item { c := it; c.Quantity = 6; return c }())
	right := records[item]

	// Wrong during the first pass only.
	db := &fakeScan{records: slices.Clone(records), honour: true}
	db.records[item] = wrong
	db.onPass = func(passes int) {
		if passes == 2 {
			db.records[item] = right
		}
	}
	r := audit(t, db, objects, AuditOptions{Segments: 1})
	if r.Drift != 0 || r.Passes != 2 {
		t.Errorf("a transient drift: %d drifts, %d passes; want 0, 2: %v", r.Drift, r.Passes, kinds(r))
	}

	// Wrong in both passes, by the same amount though the figures move.
	db = &fakeScan{records: slices.Clone(records), honour: true}
	db.records[item] = wrong
	r = audit(t, db, objects, AuditOptions{Segments: 1})
	if r.Drift != 1 || r.Passes != 2 || r.Drifts[0].Kind != DriftItemQuantity || r.Drifts[0].Expected != int64(5) || r.Drifts[0].Found != int64(6) {
		t.Errorf("a lasting drift: %d drifts, %d passes: %+v", r.Drift, r.Passes, r.Drifts)
	}
	if r := audit(t, db, objects, AuditOptions{SinglePass: true}); r.Drift != 1 || r.Passes != 1 {
		t.Errorf("single pass: %d drifts, %d passes", r.Drift, r.Passes)
	}
}

func TestAuditCapsDriftsPerKind(t *testing.T) {
	records, objects, _ := catalogue()
	for i := range 5 {
		records = append(records, marker(skuKey("GHOST-"+string(rune('A'+i))), "sku", "itemId", "nobody"))
	}
	r := audit(t, &fakeScan{records: records, honour: true}, objects, AuditOptions{MaxPerKind: 2})
	if r.Drift != 5 || r.DriftByKind[DriftSKUMarkerDangling] != 5 || len(r.Drifts) != 2 {
		t.Errorf("%d drifts, by kind %v, listed %v", r.Drift, r.DriftByKind, kinds(r))
	}
	if !slices.IsSortedFunc(r.Drifts, func(a, b Drift) int { return slices.Compare(a.Keys, b.Keys) }) {
		t.Errorf("not in key order: %v", kinds(r))
	}
}

func TestAuditImageObjects(t *testing.T) {
	records, objects, it := catalogue()
	missing := it.Image.Thumbnails[0].Key
	delete(objects, missing)
	orphan := inventory.ThumbnailKey(it.ID, inventory.NewID(auditNow), 640, "jpg")
	objects[orphan] = auditNow
	objects["thumbnails/junk"] = auditNow
	fresh := inventory.UploadKey(it.ID, inventory.NewID(auditNow))
	objects[fresh] = auditNow.Add(-time.Hour)
	old := inventory.UploadKey("someone", "else")
	objects[old] = auditNow.Add(-72 * time.Hour)
	r := audit(t, &fakeScan{records: records, honour: true}, objects, AuditOptions{})
	want := []string{
		DriftOrphanObject + " " + orphan,
		DriftOrphanObject + " thumbnails/junk",
		DriftOrphanObject + " " + old,
		DriftImageObjectMissing + " " + itemPrefix + it.ID + "/" + itemSK + " " + missing,
	}
	slices.Sort(want[:3])
	if got := kinds(r); !slices.Equal(got, want) {
		t.Errorf("drifts\n%v\nwant\n%v", got, want)
	}
	if r.Objects["uploadsAwaitingProcessing"] != 1 {
		t.Errorf("objects %v", r.Objects)
	}
	// Without a grace, an upload that is no pending image is an orphan.
	if r := audit(t, &fakeScan{records: records, honour: true}, objects, AuditOptions{UploadGrace: -1}); r.DriftByKind[DriftOrphanObject] != 4 {
		t.Errorf("no grace: %v", kinds(r))
	}
}

// A record read twice in one pass is an error, not drift: the engine does
// not split segments as it says.
func TestAuditRefusesDuplicates(t *testing.T) {
	records, _, _ := catalogue()
	records = append(records, records[6]) // the item
	_, err := Audit(context.Background(), &fakeScan{records: records, honour: true}, "t", nil, AuditOptions{Segments: 1})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("err = %v", err)
	}
}
