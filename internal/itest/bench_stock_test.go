package itest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// BenchmarkStock measures what each stock and location operation costs in
// DynamoDB, per request, against the floors of docs/data-model.md §7 (the
// table is read from the document, so the two cannot drift): the calls the
// function made, their read and write capacity units, and each measured /
// floor (goal ≤ 1.2).
//
// Each operation gets its own deployment (benchEnv: the functions' Lambda
// handlers behind the local gateway, over real HTTP) set up in the row's
// scenario, then sends the operation once per iteration, without an
// Idempotency-Key. A capacityDB under the recorder asks the engine for
// ConsumedCapacity (ReturnConsumedCapacity=TOTAL) on every call and keeps
// each call's output. A call's units are the engine's when it returned
// some, else computed from the records read and written with §7's units
// (costOf). moto's figures are not used (they are shown): moto answers
// constants whatever the records and the consistency (GetItem 0.5, Query 1,
// BatchGetItem 1 per key, TransactWriteItems none). Metrics are means over
// the requests.
//
// `make bench` runs it on the embedded engines and on moto.
func BenchmarkStock(b *testing.B) {
	floors, err := readFloors(dataModelDoc)
	if err != nil {
		b.Fatal(err)
	}
	useEngineCapacity = !isMoto()
	results := map[string]stockResult{}
	for _, op := range stockOps {
		b.Run(op.name, func(b *testing.B) {
			f, ok := floors[op.name]
			if !ok {
				b.Fatalf("%s has no row in the §7 table of %s", op.name, dataModelDoc)
			}
			e := newStockEnv(b)
			st := op.setup(e)
			i := 0
			for b.Loop() {
				op.step(e, st, i)
				i++
			}
			r := summarizeCosts(e.costs)
			r.floor = f
			r.last = e.lastCalls
			r.report(b)
			if op.name == "CreateTransfer" && (r.maxTxs > 1 || r.maxActions > 8) {
				b.Fatalf("a transfer used %d transactions and up to %d actions; the goal is 1 transaction of ≤ 8 actions", r.maxTxs, r.maxActions)
			}
			results[op.name] = r
		})
	}
	printStockTable(os.Stdout, results)
}

// dataModelDoc holds the §7 table of floors.
const dataModelDoc = "../../docs/data-model.md"

// floor is a row of §7's table: the least an operation can cost.
type floor struct {
	scenario        string
	calls, rcu, wcu float64
}

// readFloors reads the table of the "## 7." section of the data model:
// | Operation | Scenario | Calls | RCU | WCU |.
func readFloors(path string) (map[string]floor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cells := func(line string) []string {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") {
			return nil
		}
		parts := strings.Split(line[1:len(line)-1], "|")
		for i, p := range parts {
			parts[i] = strings.TrimSpace(p)
		}
		return parts
	}
	out := map[string]floor{}
	section, table := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			if section {
				break
			}
			section = strings.HasPrefix(line, "## 7.")
			continue
		}
		if !section {
			continue
		}
		c := cells(line)
		if !table {
			table = strings.Join(c, "|") == "Operation|Scenario|Calls|RCU|WCU"
			continue
		}
		if c == nil {
			if len(out) > 0 {
				break
			}
			continue
		}
		if strings.Trim(strings.Join(c, ""), "-: ") == "" {
			continue // the separator row
		}
		if len(c) != 5 {
			return nil, fmt.Errorf("%s §7: row %q has %d cells, want 5", path, line, len(c))
		}
		var v [3]float64
		for i, s := range c[2:] {
			if v[i], err = strconv.ParseFloat(strings.Trim(s, "*"), 64); err != nil {
				return nil, fmt.Errorf("%s §7: %s: %w", path, c[0], err)
			}
		}
		name := strings.Trim(c[0], "`* ")
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s §7: %s is listed twice", path, name)
		}
		out[name] = floor{scenario: c[1], calls: v[0], rcu: v[1], wcu: v[2]}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no table | Operation | Scenario | Calls | RCU | WCU | in its ## 7. section", path)
	}
	return out, nil
}

// TestStockFloors checks that BenchmarkStock has an operation for each row
// of §7's table and a row for each operation.
func TestStockFloors(t *testing.T) {
	t.Parallel()
	floors, err := readFloors(dataModelDoc)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, op := range stockOps {
		ops[op.name] = true
		if _, ok := floors[op.name]; !ok {
			t.Errorf("BenchmarkStock's %s has no row in §7", op.name)
		}
	}
	for name, f := range floors {
		if !ops[name] {
			t.Errorf("§7 lists %s (%s), which BenchmarkStock does not run", name, f.scenario)
		}
		if f.calls < 1 || f.rcu < 0 || f.wcu < 0 {
			t.Errorf("§7 %s: floor %+v", name, f)
		}
	}
	if f := floors["CreateTransfer"]; f.calls != 2 || f.rcu != 4 || f.wcu != 16 {
		t.Errorf("§7 CreateTransfer read as %+v", f)
	}
}

