package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Shipments (docs/shipments.md, docs/data-model.md §2.8): one partition
// SHIP#<id> holds the header (SK=SHIP; listed by status in GSI1, by origin
// in GSI2, all of them in GSI4, newest first), the lines (LINES), the
// timeline (EVENT#<ulid>), the transition in progress (TRANSITION; listed
// in GSI1 SHIPTRANSITIONS, oldest first, for the resumer) and the markers
// of the steps transitions applied (STEP#<transition>#<k>, UNDO#…).
const (
	shipPrefix      = "SHIP#"
	shipSK          = "SHIP"
	shipLinesSK     = "LINES"
	shipEventPrefix = "EVENT#"
	shipTransSK     = "TRANSITION"
	shipStepPrefix  = "STEP#"
	shipUndoPrefix  = "UNDO#"
	shipStatusPfx   = "SHIPSTATUS#"
	allShipments    = "SHIPMENTS"
	shipTransitions = "SHIPTRANSITIONS"
)

var (
	allShipmentsList = indexList{gsi4, allShipments, shipPrefix, shipSK, "#", true}
	transitionsList  = indexList{gsi1, shipTransitions, shipPrefix, shipTransSK, "#", false}
)

func shipKey(id string) key      { return tableKey(shipPrefix+id, shipSK) }
func shipLinesKey(id string) key { return tableKey(shipPrefix+id, shipLinesSK) }
func shipTransKey(id string) key { return tableKey(shipPrefix+id, shipTransSK) }
func shipStepKey(id string, m inventory.StepMark) key {
	p := shipStepPrefix
	if m.Undo {
		p = shipUndoPrefix
	}
	return tableKey(shipPrefix+id, fmt.Sprintf("%s%s#%03d", p, m.TransitionID, m.Index))
}

// GetShipment reads the shipment's partition with a strongly consistent
// Query.
func (s *Store) GetShipment(ctx context.Context, id string) (inventory.ShipmentState, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :p"),
		ExpressionAttributeValues: attrMap{":p": str(shipPrefix + id)},
		ConsistentRead:            aws.Bool(true),
	}
	var records []attrMap
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return inventory.ShipmentState{}, classify(fmt.Errorf("query shipment %s: %w", id, err))
		}
		records = append(records, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	st, found, err := decodeShipmentRecords(records)
	if err != nil {
		return st, err
	}
	if !found {
		return st, inventory.Errorf(inventory.KindNotFound, inventory.CodeShipmentNotFound, "no shipment with id %s", id)
	}
	return st, nil
}

// ReadShipment reads the header, the lines and the transition in
// progress with one strongly consistent BatchGetItem, and the transition's
// step markers (their keys follow from it) with another.
func (s *Store) ReadShipment(ctx context.Context, id string) (inventory.ShipmentState, error) {
	records, err := s.batchGet(ctx, []key{shipKey(id), shipLinesKey(id), shipTransKey(id)}, true)
	if err != nil {
		return inventory.ShipmentState{}, err
	}
	st, found, err := decodeShipmentRecords(records)
	if err != nil {
		return st, err
	}
	if !found {
		return st, inventory.Errorf(inventory.KindNotFound, inventory.CodeShipmentNotFound, "no shipment with id %s", id)
	}
	if tr := st.Transition; tr != nil {
		var keys []key
		for k := range tr.Steps() {
			keys = append(keys, shipStepKey(id, inventory.StepMark{TransitionID: tr.ID, Index: k}))
			if tr.Rollback {
				keys = append(keys, shipStepKey(id, inventory.StepMark{TransitionID: tr.ID, Index: k, Undo: true}))
			}
		}
		marks, err := s.batchGet(ctx, keys, true)
		if err != nil {
			return st, err
		}
		for _, m := range marks {
			mark, err := decodeStepMark(sOf(m, "SK"))
			if err != nil {
				return st, err
			}
			st.Steps = append(st.Steps, mark)
		}
	}
	return st, nil
}

