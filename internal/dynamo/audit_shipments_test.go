package dynamo

import (
	"slices"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// TestAuditShipments: committed and incoming are checked against the
// shipments' records — a ready shipment's lines, a shipped one's
// remaining units at its warehouse destination, and the steps a
// transition in progress has applied and not undone.
func TestAuditShipments(t *testing.T) {
	records, objects, it := catalogue()
	at := auditNow.Add(-30 * time.Minute)
	level := func(loc string) int {
		return slices.IndexFunc(records, func(m attrMap) bool { return sOf(m, "PK") == itemPrefix+it.ID && sOf(m, "SK") == stockPrefix+loc })
	}
	def := level(inventory.DefaultLocation)
	lv, _ := decodeLevel(records[def])
	rtm := lv // the other level's location
	for _, m := range records {
		if sOf(m, "SK") == stockPrefix+sOf(m, "locationId") && sOf(m, "locationId") != inventory.DefaultLocation {
			rtm, _ = decodeLevel(m)
		}
	}
	// 2 committed at the default location, with its ledger line and the
	// item's total.
	line := inventory.LedgerEntry{ID: inventory.NewID(at), ItemID: it.ID, LocationID: inventory.DefaultLocation, OnHandAfter: 3,
		CommittedAfter: 2, Reason: inventory.ReasonShipmentCommitted, Reference: "S", Actor: "a", At: at}
	lv.Committed, lv.LastLedgerID, lv.UpdatedAt = 2, line.ID, at
	committed := it
	committed.Committed = 2
	item := slices.IndexFunc(records, func(m attrMap) bool { return sOf(m, "SK") == itemSK })
	records[def], records[item] = encodeLevel(lv), encodeItem(committed)
	records = append(records, encodeLedger(line))

	ship := inventory.Shipment{ID: inventory.NewID(at), Status: inventory.ShipmentReady, OriginLocationID: inventory.DefaultLocation,
		Destination: inventory.Destination{LocationID: rtm.LocationID}, LineCount: 1, TotalQuantity: 2, CreatedAt: at, UpdatedAt: at, Version: 2}
	lines := []inventory.ShipmentLine{{ItemID: it.ID, Quantity: 2}}
	with := func(h inventory.Shipment, extra ...attrMap) []attrMap {
		return append(append(slices.Clone(records), encodeShipment(h), encodeShipmentLines(h.ID, lines)), extra...)
	}
	check := func(name string, rs []attrMap, want ...string) {
		t.Helper()
		r := audit(t, &fakeScan{records: rs, honour: true}, objects, AuditOptions{SinglePass: true})
		if got := kinds(r); !slices.Equal(got, want) {
			t.Errorf("%s: drifts %v, want %v", name, got, want)
		}
	}
	levelName := itemPrefix + it.ID + "/" + stockPrefix + inventory.DefaultLocation
	check("a ready shipment holds what is committed", with(ship))
	draft := ship
	draft.Status, draft.Version = inventory.ShipmentDraft, 1
	check("a draft holds nothing", with(draft), DriftLevelShipments+" "+levelName)
	tr := inventory.Transition{ID: "T1", ShipmentID: ship.ID, Action: inventory.ActionReady, Actor: "a", StartedAt: at,
		FromVersion: 1, ChunkSize: 32}
	step := stepTxn("t", inventory.ShipmentStep{ShipmentID: ship.ID, TransitionID: tr.ID, Index: 0, Lines: 1, At: at}).items[0].Put.Item
	check("a draft whose ready applied its step", with(draft, encodeTransition(tr), step))
	check("a draft whose ready applied no step", with(draft, encodeTransition(tr)), DriftLevelShipments+" "+levelName)
	undo := stepTxn("t", inventory.ShipmentStep{ShipmentID: ship.ID, TransitionID: tr.ID, Index: 0, Undo: true, At: at}).items[0].Put.Item
	rb := tr
	rb.Rollback = true
	check("a ready whose step was undone", with(draft, encodeTransition(rb), step, undo), DriftLevelShipments+" "+levelName)
}
