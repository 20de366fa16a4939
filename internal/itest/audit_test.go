package itest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/auditfn"
)

// auditCatalogue is what TestAuditFindsPlantedDrift builds through the
// API before it breaks it.
type auditCatalogue struct {
	a, b, c string // items: A (two locations, an image), B, C (deleted)
	wh      string // a location besides default
	group   string
	thumb   string // one of A's thumbnails
}

// build makes, through the API, items at two locations with adjustments,
// a transfer and a count, tags, a group with members, a deleted item, and
// a ready image.
func (e *env) buildAuditCatalogue() auditCatalogue {
	e.t.Helper()
	var c auditCatalogue
	c.wh = e.createLocation("AUD-WH")
	c.a = e.createItem(`{"sku":"AUD-A","name":"Audited anchor","quantity":5,"tags":["blue","red"]}`)["id"].(string)
	c.b = e.createItem(`{"sku":"AUD-B","name":"Audited bracket","quantity":2,"tags":["blue"],"reorderPoint":3}`)["id"].(string)
	c.c = e.createItem(`{"sku":"AUD-C","name":"Audited clamp","tags":["red"]}`)["id"].(string)
	e.adjust("received", line{c.a, c.wh, 10}, line{c.b, "default", 4})
	e.must(http.StatusCreated, req{Method: "POST", Path: "/transfers", Body: transfer(c.a, c.wh, "default", 4)})
	e.must(http.StatusCreated, req{Method: "POST", Path: "/counts",
		Body: fmt.Sprintf(`{"itemId":%q,"locationId":%q,"counted":5,"expected":6}`, c.a, c.wh)})
	e.adjust("damaged", line{c.b, "default", -1})
	c.group = e.createGroup("Audit week")["id"].(string)
	e.must(http.StatusOK, req{Method: "POST", Path: "/groups/" + c.group + "/items",
		Body: fmt.Sprintf(`{"add":[%q,%q,%q]}`, c.a, c.b, c.c)})
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + c.c, Body: `{"comment":"audited away"}`})
	up := e.askUpload(c.a, "image/png")
	if code := e.postFile(up, pngWithAlpha(e.t, 64, 32)); code >= 300 {
		e.t.Fatalf("S3 POST: %d", code)
	}
	e.settle(c.a, up["uploadId"].(string))
	img := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + c.a}).json(e.t)["image"].(map[string]any)
	if img["status"] != "ready" {
		e.t.Fatalf("image %v", img)
	}
	c.thumb = inventory.ThumbnailKey(c.a, up["uploadId"].(string), 160, "png")
	return c
}

// raw reads and writes the env's table and bucket straight through the
// SDK, past every rule of the API.
type raw struct {
	t      *testing.T
	db     *dynamodb.Client
	s3     *s3.Client
	table  string
	bucket string
}

func (e *env) raw() *raw {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return &raw{t: e.t, db: dynamodb.NewFromConfig(cfg), s3: lambdafn.NewS3Client(cfg),
		table: e.stack.Settings.TableName, bucket: e.stack.Settings.BucketName}
}

type record = map[string]types.AttributeValue

func (r *raw) get(pk, sk string) record {
	r.t.Helper()
	out, err := r.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &r.table, ConsistentRead: aws.Bool(true),
		Key: record{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil || out.Item == nil {
		r.t.Fatalf("get %s/%s: %v (found: %v)", pk, sk, err, out != nil && out.Item != nil)
	}
	return out.Item
}

func (r *raw) put(m record) {
	r.t.Helper()
	if _, err := r.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &r.table, Item: m}); err != nil {
		r.t.Fatalf("put: %v", err)
	}
}

func (r *raw) delete(pk, sk string) {
	r.t.Helper()
	_, err := r.db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &r.table,
		Key: record{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		r.t.Fatalf("delete %s/%s: %v", pk, sk, err)
	}
}

// first returns the first record of a partition whose sort key begins with prefix.
func (r *raw) first(pk, prefix string) record {
	r.t.Helper()
	out, err := r.db.Query(context.Background(), &dynamodb.QueryInput{TableName: &r.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :p AND begins_with(SK, :s)"),
		ExpressionAttributeValues: record{":p": &types.AttributeValueMemberS{Value: pk},
			":s": &types.AttributeValueMemberS{Value: prefix}}})
	if err != nil || len(out.Items) == 0 {
		r.t.Fatalf("query %s %s: %v", pk, prefix, err)
	}
	return out.Items[0]
}

