package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/apifn"
)

// BenchmarkOperations measures, per operation, what the functions add on top
// of the DynamoDB calls they make. Each request goes over real loopback HTTP
// through the local gateway to the function's own Lambda handler, and four
// times are taken for it:
//
//   - rt:      the client's round trip (HTTP client, loopback, the gateway's
//     token check and event building, the function, the response written
//     back);
//   - fn:      the function's Lambda handler invocation, event in to response
//     event out: what Lambda runs (API Gateway adapter + the handler below);
//   - handler: durationMs of the request's log line, the net/http handler
//     inside the adapter (routing, auth, JSON, validation, DynamoDB calls,
//     logging);
//   - ddb:     ddbMs of the log line, the time inside the SDK calls the
//     handler made (the SDK middleware in internal/dynamo/counter.go).
//
// The raw baseline: every DynamoDB call the function made is recorded (its
// exact input) and replayed right after the request, with the SDK client
// alone, against a shadow table on the same engine that went through the
// same calls before; raw is the sum of those calls' times. Same engine, same
// run, same calls, same table contents.
//
// Metrics are medians over the requests; overheads compare medians:
// fn-vs-raw-% = (fn - raw) / raw (the goal: < 10 %),
// rt-vs-raw-% = (rt - raw) / raw, handler-vs-ddb-% = (handler - ddb) / ddb,
// rt-vs-ddb-% = (rt - ddb) / ddb. ns/op is the whole iteration, replays and
// any unmeasured setup request (DeleteItem/RestoreItem pairs) included.
//
// `make bench` runs it on the embedded engines and on moto.
func BenchmarkOperations(b *testing.B) {
	results := map[string]opResult{}
	for _, op := range benchOps {
		b.Run(op.name, func(b *testing.B) {
			e := newBenchEnv(b)
			st := op.setup(e)
			i := 0
			for b.Loop() {
				op.step(e, st, i)
				i++
			}
			r := summarize(e.samples)
			r.report(b)
			results[op.name] = r
		})
	}
	printTable(os.Stdout, results)
}

// benchOp is one operation's benchmark: setup prepares the table, step sends
// one measured request of the operation (and may send unmeasured ones).
type benchOp struct {
	name  string
	setup func(e *benchEnv) string
	step  func(e *benchEnv, state string, i int)
}

const benchItem = `{"sku":"%s","name":"Bench item %d","description":"An item of the handler overhead benchmark","quantity":%d,"tags":["bench","tools"],"reorderPoint":2}`

