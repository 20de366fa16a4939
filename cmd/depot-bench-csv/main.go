// Command depot-bench-csv measures the CSV jobs of issue 10 (make
// bench-csv): throughput (rows/s) and peak memory (the process's peak RSS,
// VmHWM) of one job over a synthetic catalogue of N items.
//
//	depot-bench-csv -mode export -items 1000000 [-include stock,groups]
//
// runs one export — the job saved queued, as usecase.RequestExport saves
// it (without the hand-over to the worker's queue: the worker is here),
// then usecase.RunExport with a far deadline — and prints one JSON line:
// items, rows, bytes, parts, seconds, rows/s, peak RSS, Go heap in use,
// the SHA-256 of the file, and the store calls it made.
//
//	depot-bench-csv -mode export-ratio -sizes 100000,1000000 -runs 5
//
// runs the mode before "-ratio" at each size, -runs rounds, each run in a
// process of its own (this command again), so that each peak RSS is that
// run's alone; prints each run's line, then per size the median rows/s
// and peak RSS, and the ratio of the median peak RSS of the largest size
// over the smallest's against the goal (< 1.3: what the job holds must
// not grow with the catalogue). Peak RSS varies from run to run of one
// size by a 4 MiB step of heap growth or two (when the GC lets the heap
// overshoot its goal, more often on a loaded machine), hence the medians.
// Any mode gets its -ratio form: a new mode is one function in modes.
//
//	depot-bench-csv -mode import -rows 100000 [-index-levels] [-cpuprofile cpu.pprof]
//
// measures the import (issue 10: "Import 100k rows: rows/s"): it builds a
// CSV file of N rows (sku, name, description, tags, quantity: the
// synthetic items' names, descriptions of about 200 bytes, tags and
// quantities) and runs it through usecase.RequestImport and RunImport on
// the in-memory ports (internal/dev/memstore: the Store, an ImportStore
// on it, Objects for the file, its chunks and the results) three times:
// into an empty catalogue (every row created, with its opening import
// ledger line), the same file again (every row unchanged: nothing
// written), and a file in which every row's name and quantity changed
// (every row updated, with one import ledger line). It prints one JSON
// line per pass — rows, bytes, seconds and rows/s from the request to
// the job's success, the CPU seconds the process used meanwhile, the
// job's counts, the item and job saves the store committed, the ledger
// lines added — after checking every item against its row (name,
// quantity, version, ledger); a count or an item that is not what the
// pass must make is an error (exit status 2). The time is the import's
// on memstore, maps behind one mutex: the ports' costs are in it,
// DynamoDB's are not (internal/itest's BenchmarkImportWriteUnits measures
// those: calls, RCU and WCU per row). memstore's ListLevels scans every
// level of every item, and an unchanged or updated row with a quantity
// reads its item's levels: those passes cost in proportion to the
// catalogue per row, minutes at 100k rows where creating them takes
// seconds; -index-levels reads the item's level at each location by key
// instead (as DynamoDB's Query of the item's partition does), to measure
// the import rather than the scan. With -cpuprofile, each pass writes a
// CPU profile of its own (the path with "-<pass>" before its extension).
// It has no -ratio form.
//
// The catalogue is synthetic, neither the local engines (which cannot hold
// a million items) nor an in-memory store (which would put the data in the
// process whose memory is measured): a usecase.Store that makes item i
// from i alone when it is listed — SKU "SKU-%08d", a name with accents,
// commas and quotes, tags, a description of about 200 bytes, a few stock
// levels, group memberships — and holds none of them. Only the methods an
// export calls have bodies (the others are the nil usecase.Store embedded:
// a call is a nil pointer panic, its trace at the line of the call); each
// counts its calls, printed with the run. The file goes to a Multipart that checks the upload as S3 does
// (parts numbered in order, every part but the last at least 5 MiB), counts
// its bytes and hashes them in order, and keeps nothing.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/usecase"
	"github.com/oklog/ulid/v2"
)

// options are the command's flags.
type options struct {
	items       int
	include     []string
	partSize    int // 0: usecase.DefaultExportPartSize
	timeout     time.Duration
	sizes       []int // -ratio modes
	runs        int   // -ratio modes: runs of each size
	memProfile  string
	rows        int    // -mode import: rows of the file
	cpuProfile  string // -mode import: a CPU profile per pass
	indexLevels bool   // -mode import: ListLevels by key, not memstore's scan
}

// result is what one run measured: the JSON line it prints.
type result struct {
	Mode       string           `json:"mode"`
	Items      int              `json:"items"`
	Include    string           `json:"include,omitempty"`
	Rows       int64            `json:"rows"`
	Bytes      int64            `json:"bytes"`
	Parts      int              `json:"parts"`
	PartSize   int              `json:"part_size"`
	Seconds    float64          `json:"seconds"`
	RowsPerS   float64          `json:"rows_per_s"`
	PeakRSS    int64            `json:"peak_rss_bytes"`   // VmHWM at the end
	HeapInuse  uint64           `json:"heap_inuse_bytes"` // at the end
	HeapSys    uint64           `json:"heap_sys_bytes"`   // heap memory obtained from the OS
	TotalAlloc uint64           `json:"total_alloc_bytes"`
	GCCycles   uint32           `json:"gc_cycles"`
	SHA256     string           `json:"sha256"` // of the file: the parts in order
	StoreCalls map[string]int64 `json:"store_calls"`
	GoMaxProcs int              `json:"gomaxprocs"`
	GoVersion  string           `json:"go_version"`
	GOGC       string           `json:"gogc,omitempty"`
	GOMEMLIMIT string           `json:"gomemlimit,omitempty"`
	MemProfile string           `json:"mem_profile,omitempty"`
}

// A mode runs one job and measures it.
type mode func(ctx context.Context, o options) (result, error)

