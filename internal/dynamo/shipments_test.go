package dynamo

import (
	"reflect"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// TestShipmentRecordsRoundTrip: a shipment's records read back as they
// were written, assembled into the shipment, with the lines of a
// transition other than a receive taken from the shipment's.
func TestShipmentRecordsRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 6, 0, 0, 123_000_000, time.UTC)
	const id = "01JBZ4Q7Y3M7R2K5X9V8N6T4PA"
	h := inventory.Shipment{ID: id, Status: inventory.ShipmentShipped, OriginLocationID: "default",
		Destination: inventory.Destination{Name: "Ana", Address: "Main St 1"}, Reference: "PO-1", Carrier: "DHL",
		TrackingNumber: "T1", Note: "n", LineCount: 2, TotalQuantity: 5, ReceivedQuantity: 1,
		CreatedAt: now, CreatedBy: "a", UpdatedAt: now, UpdatedBy: "b", Version: 3}
	lines := []inventory.ShipmentLine{{ItemID: "I1", Quantity: 2, Received: 1}, {ItemID: "I2", Quantity: 3}}
	ev := inventory.ShipmentEvent{ID: "E1", Action: inventory.ActionShip, Status: inventory.ShipmentShipped, Actor: "b", At: now, Lines: 2, Quantity: 5}
	idem := &inventory.IdempotencyRecord{Scope: "s#k", Operation: "ShipShipment", RequestHash: "h", CreatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour).Truncate(time.Second)}
	for _, tr := range []inventory.Transition{
		{ID: "T1", ShipmentID: id, Action: inventory.ActionShip, Actor: "b", StartedAt: now, FromVersion: 2, ChunkSize: 19, Idempotency: idem},
		{ID: "T2", ShipmentID: id, Action: inventory.ActionReceive, Actor: "b", StartedAt: now, FromVersion: 3, ChunkSize: 32,
			Lines: []inventory.TransitionLine{{ItemID: "I2", Quantity: 3}}, Rollback: true},
	} {
		step := stepTxn("t", inventory.ShipmentStep{ShipmentID: id, TransitionID: tr.ID, Index: 0, Lines: 1, At: now})
		records := []attrMap{encodeShipment(h), encodeShipmentLines(id, lines), encodeShipmentEvent(id, ev), encodeTransition(tr),
			step.items[0].Put.Item}
		st, found, err := decodeShipmentRecords(records)
		if err != nil || !found {
			t.Fatalf("%s: %v, found %v", tr.ID, err, found)
		}
		want := tr
		if want.Action != inventory.ActionReceive {
			want.Lines = inventory.TransitionLines(lines)
		}
		if !reflect.DeepEqual(st.Shipment, h) || !reflect.DeepEqual(st.Lines, lines) || !reflect.DeepEqual(st.Timeline, []inventory.ShipmentEvent{ev}) ||
			!reflect.DeepEqual(*st.Transition, want) || !reflect.DeepEqual(st.Steps, []inventory.StepMark{{TransitionID: tr.ID}}) {
			t.Errorf("%s: decoded\n%+v\nwant %+v, %+v, %+v, %+v", tr.ID, st, h, lines, ev, want)
		}
	}
	warehouse := h
	warehouse.Destination, warehouse.Reference = inventory.Destination{LocationID: "01JBZ4Q7Y3M7R2K5X9V8N6T4PB"}, ""
	if got, err := decodeShipment(encodeShipment(warehouse)); err != nil || !reflect.DeepEqual(got, warehouse) {
		t.Errorf("a warehouse destination: %+v, %v", got, err)
	}
	if m, err := decodeStepMark("UNDO#T9#012"); err != nil || m != (inventory.StepMark{TransitionID: "T9", Index: 12, Undo: true}) {
		t.Errorf("undo mark: %+v, %v", m, err)
	}
}