// stockOp is one row's benchmark: setup makes the scenario, step sends the
// operation once (measured).
type stockOp struct {
	name  string
	setup func(e *stockEnv) stockState
	step  func(e *stockEnv, st stockState, i int)
}

type stockState struct {
	item, location, at string
}

const stockItem = `{"sku":%q,"name":"Stock bench item","description":"An item of the cost benchmark","quantity":%d,"tags":["bench","tools"],"reorderPoint":2,"locationId":%q}`

var stockOps = []stockOp{
	{
		name: "CreateAdjustment",
		setup: func(e *stockEnv) stockState {
			return stockState{item: e.createAt("STK-ADJ", 10, inventory.DefaultLocation)}
		},
		step: func(e *stockEnv, st stockState, _ int) {
			e.do(true, editorEmail, http.StatusCreated, "POST", "/adjustments",
				adjustment("received", line{st.item, inventory.DefaultLocation, 1}))
		},
	},
	{
		name: "CreateCount",
		setup: func(e *stockEnv) stockState {
			return stockState{item: e.createAt("STK-CNT", 10, inventory.DefaultLocation)}
		},
		step: func(e *stockEnv, st stockState, i int) {
			counted := 20 // 10 → 20 → 10 …: never a delta of 0
			if i%2 == 1 {
				counted = 10
			}
			e.do(true, editorEmail, http.StatusCreated, "POST", "/counts",
				fmt.Sprintf(`{"itemId":%q,"locationId":"default","counted":%d}`, st.item, counted))
		},
	},
	{
		name: "CreateTransfer",
		setup: func(e *stockEnv) stockState {
			loc := e.location("STK-TR")
			id := e.createAt("STK-TR", 1_000_000, inventory.DefaultLocation)
			e.do(false, editorEmail, http.StatusCreated, "POST", "/adjustments", adjustment("received", line{id, loc, 5}))
			return stockState{item: id, location: loc}
		},
		step: func(e *stockEnv, st stockState, _ int) {
			e.do(true, editorEmail, http.StatusCreated, "POST", "/transfers", transfer(st.item, inventory.DefaultLocation, st.location, 1))
		},
	},
	{
		name:  "GetItemStock",
		setup: func(e *stockEnv) stockState { return e.twoLevels("STK-GIS", false) },
		step: func(e *stockEnv, st stockState, _ int) {
			e.do(true, editorEmail, http.StatusOK, "GET", "/items/"+st.item+"/stock", "")
		},
	},
	{
		name:  "GetItemStock?at",
		setup: func(e *stockEnv) stockState { return e.twoLevels("STK-GISAT", true) },
		step: func(e *stockEnv, st stockState, _ int) {
			e.do(true, editorEmail, http.StatusOK, "GET", "/items/"+st.item+"/stock?at="+url.QueryEscape(st.at), "")
		},
	},
	{
		name:  "GetLocationStock",
		setup: func(e *stockEnv) stockState { return e.stockedLocation("STK-LS", 25, "/stock", "levels") },
		step: func(e *stockEnv, st stockState, _ int) {
			e.do(true, editorEmail, http.StatusOK, "GET", "/locations/"+st.location+"/stock", "")
		},
	},
	{
		name:  "ListLocationHistory",
		setup: func(e *stockEnv) stockState { return e.stockedLocation("STK-LH", 25, "/history", "entries") },
		step: func(e *stockEnv, st stockState, _ int) {
			e.do(true, editorEmail, http.StatusOK, "GET", "/locations/"+st.location+"/history", "")
		},
	},
	{
		name:  "CreateLocation",
		setup: func(e *stockEnv) stockState { return stockState{} },
		step: func(e *stockEnv, _ stockState, i int) {
			e.do(true, adminEmail, http.StatusCreated, "POST", "/locations",
				fmt.Sprintf(`{"code":"BL-%d","name":"Bench location %d"}`, i, i))
		},
	},
	{
		name: "ListLocations",
		setup: func(e *stockEnv) stockState {
			for i := range 4 { // and the default: 5
				e.location(fmt.Sprintf("STK-L%d", i))
			}
			e.expectList("/locations", "locations", 5)
			return stockState{}
		},
		step: func(e *stockEnv, _ stockState, _ int) {
			e.do(true, editorEmail, http.StatusOK, "GET", "/locations", "")
		},
	},
}

