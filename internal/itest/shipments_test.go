package itest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/resumefn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// The shipments of issue 13 (docs/shipments.md) on the engines: paths,
// the race for the last units, and kills after every step of ready, ship
// and receive of a 500-line shipment.

// shipmentLines is how many lines the crash-point test's shipment has:
// DEPOT_SHIPMENT_LINES, else 500 on the embedded engines and 40 on an
// external engine (moto is several times slower; 40 lines keep the steps'
// structure: ready and receive have 2, ship 3).
func shipmentLines() int {
	if n, err := strconv.Atoi(os.Getenv("DEPOT_SHIPMENT_LINES")); err == nil && n > 0 {
		return min(n, inventory.MaxShipmentLines)
	}
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return 40
	}
	return inventory.MaxShipmentLines
}

// service is a use-case service on the env's stack, as a function's
// process has it, with extra DynamoDB client options.
func (e *env) service(opts ...func(*dynamodb.Options)) *usecase.Service {
	e.t.Helper()
	settings := e.stack.Settings
	settings.DynamoDBOptions = append(append([]func(*dynamodb.Options){}, settings.DynamoDBOptions...), opts...)
	svc, err := lambdafn.NewService(context.Background(), settings)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// resumer is the env's ResumeShipments as Lambda runs it, with a clock
// (now: later than the transitions it should take over) and extra client
// options.
func (e *env) resumer(now func() time.Time, opts ...func(*dynamodb.Options)) *resumefn.Resumer {
	e.t.Helper()
	settings := e.stack.Settings
	settings.DynamoDBOptions = append(append([]func(*dynamodb.Options){}, settings.DynamoDBOptions...), opts...)
	settings.Now = now
	r, err := resumefn.New(context.Background(), settings)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// seedItems creates n items with stock each at the default location,
// through the use cases (4 at a time), and returns their ids in order.
func (e *env) seedItems(prefix string, n int, stock int64) []string {
	e.t.Helper()
	svc := e.service()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				d, _, err := svc.CreateItem(context.Background(), usecase.Request{Actor: editorEmail},
					inventory.CreateInput{SKU: fmt.Sprintf("%s%03d", prefix, i), Name: "S", Quantity: stock})
				if err != nil {
					errs <- err
					continue
				}
				ids[i] = d.ID
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatal(err)
	}
	return ids
}

func jsonLines(ids []string, q int64) []string {
	lines := make([]string, len(ids))
	for i, id := range ids {
		lines[i] = fmt.Sprintf(`{"itemId":%q,"quantity":%d}`, id, q)
	}
	return lines
}

func linesBody(ids []string, q int64) string {
	return `{"lines":[` + strings.Join(jsonLines(ids, q), ",") + `]}`
}

func shipmentBody(origin, destination string, ids []string, q int64) string {
	lines := jsonLines(ids, q)
	dest := `{"name":"Ana Customer","address":"Main St 1, Springfield"}`
	if destination != "" {
		dest = fmt.Sprintf(`{"locationId":%q}`, destination)
	}
	return fmt.Sprintf(`{"originLocationId":%q,"destination":%s,"lines":[%s],"reference":"PO-1"}`, origin, dest, strings.Join(lines, ","))
}

// act posts a transition; header adds to the editor's.
func (e *env) act(want int, id, action, body string, header map[string]string) result {
	e.t.Helper()
	return e.must(want, req{Method: "POST", Path: "/shipments/" + id + "/" + action, Body: body, Header: header})
}

// auditClean runs the audit (one pass: nothing else writes) and fails on
// any drift.
func (e *env) auditClean(what string) {
	e.t.Helper()
	a := e.auditor()
	r, err := dynamo.Audit(context.Background(), a.DB, a.Table, nil, dynamo.AuditOptions{SinglePass: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if r.Drift > 0 {
		e.t.Fatalf("%s: the audit found %d drifts: %+v", what, r.Drift, r.Drifts)
	}
}

// TestShipmentPaths: create, lines, list, every transition and its
// idempotent replay, the partial-receive path, every illegal transition
// with the current status, and a ready refused whole with every short line.
func TestShipmentPaths(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := newEnv(t)
	wh := e.createLocation("SHIP-WH")
	ids := e.seedItems("PATH", 3, 10)

	// Create: 201, ETag, Location; a replay; bad input.
	res := e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", wh, ids, 4),
		Header: map[string]string{"Idempotency-Key": "create-1"}})
	sh := res.json(t)
	id := sh["id"].(string)
	if res.Header.Get("ETag") != `"1"` || res.Header.Get("Location") != "/shipments/"+id || sh["status"] != "draft" {
		t.Fatalf("create: %v %v", res.Header, sh)
	}
	again := e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", wh, ids, 4),
		Header: map[string]string{"Idempotency-Key": "create-1"}})
	if again.Header.Get("Idempotent-Replayed") != "true" || again.json(t)["id"] != id {
		t.Errorf("create replay: %v", again.Header)
	}
	bad := e.must(http.StatusBadRequest, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", "default", append(ids, ids[0]), 0)})
	if bad.code(t) != "validation_failed" {
		t.Errorf("bad create: %s", bad.Body)
	}
	e.must(http.StatusNotFound, req{Method: "GET", Path: "/shipments/01JR3A1B2C3D4E5F6G7H8J9K0M"})

	// Lines: If-Match, then the draft's new lines.
	e.must(http.StatusPreconditionFailed, req{Method: "PUT", Path: "/shipments/" + id + "/lines",
		Body: `{"lines":[{"itemId":"` + ids[0] + `","quantity":1}]}`, Header: map[string]string{"If-Match": `"7"`}})
	res = e.must(http.StatusOK, req{Method: "PUT", Path: "/shipments/" + id + "/lines",
		Body: linesBody(ids, 6), Header: map[string]string{"If-Match": `"1"`}})
	if res.Header.Get("ETag") != `"2"` || res.json(t)["totalQuantity"] != 18.0 {
		t.Fatalf("lines: %v %s", res.Header, res.Body)
	}

	// Illegal transitions of a draft.
	invalid := func(id, action, status string) {
		t.Helper()
		res := e.act(http.StatusConflict, id, action, "", nil)
		if res.code(t) != "invalid_transition" || res.json(t)["currentStatus"] != status {
			t.Errorf("%s of a %s shipment: %s", action, status, res.Body)
		}
	}
	invalid(id, "ship", "draft")
	invalid(id, "receive", "draft")

	// Ready refused whole: two lines short, each listed; nothing committed.
	e.adjust("damaged", line{ids[0], "default", -5}, line{ids[2], "default", -8})
	res = e.act(http.StatusConflict, id, "ready", "", nil)
	if res.code(t) != "insufficient_stock" || len(res.json(t)["errors"].([]any)) != 2 {
		t.Errorf("a short ready: %s", res.Body)
	}
	if levels, _ := e.levels(ids[1]); levels["default"]["committed"] != 0.0 {
		t.Errorf("a refused ready committed %v", levels["default"])
	}
	e.adjust("received", line{ids[0], "default", 5}, line{ids[2], "default", 8})

	// Every transition, each replayed with its key.
	step := func(action, body, status string, version int) map[string]any {
		t.Helper()
		h := map[string]string{"Idempotency-Key": fmt.Sprintf("%s-%s-%d", action, id, version), "If-Match": fmt.Sprintf(`"%d"`, version-1)}
		res := e.act(http.StatusOK, id, action, body, h)
		got := res.json(t)
		if got["status"] != status || res.Header.Get("ETag") != fmt.Sprintf(`"%d"`, version) {
			t.Fatalf("%s: %v %s", action, res.Header, res.Body)
		}
		again := e.act(http.StatusOK, id, action, body, h)
		if again.Header.Get("Idempotent-Replayed") != "true" || again.json(t)["version"] != got["version"] {
			t.Errorf("%s replayed: %v %s", action, again.Header, again.Body)
		}
		return got
	}
	step("ready", "", "ready", 3)
	if levels, _ := e.levels(ids[1]); levels["default"]["committed"] != 6.0 || levels["default"]["available"] != 4.0 {
		t.Errorf("after ready: %v", levels["default"])
	}
	invalid(id, "ready", "ready")
	invalid(id, "receive", "ready")
	e.must(http.StatusConflict, req{Method: "PUT", Path: "/shipments/" + id + "/lines", Body: `{"lines":[{"itemId":"` + ids[0] + `","quantity":1}]}`})
	step("ship", "", "shipped", 4)
	if levels, _ := e.levels(ids[1]); levels["default"]["onHand"] != 4.0 || levels[wh]["incoming"] != 6.0 {
		t.Errorf("after ship: %v", levels)
	}
	invalid(id, "cancel", "shipped")
	invalid(id, "ship", "shipped")
	part := step("receive", `{"lines":[{"itemId":"`+ids[1]+`","quantity":2}]}`, "partially_received", 5)
	if part["receivedQuantity"] != 2.0 {
		t.Errorf("partial receipt: %v", part)
	}
	res = e.act(http.StatusConflict, id, "receive", `{"lines":[{"itemId":"`+ids[1]+`","quantity":5}]}`, nil)
	if res.code(t) != "over_receipt" {
		t.Errorf("over receipt: %s", res.Body)
	}
	done := step("receive", "", "received", 6)
	if levels, _ := e.levels(ids[1]); levels[wh]["onHand"] != 6.0 || levels[wh]["incoming"] != 0.0 {
		t.Errorf("after receive: %v", levels)
	}
	if done["receivedQuantity"] != 18.0 {
		t.Errorf("received: %v", done)
	}
	got := e.must(http.StatusOK, req{Method: "GET", Path: "/shipments/" + id}).json(t)
	if tl, _ := got["timeline"].([]any); len(tl) != 6 || len(got["lines"].([]any)) != 3 {
		t.Errorf("timeline %v", got)
	}
	for _, a := range []string{"ready", "ship", "receive", "cancel"} {
		invalid(id, a, "received")
	}
	// A ledger line per line and transition, referencing the shipment.
	var reasons []string
	for _, l := range e.history(ids[1], "") {
		if l["reference"] == id {
			reasons = append(reasons, l["reason"].(string))
		}
	}
	if got := strings.Join(reasons, " "); got != "shipment_received shipment_received shipment_incoming shipment_shipped shipment_committed" {
		t.Errorf("ledger of a line: %s", got)
	}

	// A customer shipment: shipped is its end; cancels of a draft and of a ready.
	cust := e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", "", ids[:1], 1)}).json(t)["id"].(string)
	e.act(http.StatusOK, cust, "ready", "", nil)
	e.act(http.StatusOK, cust, "ship", "", nil)
	invalid(cust, "receive", "shipped")
	drafted := e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", wh, ids[:1], 1)}).json(t)["id"].(string)
	h := map[string]string{"Idempotency-Key": "cancel-draft"}
	e.act(http.StatusOK, drafted, "cancel", "", h)
	if e.act(http.StatusOK, drafted, "cancel", "", h).Header.Get("Idempotent-Replayed") != "true" {
		t.Error("cancel of a draft not replayed")
	}
	readied := e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", wh, ids[1:], 2)}).json(t)["id"].(string)
	e.act(http.StatusOK, readied, "ready", "", nil)
	h = map[string]string{"Idempotency-Key": "cancel-ready"}
	e.act(http.StatusOK, readied, "cancel", "", h)
	if e.act(http.StatusOK, readied, "cancel", "", h).Header.Get("Idempotent-Replayed") != "true" {
		t.Error("cancel of a ready not replayed")
	}
	for _, a := range []string{"ready", "ship", "receive", "cancel"} {
		invalid(readied, a, "cancelled")
	}
	if levels, _ := e.levels(ids[2]); levels["default"]["committed"] != 0.0 {
		t.Errorf("after cancel: %v", levels["default"])
	}

	// Lists: all, by status, by origin, both; newest first, paged.
	for q, want := range map[string]int{"": 4, "?status=cancelled": 2, "?originLocationId=default": 4,
		"?status=shipped&originLocationId=default": 1, "?originLocationId=" + wh: 0} {
		page := e.must(http.StatusOK, req{Method: "GET", Path: "/shipments" + q}).json(t)
		if n := len(page["shipments"].([]any)); n != want {
			t.Errorf("GET /shipments%s: %d shipments, want %d", q, n, want)
		}
	}
	first := e.must(http.StatusOK, req{Method: "GET", Path: "/shipments?limit=1"}).json(t)
	if first["shipments"].([]any)[0].(map[string]any)["id"] != readied || first["nextCursor"] == nil {
		t.Errorf("newest first: %v", first)
	}
	e.must(http.StatusBadRequest, req{Method: "GET", Path: "/shipments?status=lost"})
	e.auditClean("after the paths")
	t.Logf("shipment paths: %v", time.Since(start).Round(time.Millisecond))
}