// modes are the jobs measured; each also has a "-ratio" form (ratio).
var modes = map[string]mode{
	"export": exportMode,
}

const ratioSuffix = "-ratio"

// RSSGoal is the goal of issue 10: peak RSS of the largest run over that
// of the smallest, below this.
const RSSGoal = 1.3

func main() {
	o, name, err := parseFlags(os.Args[1:])
	if err == nil {
		err = run(context.Background(), name, o, os.Stdout)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "depot-bench-csv:", err)
		}
		os.Exit(2)
	}
}

func parseFlags(args []string) (options, string, error) {
	fs := flag.NewFlagSet("depot-bench-csv", flag.ContinueOnError)
	names := slices.Sorted(maps.Keys(modes))
	var all []string
	for _, n := range names {
		all = append(all, n, n+ratioSuffix)
	}
	all = append(all, importModeName)
	name := fs.String("mode", "export", "what to measure: "+strings.Join(all, ", "))
	items := fs.Int("items", 100_000, "items in the synthetic catalogue (a single run)")
	include := fs.String("include", "", `the export's inclusions, comma-separated: "stock", "groups"`)
	partSize := fs.Int("part-size", 0, "bytes a part grows to before it is uploaded (0: the service's default, 8 MiB)")
	timeout := fs.Duration("timeout", 10*time.Minute, "the longest a run may take (each run, in a -ratio mode)")
	sizes := fs.String("sizes", "100000,1000000", "catalogue sizes of a -ratio mode, comma-separated, smallest first")
	runs := fs.Int("runs", 1, "runs of each size in a -ratio mode (the summary takes medians)")
	memProfile := fs.String("memprofile", "", "write a heap profile (alloc_space, inuse_space) here at the end of a single run")
	rows := fs.Int("rows", 100_000, "rows of the file (-mode import)")
	cpuProfile := fs.String("cpuprofile", "", `-mode import: write a CPU profile of each pass (the path with "-<pass>" before its extension)`)
	indexLevels := fs.Bool("index-levels", false, "-mode import: read an item's levels by key (its level at each location) instead of memstore's ListLevels, which scans every level of every item")
	if err := fs.Parse(args); err != nil {
		return options{}, "", err
	}
	if fs.NArg() > 0 {
		return options{}, "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := options{items: *items, partSize: *partSize, timeout: *timeout, runs: *runs, memProfile: *memProfile,
		rows: *rows, cpuProfile: *cpuProfile, indexLevels: *indexLevels}
	for _, inc := range strings.Split(*include, ",") {
		if inc = strings.TrimSpace(inc); inc != "" {
			o.include = append(o.include, inc)
		}
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return o, "", fmt.Errorf("-sizes: %q is not a number of items", s)
		}
		o.sizes = append(o.sizes, n)
	}
	switch {
	case o.items < 0 || o.items > maxItems:
		return o, "", fmt.Errorf("-items must be 0 to %d", maxItems)
	case o.rows < 1 || o.rows > inventory.MaxImportRows:
		return o, "", fmt.Errorf("-rows must be 1 to %d", inventory.MaxImportRows)
	case o.timeout <= 0:
		return o, "", errors.New("-timeout must be positive")
	case o.runs < 1 || o.runs > 25:
		return o, "", errors.New("-runs must be 1 to 25")
	}
	return o, *name, nil
}

// run runs a mode, or its -ratio form, and prints its lines to w.
func run(ctx context.Context, name string, o options, w io.Writer) error {
	if base, ok := strings.CutSuffix(name, ratioSuffix); ok {
		if _, ok := modes[base]; ok {
			return ratio(ctx, base, o, w, selfRunner)
		}
	}
	if name == importModeName {
		ctx, cancel := context.WithTimeout(ctx, o.timeout)
		defer cancel()
		return importMode(ctx, o, w)
	}
	m, ok := modes[name]
	if !ok {
		return fmt.Errorf("no mode %q", name)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := m(ctx, o)
	if err != nil {
		return err
	}
	res.Mode = name
	measureProcess(&res)
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return err
		}
		res.MemProfile = o.memProfile
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}

// measureProcess fills in the process's figures, at the end of a run.
func measureProcess(res *result) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.PeakRSS = peakRSS()
	res.HeapInuse, res.HeapSys, res.TotalAlloc, res.GCCycles = ms.HeapInuse, ms.HeapSys, ms.TotalAlloc, ms.NumGC
	res.GoMaxProcs, res.GoVersion = runtime.GOMAXPROCS(0), runtime.Version()
	res.GOGC, res.GOMEMLIMIT = os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT")
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes; -1
// where /proc/self/status does not tell (not Linux).
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ----- the export -----

// exportMode exports the synthetic catalogue once.
func exportMode(ctx context.Context, o options) (result, error) {
	res, _, err := runExport(ctx, o, &sink{})
	return res, err
}

