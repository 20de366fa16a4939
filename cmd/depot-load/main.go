// Command depot-load puts a bounded, mixed workload on a Depot API (make
// load): WORKERS clients, each sending requests one after the other for
// DURATION, then it stops by itself. The mix is every operation there is,
// mostly reads, as clients would send them: each POST and DELETE with an
// Idempotency-Key (the same key again on a retry after a dropped
// connection), each change of a record read first with If-Match its ETag,
// photos uploaded with the presigned POST, exports and imports asked for
// and polled. It prints, per operation, the requests, req/s, the p50, p95
// and p99 latencies and the answers other than 2xx by status, then a
// total; then it audits the engines the API uses (dynamo.Audit, as make
// audit does) and prints the verdict. It exits 1 on any 5xx or drift.
//
// The API is $API, else the running make run's (its run.json in the state
// directory), else http://127.0.0.1:3000. Tokens come from make run's
// local issuer (the key in the state directory), one admin per worker.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/runinfo"
	"github.com/depot-inventory/depot/internal/dynamo"
)

func main() {
	duration := flag.Duration("duration", envDuration("DURATION", 20*time.Second), "how long the workers send requests ($DURATION)")
	workers := flag.Int("workers", envInt("WORKERS", 8), "concurrent clients ($WORKERS)")
	api := flag.String("api", os.Getenv("API"), "the API's base URL (default: make run's, else http://127.0.0.1:3000)")
	state := flag.String("state", localauth.DefaultStateDir(), "make run's state directory: its run.json and signing key")
	audit := flag.Bool("audit", true, "audit the engines after the load")
	table := flag.String("table", "", "the table to audit (default: make run's)")
	bucket := flag.String("bucket", "", "the bucket to audit (default: make run's)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed of the mix")
	flag.Parse()
	if flag.NArg() > 0 || *workers < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "usage: depot-load [-duration 20s] [-workers 8] [-api URL]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := config{API: *api, StateDir: *state, Duration: *duration, Workers: *workers, Audit: *audit, Table: *table,
		Bucket: *bucket, Seed: *seed, Out: os.Stdout}
	if _, err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "depot-load:", err)
		var failed failure
		if errors.As(err, &failed) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// failure: the load ran, and found 5xx answers or drift.
type failure string

func (f failure) Error() string { return string(f) }

// config is a run's settings (the flags).
type config struct {
	API, StateDir string
	Duration      time.Duration
	Workers       int
	Audit         bool
	Table, Bucket string // to audit ("": make run's)
	Seed          uint64
	Out           io.Writer // the figures and the verdict
}