// TestShipmentLastUnits: 20 shipments race to be made ready for the last
// 10 units of an item (each also needs a unit of an item of its own):
// exactly one becomes ready, the others are refused whole, and nothing is
// committed but the winner's.
func TestShipmentLastUnits(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := newEnv(t)
	ids := e.seedItems("LAST", 21, 10)
	var ships []string
	for i := range 20 {
		ships = append(ships, e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments",
			Body: shipmentBody("default", "", []string{ids[i+1], ids[0]}, 10)}).json(t)["id"].(string))
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(ships))
	codes := make([]string, len(ships))
	for i, id := range ships {
		wg.Go(func() {
			status, body := e.send(t, "POST", "/shipments/"+id+"/ready", "", map[string]string{"Idempotency-Key": "race-" + id})
			statuses[i] = status
			codes[i], _ = body["code"].(string)
		})
	}
	wg.Wait()
	won := 0
	for i, s := range statuses {
		switch {
		case s == http.StatusOK:
			won++
		case s == http.StatusConflict && (codes[i] == "insufficient_stock" || codes[i] == "version_conflict"):
		default:
			t.Errorf("shipment %d: %d %s", i, s, codes[i])
		}
	}
	if won != 1 {
		t.Errorf("%d shipments became ready for the last units: %v %v", won, statuses, codes)
	}
	if levels, _ := e.levels(ids[0]); levels["default"]["committed"] != 10.0 {
		t.Errorf("the contended level: %v", levels["default"])
	}
	e.auditClean("after the race")
	t.Logf("the last units: %v", time.Since(start).Round(time.Millisecond))
}