// runExport runs one export of o.items synthetic items into out, and
// returns what it measured and the catalogue (for its call counts).
func runExport(ctx context.Context, o options, out *sink) (result, *catalogue, error) {
	cat := newCatalogue(o.items)
	svc := &usecase.Service{
		Store:          cat,
		Jobs:           memstore.NewExports(memstore.NewUnseeded()),
		Multipart:      out,
		Files:          out,
		ExportPartSize: o.partSize,
	}
	res := result{Items: o.items, Include: strings.Join(o.include, ","), PartSize: o.partSize}
	if res.PartSize == 0 {
		res.PartSize = usecase.DefaultExportPartSize
	}
	start := time.Now()
	// What RequestExport saves, without its hand-over to the worker's
	// queue (the run is right here) or an idempotency record.
	in := inventory.ExportInput{Include: o.include}
	if err := in.Validate(); err != nil {
		return res, cat, err
	}
	job := inventory.NewExport(in, "user:bench", start)
	if err := svc.Jobs.SaveExport(ctx, inventory.ExportChange{Next: job}); err != nil {
		return res, cat, fmt.Errorf("queue the export: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(24 * time.Hour)
	}
	done, err := svc.RunExport(ctx, job.ID, deadline)
	switch {
	case err != nil:
		return res, cat, fmt.Errorf("run the export: %w", err)
	case !done:
		return res, cat, fmt.Errorf("the export was not done by its deadline (%s): raise -timeout", deadline.Sub(start).Round(time.Second))
	}
	elapsed := time.Since(start)
	if job, err = svc.Jobs.GetExport(ctx, job.ID); err != nil {
		return res, cat, err
	}
	if job.Status != inventory.JobSucceeded {
		return res, cat, fmt.Errorf("the export ended %s: %s", job.Status, job.Error)
	}
	if !out.completed {
		return res, cat, errors.New("the export succeeded without completing its upload")
	}
	if job.Bytes != out.bytes {
		return res, cat, fmt.Errorf("the job counts %d bytes, the upload %d", job.Bytes, out.bytes)
	}
	res.Rows, res.Bytes, res.Parts = job.Rows, job.Bytes, len(out.sizes)
	res.Seconds = elapsed.Seconds()
	if res.Seconds > 0 {
		res.RowsPerS = float64(res.Rows) / res.Seconds
	}
	res.SHA256 = out.Digest()
	res.StoreCalls = cat.calls
	if res.Rows != int64(o.items) {
		return res, cat, fmt.Errorf("exported %d rows of %d items", res.Rows, o.items)
	}
	return res, cat, nil
}

// ----- the import -----

// importModeName is the import's mode: three passes, a line each, so not
// one of modes (which print one line and get a -ratio form).
const importModeName = "import"

// importPass is one pass of the import mode: the file of generation rev
// (0: the items as the catalogue makes them; 1: every name and quantity
// changed), and the counts the job must end with.
type importPass struct {
	name string
	rev  int
	want func(n int64) inventory.ImportCounts
}

var importPasses = []importPass{
	{inventory.RowCreated, 0, func(n int64) inventory.ImportCounts { return inventory.ImportCounts{Rows: n, Created: n} }},
	{inventory.RowUnchanged, 0, func(n int64) inventory.ImportCounts { return inventory.ImportCounts{Rows: n, Unchanged: n} }},
	{inventory.RowUpdated, 1, func(n int64) inventory.ImportCounts { return inventory.ImportCounts{Rows: n, Updated: n} }},
}

// importResult is what one pass measured: the JSON line it prints.
type importResult struct {
	Mode string `json:"mode"`
	Pass string `json:"pass"`
	// IndexLevels: -index-levels (the items' levels read by key).
	IndexLevels bool    `json:"index_levels,omitempty"`
	Rows        int64   `json:"rows"`
	Bytes       int     `json:"bytes"` // of the file
	Seconds     float64 `json:"seconds"`
	RowsPerS    float64 `json:"rows_per_s"`
	// CPUSeconds is the process's CPU time (user and system) in the pass:
	// on a loaded machine, rows/s falls and this does not.
	CPUSeconds float64 `json:"cpu_seconds"`
	Created    int64   `json:"created"`
	Updated    int64   `json:"updated"`
	Unchanged  int64   `json:"unchanged"`
	Failed     int64   `json:"failed"`
	// ItemSaves are the item changes the store committed (a row's item,
	// levels, ledger, activity and idempotency record are one); JobSaves
	// the saves of the job (its request's and its checkpoints).
	ItemSaves   int    `json:"item_saves"`
	JobSaves    int64  `json:"job_saves"`
	LedgerLines int    `json:"ledger_lines"` // added by the pass, every one an import line
	ResultRows  int    `json:"result_rows"`  // rows of the results file, its header apart
	PeakRSS     int64  `json:"peak_rss_bytes"`
	HeapInuse   uint64 `json:"heap_inuse_bytes"`
	GoMaxProcs  int    `json:"gomaxprocs"`
	GoVersion   string `json:"go_version"`
	CPUProfile  string `json:"cpu_profile,omitempty"`
}

// importMode runs the three passes and prints a line for each.
func importMode(ctx context.Context, o options, w io.Writer) error {
	return runImport(ctx, o, func(r importResult) error {
		line, err := json.Marshal(r)
		if err == nil {
			_, err = fmt.Fprintf(w, "%s\n", line)
		}
		return err
	})
}

// runImport runs the passes of the import of o.rows rows, each checked,
// and hands each pass's result to report as it ends.
func runImport(ctx context.Context, o options, report func(importResult) error) error {
	b := newImportBench(o.rows, o.indexLevels)
	for _, p := range importPasses {
		res, err := b.pass(ctx, o, p)
		if err != nil {
			return fmt.Errorf("import pass %q: %w", p.name, err)
		}
		if err := report(res); err != nil {
			return err
		}
	}
	return nil
}

// importBench is the in-memory deployment the passes run on, and what it
// knows of the items the passes made.
type importBench struct {
	n       int
	cat     *catalogue // the rows' names, descriptions, tags, quantities
	store   *memstore.Store
	objects *memstore.Objects
	jobs    *countedImports
	svc     *usecase.Service
	ids     []string // item i's id, once created
	lines   []int    // item i's ledger lines
	rev     int      // the generation of the rows the items hold
}

// countedImports counts the saves of import jobs.
type countedImports struct {
	usecase.ImportStore
	saves atomic.Int64
}

func (c *countedImports) SaveImport(ctx context.Context, ch inventory.ImportChange) error {
	c.saves.Add(1)
	return c.ImportStore.SaveImport(ctx, ch)
}

func newImportBench(n int, indexLevels bool) *importBench {
	store, objects := memstore.New(), memstore.NewObjects()
	jobs := &countedImports{ImportStore: memstore.NewImports(store)}
	var ports usecase.Store = store
	if indexLevels {
		ports = newLevelsByKey(store)
	}
	svc := &usecase.Service{Store: ports, Objects: objects, Files: objects, Multipart: objects, Imports: jobs,
		ImportQueue: &memstore.Queue{}, Signer: memstore.Signer{Now: time.Now}, Logger: slog.New(slog.DiscardHandler)}
	return &importBench{n: n, cat: newCatalogue(n), store: store, objects: objects, jobs: jobs, svc: svc,
		ids: make([]string, n), lines: make([]int, n)}
}

// levelsByKey is a memstore.Store whose ListLevels reads the item's level
// at each live location by key (Store.Stock), in location id order, as
// memstore's does: the same levels here, where locations are neither
// created nor deleted, without memstore's scan of every level of every
// item (which makes each row that reads its item's levels, every
// unchanged or updated row with a quantity, cost in proportion to the
// catalogue). DynamoDB's is a Query of the item's partition.
type levelsByKey struct {
	*memstore.Store
	locations []string // ids, ascending
}

func newLevelsByKey(store *memstore.Store) *levelsByKey {
	s := &levelsByKey{Store: store}
	locs, _, _ := store.ListLocations(context.Background(), inventory.Range{Limit: 1000}) // memstore's never fails
	for _, l := range locs {
		s.locations = append(s.locations, l.ID)
	}
	slices.Sort(s.locations)
	return s
}

func (s *levelsByKey) ListLevels(_ context.Context, itemID string) ([]inventory.Level, error) {
	var out []inventory.Level
	for _, loc := range s.locations {
		if l, ok := s.Store.Stock(itemID, loc); ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// importColumns are the import file's columns.
var importColumns = []string{itemcsv.ColSKU, itemcsv.ColName, itemcsv.ColDescription, itemcsv.ColTags, itemcsv.ColQuantity}

// importRow is what row i of the file of generation rev says: the
// catalogue's item i, its name and quantity changed from rev 1 on.
func (b *importBench) importRow(i, rev int) (it inventory.Item) {
	it = b.cat.item(i)
	if rev > 0 {
		it.Name += fmt.Sprintf(" (rev %d)", rev)
		it.Quantity += int64(rev * (1 + i%13))
	}
	return it
}

// file is the import file of generation rev, as AppendRecord writes a
// CSV file (quoted, neutralized, CRLF; the tags a list cell).
func (b *importBench) file(rev int) []byte {
	buf := itemcsv.AppendRecord(make([]byte, 0, 320*b.n+64), importColumns)
	for i := range b.n {
		it := b.importRow(i, rev)
		buf = itemcsv.AppendRecord(buf, []string{it.SKU, it.Name, it.Description, itemcsv.JoinList(it.Tags),
			strconv.FormatInt(it.Quantity, 10)})
	}
	return buf
}

// pass runs one pass — the job requested, its file uploaded, the job run
// to its end — timed, and checks what it did.
func (b *importBench) pass(ctx context.Context, o options, p importPass) (importResult, error) {
	res := importResult{Mode: importModeName, Pass: p.name, Rows: int64(b.n), IndexLevels: o.indexLevels}
	data := b.file(p.rev)
	res.Bytes = len(data)
	if len(data) > inventory.MaxImportBytes {
		return res, fmt.Errorf("a file of %d rows is %d bytes, over the %d an import takes: use fewer -rows", b.n, len(data), inventory.MaxImportBytes)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(24 * time.Hour)
	}
	saves, jobSaves := b.store.Saves(), b.jobs.saves.Load()
	runtime.GC() // the garbage of the file and of the pass before is not this pass's
	stopProfile, err := startCPUProfile(o.cpuProfile, p.name)
	if err != nil {
		return res, err
	}
	res.CPUProfile = profilePath(o.cpuProfile, p.name)
	cpu := cpuTime()
	start := time.Now()
	up, _, err := b.svc.RequestImport(ctx, usecase.Request{Actor: "user:bench"}, false)
	if err != nil {
		stopProfile()
		return res, fmt.Errorf("request the import: %w", err)
	}
	id := up.Import.ID
	if err := b.objects.Put(ctx, inventory.ImportKey(id), usecase.ImportContentType, data); err != nil {
		stopProfile()
		return res, err
	}
	data = nil
	done, err := b.svc.RunImport(ctx, id, deadline)
	elapsed := time.Since(start)
	res.CPUSeconds = (cpuTime() - cpu).Seconds()
	stopProfile()
	switch {
	case err != nil:
		return res, fmt.Errorf("run the import: %w", err)
	case !done:
		return res, fmt.Errorf("the import was not done by its deadline (%s): raise -timeout", time.Until(deadline).Round(time.Second))
	}
	res.Seconds = elapsed.Seconds()
	if res.Seconds > 0 {
		res.RowsPerS = float64(res.Rows) / res.Seconds
	}
	job, err := b.svc.Imports.GetImport(ctx, id)
	if err != nil {
		return res, err
	}
	c := job.Counts
	res.Created, res.Updated, res.Unchanged, res.Failed = c.Created, c.Updated, c.Unchanged, c.Failed
	res.JobSaves = b.jobs.saves.Load() - jobSaves
	res.ItemSaves = b.store.Saves() - saves - int(res.JobSaves)
	if job.Status != inventory.JobSucceeded {
		return res, fmt.Errorf("the import ended %s: %s", job.Status, job.Error)
	}
	if results, ok := b.objects.Object(inventory.ImportResultsKey(id)); ok {
		res.ResultRows = bytes.Count(results.Data, []byte("\r\n")) - 1
	}
	_ = b.objects.Delete(ctx, inventory.ImportKey(id), inventory.ImportResultsKey(id))
	if want := p.want(res.Rows); c != want {
		return res, fmt.Errorf("the job counts %+v, want %+v", c, want)
	}
	wantSaves := b.n
	if p.name == inventory.RowUnchanged {
		wantSaves = 0
	}
	switch {
	case res.ItemSaves != wantSaves:
		return res, fmt.Errorf("%d item saves, want %d", res.ItemSaves, wantSaves)
	case res.ResultRows != b.n:
		return res, fmt.Errorf("the results file has %d rows, want %d", res.ResultRows, b.n)
	}
	if res.LedgerLines, err = b.check(ctx, p); err != nil {
		return res, err
	}
	measureImport(&res)
	return res, nil
}

// check reads every item back after pass p: the live item with the row's
// SKU has the row's name, description, tags and quantity, its version is
// 1 after a create (and after a pass that changed nothing) and one more
// after an update, and its ledger gained one import line (of the opening
// quantity, or of the difference) or, unchanged, none. It returns the
// ledger lines the pass added.
func (b *importBench) check(ctx context.Context, p importPass) (int, error) {
	added := 0
	for i := range b.n {
		want := b.importRow(i, p.rev)
		it, err := b.store.FindItemBySKU(ctx, want.SKU)
		if err != nil {
			return added, fmt.Errorf("row %d: %w", i+2, err)
		}
		version := int64(1 + p.rev)
		if it.Name != want.Name || it.Description != want.Description || !slices.Equal(it.Tags, want.Tags) ||
			it.Quantity != want.Quantity || it.Version != version {
			return added, fmt.Errorf("row %d: item %s is %q %q %q quantity %d version %d; want %q %q %q %d version %d",
				i+2, it.ID, it.SKU, it.Name, it.Tags, it.Quantity, it.Version, want.SKU, want.Name, want.Tags, want.Quantity, version)
		}
		switch {
		case b.ids[i] == "":
			b.ids[i] = it.ID
		case b.ids[i] != it.ID:
			return added, fmt.Errorf("row %d: sku %s is item %s, was %s", i+2, want.SKU, it.ID, b.ids[i])
		}
		ledger := b.store.Ledger(it.ID)
		n := len(ledger) - b.lines[i]
		wantLines, delta := 1, want.Quantity
		switch {
		case p.name == inventory.RowUnchanged:
			wantLines = 0
		case p.rev > b.rev:
			delta -= b.importRow(i, b.rev).Quantity
		}
		if n != wantLines {
			return added, fmt.Errorf("row %d: item %s got %d ledger lines, want %d", i+2, it.ID, n, wantLines)
		}
		if n > 0 {
			if last := ledger[len(ledger)-1]; last.Reason != inventory.ReasonImport || last.Delta != delta || last.OnHandAfter != want.Quantity {
				return added, fmt.Errorf("row %d: item %s's new ledger line is %s %+d (on hand after %d); want %s %+d (%d)",
					i+2, it.ID, last.Reason, last.Delta, last.OnHandAfter, inventory.ReasonImport, delta, want.Quantity)
			}
		}
		b.lines[i] = len(ledger)
		added += n
	}
	b.rev = p.rev
	return added, nil
}

func measureImport(res *importResult) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.PeakRSS, res.HeapInuse = peakRSS(), ms.HeapInuse
	res.GoMaxProcs, res.GoVersion = runtime.GOMAXPROCS(0), runtime.Version()
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// profilePath is where the CPU profile of a pass goes: path with
// "-<pass>" before its extension ("" without a path).
func profilePath(path, pass string) string {
	if path == "" {
		return ""
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + pass + ext
}

// startCPUProfile starts the CPU profile of a pass, if asked for; stop
// ends it.
func startCPUProfile(path, pass string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(profilePath(path, pass))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// ----- the -ratio modes -----

// runner runs mode once at n items in a process of its own and returns
// the line it printed.
type runner func(ctx context.Context, mode string, n int, o options) (result, error)

// ratio runs mode at each of o.sizes, one process each, o.runs rounds
// (each round every size once, smallest first, so that rounds share the
// machine's moods), prints each run's line, then a summary: per size the
// median rows/s and peak RSS (and the range), and the ratio of the
// median peak RSS of the largest size over the smallest's against
// RSSGoal. A ratio over the goal is reported, not an error.
func ratio(ctx context.Context, mode string, o options, w io.Writer, runOne runner) error {
	if len(o.sizes) == 0 {
		return errors.New("-sizes lists no size")
	}
	runs := make([][]result, len(o.sizes))
	for range max(o.runs, 1) {
		for i, n := range o.sizes {
			res, err := runOne(ctx, mode, n, o)
			if err != nil {
				return fmt.Errorf("%s of %d items: %w", mode, n, err)
			}
			line, _ := json.Marshal(res)
			fmt.Fprintf(w, "%s\n", line)
			runs[i] = append(runs[i], res)
		}
	}
	_, err := io.WriteString(w, summary(mode, runs))
	return err
}

// summary is the table after the runs' lines: runs[i] are the runs of
// the i-th size.
func summary(mode string, runs [][]result) string {
	var b strings.Builder
	if len(runs) == 0 || len(runs[0]) == 0 {
		return ""
	}
	first := runs[0][0]
	inc := ""
	if first.Include != "" {
		inc = ", include " + first.Include
	}
	fmt.Fprintf(&b, "%s (median of %d runs each, one process a run%s):\n", mode, len(runs[0]), inc)
	peaks := make([]float64, len(runs))
	for i, rs := range runs {
		rate := median(rs, func(r result) float64 { return r.RowsPerS })
		peaks[i] = median(rs, func(r result) float64 { return float64(r.PeakRSS) })
		lo := slices.MinFunc(rs, func(a, b result) int { return cmp.Compare(a.PeakRSS, b.PeakRSS) }).PeakRSS
		hi := slices.MaxFunc(rs, func(a, b result) int { return cmp.Compare(a.PeakRSS, b.PeakRSS) }).PeakRSS
		fmt.Fprintf(&b, "  %9d items: %9.0f rows/s, peak RSS %6.1f MiB (%.1f to %.1f), %d parts, %.2f s\n",
			rs[0].Items, rate, peaks[i]/(1<<20), mib(lo), mib(hi), rs[0].Parts,
			median(rs, func(r result) float64 { return r.Seconds }))
	}
	if len(runs) < 2 {
		return b.String()
	}
	small, large := peaks[0], peaks[len(peaks)-1]
	if small <= 0 || large <= 0 {
		b.WriteString("  peak RSS unknown (no /proc/self/status): no ratio\n")
		return b.String()
	}
	r := large / small
	verdict := "ok"
	if r >= RSSGoal {
		verdict = "OVER"
	}
	fmt.Fprintf(&b, "  peak RSS %d items / %d items: %.3f (goal < %.1f: %s)\n",
		runs[len(runs)-1][0].Items, first.Items, r, RSSGoal, verdict)
	return b.String()
}

// median of f over rs (the mean of the middle two for an even count).
func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// selfRunner runs this very command with -mode mode -items n in a child
// process, bounded by o.timeout (and a little more, to let it report).
func selfRunner(ctx context.Context, mode string, n int, o options) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout+30*time.Second)
	defer cancel()
	args := []string{"-mode", mode, "-items", strconv.Itoa(n), "-timeout", o.timeout.String(),
		"-part-size", strconv.Itoa(o.partSize), "-include", strings.Join(o.include, ",")}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%s %s: %w", exe, strings.Join(args, " "), err)
	}
	var res result
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return result{}, fmt.Errorf("read the run's line %q: %w", lines[len(lines)-1], err)
	}
	return res, nil
}

// ----- the synthetic catalogue -----

// maxItems is the largest catalogue: SKUs have 8 digits.
const maxItems = 99_999_999

// catalogue is a usecase.Store of n live items that it makes when they
// are listed, from their position alone. It answers what an export of
// every item in SKU order reads: ListItemSource (the list), ListLevels
// (include "stock"), ListLocations (its columns) and ListGroups (include
// "groups"). The embedded Store is nil: any other call panics (a nil
// pointer, its trace at the line of the call).
type catalogue struct {
	usecase.Store
	n         int
	locations []inventory.Location // in code order
	groups    []inventory.Group    // in name order
	groupIDs  []string             // ascending: an item's Groups are a slice of it
	calls     map[string]int64
}

// Bases of the catalogue's ids (ULIDs: a time, then the entropy bytes
// hold the number of the record) and times.
var (
	itemIDTime     = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	locationIDTime = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	groupIDTime    = time.Date(2024, 9, 1, 9, 0, 0, 0, time.UTC)
)

func syntheticID(base time.Time, i int) string {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(base))
	u[6], u[7] = 0xD3, 0x90
	binary.BigEndian.PutUint64(u[8:], uint64(i))
	return u.String()
}