// stockEnv is a benchEnv whose store's DynamoDB client also keeps each
// call's output and the engine's capacity.
type stockEnv struct {
	*benchEnv
	cap       *capacityDB
	costs     []requestCost
	lastCalls []callCost
}

func newStockEnv(b *testing.B) *stockEnv {
	e := newBenchEnv(b)
	c := &capacityDB{db: e.rec.db, side: e.raw}
	e.rec.db = c
	return &stockEnv{benchEnv: e, cap: c}
}

// do sends a request as who, checks its status and, if measure, keeps the
// cost of the DynamoDB calls it made.
func (e *stockEnv) do(measure bool, who string, want int, method, path, body string) []byte {
	e.b.Helper()
	data, _ := e.exchange(who, want, method, path, body)
	line := e.logs.request(e.b)
	recorded, calls := e.rec.take(), e.cap.take()
	if line.DDBCalls != len(calls) || len(recorded) != len(calls) {
		e.b.Fatalf("%s %s: log line counts %d DynamoDB calls, %d recorded, %d seen", method, path, line.DDBCalls, len(recorded), len(calls))
	}
	if measure {
		var rc requestCost
		e.lastCalls = e.lastCalls[:0]
		for _, c := range calls {
			cc := costOf(c)
			e.lastCalls = append(e.lastCalls, cc)
			rc.add(cc)
		}
		e.costs = append(e.costs, rc)
	}
	return data
}

// createAt creates an item with its opening stock at a location.
func (e *stockEnv) createAt(sku string, quantity int, location string) string {
	var item struct{ ID string }
	data := e.do(false, editorEmail, http.StatusCreated, "POST", "/items", fmt.Sprintf(stockItem, sku, quantity, location))
	if err := json.Unmarshal(data, &item); err != nil || item.ID == "" {
		e.b.Fatalf("create %s: %v: %s", sku, err, data)
	}
	return item.ID
}

// location creates a location as admin.
func (e *stockEnv) location(code string) string {
	var loc struct{ ID string }
	data := e.do(false, adminEmail, http.StatusCreated, "POST", "/locations", fmt.Sprintf(`{"code":%q,"name":"Warehouse %s"}`, code, code))
	if err := json.Unmarshal(data, &loc); err != nil || loc.ID == "" {
		e.b.Fatalf("create location %s: %v: %s", code, err, data)
	}
	return loc.ID
}

// expectList checks that a list answers n entries in its field.
func (e *stockEnv) expectList(path, field string, n int) {
	var page map[string]json.RawMessage
	var list []json.RawMessage
	data := e.do(false, editorEmail, http.StatusOK, "GET", path, "")
	if err := json.Unmarshal(data, &page); err != nil {
		e.b.Fatal(err)
	}
	if err := json.Unmarshal(page[field], &list); err != nil {
		e.b.Fatal(err)
	}
	if len(list) != n {
		e.b.Fatalf("GET %s: %d %s, want %d", path, len(list), field, n)
	}
}

// twoLevels is an item with levels at 2 locations; with past, also an
// instant after both were written, in the past by the time it is asked
// about.
func (e *stockEnv) twoLevels(sku string, past bool) stockState {
	loc := e.location(sku)
	id := e.createAt(sku, 10, inventory.DefaultLocation)
	e.do(false, editorEmail, http.StatusCreated, "POST", "/adjustments", adjustment("received", line{id, loc, 5}))
	st := stockState{item: id, location: loc}
	path := "/items/" + id + "/stock"
	if past {
		time.Sleep(5 * time.Millisecond)
		st.at = time.Now().UTC().Format(inventory.TimeLayout)
		time.Sleep(5 * time.Millisecond)
		path += "?at=" + url.QueryEscape(st.at)
	}
	e.expectList(path, "levels", 2)
	return st
}

// stockedLocation is a location holding n items (each created there, so
// with a level and an item_created line there).
func (e *stockEnv) stockedLocation(code string, n int, list, field string) stockState {
	loc := e.location(code)
	for i := range n {
		e.createAt(fmt.Sprintf("%s-%02d", code, i), i+1, loc)
	}
	e.expectList("/locations/"+loc+list, field, n)
	return stockState{location: loc}
}

// capacityDB is a DynamoDB client that asks the engine for the capacity of
// each call (ReturnConsumedCapacity=TOTAL) and keeps each call's input,
// output and, for a TransactWriteItems, the records its Updates,
// ConditionChecks and Deletes target, read with side (uncounted: a
// context without the request's call stats) just before the call and, for
// Updates, after it.
type capacityDB struct {
	db, side dynamo.API
	mu       sync.Mutex
	calls    []ddbCall
}

