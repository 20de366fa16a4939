package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/importfn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// BenchmarkImportWriteUnits measures what a CSV import costs in DynamoDB
// per row (issue 10: "write units per row"), on the engines the suite runs
// on, through the real worker path: ImportItems' handler of the S3 event
// of an uploaded file (importfn.Worker.HandleS3 → ProcessImportUpload →
// RunImport), built from the deployment's settings as the function is
// (lambdafn.NewService), with a capacityDB (bench_stock_test.go) under its
// store, which records every DynamoDB call with its records. Three passes,
// each a sub-benchmark on a table of its own, each iteration one import of
// importBenchRows rows (sku, name, description, tags, quantity; the
// shapes of cmd/depot-bench-csv's synthetic items; 200, 20 on moto,
// DEPOT_IMPORT_BENCH_ROWS overrides):
//
//   - created:   new SKUs (every row creates an item with its opening
//     import ledger line);
//   - unchanged: the file its setup imported, again (nothing to write);
//   - updated:   that file with every name and quantity changed (each row
//     a patch and one import ledger line).
//
// Per row, means over the iterations: the DynamoDB calls the worker made
// (counted by internal/callstats, as its log line reports them, and
// checked against the calls recorded), their RCU and WCU (costOf: the
// engine's ConsumedCapacity where it returns one and is trusted, else
// computed from the records' sizes with §7's units, as BenchmarkStock).
// docs/data-model.md §7 states no floor for an item create or patch, so
// the floor here is computed, and WCU only: the units of the records of
// the rows' own item transactions — the item and what the change consists
// of (SKU marker, level, ledger line, activity, facet rows, tag entries
// and counters) — without the row's idempotency record (the import's
// bookkeeping, what makes a resumed run apply no row twice) and without
// the job's reads and checkpoint saves, both reported apart (idem-wcu/row,
// job-wcu/row). RequestImport (one job Put) is outside the measure. The
// time (ns/op) is not reported: the recorder's side reads are in it;
// cmd/depot-bench-csv -mode import measures rows/s.
//
// make bench-csv runs it on the embedded engines (-benchtime 1x); on moto:
//
//	VENV=.venv tools/with-moto.sh go test -run '^$' -bench BenchmarkImportWriteUnits -benchtime 1x ./internal/itest/
func BenchmarkImportWriteUnits(b *testing.B) {
	useEngineCapacity = !isMoto()
	if !useEngineCapacity {
		importBenchRows = 20
	}
	if v := os.Getenv("DEPOT_IMPORT_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > inventory.MaxImportRows {
			b.Fatalf("DEPOT_IMPORT_BENCH_ROWS=%q: not a number of rows", v)
		}
		importBenchRows = n
	}
	rows := int64(importBenchRows)
	results := map[string]importCostResult{}
	for _, pass := range importBenchPasses {
		b.Run(pass.name, func(b *testing.B) {
			e := newImportBenchEnv(b)
			if pass.setup {
				e.run(e.file(0, 0), inventory.ImportCounts{Rows: rows, Created: rows}, nil)
			}
			var sum importCost
			i := 0
			for b.Loop() {
				sku, rev := 0, 0
				switch pass.name {
				case inventory.RowCreated:
					sku = i * importBenchRows // new SKUs each time
				case inventory.RowUpdated:
					rev = i + 1
				}
				e.run(e.file(sku, rev), pass.want(rows), &sum)
				i++
			}
			r := sum.result()
			r.report(b)
			results[pass.name] = r
		})
	}
	printImportCosts(os.Stdout, results)
}

// importBenchRows is the rows of each import: DEPOT_IMPORT_BENCH_ROWS, or
// 200 (20 on moto: its TransactWriteItems deep-copies the table for each
// action, and its memory grows with them, past 20 GB before the 200-row
// passes ended).
var importBenchRows = 200