// itemNumber is the position of the item with id id, or -1.
func (c *catalogue) itemNumber(id string) int {
	u, err := ulid.ParseStrict(id)
	if err != nil || u.Time() != ulid.Timestamp(itemIDTime) || u[6] != 0xD3 || u[7] != 0x90 {
		return -1
	}
	i := binary.BigEndian.Uint64(u[8:])
	if i >= uint64(c.n) {
		return -1
	}
	return int(i)
}

var (
	locationCodes = []string{"AMS-1", inventory.DefaultLocationCode, "RTM-DC1", "UTR-2"}
	groupNames    = []string{"Spring; sale", "Été 2026", "Clearance", `Back\office`, "Garden & patio", "Fasteners",
		"Électricité", "Café, thé", `Outillage "pro"`, "Sanitaire", "Peinture", "Zubehör"}
	names = []string{
		`Écrou hexagonal M8, "zingué"`,
		"Vis à bois Ø4×40, tête fraisée",
		`Rondelle plate "large", inox A2`,
		"Câble H07RN-F 3G2,5 — touret 25 m",
		"Straße-Schild, 'Ausfahrt'",
		`Café moulu 250 g, "Crème"`,
		"Brosse à dents, souple; lot de 2",
	}
	// Descriptions of about 200 bytes: one begins with "=" and one with
	// "-" (formula neutralization), one holds a line break.
	descriptions = []string{
		`Zinc-plated steel hex nut, class 8, DIN 934. Sold by the box of 100; "self-locking" variant under the -NL suffix. Store dry, away from acids. Fits M8 bolts, washers and threaded rods.`,
		"Vis à bois tête fraisée, empreinte Pozidriv nº2, acier cémenté zingué blanc. Idéale pour l'agencement, les meubles et les lambris ; pré-perçage conseillé dans les bois durs (chêne, hêtre).",
		`=SUM(A1:A9) is what a careless spreadsheet would compute: this description begins with an equals sign on purpose, so the export must neutralize it with a leading apostrophe. Otherwise plain.`,
		"Line one of a two-line description, with a comma, and a \"quote\".\nLine two: Straße, Größe 42, Kühlschrank-Ersatzteil; passt für Modelle ab 2019. Nicht spülmaschinenfest.",
		"-20 °C to +60 °C operating range. Câble souple H07RN-F 3G2,5 mm², gaine caoutchouc noire, conforme NF C 32-102 ; touret de 25 m, coupe à la demande (minimum 5 m).",
		"Café moulu 100 % arabica, torréfaction artisanale à Lyon. Notes de cacao, de noisette et d'agrumes ; paquet refermable de 250 g. Mouture « espresso » sur demande, sans supplément.",
	}
	tagSets = [][]string{
		{"fasteners", "steel"},
		{"bois", "vis", "intérieur"},
		{"t;1", "@promo"},
		{},
		{"câble", "électrique", `back\slash`},
		{"café"},
	}
)