// run sends the workload, prints its figures and audits; the error is a
// failure when the load met a 5xx or the audit drift.
func run(ctx context.Context, c config) (*recorder, error) {
	api, stateDir, duration, workers, out := c.API, c.StateDir, c.Duration, c.Workers, c.Out
	if api == "" {
		api = "http://127.0.0.1:3000"
		if info, err := runinfo.Read(stateDir); err == nil {
			api = info.API
		}
	}
	api = strings.TrimSuffix(api, "/")
	issuer, err := localauth.LoadOrCreate(stateDir)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{MaxIdleConns: 4 * workers, MaxIdleConnsPerHost: 2 * workers, IdleConnTimeout: 30 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	run := strconv.FormatInt(time.Now().Unix()%1e6, 36)
	rec := newRecorder()
	sh := &shared{run: run}
	ws := make([]*worker, workers)
	for i := range ws {
		tok, err := issuer.Mint(localauth.Claims{Email: fmt.Sprintf("load-%d@example.com", i), Groups: []string{"admin"}}, time.Hour)
		if err != nil {
			return nil, err
		}
		ws[i] = &worker{id: i, api: api, client: client, token: tok, sh: sh,
			rng: rand.New(rand.NewPCG(c.Seed, uint64(i)))}
	}
	fmt.Fprintf(os.Stderr, "depot-load: %s, %d workers for %s (run %s, seed %d)\n", api, workers, duration, run, c.Seed)
	if err := setup(ctx, ws); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	lctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range ws {
		w.rec = rec
		wg.Go(func() { w.loop(lctx) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	rec.print(out, elapsed)
	var problems []string
	if n := rec.serverErrors(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d answers were 5xx", n))
		for _, s := range rec.samples {
			fmt.Fprintln(out, s)
		}
	}
	if c.Audit {
		target, err := runinfo.Locate(stateDir, c.Table, c.Bucket, os.Getenv)
		if err != nil {
			return rec, err
		}
		fmt.Fprintf(out, "\naudit of table %s, bucket %s (%s)\n", target.Table, target.Bucket, target.Engines)
		report, err := target.Audit(ctx, dynamo.AuditOptions{})
		if err != nil {
			return rec, fmt.Errorf("audit: %w", err)
		}
		fmt.Fprintln(out, runinfo.Verdict(report))
		if report.Drift > 0 {
			drifts, _ := json.MarshalIndent(report.Drifts, "", "  ")
			fmt.Fprintln(out, string(drifts))
			problems = append(problems, fmt.Sprintf("the audit found %d drifts", report.Drift))
		}
	}
	if len(problems) > 0 {
		return rec, failure(strings.Join(problems, "; "))
	}
	return rec, nil
}

// shared is what every worker may touch: the locations, the group and the
// seed items, so that workers also contend for the same records.
type shared struct {
	run       string
	locations []string // default first
	mu        sync.Mutex
	items     []string
	groups    []string
}

func (s *shared) pick(rng *rand.Rand, of func(*shared) []string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := of(s)
	if len(l) == 0 {
		return ""
	}
	return l[rng.IntN(len(l))]
}

// setup makes, unmeasured, two locations, a group and four items a worker
// that all workers share.
func setup(ctx context.Context, ws []*worker) error {
	w0, sh := ws[0], ws[0].sh
	sh.locations = []string{"default"}
	for _, suffix := range []string{"A", "B"} {
		code := strings.ToUpper("LD" + sh.run + suffix)
		st, body, _, err := w0.do(ctx, "setup", "POST", "/locations", obj{"code": code, "name": "Load " + code}, nil)
		if err != nil || st != http.StatusCreated {
			return fmt.Errorf("create location %s: %d %s %v", code, st, body, err)
		}
		sh.locations = append(sh.locations, str(body, "id"))
	}
	st, body, _, err := w0.do(ctx, "setup", "POST", "/groups", obj{"name": "Load " + sh.run}, nil)
	if err != nil || st != http.StatusCreated {
		return fmt.Errorf("create group: %d %s %v", st, body, err)
	}
	sh.groups = []string{str(body, "id")}
	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	for i, w := range ws {
		wg.Go(func() {
			for range 4 {
				id, err := w.create(ctx, "setup")
				if err != nil {
					errs[i] = err
					return
				}
				sh.mu.Lock()
				sh.items = append(sh.items, id)
				sh.mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// worker is one client: it sends one request at a time.
type worker struct {
	id      int
	api     string
	client  *http.Client
	token   string
	rng     *rand.Rand
	sh      *shared
	rec     *recorder
	seq     int
	items   []string // live items it made
	deleted []string // items it deleted
	jobs    []job    // exports and imports it asked for
}

type job struct{ kind, id string }

// op is one kind of request in the mix, by weight (out of the sum).
type op struct {
	weight int
	run    func(w *worker, ctx context.Context)
}

// mix: about 70 % reads.
var mix = []op{
	{14, (*worker).listItems},
	{14, (*worker).getItem},
	{5, (*worker).getStock},
	{3, (*worker).history},
	{3, (*worker).activity},
	{4, (*worker).locationReads},
	{4, (*worker).groupReads},
	{3, (*worker).listTags},
	{2, (*worker).deletedItems},
	{2, (*worker).jobReads},
	{5, (*worker).createItem},
	{5, (*worker).patchItem},
	{6, (*worker).adjust},
	{2, (*worker).count},
	{3, (*worker).transfer},
	{2, (*worker).deleteItem},
	{1, (*worker).restoreItem},
	{4, (*worker).membership},
	{1, (*worker).groupChanges},
	{2, (*worker).upload},
	{1, (*worker).export},
	{1, (*worker).importCSV},
}

var mixTotal = func() int {
	n := 0
	for _, o := range mix {
		n += o.weight
	}
	return n
}()

func (w *worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		n := w.rng.IntN(mixTotal)
		for _, o := range mix {
			if n < o.weight {
				o.run(w, ctx)
				break
			}
			n -= o.weight
		}
	}
}

type obj = map[string]any

// do sends one request and records it under name: its latency and status.
// A POST or DELETE carries an Idempotency-Key, sent again with a retry
// after a dropped connection (once); header adds others (If-Match).
func (w *worker) do(ctx context.Context, name, method, path string, body any, header map[string]string) (int, map[string]any, http.Header, error) {
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	key := ""
	if method == "POST" || method == "DELETE" {
		w.seq++
		key = fmt.Sprintf("load-%s-%d-%d", w.sh.run, w.id, w.seq)
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, w.api+path, bytes.NewReader(data))
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+w.token)
		if body != nil {
			ct := "application/json"
			if method == "PATCH" {
				ct = "application/merge-patch+json"
			}
			req.Header.Set("Content-Type", ct)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		start := time.Now()
		resp, err := w.client.Do(req)
		var raw []byte
		if err == nil {
			raw, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		took := time.Since(start)
		if err != nil {
			if attempt == 0 {
				continue // a client retries a dropped connection, with the same key
			}
			w.rec.add(name, took, -1, method+" "+path, err.Error())
			return 0, nil, nil, err
		}
		w.rec.add(name, took, resp.StatusCode, method+" "+path+" "+string(data), string(raw))
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out, resp.Header, nil
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// item picks an item: one of its own, or a shared one.
func (w *worker) item() string {
	if len(w.items) > 0 && w.rng.IntN(10) < 7 {
		return w.items[w.rng.IntN(len(w.items))]
	}
	return w.sh.pick(w.rng, func(s *shared) []string { return s.items })
}

func (w *worker) location() string { return w.sh.locations[w.rng.IntN(len(w.sh.locations))] }

var words = []string{"hex", "bolt", "nut", "washer", "bracket", "anchor", "clamp", "hinge", "rivet", "spring",
	"gasket", "flange", "écrou", "vis", "Schraube", "zinc", "steel", "brass", "m8", "m10"}
var tagPool = []string{"fasteners", "steel", "brass", "outdoor", "sale", "m8", "m10", "bulk"}

func (w *worker) words(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = words[w.rng.IntN(len(words))]
	}
	return strings.Join(out, " ")
}

func (w *worker) pickTags() []string {
	out := []string{}
	for range w.rng.IntN(3) {
		if t := tagPool[w.rng.IntN(len(tagPool))]; !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// create makes an item and returns its id.
func (w *worker) create(ctx context.Context, name string) (string, error) {
	w.seq++
	body := obj{"sku": fmt.Sprintf("L%s-%d-%d", w.sh.run, w.id, w.seq), "name": w.words(1 + w.rng.IntN(3)),
		"quantity": w.rng.IntN(50), "tags": w.pickTags()}
	if w.rng.IntN(3) == 0 {
		body["reorderPoint"] = w.rng.IntN(20)
	}
	if w.rng.IntN(4) == 0 {
		body["locationId"] = w.location()
	}
	st, m, _, err := w.do(ctx, name, "POST", "/items", body, nil)
	if err != nil || st != http.StatusCreated {
		return "", fmt.Errorf("create item: %d %v %v", st, m, err)
	}
	return str(m, "id"), nil
}

func (w *worker) createItem(ctx context.Context) {
	if id, err := w.create(ctx, "CreateItem"); err == nil {
		w.items = append(w.items, id)
	}
}

func (w *worker) listItems(ctx context.Context) {
	q := url.Values{}
	switch w.rng.IntN(11) {
	case 1:
		q.Set("sort", "name")
	case 2:
		q.Set("sort", "-updatedAt")
	case 3:
		q.Set("limit", "50")
	case 4:
		q.Set("lowStock", "true")
	case 5:
		q.Set("minQuantity", "10")
	case 6:
		q.Set("tag", tagPool[w.rng.IntN(len(tagPool))])
	case 7:
		q.Set("q", prefix(words[w.rng.IntN(len(words))], 2))
	case 8:
		q.Set("locationId", w.location())
	case 9:
		q.Set("groupId", w.sh.pick(w.rng, func(s *shared) []string { return s.groups }))
	case 10:
		q.Set("tag", "steel")
		q.Set("q", prefix(words[w.rng.IntN(len(words))], 1))
	}
	st, m, _, _ := w.do(ctx, "ListItems", "GET", "/items"+query(q), nil, nil)
	if c := str(m, "nextCursor"); st == http.StatusOK && c != "" && w.rng.IntN(4) == 0 {
		q.Set("cursor", c)
		w.do(ctx, "ListItems", "GET", "/items"+query(q), nil, nil)
	}
}

// prefix is the first n characters of s.
func prefix(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}

func query(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (w *worker) getItem(ctx context.Context) {
	if id := w.item(); id != "" {
		w.do(ctx, "GetItem", "GET", "/items/"+id, nil, nil)
	}
}

func (w *worker) getStock(ctx context.Context) {
	id := w.item()
	if id == "" {
		return
	}
	if w.rng.IntN(3) == 0 {
		at := time.Now().Add(-time.Duration(w.rng.IntN(5000)) * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z")
		w.do(ctx, "GetItemStock?at", "GET", "/items/"+id+"/stock"+query(url.Values{"at": {at}}), nil, nil)
		return
	}
	w.do(ctx, "GetItemStock", "GET", "/items/"+id+"/stock", nil, nil)
}

func (w *worker) history(ctx context.Context) {
	if id := w.item(); id != "" {
		q := ""
		if w.rng.IntN(3) == 0 {
			q = "?locationId=" + w.location()
		}
		w.do(ctx, "ListItemHistory", "GET", "/items/"+id+"/history"+q, nil, nil)
	}
}

func (w *worker) activity(ctx context.Context) {
	if id := w.item(); id != "" {
		w.do(ctx, "ListItemActivity", "GET", "/items/"+id+"/activity?limit=10", nil, nil)
	}
}

func (w *worker) locationReads(ctx context.Context) {
	loc := w.location()
	switch w.rng.IntN(4) {
	case 0:
		w.do(ctx, "ListLocations", "GET", "/locations", nil, nil)
	case 1:
		w.do(ctx, "GetLocation", "GET", "/locations/"+loc, nil, nil)
	case 2:
		w.do(ctx, "GetLocationStock", "GET", "/locations/"+loc+"/stock", nil, nil)
	default:
		w.do(ctx, "ListLocationHistory", "GET", "/locations/"+loc+"/history", nil, nil)
	}
}

func (w *worker) groupReads(ctx context.Context) {
	g := w.sh.pick(w.rng, func(s *shared) []string { return s.groups })
	switch w.rng.IntN(4) {
	case 0:
		w.do(ctx, "ListGroups", "GET", "/groups", nil, nil)
	case 1:
		w.do(ctx, "GetGroup", "GET", "/groups/"+g, nil, nil)
	case 2:
		w.do(ctx, "ListDeletedGroups", "GET", "/deleted-groups", nil, nil)
	default:
		w.do(ctx, "ListGroupItems", "GET", "/groups/"+g+"/items", nil, nil)
	}
}

func (w *worker) listTags(ctx context.Context) { w.do(ctx, "ListTags", "GET", "/tags", nil, nil) }

func (w *worker) deletedItems(ctx context.Context) {
	w.do(ctx, "ListDeletedItems", "GET", "/deleted-items", nil, nil)
}

func (w *worker) jobReads(ctx context.Context) {
	if len(w.jobs) > 0 && w.rng.IntN(2) == 0 {
		j := w.jobs[w.rng.IntN(len(w.jobs))]
		if j.kind == "export" {
			w.do(ctx, "GetExport", "GET", "/exports/"+j.id, nil, nil)
		} else {
			w.do(ctx, "GetImport", "GET", "/imports/"+j.id, nil, nil)
		}
		return
	}
	if w.rng.IntN(2) == 0 {
		w.do(ctx, "ListExports", "GET", "/exports", nil, nil)
	} else {
		w.do(ctx, "ListImports", "GET", "/imports", nil, nil)
	}
}

// read gets an item (as GetItem) for its ETag, as a client reads before
// it changes.
func (w *worker) read(ctx context.Context, id string) (map[string]any, string) {
	st, m, h, _ := w.do(ctx, "GetItem", "GET", "/items/"+id, nil, nil)
	if st != http.StatusOK {
		return nil, ""
	}
	return m, h.Get("ETag")
}

func (w *worker) patchItem(ctx context.Context) {
	id := w.item()
	if id == "" {
		return
	}
	_, etag := w.read(ctx, id)
	if etag == "" {
		return
	}
	var patch obj
	switch w.rng.IntN(4) {
	case 0:
		patch = obj{"name": w.words(2)}
	case 1:
		patch = obj{"description": w.words(5)}
	case 2:
		patch = obj{"tags": w.pickTags()}
	default:
		patch = obj{"reorderPoint": w.rng.IntN(30)}
	}
	w.do(ctx, "UpdateItem", "PATCH", "/items/"+id, patch, map[string]string{"If-Match": etag})
}

func (w *worker) adjust(ctx context.Context) {
	var lines []obj
	seen := map[[2]string]bool{} // one line per level, as a client sends them
	for range 1 + w.rng.IntN(3) {
		id, loc := w.item(), w.location()
		if id != "" && !seen[[2]string{id, loc}] {
			seen[[2]string{id, loc}] = true
			delta := w.rng.IntN(20) - 4
			if delta == 0 {
				delta = 1 // a line moves stock
			}
			lines = append(lines, obj{"itemId": id, "locationId": loc, "delta": delta})
		}
	}
	if len(lines) == 0 {
		return
	}
	reason := []string{"received", "damaged", "correction", "returned"}[w.rng.IntN(4)]
	w.do(ctx, "CreateAdjustment", "POST", "/adjustments", obj{"reason": reason, "lines": lines}, nil)
}

func (w *worker) count(ctx context.Context) {
	if id := w.item(); id != "" {
		w.do(ctx, "CreateCount", "POST", "/counts", obj{"itemId": id, "locationId": w.location(), "counted": w.rng.IntN(40)}, nil)
	}
}

func (w *worker) transfer(ctx context.Context) {
	id := w.item()
	from, to := w.location(), w.location()
	if id == "" || from == to {
		return
	}
	w.do(ctx, "CreateTransfer", "POST", "/transfers",
		obj{"itemId": id, "fromLocationId": from, "toLocationId": to, "quantity": 1 + w.rng.IntN(5)}, nil)
}

func (w *worker) deleteItem(ctx context.Context) {
	if len(w.items) < 3 {
		return
	}
	i := w.rng.IntN(len(w.items))
	id := w.items[i]
	_, etag := w.read(ctx, id)
	if etag == "" {
		return
	}
	st, _, _, _ := w.do(ctx, "DeleteItem", "DELETE", "/items/"+id, obj{"comment": "load test"}, map[string]string{"If-Match": etag})
	if st == http.StatusOK {
		w.items = slices.Delete(w.items, i, i+1)
		w.deleted = append(w.deleted, id)
	}
}

func (w *worker) restoreItem(ctx context.Context) {
	if len(w.deleted) == 0 {
		return
	}
	i := w.rng.IntN(len(w.deleted))
	id := w.deleted[i]
	st, _, _, _ := w.do(ctx, "RestoreItem", "POST", "/items/"+id+"/restore", nil, nil)
	if st == http.StatusOK || st == http.StatusNotFound {
		w.deleted = slices.Delete(w.deleted, i, i+1)
		if st == http.StatusOK {
			w.items = append(w.items, id)
		}
	}
}

func (w *worker) membership(ctx context.Context) {
	g := w.sh.pick(w.rng, func(s *shared) []string { return s.groups })
	id := w.item()
	if g == "" || id == "" {
		return
	}
	switch w.rng.IntN(3) {
	case 0:
		w.do(ctx, "AddGroupMember", "PUT", "/groups/"+g+"/items/"+id, nil, nil)
	case 1:
		w.do(ctx, "RemoveGroupMember", "DELETE", "/groups/"+g+"/items/"+id, nil, nil)
	default:
		add, remove := []string{id}, []string{}
		if other := w.item(); other != "" && other != id {
			remove = append(remove, other)
		}
		w.do(ctx, "ChangeGroupMembers", "POST", "/groups/"+g+"/items", obj{"add": add, "remove": remove}, nil)
	}
}

// groupChanges makes a group of its own, renames it, deletes and restores
// it, one step a time.
func (w *worker) groupChanges(ctx context.Context) {
	w.seq++
	st, m, h, _ := w.do(ctx, "CreateGroup", "POST", "/groups", obj{"name": fmt.Sprintf("Load %s %d %d", w.sh.run, w.id, w.seq)}, nil)
	if st != http.StatusCreated {
		return
	}
	id := str(m, "id")
	st, _, h, _ = w.do(ctx, "UpdateGroup", "PATCH", "/groups/"+id, obj{"description": w.words(3)}, map[string]string{"If-Match": h.Get("ETag")})
	if st != http.StatusOK {
		return
	}
	st, _, h, _ = w.do(ctx, "DeleteGroup", "DELETE", "/groups/"+id, obj{"comment": "load"}, map[string]string{"If-Match": h.Get("ETag")})
	if st != http.StatusOK {
		return
	}
	if st, _, _, _ = w.do(ctx, "RestoreGroup", "POST", "/groups/"+id+"/restore", nil, map[string]string{"If-Match": h.Get("ETag")}); st == http.StatusOK {
		w.sh.mu.Lock()
		w.sh.groups = append(w.sh.groups, id)
		w.sh.mu.Unlock()
	}
}

// photo is an 8x8 PNG (the README's).
var photo, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR42mP438CAFTEMLQkAqbNfwTPooMgAAAAASUVORK5CYII=")

func (w *worker) upload(ctx context.Context) {
	id := w.item()
	if id == "" {
		return
	}
	st, m, _, _ := w.do(ctx, "CreateImageUpload", "POST", "/items/"+id+"/image-uploads", obj{"contentType": "image/png"}, nil)
	if st != http.StatusCreated {
		return
	}
	w.post(ctx, "S3 POST image", m, "image/png", photo)
}

// post sends a file to a presigned POST form (url, fields), as a browser
// does, and records it under name.
func (w *worker) post(ctx context.Context, name string, form map[string]any, contentType string, data []byte) {
	url := str(form, "url")
	fields, _ := form["fields"].(map[string]any)
	if url == "" || fields == nil {
		return
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	}) {
		_ = mw.WriteField(k, fmt.Sprint(fields[k]))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="file"`)
	h.Set("Content-Type", contentType)
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(data)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), "POST", url, &body)
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	start := time.Now()
	resp, err := w.client.Do(req)
	if err != nil {
		w.rec.add(name, time.Since(start), -1, "POST "+url, err.Error())
		return
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	w.rec.add(name, time.Since(start), resp.StatusCode, "POST "+url, string(raw))
}

func (w *worker) export(ctx context.Context) {
	body := obj{}
	if w.rng.IntN(2) == 0 {
		body["include"] = []string{"stock"}
	}
	if w.rng.IntN(2) == 0 {
		body["filters"] = obj{"tag": tagPool[w.rng.IntN(len(tagPool))]}
	}
	st, m, _, _ := w.do(ctx, "RequestExport", "POST", "/exports", body, nil)
	if st == http.StatusAccepted {
		w.jobs = append(w.jobs, job{"export", str(m, "id")})
	}
}

// importCSV imports two rows: a new item and a change of one of its own.
func (w *worker) importCSV(ctx context.Context) {
	st, m, _, _ := w.do(ctx, "RequestImport", "POST", "/imports", obj{"dryRun": w.rng.IntN(4) == 0}, nil)
	if st != http.StatusCreated {
		return
	}
	w.jobs = append(w.jobs, job{"import", str(m, "id")})
	w.seq++
	csv := fmt.Sprintf("\"sku\",\"name\",\"tags\"\r\n\"L%s-%d-%d-i\",\"imported %s\",\"bulk\"\r\n", w.sh.run, w.id, w.seq, w.words(1))
	up, _ := m["upload"].(map[string]any)
	w.post(ctx, "S3 POST import", up, "text/csv", []byte(csv))
}

// recorder collects what the workers saw.
type recorder struct {
	mu      sync.Mutex
	ops     map[string]*opStats
	samples []string // the first 5xx answers, with their requests
}

type opStats struct {
	lat    []float64 // ms
	status map[int]int
}

func newRecorder() *recorder { return &recorder{ops: map[string]*opStats{}} }

// add records one request (status -1: no answer). A nil recorder (setup)
// records nothing.
func (r *recorder) add(name string, took time.Duration, status int, request, response string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.ops[name]
	if s == nil {
		s = &opStats{status: map[int]int{}}
		r.ops[name] = s
	}
	s.lat = append(s.lat, float64(took.Microseconds())/1000)
	s.status[status]++
	if (status >= 500 || status < 0) && len(r.samples) < 10 {
		r.samples = append(r.samples, fmt.Sprintf("5xx: %s: %s -> %d %s", name, clip(request), status, clip(response)))
	}
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

func (r *recorder) serverErrors() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.ops {
		for st, c := range s.status {
			if st >= 500 || st < 0 {
				n += c
			}
		}
	}
	return n
}

func (r *recorder) print(out io.Writer, elapsed time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range r.ops {
			if !yield(k) {
				return
			}
		}
	})
	fmt.Fprintf(out, "\n%-22s %7s %8s %8s %8s %8s  %s\n", "operation", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "not 2xx, by status")
	all := &opStats{status: map[int]int{}}
	for _, n := range names {
		s := r.ops[n]
		printRow(out, n, s, elapsed)
		all.lat = append(all.lat, s.lat...)
		for st, c := range s.status {
			all.status[st] += c
		}
	}
	printRow(out, "total", all, elapsed)
	fmt.Fprintf(out, "%d requests in %.1f s; 5xx (or no answer): %d\n", len(all.lat), elapsed.Seconds(), func() int {
		n := 0
		for st, c := range all.status {
			if st >= 500 || st < 0 {
				n += c
			}
		}
		return n
	}())
}

func printRow(out io.Writer, name string, s *opStats, elapsed time.Duration) {
	lat := slices.Clone(s.lat)
	sort.Float64s(lat)
	var errs []string
	for _, st := range slices.Sorted(func(yield func(int) bool) {
		for k := range s.status {
			if !yield(k) {
				return
			}
		}
	}) {
		if st < 200 || st >= 300 {
			label := strconv.Itoa(st)
			if st < 0 {
				label = "no answer"
			}
			errs = append(errs, fmt.Sprintf("%s×%d", label, s.status[st]))
		}
	}
	fmt.Fprintf(out, "%-22s %7d %8.1f %8.1f %8.1f %8.1f  %s\n", name, len(lat), float64(len(lat))/elapsed.Seconds(),
		pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99), strings.Join(errs, " "))
}

// pct is the q-quantile of sorted values (nearest rank).
func pct(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}