type ddbCall struct {
	op            string
	in, out       any
	err           error
	before, after []map[string]types.AttributeValue // per action of a TransactWriteItems
}

var _ dynamo.API = (*capacityDB)(nil)

func (c *capacityDB) add(call ddbCall) {
	c.mu.Lock()
	c.calls = append(c.calls, call)
	c.mu.Unlock()
}

func (c *capacityDB) take() []ddbCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *capacityDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.db.GetItem(ctx, &cp, opts...)
	c.add(ddbCall{op: "GetItem", in: &cp, out: out, err: err})
	return out, err
}

func (c *capacityDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.db.BatchGetItem(ctx, &cp, opts...)
	c.add(ddbCall{op: "BatchGetItem", in: &cp, out: out, err: err})
	return out, err
}

func (c *capacityDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.db.Query(ctx, &cp, opts...)
	c.add(ddbCall{op: "Query", in: &cp, out: out, err: err})
	return out, err
}

func (c *capacityDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	cp := *in
	cp.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	call := ddbCall{op: "TransactWriteItems", in: &cp}
	call.before = c.targets(in, false)
	out, err := c.db.TransactWriteItems(ctx, &cp, opts...)
	call.after = c.targets(in, true)
	call.out, call.err = out, err
	c.add(call)
	return out, err
}

// targets reads the record each Update, ConditionCheck or Delete action
// targets (only Updates' with updatesOnly); nil for others and for records
// that do not exist.
func (c *capacityDB) targets(in *dynamodb.TransactWriteItemsInput, updatesOnly bool) []map[string]types.AttributeValue {
	out := make([]map[string]types.AttributeValue, len(in.TransactItems))
	for i, it := range in.TransactItems {
		var table *string
		var key map[string]types.AttributeValue
		switch {
		case it.Update != nil:
			table, key = it.Update.TableName, it.Update.Key
		case it.ConditionCheck != nil && !updatesOnly:
			table, key = it.ConditionCheck.TableName, it.ConditionCheck.Key
		case it.Delete != nil && !updatesOnly:
			table, key = it.Delete.TableName, it.Delete.Key
		default:
			continue
		}
		res, err := c.side.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
		if err == nil {
			out[i] = res.Item
		}
	}
	return out
}

// callCost is one DynamoDB call's capacity units.
type callCost struct {
	op               string
	rcu, wcu         float64 // the engine's when it returned them (and is trusted), else computed
	compRCU, compWCU float64 // computed from the records with §7's units
	engRCU, engWCU   float64 // the engine's ConsumedCapacity, if engine
	engine, used     bool    // the engine returned some; it is what rcu, wcu are
	actions          int     // of a TransactWriteItems
	note             string
}

// Units of §7 (DynamoDB's): a read unit is 4 KB, strongly consistent 1,
// eventually 0.5; a write unit 1 KB, transactional 2.
func readUnits(size int) float64 { return max(1, math.Ceil(float64(size)/4096)) }
func writeUnits(size int) float64 {
	return max(1, math.Ceil(float64(size)/1024))
}

// gsiKeys are the partition key attributes of the table's indexes: a
// record is in an index when it has its key.
var gsiKeys = []string{"GSI1PK", "GSI2PK", "GSI3PK"}

func indexesOf(m map[string]types.AttributeValue) int {
	n := 0
	for _, k := range gsiKeys {
		if _, ok := m[k]; ok {
			n++
		}
	}
	return n
}