func newCatalogue(n int) *catalogue {
	c := &catalogue{n: n, calls: map[string]int64{}}
	for i, code := range locationCodes {
		loc := inventory.Location{ID: syntheticID(locationIDTime, i), Code: code, Name: "Warehouse " + code,
			CreatedAt: locationIDTime, UpdatedAt: locationIDTime, Version: 1}
		if code == inventory.DefaultLocationCode {
			loc = inventory.DefaultLocationRecord(locationIDTime)
		}
		c.locations = append(c.locations, loc)
	}
	for i, name := range groupNames {
		g := inventory.Group{ID: syntheticID(groupIDTime, i), Name: name, CreatedAt: groupIDTime, UpdatedAt: groupIDTime, Version: 1}
		c.groups = append(c.groups, g)
		c.groupIDs = append(c.groupIDs, g.ID)
	}
	slices.SortFunc(c.groups, func(a, b inventory.Group) int {
		return strings.Compare(inventory.NameKey(a.Name), inventory.NameKey(b.Name))
	})
	return c
}

// sku is the SKU of item i: "SKU-%08d".
func sku(i int) string {
	b := []byte("SKU-00000000")
	for j := len(b) - 1; i > 0 && j >= 4; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}

// item makes item i.
func (c *catalogue) item(i int) inventory.Item {
	q := quantity(i)
	it := inventory.Item{
		ID:          syntheticID(itemIDTime, i),
		SKU:         sku(i),
		Name:        names[i%len(names)] + " #" + strconv.Itoa(i),
		Description: descriptions[i%len(descriptions)] + " Lot " + strconv.Itoa(i/100) + ".",
		Quantity:    q,
		Tags:        tagSets[i%len(tagSets)],
		CreatedAt:   itemIDTime.Add(time.Duration(i) * time.Second),
		Version:     int64(1 + i%5),
	}
	it.UpdatedAt = updatedAt(i)
	if i%5 == 0 {
		it.Committed = min(q, 3)
	}
	if i%3 == 0 {
		rp := int64(10 + i%50)
		it.ReorderPoint = &rp
	}
	switch g := len(c.groupIDs); {
	case g > 1 && i%12 == 6:
		k := (i / 12) % (g - 1)
		it.Groups = c.groupIDs[k : k+2 : k+2]
	case i%4 == 0:
		k := (i / 4) % g
		it.Groups = c.groupIDs[k : k+1 : k+1]
	}
	return it
}