// decodeShipmentRecords assembles a shipment from its partition's records.
func decodeShipmentRecords(records []attrMap) (inventory.ShipmentState, bool, error) {
	var st inventory.ShipmentState
	found := false
	for _, m := range records {
		sk := sOf(m, "SK")
		switch {
		case sk == shipSK:
			h, err := decodeShipment(m)
			if err != nil {
				return st, false, err
			}
			st.Shipment, found = h, true
		case sk == shipLinesSK:
			lines, err := decodeShipmentLines(m)
			if err != nil {
				return st, false, err
			}
			st.Lines = lines
		case strings.HasPrefix(sk, shipEventPrefix):
			ev, err := decodeShipmentEvent(m)
			if err != nil {
				return st, false, err
			}
			st.Timeline = append(st.Timeline, ev)
		case sk == shipTransSK:
			tr, err := decodeTransition(m)
			if err != nil {
				return st, false, err
			}
			st.Transition = &tr
		case strings.HasPrefix(sk, shipStepPrefix), strings.HasPrefix(sk, shipUndoPrefix):
			mark, err := decodeStepMark(sk)
			if err != nil {
				return st, false, err
			}
			st.Steps = append(st.Steps, mark)
		}
	}
	if tr := st.Transition; tr != nil {
		if tr.Action != inventory.ActionReceive {
			tr.Lines = inventory.TransitionLines(st.Lines)
		}
		var steps []inventory.StepMark
		for _, m := range st.Steps {
			if m.TransitionID == tr.ID {
				steps = append(steps, m)
			}
		}
		st.Steps = steps
	} else {
		st.Steps = nil
	}
	return st, found, nil
}

// SaveShipment writes a change of a shipment's records in one transaction.
func (s *Store) SaveShipment(ctx context.Context, c inventory.ShipmentChange) error {
	return s.commit(ctx, shipmentTxn(s.table, c), "save shipment "+c.Next.ID, nil)
}

func shipmentTxn(table string, c inventory.ShipmentChange) *txn {
	tx := &txn{table: table}
	putIdempotency(tx, c.Idempotency)
	id := c.Next.ID
	switch {
	case c.Old == nil:
		tx.put("shipment", encodeShipment(c.Next), "attribute_not_exists(PK)", nil)
	case c.Next.Version != c.Old.Version:
		tx.put("shipment", encodeShipment(c.Next), "version = :v", attrMap{":v": num(c.Old.Version)})
	default:
		tx.check("shipment", shipKey(id), "version = :v", attrMap{":v": num(c.Old.Version)})
	}
	if c.Lines != nil {
		tx.put("lines", encodeShipmentLines(id, c.Lines), "", nil)
	}
	if c.Event != nil {
		tx.put("event", encodeShipmentEvent(id, *c.Event), "attribute_not_exists(PK)", nil)
	}
	switch {
	case c.Start != nil:
		tx.put("transition", encodeTransition(*c.Start), "attribute_not_exists(PK)", nil)
	case c.Rollback != nil:
		tx.put("transition", encodeTransition(*c.Rollback), "transitionId = :t AND rollingBack = :f",
			attrMap{":t": str(c.Rollback.ID), ":f": &types.AttributeValueMemberBOOL{Value: false}})
	case c.End != nil:
		tx.delete("transition", shipTransKey(id), "transitionId = :t", attrMap{":t": str(c.End.ID)})
	case c.Old != nil:
		tx.check("transition", shipTransKey(id), "attribute_not_exists(PK)", nil)
	}
	return tx
}

// SaveShipmentStep writes a step of a transition: its marker (once), the
// check that its transition is in progress in its direction, and its
// change of stock, in one transaction. The marker comes first and the
// check second, so that an engine that reports only the first failed
// condition still says why.
func (s *Store) SaveShipmentStep(ctx context.Context, step inventory.ShipmentStep) error {
	return s.commit(ctx, stepTxn(s.table, step), fmt.Sprintf("shipment %s step %d", step.ShipmentID, step.Index), nil)
}