// costOf computes a call's units from its records:
//
//   - GetItem, BatchGetItem: per record ceil(size/4 KB) × (1 strongly
//     consistent | 0.5 eventually); a missing record costs the minimum;
//   - Query: the sizes of the records returned summed, ceil(/4 KB) × (1 |
//     0.5), at least one unit; an index is read eventually consistently;
//   - TransactWriteItems: per action 2 × ceil(size/1 KB), the size being
//     a Put's new record, an Update's target as read before and after the
//     call (the larger), a ConditionCheck's or Delete's target as read
//     before (a missing one costs the minimum); plus, per index whose key
//     the record has (a Put's new record, an Update's or Delete's target),
//     1 × ceil(size/1 KB).
//
// The call's reported units are the engine's ConsumedCapacity instead when
// it returned one, unless useEngineCapacity is off.
func costOf(c ddbCall) callCost {
	cc := callCost{op: c.op}
	factor := func(consistent *bool, index *string) float64 {
		if aws.ToBool(consistent) && index == nil {
			return 1
		}
		return 0.5
	}
	engine := func(cs ...types.ConsumedCapacity) (float64, bool) {
		var u float64
		for _, x := range cs {
			u += aws.ToFloat64(x.CapacityUnits)
		}
		return u, len(cs) > 0
	}
	mode := ""
	switch in := c.in.(type) {
	case *dynamodb.GetItemInput:
		f := factor(in.ConsistentRead, nil)
		mode = consistency(f)
		cc.compRCU = f
		if out, _ := c.out.(*dynamodb.GetItemOutput); out != nil {
			if out.Item != nil {
				cc.compRCU = readUnits(recordSize(out.Item)) * f
				cc.note = fmt.Sprintf("%s, %d B", recordType(out.Item), recordSize(out.Item))
			} else {
				cc.note = "missing"
			}
			if out.ConsumedCapacity != nil {
				cc.engRCU, cc.engine = engine(*out.ConsumedCapacity)
			}
		}
	case *dynamodb.BatchGetItemInput:
		out, _ := c.out.(*dynamodb.BatchGetItemOutput)
		keys := 0
		for table, ka := range in.RequestItems {
			f := factor(ka.ConsistentRead, nil)
			mode = consistency(f)
			missing := len(ka.Keys)
			keys += len(ka.Keys)
			if out != nil {
				for _, m := range out.Responses[table] {
					cc.compRCU += readUnits(recordSize(m)) * f
					missing--
				}
				missing -= len(out.UnprocessedKeys[table].Keys)
			}
			cc.compRCU += float64(max(missing, 0)) * f
		}
		cc.note = fmt.Sprintf("%d keys", keys)
		if out != nil {
			count := map[string]int{}
			for _, rs := range out.Responses {
				for _, m := range rs {
					count[recordType(m)]++
				}
			}
			for _, t := range slices.Sorted(maps.Keys(count)) {
				cc.note += fmt.Sprintf(", %d %s", count[t], t)
			}
		}
		if out != nil {
			cc.engRCU, cc.engine = engine(out.ConsumedCapacity...)
		}
	case *dynamodb.QueryInput:
		f := factor(in.ConsistentRead, in.IndexName)
		mode = consistency(f)
		size := 0
		if out, _ := c.out.(*dynamodb.QueryOutput); out != nil {
			for _, m := range out.Items {
				size += recordSize(m)
			}
			cc.note = fmt.Sprintf("%d records, %d B", len(out.Items), size)
			if out.ConsumedCapacity != nil {
				cc.engRCU, cc.engine = engine(*out.ConsumedCapacity)
			}
		}
		cc.compRCU = readUnits(size) * f
		if in.IndexName != nil {
			cc.note = aws.ToString(in.IndexName) + ", " + cc.note
		}
	case *dynamodb.TransactWriteItemsInput:
		cc.actions = len(in.TransactItems)
		var kinds []string
		for i, it := range in.TransactItems {
			var before, after map[string]types.AttributeValue
			if i < len(c.before) {
				before = c.before[i]
			}
			if i < len(c.after) {
				after = c.after[i]
			}
			switch {
			case it.Put != nil:
				s := recordSize(it.Put.Item)
				cc.compWCU += 2*writeUnits(s) + float64(indexesOf(it.Put.Item))*writeUnits(s)
				kinds = append(kinds, "Put "+recordType(it.Put.Item))
			case it.Update != nil:
				target := before
				if recordSize(after) > recordSize(target) {
					target = after
				}
				s := recordSize(target)
				cc.compWCU += 2*writeUnits(s) + float64(indexesOf(target))*writeUnits(s)
				kinds = append(kinds, "Update "+recordType(target))
			case it.ConditionCheck != nil:
				cc.compWCU += 2 * writeUnits(recordSize(before))
				kinds = append(kinds, "ConditionCheck "+recordType(before))
			case it.Delete != nil:
				s := recordSize(before)
				cc.compWCU += 2*writeUnits(s) + float64(indexesOf(before))*writeUnits(s)
				kinds = append(kinds, "Delete "+recordType(before))
			}
		}
		cc.note = strings.Join(kinds, ", ")
		if out, _ := c.out.(*dynamodb.TransactWriteItemsOutput); out != nil {
			cc.engWCU, cc.engine = engine(out.ConsumedCapacity...)
		}
	}
	if mode != "" {
		cc.note = mode + "; " + cc.note
	}
	cc.used = cc.engine && useEngineCapacity
	if cc.used {
		cc.rcu, cc.wcu = cc.engRCU, cc.engWCU
	} else {
		cc.rcu, cc.wcu = cc.compRCU, cc.compWCU
	}
	return cc
}

// useEngineCapacity is whether a call's units are the engine's
// ConsumedCapacity when it returns one.
var useEngineCapacity = true