var benchOps = []benchOp{
	{
		name:  "CreateItem",
		setup: func(e *benchEnv) string { return "" },
		step: func(e *benchEnv, _ string, i int) {
			e.send(true, http.StatusCreated, "POST", "/items", fmt.Sprintf(benchItem, fmt.Sprintf("BENCH-C-%d", i), i, 5))
		},
	},
	{
		name:  "GetItem",
		setup: func(e *benchEnv) string { return e.create("BENCH-G", 5) },
		step: func(e *benchEnv, id string, _ int) {
			e.send(true, http.StatusOK, "GET", "/items/"+id, "")
		},
	},
	{
		name: "ListItems",
		setup: func(e *benchEnv) string {
			for i := range 25 {
				e.create(fmt.Sprintf("BENCH-L-%02d", i), i)
			}
			e.expectCount("/items", "items", 25)
			return ""
		},
		step: func(e *benchEnv, _ string, _ int) {
			e.send(true, http.StatusOK, "GET", "/items", "")
		},
	},
	{
		name:  "UpdateItem",
		setup: func(e *benchEnv) string { return e.create("BENCH-U", 0) },
		step: func(e *benchEnv, id string, i int) {
			// Always a new quantity: a write, not a no-op.
			e.send(true, http.StatusOK, "PATCH", "/items/"+id, fmt.Sprintf(`{"quantity":%d}`, i+1))
		},
	},
	{
		name:  "DeleteItem",
		setup: func(e *benchEnv) string { return e.create("BENCH-D", 5) },
		step: func(e *benchEnv, id string, _ int) {
			e.send(true, http.StatusOK, "DELETE", "/items/"+id, "")
			e.send(false, http.StatusOK, "POST", "/items/"+id+"/restore", "")
		},
	},
	{
		name:  "RestoreItem",
		setup: func(e *benchEnv) string { return e.create("BENCH-R", 5) },
		step: func(e *benchEnv, id string, _ int) {
			e.send(false, http.StatusOK, "DELETE", "/items/"+id, "")
			e.send(true, http.StatusOK, "POST", "/items/"+id+"/restore", "")
		},
	},
	{
		name: "ListItemHistory",
		setup: func(e *benchEnv) string {
			id := e.create("BENCH-H", 0)
			for q := 1; q < 10; q++ {
				e.send(false, http.StatusOK, "PATCH", "/items/"+id, fmt.Sprintf(`{"quantity":%d}`, q))
			}
			e.expectCount("/items/"+id+"/history", "entries", 10)
			return id
		},
		step: func(e *benchEnv, id string, _ int) {
			e.send(true, http.StatusOK, "GET", "/items/"+id+"/history", "")
		},
	},
	{
		name: "ListDeletedItems",
		setup: func(e *benchEnv) string {
			for i := range 25 {
				id := e.create(fmt.Sprintf("BENCH-X-%02d", i), i)
				e.send(false, http.StatusOK, "DELETE", "/items/"+id, "")
			}
			e.expectCount("/deleted-items", "items", 25)
			return ""
		},
		step: func(e *benchEnv, _ string, _ int) {
			e.send(true, http.StatusOK, "GET", "/deleted-items", "")
		},
	},
}

// benchEnv is one benchmark's deployment: its table behind the gateway, a
// shadow table for the raw replays, and the samples taken.
type benchEnv struct {
	b           testing.TB
	url         string
	client      *http.Client
	rec         *recordingDB
	raw         *dynamodb.Client
	shadowTable string
	logs        *lineSink
	lastFn      atomic.Int64 // ns of the last function invocation
	samples     []sample
}

type sample struct {
	rt, fn, handler, ddb, raw time.Duration
	calls                     int
}

func newBenchEnv(tb testing.TB) *benchEnv {
	tb.Helper()
	ctx := context.Background()
	n := tableSeq.Add(1)
	name := fmt.Sprintf("depot-bench-%d-%d", os.Getpid(), n)
	e := &benchEnv{b: tb, logs: &lineSink{}, rec: &recordingDB{}, shadowTable: name + "-raw"}
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	settings := lambdafn.Settings{TableName: name, BucketName: strings.ToLower(name), Logger: logger}
	// Deploy creates the tables (from template.yaml) and the bucket.
	if _, err := engines.Deploy(ctx, settings, issuer, logger); err != nil {
		tb.Fatalf("deploy: %v", err)
	}
	shadow := settings
	shadow.TableName, shadow.BucketName = e.shadowTable, strings.ToLower(e.shadowTable)
	if _, err := engines.Deploy(ctx, shadow, issuer, slog.New(slog.DiscardHandler)); err != nil {
		tb.Fatalf("deploy shadow table: %v", err)
	}
	// Deploy logs the seeding of the default location (an event line, not
	// a request's): drop it, so that each request's lines are its own.
	e.logs.mu.Lock()
	e.logs.lines = nil
	e.logs.mu.Unlock()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	// The functions' dependencies exactly as Lambda builds them, but for a
	// store whose DynamoDB client records each call's input.
	deps, err := apifn.Build(ctx, settings)
	if err != nil {
		tb.Fatal(err)
	}
	e.rec.db = lambdafn.NewDynamoClient(cfg)
	store := dynamo.New(e.rec, name)
	deps.Service.Store, deps.Service.Shipments = store, store
	e.raw = lambdafn.NewDynamoClient(cfg)

	handlers := map[string]apifn.Handler{}
	for _, r := range httpapi.Routes {
		h, err := apifn.New(r.Function, deps)
		if err != nil {
			tb.Fatal(err)
		}
		handlers[r.Function] = func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			start := time.Now()
			resp, err := h(ctx, ev)
			e.lastFn.Store(int64(time.Since(start)))
			return resp, err
		}
	}
	// The gateway verifies the editor's token as in the suite (API
	// Gateway's work: in rt, not in fn).
	jwks, err := issuer.JWKS()
	if err != nil {
		tb.Fatal(err)
	}
	verifier, err := localauth.NewVerifier(jwks, localauth.IssuerURL, localauth.Audience)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(localrun.NewGateway(handlers, verifier, jwks, logger))
	tb.Cleanup(srv.Close)
	e.url = srv.URL
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	tb.Cleanup(e.client.CloseIdleConnections)
	return e
}