func stepTxn(table string, step inventory.ShipmentStep) *txn {
	tx := &txn{table: table}
	mark := inventory.StepMark{TransitionID: step.TransitionID, Index: step.Index, Undo: step.Undo}
	m := shipStepKey(step.ShipmentID, mark)
	m["type"], m["lines"], m["at"] = str("shipmentStep"), num(int64(step.Lines)), str(formatTime(step.At))
	tx.put("step", m, "attribute_not_exists(PK)", nil)
	tx.check("stepTransition", shipTransKey(step.ShipmentID), "transitionId = :t AND rollingBack = :r",
		attrMap{":t": str(step.TransitionID), ":r": &types.AttributeValueMemberBOOL{Value: step.Undo}})
	stock := stockTxn(table, step.Stock)
	tx.items = append(tx.items, stock.items...)
	tx.roles = append(tx.roles, stock.roles...)
	return tx
}

// ListShipments lists shipments newest first: all of them (GSI4), by
// status (GSI1), by origin (GSI2), or by status filtered by origin (a
// page may then hold fewer than it could, even none, before its end).
func (s *Store) ListShipments(ctx context.Context, f inventory.ShipmentFilter, r inventory.Range) ([]inventory.Shipment, inventory.Position, error) {
	if f.Status != "" {
		l := indexList{gsi1, shipStatusPfx + f.Status, shipPrefix, shipSK, "#", true}
		page, next, err := queryList(ctx, s, l, r, decodeShipment)
		if err != nil || f.OriginLocationID == "" {
			return page, next, err
		}
		// Both: the status's list, filtered here (the page's position is
		// that of the last shipment read, kept or not).
		var last inventory.Position
		if len(page) > 0 {
			h := page[len(page)-1]
			last = inventory.Position{formatTime(h.CreatedAt), h.ID}
		}
		kept := page[:0]
		for _, h := range page {
			if h.OriginLocationID == f.OriginLocationID {
				kept = append(kept, h)
			}
		}
		if next != nil {
			next = last
		}
		return kept, next, nil
	}
	if f.OriginLocationID != "" {
		var start key
		if r.After != nil {
			start = shipKey(r.After[1])
			start["GSI2PK"], start["GSI2SK"] = str(locPrefix+f.OriginLocationID), str(shipPrefix+r.After[0]+"#"+r.After[1])
		}
		return query(ctx, s, &dynamodb.QueryInput{
			IndexName:                 aws.String(gsi2),
			KeyConditionExpression:    aws.String("GSI2PK = :p AND begins_with(GSI2SK, :s)"),
			ExpressionAttributeValues: attrMap{":p": str(locPrefix + f.OriginLocationID), ":s": str(shipPrefix)},
			ScanIndexForward:          aws.Bool(false),
			ExclusiveStartKey:         start,
		}, r.Limit, decodeShipment, func(k key) inventory.Position {
			sort := strings.TrimPrefix(sOf(k, "GSI2SK"), shipPrefix)
			i := strings.LastIndex(sort, "#")
			return inventory.Position{sort[:i], sort[i+1:]}
		})
	}
	return queryList(ctx, s, allShipmentsList, r, decodeShipment)
}

// ListTransitions lists the transitions in progress, oldest first.
func (s *Store) ListTransitions(ctx context.Context, r inventory.Range) ([]inventory.Transition, inventory.Position, error) {
	return queryList(ctx, s, transitionsList, r, decodeTransition)
}

