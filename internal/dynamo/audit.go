package dynamo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/depot-inventory/depot/internal/inventory"
)

// The audit reads the whole table with a parallel
// Scan — the one place the code scans: it is a job, never a request — and
// checks every invariant the transactions keep, with the same decoders
// the store reads records with. It lists the bucket's image objects
// (thumbnails/ and uploads/) and checks them against the items' images.
//
// A Scan is no snapshot: on a table being written, a transaction can
// commit between the reads of two records it changes, so the first pass
// may see a drift that is only a change in flight. When the first pass
// finds drift, a second pass reads everything again after a pause, and
// only what both passes found is reported (a number by how far it is
// off, so that a counter that is off by one while its items change is
// still the same drift).

// ScanAPI is the part of DynamoDB the audit uses.
type ScanAPI interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// ObjectLister lists the bucket's objects (media.Media).
type ObjectLister interface {
	Bucket() string
	// ListObjects calls fn with the key and last modification of every
	// object under prefix.
	ListObjects(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error
}

// Defaults of AuditOptions.
const (
	DefaultAuditSegments = 4
	DefaultConfirmAfter  = 2 * time.Second
	DefaultDriftsPerKind = 20
	// DefaultUploadGrace is how long an upload that is not an item's
	// pending image may wait for MakeThumbnails, which deletes it: its S3
	// event is retried for up to an hour, and the bucket's lifecycle rule
	// expires an upload never processed at the first midnight a day after
	// it was made. An older one is an orphan.
	DefaultUploadGrace = 48 * time.Hour
)

// AuditOptions tune an audit; the zero value is the defaults.
type AuditOptions struct {
	Segments     int           // parallel Scan segments (≤0: DefaultAuditSegments)
	SinglePass   bool          // report the first pass's drift, without a confirming pass
	ConfirmAfter time.Duration // pause before the confirming pass (≤0: DefaultConfirmAfter)
	MaxPerKind   int           // drifts listed per kind (≤0: DefaultDriftsPerKind)
	// UploadGrace: see DefaultUploadGrace (0: the default; <0: none, so
	// every upload that is not a pending image is an orphan).
	UploadGrace time.Duration
	Now         func() time.Time // nil: time.Now
}

// Drift kinds: each names one invariant, broken. Keys name the records
// concerned ("PK/SK", or an object key); Expected is what the other
// records say the value should be, Found what is stored.
const (
	DriftUndecodable         = "undecodable"            // a record its decoder refuses
	DriftUnknownRecord       = "unknown_record"         // a key this audit does not know
	DriftRecordType          = "record_type"            // the type attribute does not match the key
	DriftIndexKeys           = "index_keys"             // GSI keys other than the record's encoder writes
	DriftItemMissing         = "item_missing"           // records in an item's partition without the item
	DriftItemQuantity        = "item_quantity"          // item quantity ≠ Σ its levels' onHand
	DriftItemCommitted       = "item_committed"         // item committed ≠ Σ its levels' committed
	DriftLevelLedger         = "level_ledger"           // level onHand ≠ Σ its ledger lines' deltas
	DriftLevelLastLine       = "level_last_line"        // level ≠ its newest ledger line (id and figures after it)
	DriftLevelMissing        = "level_missing"          // ledger lines of a level that does not exist
	DriftLevelInvariant      = "level_invariant"        // not onHand ≥ committed ≥ 0, incoming ≥ 0
	DriftLevelShipments      = "level_shipments"        // committed/incoming ≠ what open shipments hold
	DriftLevelSKU            = "level_sku"              // a level's sku is not its item's
	DriftLevelLocation       = "level_location"         // a level at a location that does not exist
	DriftFacetMissing        = "facet_missing"          // a live item's facet without its row
	DriftFacetOrphan         = "facet_orphan"           // a facet row of no facet of a live item
	DriftSKUMarkerMissing    = "sku_marker_missing"     // a live item whose SKU marker is absent or names another item
	DriftSKUMarkerDangling   = "sku_marker_dangling"    // a SKU marker of no live item with that SKU
	DriftTagEntryMissing     = "tag_entry_missing"      // an item's tag without its TAGS entry
	DriftTagCount            = "tag_count"              // tag counter ≠ live items with the tag
	DriftGroupMissing        = "group_missing"          // an item names a group that does not exist
	DriftGroupMemberCount    = "group_member_count"     // memberCount ≠ live items in the group
	DriftGroupMarkerMissing  = "group_name_missing"     // a live group whose name marker is absent or names another group
	DriftGroupMarkerDangling = "group_name_dangling"    // a name marker of no live group with that name
	DriftLocationStocked     = "location_stocked"       // stockedLevels ≠ non-empty levels there (0 at default)
	DriftCodeMarkerMissing   = "location_code_missing"  // a live location whose code marker is absent or names another
	DriftCodeMarkerDangling  = "location_code_dangling" // a code marker of no live location with that code
	DriftOrphanObject        = "orphan_object"          // an image object no item's image accounts for
	DriftImageObjectMissing  = "image_object_missing"   // a ready image's object is not in the bucket
)

// DriftKinds are every kind the audit checks, in report order.
var DriftKinds = []string{
	DriftUndecodable, DriftUnknownRecord, DriftRecordType, DriftIndexKeys,
	DriftItemMissing, DriftItemQuantity, DriftItemCommitted,
	DriftLevelLedger, DriftLevelLastLine, DriftLevelMissing, DriftLevelInvariant, DriftLevelShipments,
	DriftLevelSKU, DriftLevelLocation,
	DriftFacetMissing, DriftFacetOrphan, DriftSKUMarkerMissing, DriftSKUMarkerDangling,
	DriftTagEntryMissing, DriftTagCount,
	DriftGroupMissing, DriftGroupMemberCount, DriftGroupMarkerMissing, DriftGroupMarkerDangling,
	DriftLocationStocked, DriftCodeMarkerMissing, DriftCodeMarkerDangling,
	DriftOrphanObject, DriftImageObjectMissing,
}

// Drift is one broken invariant.
type Drift struct {
	Kind     string   `json:"kind"`
	Keys     []string `json:"keys"`
	Expected any      `json:"expected"`
	Found    any      `json:"found"`
}

// AuditReport is what an audit found.
type AuditReport struct {
	Table      string    `json:"table"`
	Bucket     string    `json:"bucket,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMs int64     `json:"durationMs"`
	Segments   int       `json:"segments"`
	Passes     int       `json:"passes"`
	// Records counts the table's records by type; Objects the bucket's
	// image objects by prefix, and the uploads still awaiting
	// MakeThumbnails (not drift: see DefaultUploadGrace).
	Records map[string]int64 `json:"records"`
	Objects map[string]int64 `json:"objects,omitempty"`
	Checks  []string         `json:"checks"`
	Notes   []string         `json:"notes"`
	// Drift is the number of drifts; DriftByKind splits it, and Drifts
	// lists them, at most AuditOptions.MaxPerKind of each kind.
	Drift       int            `json:"drift"`
	DriftByKind map[string]int `json:"driftByKind"`
	Drifts      []Drift        `json:"drifts"`
}

// ShipmentsNote says how committed and incoming are checked.
const ShipmentsNote = "every level's committed and incoming are checked against what open shipments hold: " +
	"committed at the origin of each ready shipment, incoming at the warehouse destination of each shipped or " +
	"partially received one (what remains to be received), and, for a transition in progress, the lines of the steps " +
	"it has applied and not undone (docs/shipments.md)"

// Audit checks the table and, with objects, the bucket's image objects.
// It returns an error only when it could not read them; drift is in the
// report.
func Audit(ctx context.Context, db ScanAPI, table string, objects ObjectLister, o AuditOptions) (*AuditReport, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	segments := cmp.Or(max(o.Segments, 0), DefaultAuditSegments)
	if segments > 1 {
		ok, err := segmentsHonoured(ctx, db, table, segments)
		if err != nil {
			return nil, err
		}
		if !ok {
			segments = 1
		}
	}
	perKind := cmp.Or(max(o.MaxPerKind, 0), DefaultDriftsPerKind)
	r := &AuditReport{Table: table, StartedAt: start.UTC(), Segments: segments, Checks: DriftKinds,
		Notes: []string{ShipmentsNote}, DriftByKind: map[string]int{}, Drifts: []Drift{}}
	if objects != nil {
		r.Bucket = objects.Bucket()
	} else {
		r.Notes = append(r.Notes, "no bucket: image objects not checked")
	}
	keep := func(d Drift) {
		r.Drift++
		r.DriftByKind[d.Kind]++
		if r.DriftByKind[d.Kind] <= perKind {
			r.Drifts = append(r.Drifts, d)
		}
	}
	first := map[uint64]bool{}
	emit := keep
	if !o.SinglePass {
		emit = func(d Drift) { first[d.identity()] = true }
	}
	p, err := runPass(ctx, db, table, objects, segments, o, now, emit)
	if err != nil {
		return nil, err
	}
	r.Passes = 1
	if !o.SinglePass && len(first) > 0 {
		t := time.NewTimer(cmp.Or(max(o.ConfirmAfter, 0), DefaultConfirmAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, classify(ctx.Err())
		case <-t.C:
		}
		p, err = runPass(ctx, db, table, objects, segments, o, now, func(d Drift) {
			if first[d.identity()] {
				keep(d)
			}
		})
		if err != nil {
			return nil, err
		}
		r.Passes = 2
	}
	r.Records, r.Objects = p.records, p.objects
	slices.SortStableFunc(r.Drifts, func(a, b Drift) int {
		return cmp.Or(cmp.Compare(slices.Index(DriftKinds, a.Kind), slices.Index(DriftKinds, b.Kind)),
			slices.Compare(a.Keys, b.Keys))
	})
	r.DurationMs = now().Sub(start).Milliseconds()
	return r, nil
}

// identity is what makes two passes' drifts the same one: its kind and
// keys, and how far off it is (a number) or what it expected and found.
func (d Drift) identity() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00", d.Kind, strings.Join(d.Keys, "\x00"))
	e, eok := d.Expected.(int64)
	f, fok := d.Found.(int64)
	if eok && fok {
		fmt.Fprintf(h, "diff %d", f-e)
	} else {
		b, _ := json.Marshal([]any{d.Expected, d.Found})
		h.Write(b)
	}
	return h.Sum64()
}

// segmentsHonoured reports whether the engine splits a Scan into the
// segments asked for. DynamoDB and moto do; minidyn v0.8.2 ignores Segment
// and TotalSegments and answers every segment with the whole table, which
// would count each record once per segment. The first record of two
// segments tells: on an engine that splits, no record is in both.
func segmentsHonoured(ctx context.Context, db ScanAPI, table string, segments int) (bool, error) {
	var first [2]string
	for seg := range 2 {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(1),
			Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(segments))})
		if err != nil {
			return false, classify(fmt.Errorf("scan %s: %w", table, err))
		}
		if len(out.Items) > 0 {
			first[seg] = recordName(out.Items[0])
		}
	}
	return first[0] == "" || first[0] != first[1], nil
}

// scanTable reads every record of the table, strongly consistently, in
// parallel segments, and hands each to fn in one goroutine.
func scanTable(ctx context.Context, db ScanAPI, table string, segments int, fn func(attrMap) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pages := make(chan []attrMap, segments)
	var wg sync.WaitGroup
	for seg := range segments {
		wg.Go(func() {
			in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
			if segments > 1 {
				in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(segments))
			}
			for {
				out, err := db.Scan(ctx, in)
				if err != nil {
					cancel(classify(fmt.Errorf("scan %s, segment %d: %w", table, seg, err)))
					return
				}
				select {
				case pages <- out.Items:
				case <-ctx.Done():
					return
				}
				if len(out.LastEvaluatedKey) == 0 {
					return
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
		})
	}
	go func() { wg.Wait(); close(pages) }()
	for page := range pages {
		if ctx.Err() != nil {
			continue // drain: the segments stop
		}
		for _, m := range page {
			if err := fn(m); err != nil {
				cancel(err)
				break
			}
		}
	}
	return context.Cause(ctx)
}

// recordName is a record's "PK/SK".
func recordName(m attrMap) string { return sOf(m, "PK") + "/" + sOf(m, "SK") }

// pass is one reading of the table and the bucket.
type pass struct {
	emit        func(Drift)
	records     map[string]int64
	objects     map[string]int64
	items       map[string]*itemAudit
	skuMarkers  map[string]string // sku → item id
	codeMarkers map[string]string // location code → location id
	nameMarkers map[string]string // group NameKey → group id
	tagEntries  map[string]bool
	tagCounters map[string]int64
	groups      map[string]inventory.Group
	locations   map[string]inventory.Location
	// commitments are what open shipments hold at each level: committed
	// at their source, incoming at their destination (shipmentCommitments,
	// from the shipments' records addRecord gathers).
	commitments map[inventory.LevelKey]commitment
	shipments   map[string][]attrMap // a shipment's records, by shipment id
}

type commitment struct{ Committed, Incoming int64 }

// itemAudit is what the pass gathers about one item's partition.
type itemAudit struct {
	item   *inventory.Item // nil while (or if) its record is not read
	levels map[string]*levelAudit
	facets map[string][2]string // facet → its row's GSI1PK and GSI1SK
	others map[string]int       // ledger lines and activity entries, for item_missing
	seen   map[string]bool      // objects of its ready image found in the bucket
}

// levelAudit is one level and the sums of its ledger lines.
type levelAudit struct {
	level     *inventory.Level
	deltas    int64
	lines     int
	last      inventory.LedgerEntry // the newest line (greatest id)
	firstLine string                // a line's key, for a level_missing drift
}

func runPass(ctx context.Context, db ScanAPI, table string, objects ObjectLister, segments int, o AuditOptions,
	now func() time.Time, emit func(Drift)) (*pass, error) {
	p := &pass{emit: emit, records: map[string]int64{}, items: map[string]*itemAudit{},
		skuMarkers: map[string]string{}, codeMarkers: map[string]string{}, nameMarkers: map[string]string{},
		tagEntries: map[string]bool{}, tagCounters: map[string]int64{}, groups: map[string]inventory.Group{},
		locations: map[string]inventory.Location{}, commitments: map[inventory.LevelKey]commitment{},
		shipments: map[string][]attrMap{}}
	if err := scanTable(ctx, db, table, segments, p.addRecord); err != nil {
		return nil, err
	}
	p.shipmentCommitments()
	p.checkItems()
	p.checkMarkers()
	p.fillCounts()
	if objects != nil {
		grace := o.UploadGrace
		if grace == 0 {
			grace = DefaultUploadGrace
		}
		if err := p.checkObjects(ctx, objects, now(), grace); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *pass) drift(kind string, expected, found any, keys ...string) {
	p.emit(Drift{Kind: kind, Keys: keys, Expected: expected, Found: found})
}

func (p *pass) item(id string) *itemAudit {
	ia := p.items[id]
	if ia == nil {
		ia = &itemAudit{levels: map[string]*levelAudit{}, facets: map[string][2]string{}, others: map[string]int{}}
		p.items[id] = ia
	}
	return ia
}

func (ia *itemAudit) level(loc string) *levelAudit {
	la := ia.levels[loc]
	if la == nil {
		la = &levelAudit{}
		ia.levels[loc] = la
	}
	return la
}

// errDuplicate: a record read twice in one pass.
var errDuplicate = errors.New("the scan returned a record twice")

// addRecord reads one record: it checks what the record alone can tell
// (its type, its decoding, its index keys) and gathers what the checks
// across records need.
func (p *pass) addRecord(m attrMap) error {
	pk, sk := sOf(m, "PK"), sOf(m, "SK")
	name := pk + "/" + sk
	typ := sOf(m, "type")
	want := ""
	defer func() {
		if want != "" {
			p.records[want]++
			if typ != want {
				p.drift(DriftRecordType, want, typ, name)
			}
		} else {
			p.records["unknown"]++
		}
	}()
	undecodable := func(err error) { p.drift(DriftUndecodable, "a record its decoder reads", err.Error(), name) }
	switch {
	case strings.HasPrefix(pk, itemPrefix):
		id := pk[len(itemPrefix):]
		ia := p.item(id)
		switch {
		case sk == itemSK:
			want = "item"
			it, err := decodeItem(m)
			if err != nil {
				undecodable(err)
				return nil
			}
			if ia.item != nil {
				return fmt.Errorf("%w: %s", errDuplicate, name)
			}
			it.Description = "" // not needed; items are held for the whole pass
			ia.item = &it
			p.indexKeys(m, encodeItem(it), name)
		case strings.HasPrefix(sk, stockPrefix):
			want = "stock"
			l, err := decodeLevel(m)
			if err != nil {
				undecodable(err)
				return nil
			}
			if l.ItemID != id || l.LocationID != sk[len(stockPrefix):] {
				p.drift(DriftUndecodable, "itemId and locationId of its key", l.ItemID+"/"+l.LocationID, name)
				return nil
			}
			ia.level(l.LocationID).level = &l
			p.indexKeys(m, encodeLevel(l), name)
		case strings.HasPrefix(sk, ledgerPrefix):
			want = "ledger"
			e, err := decodeLedger(m)
			if err != nil {
				undecodable(err)
				return nil
			}
			if e.ItemID != id || e.ID != sk[len(ledgerPrefix):] {
				p.drift(DriftUndecodable, "itemId and id of its key", e.ItemID+"/"+e.ID, name)
				return nil
			}
			la := ia.level(e.LocationID)
			la.deltas += e.Delta
			la.lines++
			if e.ID > la.last.ID {
				la.last = e
			}
			if la.firstLine == "" {
				la.firstLine = name
			}
			ia.others["ledger"]++
			p.indexKeys(m, encodeLedger(e), name)
		case strings.HasPrefix(sk, activityPrefix):
			want = "activity"
			if _, err := decodeActivity(m); err != nil {
				undecodable(err)
			}
			ia.others["activity"]++
		case strings.HasPrefix(sk, facetPrefix):
			want = "facet"
			ia.facets[sk[len(facetPrefix):]] = [2]string{sOf(m, "GSI1PK"), sOf(m, "GSI1SK")}
			if got := sOf(m, "itemId"); got != id {
				p.drift(DriftUndecodable, "itemId "+id, got, name)
			}
		default:
			p.drift(DriftUnknownRecord, "a record of a known kind", nil, name)
		}
	case strings.HasPrefix(pk, skuPrefix) && sk == skuSK:
		want = "sku"
		id, err := decodeSKUMarker(m)
		if err != nil {
			undecodable(err)
			return nil
		}
		p.skuMarkers[pk[len(skuPrefix):]] = id
	case strings.HasPrefix(pk, locCodePrefix) && sk == locCodeSK:
		want = "locationCode"
		if id := sOf(m, "locationId"); id != "" {
			p.codeMarkers[pk[len(locCodePrefix):]] = id
		} else {
			p.drift(DriftUndecodable, "a locationId", nil, name)
		}
	case strings.HasPrefix(pk, groupNamePfx) && sk == groupNameSK:
		want = "groupName"
		if id := sOf(m, "groupId"); id != "" {
			p.nameMarkers[pk[len(groupNamePfx):]] = id
		} else {
			p.drift(DriftUndecodable, "a groupId", nil, name)
		}
	case strings.HasPrefix(pk, tagPrefix) && sk == tagSK:
		want = "tag"
		t := pk[len(tagPrefix):]
		p.tagEntries[t] = true
		p.indexKeys(m, encodeTag(t), name)
		if got := sOf(m, "tag"); got != t {
			p.drift(DriftUndecodable, "tag "+t, got, name)
		}
	case strings.HasPrefix(pk, tagPrefix) && sk == tagCountSK:
		want = "tagCount"
		c, err := decodeTagCount(m)
		if err != nil {
			undecodable(err)
			return nil
		}
		p.tagCounters[pk[len(tagPrefix):]] = c.Count
	case strings.HasPrefix(pk, locPrefix) && sk == locSK:
		want = "location"
		l, err := decodeLocation(m)
		if err != nil {
			undecodable(err)
			return nil
		}
		p.locations[l.ID] = l
		p.indexKeys(m, encodeLocation(l), name)
	case strings.HasPrefix(pk, groupPrefix) && sk == groupSK:
		want = "group"
		g, err := decodeGroup(m)
		if err != nil {
			undecodable(err)
			return nil
		}
		p.groups[g.ID] = g
		p.indexKeys(m, encodeGroup(g), name)
	case strings.HasPrefix(pk, idemPrefix) && sk == idemSK:
		want = "idempotency"
		if _, err := decodeIdempotency(pk[len(idemPrefix):], m); err != nil {
			undecodable(err)
		}
	case strings.HasPrefix(pk, jobPrefix) && sk == jobSK:
		want = "job"
		switch kind := sOf(m, "kind"); kind {
		case "export":
			if j, err := decodeExport(m); err != nil {
				undecodable(err)
			} else {
				p.indexKeys(m, encodeExport(j), name)
			}
		case "import":
			if j, err := decodeImport(m); err != nil {
				undecodable(err)
			} else {
				p.indexKeys(m, encodeImport(j), name)
			}
		default:
			p.drift(DriftUndecodable, "a job of kind export or import", kind, name)
		}
	case strings.HasPrefix(pk, shipPrefix):
		switch {
		case sk == shipSK:
			want = "shipment"
			h, err := decodeShipment(m)
			if err != nil {
				undecodable(err)
				return nil
			}
			p.indexKeys(m, encodeShipment(h), name)
		case sk == shipLinesSK:
			want = "shipmentLines"
		case strings.HasPrefix(sk, shipEventPrefix):
			want = "shipmentEvent"
		case sk == shipTransSK:
			want = "shipmentTransition"
			tr, err := decodeTransition(m)
			if err != nil {
				undecodable(err)
				return nil
			}
			p.indexKeys(m, encodeTransition(tr), name)
		case strings.HasPrefix(sk, shipStepPrefix), strings.HasPrefix(sk, shipUndoPrefix):
			want = "shipmentStep"
		default:
			p.drift(DriftUnknownRecord, "a record of a known kind", typ, name)
			return nil
		}
		id := pk[len(shipPrefix):]
		p.shipments[id] = append(p.shipments[id], m)
	default:
		p.drift(DriftUnknownRecord, "a record of a known kind", typ, name)
	}
	return nil
}

// shipmentCommitments adds up what the shipments hold at each level:
// committed at the origin of a ready one; incoming at the warehouse
// destination of a shipped or partially received one, less what was
// received; and the lines of the steps a transition in progress has
// applied and not undone (docs/shipments.md).
func (p *pass) shipmentCommitments() {
	for id, records := range p.shipments {
		st, found, err := decodeShipmentRecords(records)
		name := shipPrefix + id + "/" + shipSK
		if err != nil {
			p.drift(DriftUndecodable, "a shipment its decoder reads", err.Error(), name)
			continue
		}
		if !found {
			p.drift(DriftUnknownRecord, "the shipment of these records", nil, name)
			continue
		}
		add := func(item, loc string, committed, incoming int64) {
			k := inventory.LevelKey{ItemID: item, LocationID: loc}
			c := p.commitments[k]
			c.Committed += committed
			c.Incoming += incoming
			p.commitments[k] = c
		}
		warehouse := st.Destination.Warehouse()
		for _, l := range st.Lines {
			switch st.Status {
			case inventory.ShipmentReady:
				add(l.ItemID, st.OriginLocationID, l.Quantity, 0)
			case inventory.ShipmentShipped, inventory.ShipmentPartiallyReceived:
				if warehouse {
					add(l.ItemID, st.Destination.LocationID, 0, l.Quantity-l.Received)
				}
			}
		}
		tr := st.Transition
		if tr == nil {
			continue
		}
		for k := range st.Applied() {
			if k >= tr.Steps() {
				p.drift(DriftUnknownRecord, fmt.Sprintf("a step of the transition's %d", tr.Steps()), k, name)
				continue
			}
			for _, l := range tr.Chunk(k) {
				switch tr.Action {
				case inventory.ActionReady:
					add(l.ItemID, st.OriginLocationID, l.Quantity, 0)
				case inventory.ActionCancel:
					add(l.ItemID, st.OriginLocationID, -l.Quantity, 0)
				case inventory.ActionShip:
					add(l.ItemID, st.OriginLocationID, -l.Quantity, 0)
					if warehouse {
						add(l.ItemID, st.Destination.LocationID, 0, l.Quantity)
					}
				case inventory.ActionReceive:
					add(l.ItemID, st.Destination.LocationID, 0, -l.Quantity)
				}
			}
		}
	}
}

// indexNames are the attributes of the table's index keys.
var indexNames = []string{"GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK"}

// indexKeys checks that a record's index keys are those its encoder
// writes for what it holds (a low-stock item in LOWSTOCK, a level at its
// SKU's place, a deleted item out of ITEMS#LIVE, ...).
func (p *pass) indexKeys(stored, want attrMap, name string) {
	got, exp := map[string]string{}, map[string]string{}
	differ := false
	for _, n := range indexNames {
		g, e := sOf(stored, n), sOf(want, n)
		if g != "" || e != "" {
			got[n], exp[n] = g, e
			differ = differ || g != e
		}
	}
	if differ {
		p.drift(DriftIndexKeys, exp, got, name)
	}
}

// checkItems checks each item against its levels, its levels against
// their ledgers and locations, its facet rows, and counts what the
// counters and markers are checked against.
func (p *pass) checkItems() {
	stocked := map[string]int64{} // non-empty levels by location
	needEntry := map[string]bool{}
	liveTags := map[string]int64{}
	members := map[string]int64{}
	for id, ia := range p.items {
		itemName := itemPrefix + id + "/" + itemSK
		for loc, la := range ia.levels {
			l := la.level
			levelName := itemPrefix + id + "/" + stockPrefix + loc
			if l == nil {
				p.drift(DriftLevelMissing, "the level its ledger lines change", nil, levelName, la.firstLine)
				continue
			}
			if !l.Empty() {
				stocked[loc]++
			}
			if _, ok := p.locations[loc]; !ok {
				p.drift(DriftLevelLocation, "location "+loc, nil, levelName, locPrefix+loc+"/"+locSK)
			}
			if la.deltas != l.OnHand {
				p.drift(DriftLevelLedger, la.deltas, l.OnHand, levelName)
			}
			if l.LastLedgerID != legacyLevel {
				got := map[string]any{"lastLedgerId": l.LastLedgerID, "onHand": l.OnHand, "committed": l.Committed, "incoming": l.Incoming}
				want := map[string]any{"lastLedgerId": la.last.ID, "onHand": la.last.OnHandAfter,
					"committed": la.last.CommittedAfter, "incoming": la.last.IncomingAfter}
				if la.lines == 0 {
					want = nil
				}
				if want == nil || !maps.Equal(got, want) {
					p.drift(DriftLevelLastLine, want, got, levelName)
				}
			}
			if l.OnHand < l.Committed || l.Committed < 0 || l.Incoming < 0 {
				p.drift(DriftLevelInvariant, "onHand ≥ committed ≥ 0, incoming ≥ 0",
					map[string]int64{"onHand": l.OnHand, "committed": l.Committed, "incoming": l.Incoming}, levelName)
			}
			c := p.commitments[inventory.LevelKey{ItemID: id, LocationID: loc}]
			if l.Committed != c.Committed || l.Incoming != c.Incoming {
				p.drift(DriftLevelShipments, map[string]int64{"committed": c.Committed, "incoming": c.Incoming},
					map[string]int64{"committed": l.Committed, "incoming": l.Incoming}, levelName)
			}
			if it := ia.item; it != nil && l.SKU != "" && l.SKU != it.SKU {
				p.drift(DriftLevelSKU, it.SKU, l.SKU, levelName)
			}
		}
		it := ia.item
		if it == nil {
			found := maps.Clone(ia.others)
			found["stock"], found["facet"] = len(ia.levels), len(ia.facets)
			p.drift(DriftItemMissing, "item "+id, found, itemName)
			continue
		}
		var onHand, committed int64
		for _, la := range ia.levels {
			if la.level != nil {
				onHand += la.level.OnHand
				committed += la.level.Committed
			}
		}
		if it.Quantity != onHand {
			p.drift(DriftItemQuantity, onHand, it.Quantity, itemName)
		}
		if it.Committed != committed {
			p.drift(DriftItemCommitted, committed, it.Committed, itemName)
		}
		facets := it.Facets()
		for _, f := range facets {
			row, ok := ia.facets[f]
			rowName := itemPrefix + id + "/" + facetPrefix + f
			switch {
			case !ok:
				p.drift(DriftFacetMissing, "a row in "+facetPrefix+f, nil, rowName)
			case row != [2]string{facetPrefix + f, it.SKU}:
				p.drift(DriftIndexKeys, map[string]string{"GSI1PK": facetPrefix + f, "GSI1SK": it.SKU},
					map[string]string{"GSI1PK": row[0], "GSI1SK": row[1]}, rowName)
			}
		}
		for f := range ia.facets {
			if !slices.Contains(facets, f) {
				why := "no such facet of the item"
				if it.Deleted != nil {
					why = "none: the item is deleted"
				}
				p.drift(DriftFacetOrphan, why, facetPrefix+f, itemPrefix+id+"/"+facetPrefix+f)
			}
		}
		live := it.Deleted == nil
		for _, t := range it.Tags {
			needEntry[t] = true
			if live {
				liveTags[t]++
			}
		}
		for _, g := range it.Groups {
			if _, ok := p.groups[g]; !ok {
				p.drift(DriftGroupMissing, "group "+g, nil, itemName, groupPrefix+g+"/"+groupSK)
			}
			if live {
				members[g]++
			}
		}
		if live && p.skuMarkers[it.SKU] != id {
			p.drift(DriftSKUMarkerMissing, id, nullIfEmpty(p.skuMarkers[it.SKU]), itemName, skuPrefix+it.SKU+"/"+skuSK)
		}
	}
	for t := range needEntry {
		if !p.tagEntries[t] {
			p.drift(DriftTagEntryMissing, "an entry in TAGS", nil, tagPrefix+t+"/"+tagSK)
		}
	}
	for t := range joinKeys(liveTags, p.tagCounters) {
		if liveTags[t] != p.tagCounters[t] {
			p.drift(DriftTagCount, liveTags[t], p.tagCounters[t], tagPrefix+t+"/"+tagCountSK)
		}
	}
	for id, g := range p.groups {
		if members[id] != g.MemberCount {
			p.drift(DriftGroupMemberCount, members[id], g.MemberCount, groupPrefix+id+"/"+groupSK)
		}
	}
	for id, l := range p.locations {
		want := stocked[id]
		if id == inventory.DefaultLocation {
			want = 0 // not counted
		}
		if l.StockedLevels != want {
			p.drift(DriftLocationStocked, want, l.StockedLevels, locPrefix+id+"/"+locSK)
		}
	}
}

// checkMarkers checks the unique markers against their records, both
// ways: each marker names a live record with its value, and each live
// record's value has its marker (the items' SKU markers are checked with
// the items).
func (p *pass) checkMarkers() {
	for sku, id := range p.skuMarkers {
		var found string
		switch ia := p.items[id]; {
		case ia == nil || ia.item == nil:
			found = "no item " + id
		case ia.item.Deleted != nil:
			found = "item " + id + " is deleted"
		case ia.item.SKU != sku:
			found = "item " + id + " has sku " + ia.item.SKU
		default:
			continue
		}
		p.drift(DriftSKUMarkerDangling, "live item "+id+" with sku "+sku, found, skuPrefix+sku+"/"+skuSK)
	}
	for code, id := range p.codeMarkers {
		var found string
		switch l, ok := p.locations[id]; {
		case !ok:
			found = "no location " + id
		case l.Deleted != nil:
			found = "location " + id + " is deleted"
		case l.Code != code:
			found = "location " + id + " has code " + l.Code
		default:
			continue
		}
		p.drift(DriftCodeMarkerDangling, "live location "+id+" with code "+code, found, locCodePrefix+code+"/"+locCodeSK)
	}
	for key, id := range p.nameMarkers {
		var found string
		switch g, ok := p.groups[id]; {
		case !ok:
			found = "no group " + id
		case g.Deleted != nil:
			found = "group " + id + " is deleted"
		case inventory.NameKey(g.Name) != key:
			found = "group " + id + " is named " + g.Name
		default:
			continue
		}
		p.drift(DriftGroupMarkerDangling, "live group "+id+" with this name", found, groupNamePfx+key+"/"+groupNameSK)
	}
	for id, l := range p.locations {
		if l.Deleted == nil && p.codeMarkers[l.Code] != id {
			p.drift(DriftCodeMarkerMissing, id, nullIfEmpty(p.codeMarkers[l.Code]),
				locPrefix+id+"/"+locSK, locCodePrefix+l.Code+"/"+locCodeSK)
		}
	}
	for id, g := range p.groups {
		key := inventory.NameKey(g.Name)
		if g.Deleted == nil && p.nameMarkers[key] != id {
			p.drift(DriftGroupMarkerMissing, id, nullIfEmpty(p.nameMarkers[key]),
				groupPrefix+id+"/"+groupSK, groupNamePfx+key+"/"+groupNameSK)
		}
	}
}

// fillCounts completes the counts of records by kind: every kind, 0 if
// none, and the deleted items among the items.
func (p *pass) fillCounts() {
	for _, k := range []string{"item", "stock", "ledger", "activity", "facet", "sku", "tag", "tagCount",
		"location", "locationCode", "group", "groupName", "idempotency", "job", "shipment", "shipmentLines",
		"shipmentEvent", "shipmentTransition", "shipmentStep"} {
		p.records[k] += 0
	}
	var deleted int64
	for _, ia := range p.items {
		if ia.item != nil && ia.item.Deleted != nil {
			deleted++
		}
	}
	p.records["item.deleted"] = deleted
}

// checkObjects lists the image objects and checks each against its
// item's image (internal/usecase/images.go): under thumbnails/, the
// objects of the item's ready image, of the image a pending or failed one
// replaces (kept until a newer one is ready), and those processing of the
// pending upload has written so far; under uploads/, the item's pending
// upload, and uploads not yet processed (within the grace). Each ready
// image's objects must be there.
func (p *pass) checkObjects(ctx context.Context, objects ObjectLister, now time.Time, grace time.Duration) error {
	p.objects = map[string]int64{inventory.ThumbnailPrefix: 0, inventory.UploadPrefix: 0, "uploadsAwaitingProcessing": 0}
	owner := func(itemID string) *inventory.Image {
		if ia := p.items[itemID]; ia != nil && ia.item != nil {
			return ia.item.Image
		}
		return nil
	}
	err := objects.ListObjects(ctx, inventory.ThumbnailPrefix, func(key string, _ time.Time) error {
		p.objects[inventory.ThumbnailPrefix]++
		parts := strings.SplitN(strings.TrimPrefix(key, inventory.ThumbnailPrefix), "/", 3)
		if len(parts) != 3 {
			p.drift(DriftOrphanObject, nil, "not an image object's key", key)
			return nil
		}
		itemID, uploadID := parts[0], parts[1]
		im := owner(itemID)
		switch {
		case im == nil:
			p.drift(DriftOrphanObject, nil, "item "+itemID+" has no image", key)
		case slices.Contains(im.Keys(), key):
			ia := p.items[itemID]
			if ia.seen == nil {
				ia.seen = map[string]bool{}
			}
			ia.seen[key] = true
		case slices.Contains(im.Replaces, key):
		case im.Status == inventory.ImagePending && im.UploadID == uploadID:
		default:
			p.drift(DriftOrphanObject, nil, "not of item "+itemID+"'s image (upload "+im.UploadID+", "+im.Status+")", key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = objects.ListObjects(ctx, inventory.UploadPrefix, func(key string, modified time.Time) error {
		p.objects[inventory.UploadPrefix]++
		itemID, uploadID, ok := inventory.ParseUploadKey(key)
		if im := owner(itemID); ok && im != nil && im.Status == inventory.ImagePending && im.UploadID == uploadID {
			return nil
		}
		if grace >= 0 && now.Sub(modified) < grace {
			p.objects["uploadsAwaitingProcessing"]++
			return nil
		}
		p.drift(DriftOrphanObject, nil, "not an item's pending upload, and made "+modified.UTC().Format(time.RFC3339), key)
		return nil
	})
	if err != nil {
		return err
	}
	for id, ia := range p.items {
		if ia.item == nil {
			continue
		}
		for _, k := range ia.item.Image.Keys() {
			if !ia.seen[k] {
				p.drift(DriftImageObjectMissing, "object "+k, nil, itemPrefix+id+"/"+itemSK, k)
			}
		}
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// joinKeys is the union of two maps' keys.
func joinKeys[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