// exchange sends one request as who over real HTTP, checks its status, and
// returns its body and round-trip time.
func (e *benchEnv) exchange(who string, want int, method, path, body string) ([]byte, time.Duration) {
	e.b.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.b.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+tokens[who])
	start := time.Now()
	resp, err := e.client.Do(r)
	if err != nil {
		e.b.Fatalf("%s %s: %v", method, path, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	rt := time.Since(start)
	if err != nil {
		e.b.Fatal(err)
	}
	if resp.StatusCode != want {
		e.b.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	return data, rt
}

// send sends one request, checks its status, replays its DynamoDB calls on
// the shadow table and, if measure, keeps its sample.
func (e *benchEnv) send(measure bool, want int, method, path, body string) []byte {
	e.lastFn.Store(-1)
	data, rt := e.exchange(editorEmail, want, method, path, body)
	fn := time.Duration(e.lastFn.Load())
	if fn < 0 {
		e.b.Fatalf("%s %s: the gateway did not invoke a function", method, path)
	}
	line := e.logs.request(e.b)
	calls := e.rec.take()
	if line.DDBCalls != len(calls) {
		e.b.Fatalf("%s %s: log line counts %d DynamoDB calls, %d recorded", method, path, line.DDBCalls, len(calls))
	}
	var raw time.Duration
	for _, c := range calls {
		raw += e.replay(c)
	}
	if measure {
		e.samples = append(e.samples, sample{
			rt: rt, fn: fn, raw: raw, calls: len(calls),
			handler: msDuration(line.DurationMs), ddb: msDuration(line.DDBMs),
		})
	}
	return data
}

// create creates an item (unmeasured) and returns its id.
func (e *benchEnv) create(sku string, quantity int) string {
	var item struct{ ID string }
	data := e.send(false, http.StatusCreated, "POST", "/items", fmt.Sprintf(benchItem, sku, 0, quantity))
	if err := json.Unmarshal(data, &item); err != nil || item.ID == "" {
		e.b.Fatalf("create %s: %v: %s", sku, err, data)
	}
	return item.ID
}

// expectCount checks that a list answers n entries in its field.
func (e *benchEnv) expectCount(path, field string, n int) {
	var page map[string]json.RawMessage
	var list []json.RawMessage
	data := e.send(false, http.StatusOK, "GET", path, "")
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

// replay makes the call again with the SDK client alone, on the shadow
// table, and returns its time. The shadow table went through the same calls
// before, so the call finds the same items and must end the same way.
func (e *benchEnv) replay(c dbCall) time.Duration {
	ctx := context.Background()
	table := &e.shadowTable
	var err error
	var d time.Duration
	switch in := c.in.(type) {
	case *dynamodb.GetItemInput:
		cp := *in
		cp.TableName = table
		start := time.Now()
		_, err = e.raw.GetItem(ctx, &cp)
		d = time.Since(start)
	case *dynamodb.QueryInput:
		cp := *in
		cp.TableName = table
		start := time.Now()
		_, err = e.raw.Query(ctx, &cp)
		d = time.Since(start)
	case *dynamodb.BatchGetItemInput:
		cp := *in
		cp.RequestItems = map[string]types.KeysAndAttributes{}
		for _, ka := range in.RequestItems {
			cp.RequestItems[*table] = ka
		}
		start := time.Now()
		_, err = e.raw.BatchGetItem(ctx, &cp)
		d = time.Since(start)
	case *dynamodb.TransactWriteItemsInput:
		cp := *in
		// The SDK filled in the caller's ClientRequestToken; let it make a
		// new one, as it did for the function.
		cp.ClientRequestToken = nil
		cp.TransactItems = make([]types.TransactWriteItem, len(in.TransactItems))
		for i, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				p := *it.Put
				p.TableName = table
				it.Put = &p
			case it.Delete != nil:
				d := *it.Delete
				d.TableName = table
				it.Delete = &d
			case it.Update != nil:
				u := *it.Update
				u.TableName = table
				it.Update = &u
			case it.ConditionCheck != nil:
				k := *it.ConditionCheck
				k.TableName = table
				it.ConditionCheck = &k
			}
			cp.TransactItems[i] = it
		}
		start := time.Now()
		_, err = e.raw.TransactWriteItems(ctx, &cp)
		d = time.Since(start)
	default:
		e.b.Fatalf("no replay for %T", c.in)
	}
	if (err != nil) != (c.err != nil) {
		e.b.Fatalf("replayed %s ended with %v; the function's call with %v", c.op, err, c.err)
	}
	return d
}

// recordingDB is the store's DynamoDB client, recording each call's input.
type recordingDB struct {
	db    dynamo.API
	mu    sync.Mutex
	calls []dbCall
}

type dbCall struct {
	op  string
	in  any
	err error
}

var _ dynamo.API = (*recordingDB)(nil)

func (r *recordingDB) add(op string, in any, err error) {
	r.mu.Lock()
	r.calls = append(r.calls, dbCall{op: op, in: in, err: err})
	r.mu.Unlock()
}

func (r *recordingDB) take() []dbCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recordingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := r.db.GetItem(ctx, in, opts...)
	r.add("GetItem", in, err)
	return out, err
}