// with returns a copy of m with attributes set.
func with(m record, set map[string]any) record {
	out := make(record, len(m))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range set {
		switch v := v.(type) {
		case string:
			out[k] = &types.AttributeValueMemberS{Value: v}
		case int:
			out[k] = &types.AttributeValueMemberN{Value: fmt.Sprint(v)}
		case []string:
			l := make([]types.AttributeValue, len(v))
			for i, s := range v {
				l[i] = &types.AttributeValueMemberS{Value: s}
			}
			out[k] = &types.AttributeValueMemberL{Value: l}
		}
	}
	return out
}

func numOf(m record, name string) int {
	var n int
	fmt.Sscan(m[name].(*types.AttributeValueMemberN).Value, &n)
	return n
}

func strOf(m record, name string) string {
	if s, ok := m[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// auditor is the env's AuditStock, as Lambda runs it, with a short pause
// before its confirming pass.
func (e *env) auditor() *auditfn.Auditor {
	e.t.Helper()
	a, err := auditfn.New(context.Background(), e.stack.Settings)
	if err != nil {
		e.t.Fatal(err)
	}
	a.Options.ConfirmAfter = 10 * time.Millisecond
	return a
}

// audit runs AuditStock on a scheduled event and returns its drifts as
// "kind key key...".
func audit(t *testing.T, a *auditfn.Auditor) (*dynamo.AuditReport, []string) {
	t.Helper()
	r, err := a.Handle(context.Background(), events.EventBridgeEvent{ID: "itest", DetailType: "Scheduled Event", Source: "aws.events"})
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	var got []string
	for _, d := range r.Drifts {
		got = append(got, d.Kind+" "+strings.Join(d.Keys, " "))
	}
	return r, got
}

// TestAuditFindsPlantedDrift builds a catalogue through the API, which the
// audit finds whole; then breaks one invariant at a time by writing
// straight to the engine, and checks that the audit reports exactly what
// was broken, and nothing once it is put back.
func TestAuditFindsPlantedDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildAuditCatalogue()
	a := e.auditor()
	r, got := audit(t, a)
	if r.Drift != 0 || r.Passes != 1 {
		t.Fatalf("the catalogue as the API made it: %d drifts, %d passes: %v", r.Drift, r.Passes, got)
	}
	for k, n := range map[string]int64{"item": 3, "item.deleted": 1, "stock": 4, "sku": 2, "location": 2,
		"locationCode": 2, "group": 1, "groupName": 1, "tag": 2, "tagCount": 2} {
		if r.Records[k] != n {
			t.Errorf("records[%s] = %d, want %d (%v)", k, r.Records[k], n, r.Records)
		}
	}
	if r.Records["ledger"] < 8 || r.Records["facet"] < 10 || r.Records["idempotency"] != 0 || r.Objects[inventory.ThumbnailPrefix] != 3 {
		t.Errorf("records %v, objects %v", r.Records, r.Objects)
	}
	// moto splits a Scan into segments, so the audit reads in parallel
	// there (and counted each record once, above); minidyn v0.8.2 answers
	// every segment with the whole table, so it reads it as one.
	if engines.Notifier == nil && r.Segments != dynamo.DefaultAuditSegments {
		t.Errorf("segments %d, want %d", r.Segments, dynamo.DefaultAuditSegments)
	}
	if !slices.Contains(r.Notes, dynamo.ShipmentsNote) {
		t.Errorf("notes %v", r.Notes)
	}
	line := e.auditLine(t)
	data, err := emf.Extract([]byte(line))
	if err != nil || len(data) == 0 || data[0].Name != emf.AuditDrift || len(data[0].Dimensions) != 0 ||
		data[0].Values[0] != 0 || data[0].Namespace != "Depot" {
		t.Errorf("the audit's metric: %+v, %v\n%s", data, err, line)
	}

	db := e.raw()
	item := func(id string) string { return "ITEM#" + id }
	const (
		itemSK = "ITEM"
		stock  = "STOCK#"
	)
	aQty := numOf(db.get(item(c.a), itemSK), "quantity")
	ledger := db.first(item(c.a), "LEDGER#") // A's oldest line: at default, not the level's last
	ghost := inventory.NewID(time.Now())
	type plant struct {
		name  string
		do    func() (undo func())
		drift []string
	}
	// change puts a record with attributes set, and puts it back.
	change := func(pk, sk string, set map[string]any) func() func() {
		return func() func() {
			old := db.get(pk, sk)
			db.put(with(old, set))
			return func() { db.put(old) }
		}
	}
	// add puts records that are not there, and deletes them.
	add := func(ms ...record) func() func() {
		return func() func() {
			for _, m := range ms {
				db.put(m)
			}
			return func() {
				for _, m := range ms {
					db.delete(strOf(m, "PK"), strOf(m, "SK"))
				}
			}
		}
	}
	// remove deletes a record, and puts it back.
	remove := func(pk, sk string) func() func() {
		return func() func() {
			old := db.get(pk, sk)
			db.delete(pk, sk)
			return func() { db.put(old) }
		}
	}
	keyed := func(pk, sk string, set map[string]any) record {
		return with(record{}, mergeAttrs(map[string]any{"PK": pk, "SK": sk}, set))
	}
	plants := []plant{
		{"item quantity", change(item(c.a), itemSK, map[string]any{"quantity": aQty + 1}),
			[]string{dynamo.DriftItemQuantity + " " + item(c.a) + "/ITEM"}},
		{"level on hand", change(item(c.a), stock+c.wh, map[string]any{"onHand": 7}), []string{
			dynamo.DriftItemQuantity + " " + item(c.a) + "/ITEM",
			dynamo.DriftLevelLedger + " " + item(c.a) + "/" + stock + c.wh,
			dynamo.DriftLevelLastLine + " " + item(c.a) + "/" + stock + c.wh}},
		{"ledger line deleted", remove(item(c.a), strOf(ledger, "SK")),
			[]string{dynamo.DriftLevelLedger + " " + item(c.a) + "/" + stock + strOf(ledger, "locationId")}},
		{"committed without shipments", change(item(c.b), stock+"default", map[string]any{"committed": 1}), []string{
			dynamo.DriftItemCommitted + " " + item(c.b) + "/ITEM",
			dynamo.DriftLevelLastLine + " " + item(c.b) + "/" + stock + "default",
			dynamo.DriftLevelShipments + " " + item(c.b) + "/" + stock + "default"}},
		{"negative incoming", change(item(c.b), stock+"default", map[string]any{"incoming": -1}), []string{
			dynamo.DriftLevelLastLine + " " + item(c.b) + "/" + stock + "default",
			dynamo.DriftLevelInvariant + " " + item(c.b) + "/" + stock + "default",
			dynamo.DriftLevelShipments + " " + item(c.b) + "/" + stock + "default"}},
		{"level sku", change(item(c.b), stock+"default", map[string]any{"sku": "OTHER", "GSI2SK": "ITEM#OTHER#" + c.b}),
			[]string{dynamo.DriftLevelSKU + " " + item(c.b) + "/" + stock + "default"}},
		{"ledger line of no level", add(keyed(item(c.b), "LEDGER#"+ghost, map[string]any{"type": "ledger", "id": ghost,
			"itemId": c.b, "locationId": ghost, "delta": 1, "onHandAfter": 1, "reason": "other", "actor": "x",
			"at": "2026-01-01T00:00:00.000Z", "GSI1PK": "LEDGER#" + c.b + "#" + ghost, "GSI1SK": ghost,
			"GSI2PK": "LOC#" + ghost, "GSI2SK": "LEDGER#" + ghost})),
			[]string{dynamo.DriftLevelMissing + " " + item(c.b) + "/" + stock + ghost + " " + item(c.b) + "/LEDGER#" + ghost}},
		{"level at a missing location", add(
			keyed(item(c.b), stock+ghost, map[string]any{"type": "stock", "itemId": c.b, "locationId": ghost, "sku": "AUD-B",
				"onHand": 0, "committed": 0, "incoming": 0, "updatedAt": "2026-01-01T00:00:00.000Z", "lastLedgerId": ghost,
				"GSI2PK": "LOC#" + ghost, "GSI2SK": "ITEM#AUD-B#" + c.b}),
			keyed(item(c.b), "LEDGER#"+ghost, map[string]any{"type": "ledger", "id": ghost, "itemId": c.b, "locationId": ghost,
				"delta": 0, "onHandAfter": 0, "reason": "cycle_count", "actor": "x", "at": "2026-01-01T00:00:00.000Z",
				"GSI1PK": "LEDGER#" + c.b + "#" + ghost, "GSI1SK": ghost, "GSI2PK": "LOC#" + ghost, "GSI2SK": "LEDGER#" + ghost})),
			[]string{dynamo.DriftLevelLocation + " " + item(c.b) + "/" + stock + ghost + " LOC#" + ghost + "/LOC"}},
		{"SKU marker of a missing item", add(keyed("SKU#GHOST", "SKU", map[string]any{"type": "sku", "itemId": ghost})),
			[]string{dynamo.DriftSKUMarkerDangling + " SKU#GHOST/SKU"}},
		{"SKU marker of a deleted item", add(keyed("SKU#AUD-C", "SKU", map[string]any{"type": "sku", "itemId": c.c})),
			[]string{dynamo.DriftSKUMarkerDangling + " SKU#AUD-C/SKU"}},
		{"live item without its SKU marker", remove("SKU#AUD-B", "SKU"),
			[]string{dynamo.DriftSKUMarkerMissing + " " + item(c.b) + "/ITEM SKU#AUD-B/SKU"}},
		{"tag counter off by one", change("TAG#red", "COUNT", map[string]any{"itemCount": 2}),
			[]string{dynamo.DriftTagCount + " TAG#red/COUNT"}},
		{"tag entry missing", remove("TAG#red", "TAG"), []string{dynamo.DriftTagEntryMissing + " TAG#red/TAG"}},
		{"facet row missing", remove(item(c.b), "F#tag#blue"), []string{dynamo.DriftFacetMissing + " " + item(c.b) + "/F#tag#blue"}},
		{"facet row of a deleted item", add(keyed(item(c.c), "F#tag#red", map[string]any{"type": "facet", "itemId": c.c,
			"GSI1PK": "F#tag#red", "GSI1SK": "AUD-C"})), []string{dynamo.DriftFacetOrphan + " " + item(c.c) + "/F#tag#red"}},
		{"stale index key", change(item(c.b), itemSK, map[string]any{"GSI1SK": "AUD-Z"}),
			[]string{dynamo.DriftIndexKeys + " " + item(c.b) + "/ITEM"}},
		{"group member count off", change("GROUP#"+c.group, "GROUP", map[string]any{"memberCount": 3}),
			[]string{dynamo.DriftGroupMemberCount + " GROUP#" + c.group + "/GROUP"}},
		{"group name marker missing", remove("GROUPNAME#audit!week", "GROUPNAME"),
			[]string{dynamo.DriftGroupMarkerMissing + " GROUP#" + c.group + "/GROUP GROUPNAME#audit!week/GROUPNAME"}},
		{"group name marker of no group", add(keyed("GROUPNAME#ghost!sale", "GROUPNAME", map[string]any{"type": "groupName", "groupId": ghost})),
			[]string{dynamo.DriftGroupMarkerDangling + " GROUPNAME#ghost!sale/GROUPNAME"}},
		{"member of a missing group", func() func() {
			old := db.get(item(c.b), itemSK)
			db.put(with(old, map[string]any{"groups": []string{c.group, ghost}}))
			db.put(keyed(item(c.b), "F#group#"+ghost, map[string]any{"type": "facet", "itemId": c.b,
				"GSI1PK": "F#group#" + ghost, "GSI1SK": "AUD-B"}))
			return func() { db.put(old); db.delete(item(c.b), "F#group#"+ghost) }
		}, []string{dynamo.DriftGroupMissing + " " + item(c.b) + "/ITEM GROUP#" + ghost + "/GROUP"}},
		{"location stockedLevels off", change("LOC#"+c.wh, "LOC", map[string]any{"stockedLevels": 2}),
			[]string{dynamo.DriftLocationStocked + " LOC#" + c.wh + "/LOC"}},
		{"default location counted", change("LOC#default", "LOC", map[string]any{"stockedLevels": 1}),
			[]string{dynamo.DriftLocationStocked + " LOC#default/LOC"}},
		{"location code marker missing", remove("LOCCODE#AUD-WH", "LOCCODE"),
			[]string{dynamo.DriftCodeMarkerMissing + " LOC#" + c.wh + "/LOC LOCCODE#AUD-WH/LOCCODE"}},
		{"location code marker of no location", add(keyed("LOCCODE#GHOST", "LOCCODE", map[string]any{"type": "locationCode", "locationId": ghost})),
			[]string{dynamo.DriftCodeMarkerDangling + " LOCCODE#GHOST/LOCCODE"}},
		{"records of a missing item", add(keyed(item(ghost), "ACT#"+ghost, map[string]any{"type": "activity", "id": ghost,
			"itemId": ghost, "activity": "created", "actor": "x", "at": "2026-01-01T00:00:00.000Z"})),
			[]string{dynamo.DriftItemMissing + " " + item(ghost) + "/ITEM"}},
		{"wrong type", change("SKU#AUD-A", "SKU", map[string]any{"type": "skew"}), []string{dynamo.DriftRecordType + " SKU#AUD-A/SKU"}},
		{"undecodable record", add(keyed("IDEM#eA#k", "IDEM", map[string]any{"type": "idempotency", "createdAt": "yesterday"})),
			[]string{dynamo.DriftUndecodable + " IDEM#eA#k/IDEM"}},
		{"unknown record", add(keyed("PALLET#"+ghost, "PALLET", map[string]any{"type": "pallet"})),
			[]string{dynamo.DriftUnknownRecord + " PALLET#" + ghost + "/PALLET"}},
		{"undecodable shipment", add(keyed("SHIP#"+ghost, "SHIP", map[string]any{"type": "shipment"})),
			[]string{dynamo.DriftUndecodable + " SHIP#" + ghost + "/SHIP"}},
		{"orphan thumbnail", func() func() {
			key := inventory.ThumbnailKey(c.a, ghost, 160, "png")
			db.putObject(key, []byte("orphan"))
			return func() { db.deleteObject(key) }
		}, []string{dynamo.DriftOrphanObject + " " + inventory.ThumbnailKey(c.a, ghost, 160, "png")}},
		{"image object missing", func() func() {
			data := db.getObject(c.thumb)
			db.deleteObject(c.thumb)
			return func() { db.putObject(c.thumb, data) }
		}, []string{dynamo.DriftImageObjectMissing + " " + item(c.a) + "/ITEM " + c.thumb}},
	}
	// Every kind of drift the audit checks is planted.
	planted := map[string]bool{}
	for _, p := range plants {
		for _, d := range p.drift {
			planted[strings.Fields(d)[0]] = true
		}
	}
	for _, k := range dynamo.DriftKinds {
		if !planted[k] {
			t.Errorf("no plant of %s", k)
		}
	}
	for _, p := range plants {
		t.Run(p.name, func(t *testing.T) {
			undo := p.do()
			defer undo()
			r, got := audit(t, a)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(p.drift))
			if !slices.Equal(got, want) || r.Drift != len(want) || r.Passes != 2 {
				t.Errorf("drifts (%d, %d passes)\n%s\nwant\n%s", r.Drift, r.Passes, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// The line's metric is the number of drifts.
			if data, err := emf.Extract([]byte(e.auditLine(t))); err != nil || data[0].Values[0] != float64(len(want)) {
				t.Errorf("AuditDrift: %+v, %v", data, err)
			}
		})
	}
	if r, got := audit(t, a); r.Drift != 0 {
		t.Errorf("after putting everything back: %v", got)
	}
}

func mergeAttrs(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (r *raw) putObject(key string, data []byte) {
	r.t.Helper()
	_, err := r.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &r.bucket, Key: &key,
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("image/png")})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) getObject(key string) []byte {
	r.t.Helper()
	out, err := r.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &r.bucket, Key: &key})
	if err != nil {
		r.t.Fatal(err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return data
}

func (r *raw) deleteObject(key string) {
	r.t.Helper()
	if _, err := r.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &r.bucket, Key: &key}); err != nil {
		r.t.Fatal(err)
	}
}

// auditLine is the env's last audit log line.
func (e *env) auditLine(t *testing.T) string {
	t.Helper()
	var last string
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"audit"`) {
			last = l
		}
	}
	if last == "" {
		t.Fatal("no audit log line")
	}
	return last
}