func encodeShipment(h inventory.Shipment) attrMap {
	m := shipKey(h.ID)
	created := formatTime(h.CreatedAt) + "#" + h.ID
	m["GSI1PK"], m["GSI1SK"] = str(shipStatusPfx+h.Status), str(created)
	m["GSI2PK"], m["GSI2SK"] = str(locPrefix+h.OriginLocationID), str(shipPrefix+created)
	m["GSI4PK"], m["GSI4SK"] = str(allShipments), str(created)
	m["type"] = str("shipment")
	m["id"], m["status"], m["originLocationId"] = str(h.ID), str(h.Status), str(h.OriginLocationID)
	d := attrMap{}
	putStr(d, "locationId", h.Destination.LocationID)
	putStr(d, "name", h.Destination.Name)
	putStr(d, "address", h.Destination.Address)
	m["destination"] = &types.AttributeValueMemberM{Value: d}
	putStr(m, "reference", h.Reference)
	putStr(m, "carrier", h.Carrier)
	putStr(m, "trackingNumber", h.TrackingNumber)
	putStr(m, "note", h.Note)
	m["lineCount"] = num(int64(h.LineCount))
	m["totalQuantity"] = num(h.TotalQuantity)
	m["receivedQuantity"] = num(h.ReceivedQuantity)
	m["createdAt"], m["createdBy"] = str(formatTime(h.CreatedAt)), str(h.CreatedBy)
	m["updatedAt"], m["updatedBy"] = str(formatTime(h.UpdatedAt)), str(h.UpdatedBy)
	m["version"] = num(h.Version)
	return m
}

func decodeShipment(m attrMap) (inventory.Shipment, error) {
	a := &attrs{m: m}
	h := inventory.Shipment{ID: a.str("id"), Status: a.str("status"), OriginLocationID: a.str("originLocationId"),
		Reference: a.str("reference"), Carrier: a.str("carrier"), TrackingNumber: a.str("trackingNumber"), Note: a.str("note"),
		LineCount: int(a.int("lineCount")), TotalQuantity: a.int("totalQuantity"), ReceivedQuantity: a.int("receivedQuantity"),
		CreatedAt: a.time("createdAt"), CreatedBy: a.str("createdBy"), UpdatedAt: a.time("updatedAt"), UpdatedBy: a.str("updatedBy"),
		Version: a.int("version")}
	if d := a.sub("destination"); d != nil {
		h.Destination = inventory.Destination{LocationID: d.str("locationId"), Name: d.str("name"), Address: d.str("address")}
		a.keep(d)
	}
	if a.err == nil && (h.ID == "" || !slices.Contains(inventory.ShipmentStatuses, h.Status) || h.Version < 1) {
		a.err = fmt.Errorf("id %q, status %q, version %d", h.ID, h.Status, h.Version)
	}
	if a.err != nil {
		return h, fmt.Errorf("decode shipment %s: %w", h.ID, a.err)
	}
	return h, nil
}

func encodeShipmentLines(id string, lines []inventory.ShipmentLine) attrMap {
	m := shipLinesKey(id)
	m["type"] = str("shipmentLines")
	l := make([]types.AttributeValue, len(lines))
	for i, ln := range lines {
		e := attrMap{"itemId": str(ln.ItemID), "quantity": num(ln.Quantity)}
		putNum(e, "received", ln.Received)
		l[i] = &types.AttributeValueMemberM{Value: e}
	}
	if len(l) > 0 {
		m["lines"] = &types.AttributeValueMemberL{Value: l}
	}
	return m
}

func decodeShipmentLines(m attrMap) ([]inventory.ShipmentLine, error) {
	a := &attrs{m: m}
	var out []inventory.ShipmentLine
	for _, e := range a.maps("lines") {
		out = append(out, inventory.ShipmentLine{ItemID: e.str("itemId"), Quantity: e.int("quantity"), Received: e.int("received")})
		a.keep(e)
	}
	if a.err != nil {
		return nil, fmt.Errorf("decode shipment lines %s: %w", sOf(m, "PK"), a.err)
	}
	return out, nil
}

func encodeShipmentEvent(id string, ev inventory.ShipmentEvent) attrMap {
	m := tableKey(shipPrefix+id, shipEventPrefix+ev.ID)
	m["type"] = str("shipmentEvent")
	m["id"], m["action"], m["status"], m["actor"], m["at"] = str(ev.ID), str(ev.Action), str(ev.Status), str(ev.Actor), str(formatTime(ev.At))
	m["lines"], m["quantity"] = num(int64(ev.Lines)), num(ev.Quantity)
	return m
}