var importBenchPasses = []struct {
	name  string
	setup bool // import the file of generation 0 first, unmeasured
	want  func(n int64) inventory.ImportCounts
}{
	{inventory.RowCreated, false, func(n int64) inventory.ImportCounts { return inventory.ImportCounts{Rows: n, Created: n} }},
	{inventory.RowUnchanged, true, func(n int64) inventory.ImportCounts { return inventory.ImportCounts{Rows: n, Unchanged: n} }},
	{inventory.RowUpdated, true, func(n int64) inventory.ImportCounts { return inventory.ImportCounts{Rows: n, Updated: n} }},
}

// Rows in the shapes of cmd/depot-bench-csv's synthetic items: names
// with accents, commas and quotes; descriptions of about 200 bytes (one
// with a line break, one beginning with "=", neutralized in the file);
// 0 to 3 tags.
var (
	importNames = []string{
		`Écrou hexagonal M8, "zingué"`,
		"Vis à bois Ø4×40, tête fraisée",
		`Rondelle plate "large", inox A2`,
		"Câble H07RN-F 3G2,5 — touret 25 m",
		"Straße-Schild, 'Ausfahrt'",
		`Café moulu 250 g, "Crème"`,
		"Brosse à dents, souple; lot de 2",
	}
	importDescriptions = []string{
		`Zinc-plated steel hex nut, class 8, DIN 934. Sold by the box of 100; "self-locking" variant under the -NL suffix. Store dry, away from acids. Fits M8 bolts, washers and threaded rods.`,
		"Vis à bois tête fraisée, empreinte Pozidriv nº2, acier cémenté zingué blanc. Idéale pour l'agencement, les meubles et les lambris ; pré-perçage conseillé dans les bois durs (chêne, hêtre).",
		`=SUM(A1:A9) is what a careless spreadsheet would compute: this description begins with an equals sign on purpose, so the export must neutralize it with a leading apostrophe. Otherwise plain.`,
		"Line one of a two-line description, with a comma, and a \"quote\".\nLine two: Straße, Größe 42, Kühlschrank-Ersatzteil; passt für Modelle ab 2019. Nicht spülmaschinenfest.",
		"-20 °C to +60 °C operating range. Câble souple H07RN-F 3G2,5 mm², gaine caoutchouc noire, conforme NF C 32-102 ; touret de 25 m, coupe à la demande (minimum 5 m).",
		"Café moulu 100 % arabica, torréfaction artisanale à Lyon. Notes de cacao, de noisette et d'agrumes ; paquet refermable de 250 g. Mouture « espresso » sur demande, sans supplément.",
	}
	importTagSets = [][]string{
		{"fasteners", "steel"},
		{"bois", "vis", "intérieur"},
		{"t;1", "@promo"},
		{},
		{"câble", "électrique", `back\slash`},
		{"café"},
	}
)

// importBenchEnv is a deployment, and ImportItems' worker built from its
// settings with a capacityDB under its store.
type importBenchEnv struct {
	b      *testing.B
	bucket string
	svc    *usecase.Service
	worker *importfn.Worker
	cap    *capacityDB
	logs   *lineSink
}

func newImportBenchEnv(b *testing.B) *importBenchEnv {
	b.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("depot-bench-%d-%d", os.Getpid(), tableSeq.Add(1))
	logs := &lineSink{}
	stack, err := engines.Deploy(ctx, lambdafn.Settings{TableName: name, BucketName: strings.ToLower(name)},
		issuer, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		b.Fatalf("deploy: %v", err)
	}
	// ImportItems as Lambda builds it (lambdafn.NewService, as importfn.New),
	// but for a store whose DynamoDB client records every call.
	svc, err := lambdafn.NewService(ctx, stack.Settings)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c := &capacityDB{db: lambdafn.NewDynamoClient(cfg), side: lambdafn.NewDynamoClient(cfg)}
	store := dynamo.New(c, name)
	svc.Store, svc.Jobs, svc.Imports = store, store, store
	logs.take()
	return &importBenchEnv{b: b, bucket: stack.Settings.BucketName, svc: svc, worker: &importfn.Worker{Service: svc},
		cap: c, logs: logs}
}