// stepKiller kills its process at its first TransactWriteItems (after
// skip of them) — before
// the engine gets it, or after (its answer lost) — and fails every call
// after that, as a process that died does not make them.
type stepKiller struct {
	mu        sync.Mutex
	skip      int // writes let through first
	afterSend bool
	dead      bool
}

var errKilled = errors.New("itest: the process was killed here")

func (k *stepKiller) install(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("StepKiller", k.handle), middleware.After)
	})
}

func (k *stepKiller) handle(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	k.mu.Lock()
	dead := k.dead
	write := awsmiddleware.GetOperationName(ctx) == "TransactWriteItems"
	if write && !dead && k.skip > 0 {
		k.skip--
		write = false
	}
	if write && !dead {
		k.dead = true
	}
	k.mu.Unlock()
	switch {
	case dead:
		return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithy.CanceledError{Err: errKilled}
	case !write:
		return next.HandleDeserialize(ctx, in)
	case k.afterSend:
		out, md, err := next.HandleDeserialize(ctx, in)
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && err == nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return middleware.DeserializeOutput{}, md, &smithy.CanceledError{Err: errKilled}
	default:
		return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithy.CanceledError{Err: errKilled}
	}
}

// TestShipmentCrashPoints (issue 13): ready, ship and receive of a
// shipment of shipmentLines() lines, each interrupted at every one of its
// writes — its start, each step, its end: a process killed just after the
// write committed (its answer lost), and for every 4th write first one
// killed just before it reaches the engine. Each next process is the request's retry
// with its Idempotency-Key, or the resumer (the scheduled function), in
// turn. After every kill each line's levels and item hold exactly what
// the shipment's steps applied so far have moved (checkCrashLevels: no
// line moved twice or half); after each transition the audit finds every
// level's ledger summing to its on hand and committed and incoming equal
// to what the shipments hold; at the end each line has one ledger line of
// each reason, and the request's retry replays the result.
func TestShipmentCrashPoints(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := newEnv(t)
	n := shipmentLines()
	wh := e.createLocation("CRASH-WH")
	ids := e.seedItems("CRASH", n, 5)
	seeded := time.Since(start)
	id := e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", wh, ids, 2)}).json(t)["id"].(string)
	ctx := context.Background()
	later := func() time.Time { return time.Now().Add(usecase.ResumeAfter + time.Minute) }
	kills := map[string]int{}
	var audits time.Duration
	for _, tc := range []struct {
		action, status string
		receipt        []inventory.TransitionLine
	}{
		{inventory.ActionReady, inventory.ShipmentReady, nil},
		{inventory.ActionShip, inventory.ShipmentShipped, nil},
		{inventory.ActionReceive, inventory.ShipmentPartiallyReceived, []inventory.TransitionLine{}},
	} {
		if tc.receipt != nil { // every line but the last, in part
			for _, item := range ids[:n-1] {
				tc.receipt = append(tc.receipt, inventory.TransitionLine{ItemID: item, Quantity: 1})
			}
		}
		request := usecase.Request{Actor: editorEmail, IdempotencyKey: "crash-" + tc.action}
		// Write w is killed after it reached the engine; every 4th is
		// first killed before (nothing changes: the next process does it).
		w, triedBefore := 0, false
		for p := 0; ; p++ {
			k := &stepKiller{afterSend: w%4 != 0 || triedBefore}
			svc := e.service(k.install)
			cur, err := svc.Shipments.ReadShipment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case cur.Transition != nil && p%3 == 2:
				_, err = e.resumer(later, k.install).Handle(ctx, events.EventBridgeEvent{ID: "itest"})
			default:
				_, _, err = svc.TransitionShipment(ctx, request, id, tc.action, tc.receipt)
			}
			if os.Getenv("DEPOT_SHIPMENT_DEBUG") != "" {
				trs, _, lerr := e.service().Shipments.ListTransitions(ctx, inventory.Range{Limit: 10})
				t.Logf("%s process %d: dead %v, err %v, transition %v; listed %d %v", tc.action, p, k.dead, err, cur.Transition != nil, len(trs), lerr)
			}
			if !k.dead {
				if err != nil {
					t.Fatalf("%s, process %d: %v", tc.action, p, err)
				}
				break
			}
			if err != nil && !errors.Is(err, errKilled) { // the resumer logs what it could not finish
				t.Fatalf("%s, process %d killed: %v", tc.action, p, err)
			}
			kills[tc.action]++
			if k.afterSend {
				w, triedBefore = w+1, false
				kills[tc.action+" after"]++
			} else {
				triedBefore = true
			}
			e.checkCrashLevels(fmt.Sprintf("%s, process %d killed (after sending: %v)", tc.action, p, k.afterSend), id, wh, ids, tc.action, false)
		}
		e.checkCrashLevels("after "+tc.action, id, wh, ids, tc.action, true)
		t0 := time.Now()
		e.auditClean("after " + tc.action)
		audits += time.Since(t0)
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/shipments/" + id}).json(t)
		if got["status"] != tc.status || got["transition"] != nil {
			t.Fatalf("after %s: %v %v", tc.action, got["status"], got["transition"])
		}
		replay, replayed, err := e.service().TransitionShipment(ctx, request, id, tc.action, tc.receipt)
		if err != nil || !replayed || replay.Status != tc.status {
			t.Errorf("%s: the retry after the end: %v, replayed %v, %s", tc.action, err, replayed, replay.Status)
		}
	}
	// Each line moved once per transition: one ledger line of each reason
	// per level, referencing the shipment.
	lines := map[string]int{}
	for _, loc := range []string{"default", wh} {
		for _, l := range e.listAll("/locations/"+loc+"/history", "entries", nil) {
			if l["reference"] == id {
				lines[l["itemId"].(string)+" "+l["reason"].(string)]++
			}
		}
	}
	for i, item := range ids {
		for _, r := range []string{"shipment_committed", "shipment_shipped", "shipment_incoming", "shipment_received"} {
			want := 1
			if r == "shipment_received" && i == n-1 {
				want = 0
			}
			if lines[item+" "+r] != want {
				t.Fatalf("line %d: %d %s ledger lines, want %d", i, lines[item+" "+r], r, want)
			}
		}
	}
	if levels, _ := e.levels(ids[0]); levels["default"]["onHand"] != 3.0 || levels[wh]["onHand"] != 1.0 || levels[wh]["incoming"] != 1.0 {
		t.Errorf("a line's levels: %v", levels)
	}
	t.Logf("crash points, %d lines: %v kills (after each write, before every 4th); seeding %v, audits %v, all %v", n, kills,
		seeded.Round(time.Millisecond), audits.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// checkCrashLevels checks, after a kill during the crash-point test's
// action, that every line's levels hold exactly what the shipment says
// has moved: the lines of the steps its transition applied (all of them
// once it ended, none before it started), each once. The stages: 5 on
// hand at the origin; ready commits 2; ship takes them (incoming 2 at
// wh); receive takes 1 of every line but the last.
func (e *env) checkCrashLevels(what, id, wh string, ids []string, action string, all bool) {
	e.t.Helper()
	svc := e.service()
	ctx := context.Background()
	st, err := svc.Shipments.ReadShipment(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	unreceived := ids[len(ids)-1] // a receipt takes every line but the last
	moved := map[string]bool{}
	switch {
	case st.Transition != nil:
		last := -1
		for k := range st.Applied() {
			for _, l := range st.Transition.Chunk(k) {
				moved[l.ItemID] = true
			}
			last = max(last, k)
		}
		if !all {
			// A kill can only have moved (or moved twice) the lines of
			// the step it came at: those of the last step applied and of
			// the next are checked; all of them at the ends.
			var near []string
			for k := max(last, 0); k <= min(last+1, st.Transition.Steps()-1); k++ {
				for _, l := range st.Transition.Chunk(k) {
					near = append(near, l.ItemID)
				}
			}
			ids = near
		}
	case st.Status == map[string]string{inventory.ActionReady: inventory.ShipmentReady, inventory.ActionShip: inventory.ShipmentShipped,
		inventory.ActionReceive: inventory.ShipmentPartiallyReceived}[action]:
		for _, item := range ids {
			moved[item] = true
		}
	}
	var levels []inventory.LevelKey
	for _, item := range ids {
		levels = append(levels, inventory.LevelKey{ItemID: item, LocationID: inventory.DefaultLocation}, inventory.LevelKey{ItemID: item, LocationID: wh})
	}
	stock, err := svc.Store.ReadStock(ctx, inventory.StockKeys{Items: ids, Levels: levels})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, item := range ids {
		// origin on hand, committed; destination on hand, incoming; item quantity, committed
		var want [6]int64
		switch m := moved[item]; action {
		case inventory.ActionReady:
			want = [6]int64{5, 0, 0, 0, 5, 0}
			if m {
				want = [6]int64{5, 2, 0, 0, 5, 2}
			}
		case inventory.ActionShip:
			want = [6]int64{5, 2, 0, 0, 5, 2}
			if m {
				want = [6]int64{3, 0, 0, 2, 3, 0}
			}
		case inventory.ActionReceive:
			want = [6]int64{3, 0, 0, 2, 3, 0}
			if m && item != unreceived {
				want = [6]int64{3, 0, 1, 1, 4, 0}
			}
		}
		o, d, it := stock.Levels[levels[2*i]], stock.Levels[levels[2*i+1]], stock.Items[item]
		got := [6]int64{o.OnHand, o.Committed, d.OnHand, d.Incoming, it.Quantity, it.Committed}
		if got != want || d.Committed != 0 || o.Incoming != 0 {
			e.t.Fatalf("%s: line %d (moved: %v) holds %v (destination committed %d, origin incoming %d), want %v",
				what, i, moved[item], got, d.Committed, o.Incoming, want)
		}
	}
}

// TestShipmentResumer: a ship to a warehouse whose process died after its
// first step is left in progress — GET shows it, with the lines moved so
// far, and the audit finds the table exact — until ResumeShipments (the
// scheduled function) takes it over once it is ResumeAfter old, and
// finishes it; its request's retry then replays the result.
func TestShipmentResumer(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := newEnv(t)
	wh := e.createLocation("RESUME-WH")
	ids := e.seedItems("RES", 40, 3) // 3 steps of a ship to a warehouse
	id := e.must(http.StatusCreated, req{Method: "POST", Path: "/shipments", Body: shipmentBody("default", wh, ids, 2)}).json(t)["id"].(string)
	e.act(http.StatusOK, id, "ready", "", nil)
	ctx := context.Background()
	request := usecase.Request{Actor: editorEmail, IdempotencyKey: "resume-ship"}
	k := &stepKiller{skip: 2} // its start and first step commit; it dies before the second
	if _, _, err := e.service(k.install).TransitionShipment(ctx, request, id, inventory.ActionShip, nil); !errors.Is(err, errKilled) {
		t.Fatalf("the ship: %v", err)
	}
	got := e.must(http.StatusOK, req{Method: "GET", Path: "/shipments/" + id}).json(t)
	tr, _ := got["transition"].(map[string]any)
	if got["status"] != "ready" || tr == nil || tr["linesMoved"] != 19.0 || tr["lines"] != 40.0 {
		t.Fatalf("a ship killed after its first step: %v %v", got["status"], tr)
	}
	e.auditClean("a ship in progress")
	if r, err := e.resumer(time.Now).Handle(ctx, events.EventBridgeEvent{ID: "too-early"}); err != nil || r.Resumed != 0 {
		t.Errorf("a run before ResumeAfter: %+v, %v", r, err)
	}
	later := func() time.Time { return time.Now().Add(usecase.ResumeAfter + time.Second) }
	if r, err := e.resumer(later).Handle(ctx, events.EventBridgeEvent{ID: "itest"}); err != nil || r.Resumed != 1 {
		t.Fatalf("the resumer: %+v, %v", r, err)
	}
	got = e.must(http.StatusOK, req{Method: "GET", Path: "/shipments/" + id}).json(t)
	if got["status"] != "shipped" || got["transition"] != nil {
		t.Fatalf("after the resumer: %v %v", got["status"], got["transition"])
	}
	replay, replayed, err := e.service().TransitionShipment(ctx, request, id, inventory.ActionShip, nil)
	if err != nil || !replayed || replay.Status != inventory.ShipmentShipped {
		t.Errorf("the retry: %v, replayed %v", err, replayed)
	}
	if levels, _ := e.levels(ids[39]); levels[wh]["incoming"] != 2.0 || levels["default"]["onHand"] != 1.0 {
		t.Errorf("the last line: %v", levels)
	}
	e.auditClean("after the resumer")
	t.Logf("the resumer: %v", time.Since(start).Round(time.Millisecond))
}