func quantity(i int) int64 { return int64((i*7919)%1000 + i%7) }

func updatedAt(i int) time.Time {
	return itemIDTime.Add(time.Duration(i)*time.Second + time.Duration(i%1000)*time.Minute)
}

// levels are the stock levels of item i, whose id is id: on hand at one
// to three locations, adding up to its quantity.
func (c *catalogue) levels(i int, id string) []inventory.Level {
	q, code, at := quantity(i), sku(i), updatedAt(i)
	level := func(loc string, onHand int64) inventory.Level {
		k := slices.Index(locationCodes, loc)
		return inventory.Level{ItemID: id, LocationID: c.locations[k].ID, SKU: code, OnHand: onHand, UpdatedAt: at}
	}
	def := inventory.DefaultLocationCode
	switch i % 4 {
	case 0:
		return []inventory.Level{level(def, q)}
	case 1:
		return []inventory.Level{level(def, q/2), level("RTM-DC1", q-q/2)}
	case 2:
		return []inventory.Level{level("AMS-1", q)}
	}
	return []inventory.Level{level(def, q/3), level("AMS-1", q/3), level("UTR-2", q-2*(q/3))}
}

// ListItemSource lists every item in SKU order (the source of an export
// without filters); other sources are an error.
func (c *catalogue) ListItemSource(_ context.Context, src inventory.ItemSource, r inventory.Range) ([]inventory.Item, inventory.Position, error) {
	c.calls["ListItemSource"]++
	if (src.Sort != "" && src.Sort != inventory.SortSKU) || len(src.Facets) > 0 || src.LocationID != "" || src.LowStock {
		return nil, nil, fmt.Errorf("synthetic catalogue: source %+v: only every item in SKU order", src)
	}
	if r.Limit < 1 {
		return nil, nil, fmt.Errorf("synthetic catalogue: limit %d", r.Limit)
	}
	start := 0
	if r.After != nil {
		k := -1
		if len(r.After) == 2 && strings.HasPrefix(r.After[0], "SKU-") && len(r.After[0]) == len("SKU-00000000") {
			if n, err := strconv.Atoi(r.After[0][4:]); err == nil && c.itemNumber(r.After[1]) == n {
				k = n
			}
		}
		if k < 0 {
			return nil, nil, fmt.Errorf("synthetic catalogue: position %q is not one of its items", r.After)
		}
		start = k + 1
	}
	end := min(start+r.Limit, c.n)
	items := make([]inventory.Item, 0, max(end-start, 0))
	for i := start; i < end; i++ {
		items = append(items, c.item(i))
	}
	if end >= c.n {
		return items, nil, nil
	}
	last := items[len(items)-1]
	return items, inventory.Position{last.SKU, last.ID}, nil
}