func (r *recordingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := r.db.BatchGetItem(ctx, in, opts...)
	r.add("BatchGetItem", in, err)
	return out, err
}

func (r *recordingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := r.db.Query(ctx, in, opts...)
	r.add("Query", in, err)
	return out, err
}

func (r *recordingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := r.db.TransactWriteItems(ctx, in, opts...)
	r.add("TransactWriteItems", in, err)
	return out, err
}

// lineSink keeps the log lines the functions write.
type lineSink struct {
	mu    sync.Mutex
	lines [][]byte
}

func (s *lineSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.lines = append(s.lines, bytes.Clone(p))
	s.mu.Unlock()
	return len(p), nil
}

type requestLine struct {
	Msg        string  `json:"msg"`
	Level      string  `json:"level"`
	DurationMs float64 `json:"durationMs"`
	DDBMs      float64 `json:"ddbMs"`
	DDBCalls   int     `json:"ddbCalls"`
}

// request returns the one request line logged since the last call; any
// other line (an error) fails the benchmark.
func (s *lineSink) request(tb testing.TB) requestLine {
	s.mu.Lock()
	lines := s.lines
	s.lines = nil
	s.mu.Unlock()
	var out []requestLine
	for _, l := range lines {
		var m requestLine
		if err := json.Unmarshal(l, &m); err != nil {
			tb.Fatalf("log line is not JSON: %s", l)
		}
		if m.Msg != "request" {
			tb.Fatalf("unexpected log line: %s", l)
		}
		out = append(out, m)
	}
	if len(out) != 1 {
		tb.Fatalf("%d request log lines, want 1", len(out))
	}
	return out[0]
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// opResult is one operation's medians.
type opResult struct {
	n, calls                  int
	rt, fn, handler, ddb, raw time.Duration
}

func summarize(s []sample) opResult {
	pick := func(f func(sample) time.Duration) time.Duration {
		v := make([]time.Duration, len(s))
		for i, x := range s {
			v[i] = f(x)
		}
		return median(v)
	}
	r := opResult{n: len(s)}
	if len(s) > 0 {
		r.calls = s[len(s)-1].calls
	}
	r.rt = pick(func(x sample) time.Duration { return x.rt })
	r.fn = pick(func(x sample) time.Duration { return x.fn })
	r.handler = pick(func(x sample) time.Duration { return x.handler })
	r.ddb = pick(func(x sample) time.Duration { return x.ddb })
	r.raw = pick(func(x sample) time.Duration { return x.raw })
	return r
}

func median(v []time.Duration) time.Duration {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// overhead is how much more a is than base, in percent of base.
func overhead(a, base time.Duration) float64 {
	if base <= 0 {
		return 0
	}
	return float64(a-base) / float64(base) * 100
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r opResult) report(b *testing.B) {
	b.ReportMetric(ms(r.rt), "median-rt-ms")
	b.ReportMetric(ms(r.fn), "median-fn-ms")
	b.ReportMetric(ms(r.handler), "median-handler-ms")
	b.ReportMetric(ms(r.ddb), "median-ddb-ms")
	b.ReportMetric(ms(r.raw), "median-raw-ddb-ms")
	b.ReportMetric(overhead(r.fn, r.raw), "fn-vs-raw-%")
	b.ReportMetric(overhead(r.rt, r.raw), "rt-vs-raw-%")
	b.ReportMetric(overhead(r.handler, r.ddb), "handler-vs-ddb-%")
	b.ReportMetric(overhead(r.rt, r.ddb), "rt-vs-ddb-%")
}

func printTable(w io.Writer, results map[string]opResult) {
	if len(results) == 0 {
		return
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	fmt.Fprintf(w, "\nHandler overhead per operation, medians in ms; DynamoDB: %s\n", engines.DynamoDB)
	fmt.Fprintf(w, "%-16s %4s %5s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n",
		"operation", "n", "calls", "rt", "fn", "handler", "ddb", "raw", "fn-raw", "adapter",
		"fn/raw", "rt/raw", "hdl/ddb")
	fmt.Fprintf(w, "%-16s %4s %5s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n",
		"", "", "", "ms", "ms", "ms", "ms", "ms", "us", "us", "%", "%", "%")
	for _, op := range benchOps {
		r, ok := results[op.name]
		if !ok {
			continue
		}
		goal := "ok"
		if overhead(r.fn, r.raw) >= 10 {
			goal = "OVER"
		}
		fmt.Fprintf(w, "%-16s %4d %5d %8.3f %8.3f %8.3f %8.3f %8.3f %8.0f %8.0f %+8.1f %+8.1f %+8.1f  %s\n",
			op.name, r.n, r.calls, ms(r.rt), ms(r.fn), ms(r.handler), ms(r.ddb), ms(r.raw),
			us(r.fn-r.raw), us(r.fn-r.handler),
			overhead(r.fn, r.raw), overhead(r.rt, r.raw), overhead(r.handler, r.ddb), goal)
	}
	fmt.Fprint(w, `rt: client round trip through the local gateway (HTTP, token check, event, function, response);
fn: the function's Lambda handler, event to response event; adapter = fn - handler;
handler: in-handler durationMs of the log line; ddb: its ddbMs (SDK calls inside the handler);
raw: the same DynamoDB calls replayed with the SDK client alone on a twin table, same engine, same run.
Goal (issue): fn/raw under +10% (ok / OVER).
`)
}