func decodeShipmentEvent(m attrMap) (inventory.ShipmentEvent, error) {
	a := &attrs{m: m}
	ev := inventory.ShipmentEvent{ID: a.str("id"), Action: a.str("action"), Status: a.str("status"), Actor: a.str("actor"),
		At: a.time("at"), Lines: int(a.int("lines")), Quantity: a.int("quantity")}
	if a.err != nil {
		return ev, fmt.Errorf("decode shipment event %s: %w", ev.ID, a.err)
	}
	return ev, nil
}

// encodeTransition writes a transition; the lines of any but a receive
// are the shipment's, which cannot change while it is in progress, so
// only a receipt's are stored.
func encodeTransition(t inventory.Transition) attrMap {
	m := shipTransKey(t.ShipmentID)
	m["GSI1PK"], m["GSI1SK"] = str(shipTransitions), str(formatTime(t.StartedAt)+"#"+t.ShipmentID)
	m["type"] = str("shipmentTransition")
	m["transitionId"], m["shipmentId"], m["action"], m["actor"] = str(t.ID), str(t.ShipmentID), str(t.Action), str(t.Actor)
	m["startedAt"] = str(formatTime(t.StartedAt))
	m["fromVersion"], m["chunkSize"] = num(t.FromVersion), num(int64(t.ChunkSize))
	m["rollingBack"] = &types.AttributeValueMemberBOOL{Value: t.Rollback}
	if t.Action == inventory.ActionReceive && len(t.Lines) > 0 {
		l := make([]types.AttributeValue, len(t.Lines))
		for i, ln := range t.Lines {
			l[i] = &types.AttributeValueMemberM{Value: attrMap{"itemId": str(ln.ItemID), "quantity": num(ln.Quantity)}}
		}
		m["lines"] = &types.AttributeValueMemberL{Value: l}
	}
	if r := t.Idempotency; r != nil {
		m["idempotency"] = &types.AttributeValueMemberM{Value: attrMap{"scope": str(r.Scope), "operation": str(r.Operation),
			"requestHash": str(r.RequestHash), "createdAt": str(formatTime(r.CreatedAt)), "expiresAtEpoch": num(r.ExpiresAt.Unix())}}
	}
	return m
}

func decodeTransition(m attrMap) (inventory.Transition, error) {
	a := &attrs{m: m}
	t := inventory.Transition{ID: a.str("transitionId"), ShipmentID: a.str("shipmentId"), Action: a.str("action"), Actor: a.str("actor"),
		StartedAt: a.time("startedAt"), FromVersion: a.int("fromVersion"), ChunkSize: int(a.int("chunkSize")), Rollback: a.bool("rollingBack")}
	for _, e := range a.maps("lines") {
		t.Lines = append(t.Lines, inventory.TransitionLine{ItemID: e.str("itemId"), Quantity: e.int("quantity")})
		a.keep(e)
	}
	if r := a.sub("idempotency"); r != nil {
		t.Idempotency = &inventory.IdempotencyRecord{Scope: r.str("scope"), Operation: r.str("operation"), RequestHash: r.str("requestHash"),
			CreatedAt: r.time("createdAt"), ExpiresAt: time.Unix(r.int("expiresAtEpoch"), 0).UTC()}
		a.keep(r)
	}
	if t.ChunkSize <= 0 && a.err == nil {
		a.err = fmt.Errorf("chunkSize %d", t.ChunkSize)
	}
	if a.err != nil {
		return t, fmt.Errorf("decode shipment transition %s: %w", t.ShipmentID, a.err)
	}
	return t, nil
}

// decodeStepMark reads a step marker's sort key.
func decodeStepMark(sk string) (inventory.StepMark, error) {
	undo := strings.HasPrefix(sk, shipUndoPrefix)
	rest := strings.TrimPrefix(strings.TrimPrefix(sk, shipStepPrefix), shipUndoPrefix)
	tid, k, ok := strings.Cut(rest, "#")
	n, err := strconv.Atoi(k)
	if !ok || err != nil {
		return inventory.StepMark{}, fmt.Errorf("decode shipment step %q", sk)
	}
	return inventory.StepMark{TransitionID: tid, Index: n, Undo: undo}, nil
}