// ListLevels returns an item's levels.
func (c *catalogue) ListLevels(_ context.Context, itemID string) ([]inventory.Level, error) {
	c.calls["ListLevels"]++
	i := c.itemNumber(itemID)
	if i < 0 {
		return nil, nil
	}
	return c.levels(i, itemID), nil
}

// ListLocations lists the locations, in code order.
func (c *catalogue) ListLocations(_ context.Context, r inventory.Range) ([]inventory.Location, inventory.Position, error) {
	c.calls["ListLocations"]++
	return page(c.locations, r, func(l inventory.Location) string { return l.Code })
}

// ListGroups lists the groups, in name order.
func (c *catalogue) ListGroups(_ context.Context, r inventory.Range) ([]inventory.Group, inventory.Position, error) {
	c.calls["ListGroups"]++
	return page(c.groups, r, func(g inventory.Group) string { return inventory.NameKey(g.Name) })
}

// page is one page of a short sorted list, position (key, -).
func page[T any](all []T, r inventory.Range, key func(T) string) ([]T, inventory.Position, error) {
	if r.Limit < 1 {
		return nil, nil, fmt.Errorf("synthetic catalogue: limit %d", r.Limit)
	}
	start := 0
	if r.After != nil {
		start = len(all)
		for i, x := range all {
			if key(x) > r.After[0] {
				start = i
				break
			}
		}
	}
	end := min(start+r.Limit, len(all))
	out := slices.Clone(all[start:end])
	if end == len(all) {
		return out, nil, nil
	}
	return out, inventory.Position{key(all[end-1])}, nil
}