// importBenchRow is row i of the file of generation rev: SKU-<sku+i>, its
// name and quantity changed from rev 1 on.
func importBenchRow(sku, i, rev int) (code, name, description string, tags []string, quantity int64) {
	n := sku + i
	code = fmt.Sprintf("SKU-%08d", n)
	name = importNames[n%len(importNames)] + " #" + strconv.Itoa(n)
	description = importDescriptions[n%len(importDescriptions)] + " Lot " + strconv.Itoa(n/100) + "."
	tags = importTagSets[n%len(importTagSets)]
	quantity = int64((n*7919)%1000 + n%7)
	if rev > 0 {
		name += fmt.Sprintf(" (rev %d)", rev)
		quantity += int64(rev * (1 + n%13))
	}
	return code, name, description, tags, quantity
}

// file is the import file of importBenchRows rows from SKU-<sku>, of
// generation rev, written as itemcsv writes CSV.
func (e *importBenchEnv) file(sku, rev int) []byte {
	buf := itemcsv.AppendRecord(nil, []string{itemcsv.ColSKU, itemcsv.ColName, itemcsv.ColDescription, itemcsv.ColTags, itemcsv.ColQuantity})
	for i := range importBenchRows {
		code, name, desc, tags, q := importBenchRow(sku, i, rev)
		buf = itemcsv.AppendRecord(buf, []string{code, name, desc, itemcsv.JoinList(tags), strconv.FormatInt(q, 10)})
	}
	return buf
}

// run imports file through the worker: the job requested and the file put
// (unmeasured), then ImportItems' handling of the upload's S3 event, which
// must finish the job with the counts want. With sum, it adds the calls
// the worker made to it.
func (e *importBenchEnv) run(file []byte, want inventory.ImportCounts, sum *importCost) {
	e.b.Helper()
	ctx := context.Background()
	up, _, err := e.svc.RequestImport(ctx, usecase.Request{Actor: editorEmail}, false)
	if err != nil {
		e.b.Fatal(err)
	}
	key := inventory.ImportKey(up.Import.ID)
	if err := e.svc.Objects.Put(ctx, key, usecase.ImportContentType, file); err != nil {
		e.b.Fatal(err)
	}
	e.cap.take()
	e.logs.take()
	if err := e.worker.HandleS3(ctx, s3Event(e.bucket, key)); err != nil {
		e.b.Fatalf("ImportItems: %v", err)
	}
	calls, lines := e.cap.take(), e.logs.take()
	job, err := e.svc.Imports.GetImport(ctx, up.Import.ID)
	e.cap.take()
	if err != nil {
		e.b.Fatal(err)
	}
	// The worker's run finished the job itself: no hand-over to the queue.
	if job.Status != inventory.JobSucceeded || job.Counts != want {
		e.b.Fatalf("import %s: %s %q, counts %+v; want succeeded with %+v", job.ID, job.Status, job.Error, job.Counts, want)
	}
	counted := 0
	for _, l := range lines {
		var m struct {
			Msg      string         `json:"msg"`
			Function string         `json:"function"`
			DDBOps   map[string]int `json:"ddbOps"`
		}
		if err := json.Unmarshal(l, &m); err != nil {
			e.b.Fatalf("log line is not JSON: %s", l)
		}
		if m.Msg == "event" && m.Function == importfn.Function {
			for _, n := range m.DDBOps {
				counted += n
			}
		}
	}
	if counted != len(calls) {
		e.b.Fatalf("ImportItems' log line counts %d DynamoDB calls, %d recorded", counted, len(calls))
	}
	if sum != nil {
		sum.add(e.b, calls, want)
	}
}

// take returns the lines written since the last take.
func (s *lineSink) take() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.lines
	s.lines = nil
	return out
}