// isMoto is whether the DynamoDB endpoint is a moto server (it answers
// /moto-api/), whose ConsumedCapacity figures are placeholders.
func isMoto() bool {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		return false
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(strings.TrimSuffix(endpoint, "/") + "/moto-api/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func consistency(factor float64) string {
	if factor == 1 {
		return "consistent"
	}
	return "eventual"
}

func recordType(m map[string]types.AttributeValue) string {
	if t, ok := m["type"].(*types.AttributeValueMemberS); ok {
		return t.Value
	}
	return "?"
}

// requestCost sums the calls of one request.
type requestCost struct {
	calls, engineCalls, reportedCalls, txs, actions int
	rcu, wcu, compRCU, compWCU, engRCU, engWCU      float64
}

func (r *requestCost) add(c callCost) {
	r.calls++
	r.rcu += c.rcu
	r.wcu += c.wcu
	r.compRCU += c.compRCU
	r.compWCU += c.compWCU
	if c.used {
		r.engineCalls++
	}
	if c.engine {
		r.reportedCalls++
		r.engRCU += c.engRCU
		r.engWCU += c.engWCU
	}
	if c.op == "TransactWriteItems" {
		r.txs++
		r.actions = max(r.actions, c.actions)
	}
}

// stockResult is an operation's means per request, and its floor.
type stockResult struct {
	n                  int
	calls, rcu, wcu    float64
	compRCU, compWCU   float64
	engineCalls        float64
	reportedCalls      float64
	engRCU, engWCU     float64
	actions            float64
	maxTxs, maxActions int
	floor              floor
	last               []callCost
}

func summarizeCosts(rs []requestCost) stockResult {
	r := stockResult{n: len(rs)}
	if len(rs) == 0 {
		return r
	}
	for _, x := range rs {
		r.calls += float64(x.calls)
		r.rcu += x.rcu
		r.wcu += x.wcu
		r.compRCU += x.compRCU
		r.compWCU += x.compWCU
		r.engineCalls += float64(x.engineCalls)
		r.reportedCalls += float64(x.reportedCalls)
		r.engRCU += x.engRCU
		r.engWCU += x.engWCU
		r.actions += float64(x.actions)
		r.maxTxs = max(r.maxTxs, x.txs)
		r.maxActions = max(r.maxActions, x.actions)
	}
	n := float64(len(rs))
	r.calls /= n
	r.rcu /= n
	r.wcu /= n
	r.compRCU /= n
	r.compWCU /= n
	r.engineCalls /= n
	r.reportedCalls /= n
	r.engRCU /= n
	r.engWCU /= n
	r.actions /= n
	return r
}

// ratio is measured / floor; NaN when both are 0 (nothing to compare),
// +Inf when only the floor is.
func ratio(measured, floor float64) float64 {
	switch {
	case floor > 0:
		return measured / floor
	case measured == 0:
		return math.NaN()
	}
	return math.Inf(1)
}

// goal is the §7 goal: ≤ 1.2× the floor on each column.
const floorGoal = 1.2

func (r stockResult) over() []string {
	var out []string
	for _, c := range []struct {
		name  string
		m, fl float64
	}{{"calls", r.calls, r.floor.calls}, {"RCU", r.rcu, r.floor.rcu}, {"WCU", r.wcu, r.floor.wcu}} {
		if x := ratio(c.m, c.fl); !math.IsNaN(x) && x > floorGoal+1e-9 {
			out = append(out, c.name)
		}
	}
	return out
}

func (r stockResult) report(b *testing.B) {
	b.ReportMetric(r.calls, "calls/op")
	b.ReportMetric(r.rcu, "rcu/op")
	b.ReportMetric(r.wcu, "wcu/op")
	b.ReportMetric(r.floor.calls, "floor-calls")
	b.ReportMetric(r.floor.rcu, "floor-rcu")
	b.ReportMetric(r.floor.wcu, "floor-wcu")
	for _, m := range []struct {
		unit  string
		m, fl float64
	}{{"calls-x-floor", r.calls, r.floor.calls}, {"rcu-x-floor", r.rcu, r.floor.rcu}, {"wcu-x-floor", r.wcu, r.floor.wcu}} {
		if x := ratio(m.m, m.fl); !math.IsNaN(x) && !math.IsInf(x, 0) {
			b.ReportMetric(x, m.unit)
		}
	}
	if r.maxTxs > 0 {
		b.ReportMetric(r.actions, "tx-actions/op")
	}
	b.ReportMetric(0, "ns/op") // the time is BenchmarkOperations' subject
}

func printStockTable(w io.Writer, results map[string]stockResult) {
	if len(results) == 0 {
		return
	}
	x := func(m, fl float64) string {
		switch r := ratio(m, fl); {
		case math.IsNaN(r):
			return "-"
		case math.IsInf(r, 0):
			return "inf"
		default:
			return fmt.Sprintf("%.2f", r)
		}
	}
	fmt.Fprintf(w, "\nDynamoDB cost per request vs the floors of docs/data-model.md §7 (means); DynamoDB: %s\n", engines.DynamoDB)
	fmt.Fprintf(w, "%-20s %4s | %5s %5s %5s | %6s %6s %5s | %6s %6s %5s | %7s | %-9s %s\n",
		"operation", "n", "calls", "floor", "x", "RCU", "floor", "x", "WCU", "floor", "x", "actions", "capacity", "goal ≤1.2×")
	for _, op := range stockOps {
		r, ok := results[op.name]
		if !ok {
			continue
		}
		actions := "-"
		if r.maxTxs > 0 {
			actions = fmt.Sprintf("%d×%.0f", r.maxTxs, r.actions)
		}
		src := "computed"
		switch {
		case r.engineCalls >= r.calls && r.calls > 0:
			src = "engine"
		case r.engineCalls > 0:
			src = fmt.Sprintf("mixed %.0f/%.0f", r.engineCalls, r.calls)
		}
		goal := "ok"
		if o := r.over(); len(o) > 0 {
			goal = "OVER (" + strings.Join(o, ", ") + ")"
		}
		fmt.Fprintf(w, "%-20s %4d | %5.1f %5.0f %5s | %6.2f %6.1f %5s | %6.2f %6.0f %5s | %7s | %-9s %s\n",
			op.name, r.n, r.calls, r.floor.calls, x(r.calls, r.floor.calls),
			r.rcu, r.floor.rcu, x(r.rcu, r.floor.rcu), r.wcu, r.floor.wcu, x(r.wcu, r.floor.wcu),
			actions, src, goal)
		if r.engineCalls > 0 && (math.Abs(r.rcu-r.compRCU) > 1e-9 || math.Abs(r.wcu-r.compWCU) > 1e-9) {
			fmt.Fprintf(w, "%-20s        (computed from the records: RCU %.2f, WCU %.2f)\n", "", r.compRCU, r.compWCU)
		}
		if r.reportedCalls > r.engineCalls {
			fmt.Fprintf(w, "%-20s        (not used: the engine reported RCU %.2f, WCU %.2f over %.0f of %.0f calls)\n",
				"", r.engRCU, r.engWCU, r.reportedCalls, r.calls)
		}
	}
	fmt.Fprint(w, "\nThe calls of the last request of each operation (units computed from the records; engine's in brackets):\n")
	for _, op := range stockOps {
		r, ok := results[op.name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "  %s:\n", op.name)
		for _, c := range r.last {
			eng := ""
			if c.engine {
				eng = fmt.Sprintf(" [engine %.2f]", c.engRCU+c.engWCU)
			}
			fmt.Fprintf(w, "    %-18s RCU %5.2f  WCU %5.1f%s  %s\n", c.op, c.compRCU, c.compWCU, eng, c.note)
		}
	}
	fmt.Fprint(w, `calls, RCU, WCU: per request, means; floor: docs/data-model.md §7; x = measured / floor ("-": both 0);
actions: transactions × actions per transaction (goal for a transfer: 1 × ≤ 7);
capacity: "engine" when every call's ConsumedCapacity came from the engine, "computed" when none did
(from the records' sizes with §7's units), "mixed e/c" otherwise.
`)
	if !useEngineCapacity {
		fmt.Fprint(w, `moto: its ConsumedCapacity figures are constants (GetItem 0.5, Query 1, BatchGetItem 1 per key,
whatever the sizes and the consistency; TransactWriteItems none): shown, not used.
`)
	}
}

// BenchmarkStockContention compares adjustments per second on one hot
// level with the same load spread over 100 independent levels. Each
// iteration makes two runs, each on a fresh table holding the same 100
// items at `default` (so that both start alike: the embedded engine's
// writes slow down as a table grows), with 16 concurrent workers sending a
// fixed number of adjustments (400; 48 on an external engine such as moto,
// which serves one request at a time): hot, every adjustment on the first
// item; independent, each worker on its own items among the 100. Reported:
// both rates (committed adjustments per second of the run), hot /
// independent, and the 409 version_conflict answers per run (the use
// case's attempts exhausted). The setup of a run is outside the timer.
func BenchmarkStockContention(b *testing.B) {
	const workers, levels = 16, 100
	total := 400
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		total = 48
	}
	fresh := func() (*contentionEnv, []string) {
		b.StopTimer()
		defer b.StartTimer()
		e := newContentionEnv(b)
		items := make([]string, levels)
		for i := range items {
			items[i] = e.create(fmt.Sprintf("HOT-%03d", i))
		}
		return e, items
	}
	var hot, indep runStats
	for b.Loop() {
		e, items := fresh()
		hot.add(e.run(workers, total, func(int, int) string { return items[0] }))
		e, items = fresh()
		indep.add(e.run(workers, total, func(w, k int) string {
			// Worker w's items are those i with i % workers == w.
			mine := (levels - w + workers - 1) / workers
			return items[w+workers*(k%mine)]
		}))
	}
	hotRate, indepRate := hot.rate(), indep.rate()
	b.ReportMetric(hotRate, "hot-adj/s")
	b.ReportMetric(indepRate, "indep-adj/s")
	b.ReportMetric(hotRate/indepRate, "hot-vs-indep")
	b.ReportMetric(hot.perRun(hot.conflicts), "hot-409/run")
	b.ReportMetric(indep.perRun(indep.conflicts), "indep-409/run")
	b.ReportMetric(0, "ns/op")
	if hot.other+indep.other > 0 {
		b.Errorf("%d answers other than 201 and 409 version_conflict", hot.other+indep.other)
	}
	fmt.Printf("\nAdjustments on one hot level vs on %d independent levels: %d workers, %d adjustments per run, %d runs each; DynamoDB: %s\n",
		levels, workers, total, hot.runs, engines.DynamoDB)
	fmt.Printf("%-12s %10s %10s %10s %12s\n", "run", "adj/s", "committed", "409s", "409s/run")
	for _, r := range []struct {
		name string
		s    runStats
	}{{"hot", hot}, {"independent", indep}} {
		fmt.Printf("%-12s %10.1f %10d %10d %12.2f\n", r.name, r.s.rate(), r.s.committed, r.s.conflicts, r.s.perRun(r.s.conflicts))
	}
	fmt.Printf("hot / independent: %.3f\n", hotRate/indepRate)
}