// ----- the upload -----

// sink is a usecase.Multipart of one upload that keeps no data (unless
// Keep): it checks the parts as S3 does — numbered 1, 2, ... in order,
// every part but the last at least MinPartSize when the upload is
// completed —, counts their bytes, and hashes them in order: Digest is
// the SHA-256 of the file. It is the export's Files too: RunExport checks
// the completed file exists by its size (Open).
type sink struct {
	MinPartSize int  // 0: memstore.MinPartSize (S3's 5 MiB)
	Keep        bool // keep the parts' bytes, in Kept (tests)
	Kept        bytes.Buffer

	key, uploadID string
	hash          hash.Hash
	sizes         []int
	bytes         int64
	completed     bool
	digest        string
}

func (s *sink) CreateMultipartUpload(_ context.Context, key, contentType string) (string, error) {
	if s.uploadID != "" {
		return "", errors.New("sink: one upload only")
	}
	if contentType != usecase.ExportContentType {
		return "", fmt.Errorf("sink: content type %q", contentType)
	}
	s.key, s.uploadID, s.hash = key, "sink-upload-1", sha256.New()
	return s.uploadID, nil
}

func (s *sink) UploadPart(_ context.Context, key, uploadID string, number int32, data []byte) (string, error) {
	switch {
	case key != s.key || uploadID != s.uploadID || s.completed:
		return "", fmt.Errorf("sink: upload part %d of %s: no such upload %s", number, key, uploadID)
	case int(number) != len(s.sizes)+1:
		return "", fmt.Errorf("sink: part %d after part %d: the digest needs the parts in order, once each", number, len(s.sizes))
	}
	s.hash.Write(data)
	if s.Keep {
		s.Kept.Write(data)
	}
	s.sizes = append(s.sizes, len(data))
	s.bytes += int64(len(data))
	return partETag(number, len(data)), nil
}

func partETag(number int32, size int) string { return fmt.Sprintf(`"%d-%d"`, number, size) }

func (s *sink) CompleteMultipartUpload(_ context.Context, key, uploadID string, parts []inventory.UploadedPart) error {
	if key != s.key || uploadID != s.uploadID || s.completed {
		return fmt.Errorf("sink: complete %s: no such upload %s", key, uploadID)
	}
	minSize := s.MinPartSize
	if minSize == 0 {
		minSize = memstore.MinPartSize
	}
	if len(parts) != len(s.sizes) {
		return fmt.Errorf("sink: complete with %d parts, %d uploaded", len(parts), len(s.sizes))
	}
	for i, p := range parts {
		switch {
		case int(p.Number) != i+1 || p.ETag != partETag(p.Number, s.sizes[i]) || p.Bytes != int64(s.sizes[i]):
			return fmt.Errorf("sink: complete: part %d (%s, %d bytes) is not the one uploaded", p.Number, p.ETag, p.Bytes)
		case i < len(parts)-1 && s.sizes[i] < minSize:
			return fmt.Errorf("sink: complete: part %d is %d bytes, under the %d-byte minimum", p.Number, s.sizes[i], minSize)
		}
	}
	s.completed, s.digest = true, hex.EncodeToString(s.hash.Sum(nil))
	return nil
}

func (s *sink) AbortMultipartUpload(context.Context, string, string) error {
	s.uploadID = ""
	return nil
}

// Open reads the completed file from offset, as RunExport checks it
// exists (the size is what it reads): the kept bytes with Keep, else a
// body whose reads fail (the sink keeps no bytes). Before it is completed
// there is no file.
func (s *sink) Open(_ context.Context, key string, offset int64, etag string) (inventory.OpenedObject, error) {
	switch {
	case !s.completed || key != s.key:
		return inventory.OpenedObject{}, fmt.Errorf("sink: open %s: %w", key, inventory.ErrObjectNotFound)
	case etag != "":
		return inventory.OpenedObject{}, fmt.Errorf("sink: open %s: no ETag to compare %q with", key, etag)
	case offset < 0 || offset > s.bytes:
		return inventory.OpenedObject{}, fmt.Errorf("sink: open %s at %d: past its end (%d bytes)", key, offset, s.bytes)
	}
	var body io.Reader = failingReader{}
	if s.Keep {
		body = bytes.NewReader(s.Kept.Bytes()[offset:])
	}
	return inventory.OpenedObject{Body: io.NopCloser(body), Size: s.bytes}, nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) {
	return 0, errors.New("sink: the file's bytes are not kept (Keep is false)")
}

// Digest is the SHA-256 of the file, once completed.
func (s *sink) Digest() string { return s.digest }

// Interface checks.
var (
	_ usecase.Store     = (*catalogue)(nil)
	_ usecase.Multipart = (*sink)(nil)
	_ usecase.Files     = (*sink)(nil)
)