// importCost sums the calls of a pass's imports.
type importCost struct {
	rows, imports               int64
	calls, jobCalls             int
	ops                         map[string]int
	rcu, wcu, jobRCU, jobWCU    float64
	floorWCU, idemWCU           float64
	engineCalls, reportedCalls  int
	rowTxs, maxActions, ledgers int
	rowMin, rowMax              float64  // WCU of a row's transaction
	last                        []string // the actions of the last row's transaction, with their WCU
}

// add adds one import's calls (of want.Rows rows), and checks its row
// transactions: one per created or updated row, each with one import
// ledger line; none when every row is unchanged.
func (s *importCost) add(b *testing.B, calls []ddbCall, want inventory.ImportCounts) {
	b.Helper()
	if s.ops == nil {
		s.ops = map[string]int{}
	}
	s.imports++
	s.rows += want.Rows
	txs, ledgers := 0, 0
	for _, c := range calls {
		cc := costOf(c)
		s.calls++
		s.ops[c.op]++
		s.rcu += cc.rcu
		s.wcu += cc.wcu
		if cc.used {
			s.engineCalls++
		}
		if cc.engine {
			s.reportedCalls++
		}
		if isJobCall(c) {
			s.jobCalls++
			s.jobRCU += cc.rcu
			s.jobWCU += cc.wcu
			continue
		}
		in, ok := c.in.(*dynamodb.TransactWriteItemsInput)
		if !ok {
			continue
		}
		if c.err != nil {
			b.Fatalf("a row's transaction failed: %v", c.err)
		}
		txs++
		s.maxActions = max(s.maxActions, len(in.TransactItems))
		if s.rowTxs+txs == 1 || cc.wcu < s.rowMin {
			s.rowMin = cc.wcu
		}
		s.rowMax = max(s.rowMax, cc.wcu)
		item, idem := splitActions(c, func(pk string) bool { return strings.HasPrefix(pk, "IDEM#") })
		fl, id := costOf(item), costOf(idem)
		if math.Abs(fl.compWCU+id.compWCU-cc.compWCU) > 1e-9 {
			b.Fatalf("the actions' WCU (%.1f + %.1f) do not add up to the transaction's (%.1f)", fl.compWCU, id.compWCU, cc.compWCU)
		}
		s.floorWCU += fl.compWCU
		s.idemWCU += id.compWCU
		n := 0
		for _, it := range in.TransactItems {
			if it.Put != nil && recordType(it.Put.Item) == "ledger" {
				n++
				if r, _ := it.Put.Item["reason"].(*types.AttributeValueMemberS); r == nil || r.Value != inventory.ReasonImport {
					b.Fatalf("a row wrote a ledger line of reason %v, want %s", it.Put.Item["reason"], inventory.ReasonImport)
				}
			}
		}
		if n != 1 {
			b.Fatalf("a row's transaction wrote %d ledger lines, want 1 import line", n)
		}
		ledgers += n
		s.last = actionCosts(c)
	}
	if wantTxs := int(want.Created + want.Updated); txs != wantTxs || ledgers != wantTxs {
		b.Fatalf("%d row transactions with %d ledger lines, want %d of each", txs, ledgers, wantTxs)
	}
	s.rowTxs += txs
	s.ledgers += ledgers
}