type runStats struct {
	runs, committed, conflicts, other int
	elapsed                           time.Duration
}

func (s *runStats) add(r runStats) {
	s.runs++
	s.committed += r.committed
	s.conflicts += r.conflicts
	s.other += r.other
	s.elapsed += r.elapsed
}

func (s runStats) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.committed) / s.elapsed.Seconds()
}

func (s runStats) perRun(n int) float64 {
	if s.runs == 0 {
		return 0
	}
	return float64(n) / float64(s.runs)
}

// contentionEnv is a plain deployment (the stack's own gateway) with a
// client that keeps a connection per worker.
type contentionEnv struct {
	b      *testing.B
	url    string
	client *http.Client
}

func newContentionEnv(b *testing.B) *contentionEnv {
	name := fmt.Sprintf("depot-bench-%d-%d", os.Getpid(), tableSeq.Add(1))
	stack, err := engines.Deploy(context.Background(), lambdafn.Settings{TableName: name, BucketName: strings.ToLower(name)},
		issuer, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatalf("deploy: %v", err)
	}
	srv := httptest.NewServer(stack.Gateway)
	b.Cleanup(srv.Close)
	c := &contentionEnv{b: b, url: srv.URL, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	b.Cleanup(c.client.CloseIdleConnections)
	return c
}

func (e *contentionEnv) post(path, body string) (int, []byte, error) {
	r, err := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tokens[editorEmail])
	resp, err := e.client.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (e *contentionEnv) create(sku string) string {
	status, data, err := e.post("/items", fmt.Sprintf(`{"sku":%q,"name":"Contention bench item","quantity":10}`, sku))
	var item struct{ ID string }
	if err == nil {
		err = json.Unmarshal(data, &item)
	}
	if err != nil || status != http.StatusCreated || item.ID == "" {
		e.b.Fatalf("create %s: %d %v: %s", sku, status, err, data)
	}
	return item.ID
}

// run sends total adjustments of +1 at `default`, total/workers per
// worker, worker w's k-th on the item target(w, k).
func (e *contentionEnv) run(workers, total int, target func(w, k int) string) runStats {
	var mu sync.Mutex
	var s runStats
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		n := total / workers
		if w < total%workers {
			n++
		}
		wg.Go(func() {
			for k := range n {
				status, data, err := e.post("/adjustments", adjustment("received", line{target(w, k), inventory.DefaultLocation, 1}))
				mu.Lock()
				switch {
				case err == nil && status == http.StatusCreated:
					s.committed++
				case err == nil && status == http.StatusConflict && strings.Contains(string(data), `"version_conflict"`):
					s.conflicts++
				default:
					s.other++
					if s.other <= 3 {
						e.b.Logf("adjustment: %d %v: %s", status, err, data)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	return s
}