// pkOf is the partition key of the record an action or a read targets.
func pkOf(m map[string]types.AttributeValue) string {
	if v, ok := m["PK"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func actionPK(it types.TransactWriteItem) string {
	switch {
	case it.Put != nil:
		return pkOf(it.Put.Item)
	case it.Update != nil:
		return pkOf(it.Update.Key)
	case it.Delete != nil:
		return pkOf(it.Delete.Key)
	case it.ConditionCheck != nil:
		return pkOf(it.ConditionCheck.Key)
	}
	return ""
}

// isJobCall is whether a call is the job's: a read or a save of its record
// (PK JOB#<id>, docs/data-model.md §2.10).
func isJobCall(c ddbCall) bool {
	job := func(pk string) bool { return strings.HasPrefix(pk, "JOB#") }
	switch in := c.in.(type) {
	case *dynamodb.GetItemInput:
		return job(pkOf(in.Key))
	case *dynamodb.TransactWriteItemsInput:
		return slices.ContainsFunc(in.TransactItems, func(it types.TransactWriteItem) bool { return job(actionPK(it)) })
	}
	return false
}

// splitActions splits a TransactWriteItems call in two, the actions on
// records whose partition key apart says false, and true, each with the
// records the recorder read for them, so that costOf prices each part.
func splitActions(c ddbCall, apart func(pk string) bool) (rest, matched ddbCall) {
	in := c.in.(*dynamodb.TransactWriteItemsInput)
	rest = ddbCall{op: c.op, in: &dynamodb.TransactWriteItemsInput{}}
	matched = ddbCall{op: c.op, in: &dynamodb.TransactWriteItemsInput{}}
	for i, it := range in.TransactItems {
		p := &rest
		if apart(actionPK(it)) {
			p = &matched
		}
		pin := p.in.(*dynamodb.TransactWriteItemsInput)
		pin.TransactItems = append(pin.TransactItems, it)
		var before, after map[string]types.AttributeValue
		if i < len(c.before) {
			before = c.before[i]
		}
		if i < len(c.after) {
			after = c.after[i]
		}
		p.before, p.after = append(p.before, before), append(p.after, after)
	}
	return rest, matched
}

// actionCosts lists a transaction's actions by kind and record type, with
// their computed WCU: "Put facet ×24: 72.0".
func actionCosts(c ddbCall) []string {
	in := c.in.(*dynamodb.TransactWriteItemsInput)
	type agg struct {
		n   int
		wcu float64
	}
	by := map[string]*agg{}
	var order []string
	for i := range in.TransactItems {
		one := ddbCall{op: c.op, in: &dynamodb.TransactWriteItemsInput{TransactItems: in.TransactItems[i : i+1]}}
		if i < len(c.before) {
			one.before = c.before[i : i+1]
		}
		if i < len(c.after) {
			one.after = c.after[i : i+1]
		}
		cc := costOf(one)
		if by[cc.note] == nil {
			by[cc.note] = &agg{}
			order = append(order, cc.note)
		}
		by[cc.note].n++
		by[cc.note].wcu += cc.compWCU
	}
	var out []string
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s ×%d: %.0f", k, by[k].n, by[k].wcu))
	}
	return out
}

// importCostResult is a pass's means per row.
type importCostResult struct {
	rows, imports               int64
	calls, rcu, wcu             float64
	jobCalls, jobRCU, jobWCU    float64
	floorWCU, idemWCU           float64
	ops                         map[string]float64
	engineCalls, calledTotal    int
	reportedCalls               int
	rowTxs, maxActions, ledgers int
	rowMin, rowMax              float64
	last                        []string
}

func (s importCost) result() importCostResult {
	r := importCostResult{rows: s.rows, imports: s.imports, engineCalls: s.engineCalls, calledTotal: s.calls,
		reportedCalls: s.reportedCalls, rowTxs: s.rowTxs, maxActions: s.maxActions, ledgers: s.ledgers, last: s.last,
		rowMin: s.rowMin, rowMax: s.rowMax,
		ops: map[string]float64{}}
	if s.rows == 0 {
		return r
	}
	n := float64(s.rows)
	r.calls, r.rcu, r.wcu = float64(s.calls)/n, s.rcu/n, s.wcu/n
	r.jobCalls, r.jobRCU, r.jobWCU = float64(s.jobCalls)/n, s.jobRCU/n, s.jobWCU/n
	r.floorWCU, r.idemWCU = s.floorWCU/n, s.idemWCU/n
	for op, c := range s.ops {
		r.ops[op] = float64(c) / n
	}
	return r
}

func (r importCostResult) report(b *testing.B) {
	b.ReportMetric(r.calls, "calls/row")
	b.ReportMetric(r.rcu, "rcu/row")
	b.ReportMetric(r.wcu, "wcu/row")
	b.ReportMetric(r.floorWCU, "floor-wcu/row")
	if x := ratio(r.wcu, r.floorWCU); !math.IsNaN(x) && !math.IsInf(x, 0) {
		b.ReportMetric(x, "wcu-x-floor")
	}
	b.ReportMetric(r.idemWCU, "idem-wcu/row")
	b.ReportMetric(r.jobWCU, "job-wcu/row")
	b.ReportMetric(0, "ns/op") // cmd/depot-bench-csv -mode import measures time
}

func printImportCosts(w io.Writer, results map[string]importCostResult) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\nDynamoDB cost of an import per row (ImportItems' worker, %d-row files; means); DynamoDB: %s\n",
		importBenchRows, engines.DynamoDB)
	fmt.Fprintf(w, "%-10s %5s | %5s %-44s | %5s | %6s %6s %5s | %6s %6s | %8s %s\n",
		"pass", "rows", "calls", "by operation", "RCU", "WCU", "floor", "x", "idem", "job", "capacity", "row tx")
	for _, p := range importBenchPasses {
		r, ok := results[p.name]
		if !ok {
			continue
		}
		var ops []string
		for _, op := range slices.Sorted(maps.Keys(r.ops)) {
			ops = append(ops, fmt.Sprintf("%s %.3g", strings.TrimSuffix(op, "Items"), r.ops[op]))
		}
		x := "-"
		if v := ratio(r.wcu, r.floorWCU); !math.IsNaN(v) {
			x = fmt.Sprintf("%.2f", v)
			if math.IsInf(v, 0) {
				x = "inf"
			}
		}
		src := "computed"
		switch {
		case r.engineCalls >= r.calledTotal && r.calledTotal > 0:
			src = "engine"
		case r.engineCalls > 0:
			src = fmt.Sprintf("mixed %d/%d", r.engineCalls, r.calledTotal)
		}
		tx := "-"
		if r.rowTxs > 0 {
			tx = fmt.Sprintf("%d × ≤%d actions, %.0f to %.0f WCU", r.rowTxs, r.maxActions, r.rowMin, r.rowMax)
		}
		fmt.Fprintf(w, "%-10s %5d | %5.2f %-44s | %5.2f | %6.2f %6.2f %5s | %6.2f %6.3f | %8s %s\n",
			p.name, r.rows, r.calls, strings.Join(ops, ", "), r.rcu, r.wcu, r.floorWCU, x, r.idemWCU, r.jobWCU, src, tx)
	}
	fmt.Fprint(w, "\nThe actions of the last row's transaction of each pass (WCU computed from the records):\n")
	for _, p := range importBenchPasses {
		if r, ok := results[p.name]; ok && len(r.last) > 0 {
			fmt.Fprintf(w, "  %s: %s\n", p.name, strings.Join(r.last, "; "))
		}
	}
	fmt.Fprint(w, `calls, RCU, WCU: per row, means over the passes' imports, everything ImportItems' run did (the job's
reads and checkpoints included; RequestImport not); floor: docs/data-model.md §7 states none for an item
create or patch, so it is computed: the WCU of the records of the rows' item transactions (item, SKU marker,
level, ledger line, activity, facet rows, tag entries and counters), without the row's idempotency record (idem)
and the job's calls (job); x = WCU / floor; capacity: as BenchmarkStock's; row tx: the rows' transactions,
their most actions and their least and most WCU (most of a row's WCU are its search facet rows, §2.7a: one per
search key of its name and SKU, 3 WCU each with GSI1, and a name that passes 32 keys trades them for q*).
`)
	if !useEngineCapacity {
		fmt.Fprint(w, "moto: its ConsumedCapacity figures are constants: not used.\n")
	}
}
