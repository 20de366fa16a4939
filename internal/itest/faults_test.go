package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/faults"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
)

// Fault injection (issue 11, §1): every function of a stack reaches its
// engines through one fault layer (internal/dev/faults) that throttles,
// fails with 500s, times out or drops the connection after sending (so the
// write may have committed) and cancels transactions with
// TransactionConflict, DynamoDB and S3 alike.

// faultWorkloadSize is the mixed workload's size: 16 workers, and
// DEPOT_FAULT_OPS operations each, else 24 on the embedded engines and 6
// on an external one (moto runs one request at a time, each several times
// slower than the embedded engines).
func faultWorkloadSize() (workers, ops int) {
	if n, err := strconv.Atoi(os.Getenv("DEPOT_FAULT_OPS")); err == nil && n > 0 {
		return 16, n
	}
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return 16, 6
	}
	return 16, 24
}

// ---- The blind client

// blindClient sends each logical request until it has an answer: a
// request that fails (503, a timeout, a dropped connection; 409
// idempotency_in_progress or version_conflict, which say "retry") is sent
// again, the same, with the same Idempotency-Key. Every answer is checked
// against openapi.yaml; a 503 must be service_unavailable with Retry-After;
// any other 5xx, and any final 4xx the caller did not expect, is a problem.
type blindClient struct {
	e    *env
	http *http.Client

	mu       sync.Mutex
	seq      int
	ops      int
	attempts int
	retries  map[string]int // by cause
	finals   map[string]int // final answers by status and code
	problems []string
	slowest  time.Duration // the longest a logical request took
	slow     string        // and which it was
}

func newBlindClient(e *env) *blindClient {
	return &blindClient{e: e, http: &http.Client{Timeout: time.Minute},
		retries: map[string]int{}, finals: map[string]int{}}
}

// answer is a final answer.
type answer struct {
	status int
	code   string
	body   map[string]any
}

func (a answer) str(field string) string { s, _ := a.body[field].(string); return s }

// do sends one logical request as user until it has a final answer; want
// lists the non-2xx answers ("409 insufficient_stock") the caller expects
// may come.
func (c *blindClient) do(user, method, path, body string, want ...string) answer {
	return c.doWith(user, method, path, body, nil, want...)
}

// doWith is do with more headers (If-Match).
func (c *blindClient) doWith(user, method, path, body string, header map[string]string, want ...string) answer {
	c.mu.Lock()
	c.seq++
	key := fmt.Sprintf("faults-%d-%s", c.seq, user)
	c.ops++
	c.mu.Unlock()
	what := method + " " + path + " " + body
	start := time.Now()
	defer func() {
		c.count(func() {
			if d := time.Since(start); d > c.slowest {
				c.slowest, c.slow = d, what
			}
		})
	}()
	for attempt := 1; ; attempt++ {
		if attempt > 60 {
			c.problem("%s: no answer in 60 attempts", what)
			return answer{}
		}
		c.count(func() { c.attempts++ })
		r, err := http.NewRequest(method, c.e.url+path, strings.NewReader(body))
		if err != nil {
			c.problem("%s: %v", what, err)
			return answer{}
		}
		r.Header.Set("Authorization", "Bearer "+tokens[user])
		r.Header.Set("Idempotency-Key", key)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		if body != "" {
			ct := "application/json"
			if method == "PATCH" {
				ct = "application/merge-patch+json"
			}
			r.Header.Set("Content-Type", ct)
		}
		resp, err := c.http.Do(r)
		if err != nil {
			c.count(func() { c.retries["transport error"]++ })
			time.Sleep(20 * time.Millisecond)
			continue
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			c.count(func() { c.retries["transport error"]++ })
			continue
		}
		if err := validator.ValidateResponse(r, resp.StatusCode, resp.Header, data); err != nil {
			c.problem("%s -> %d does not match openapi.yaml: %v\n%s", what, resp.StatusCode, err, data)
		}
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		a := answer{status: resp.StatusCode, body: m}
		if resp.StatusCode >= 400 {
			a.code, _ = m["code"].(string)
		}
		switch {
		case a.status == http.StatusServiceUnavailable:
			if a.code != inventory.CodeServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				c.problem("%s -> 503 %q, Retry-After %q: not service_unavailable with Retry-After", what, a.code, resp.Header.Get("Retry-After"))
			}
			c.count(func() { c.retries["503 service_unavailable"]++ })
			time.Sleep(20 * time.Millisecond) // Retry-After says 2 s; a test need not wait that long
			continue
		case a.status == http.StatusConflict && (a.code == inventory.CodeIdempotencyInProgress || a.code == inventory.CodeVersionConflict):
			c.count(func() { c.retries["409 "+a.code]++ })
			time.Sleep(20 * time.Millisecond)
			continue
		case a.status >= 500:
			c.problem("%s -> %d %s%s", what, a.status, data, c.logsOf(string(data)))
			return a
		}
		final := strconv.Itoa(a.status)
		if a.status >= 300 {
			final += " " + a.code
			if !slices.Contains(want, final) {
				c.problem("%s -> %s, not expected (%v): %s", what, final, want, data)
			}
		}
		c.count(func() { c.finals[method+" "+final]++ })
		return a
	}
}

func (c *blindClient) count(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
}

func (c *blindClient) problem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// logsOf returns the log lines of the request an error answer names.
func (c *blindClient) logsOf(body string) string {
	_, id, ok := strings.Cut(body, "request id ")
	if !ok {
		return ""
	}
	id = strings.TrimRight(strings.Fields(id)[0], `".,}`)
	var lines []string
	for _, l := range strings.Split(c.e.logs.String(), "\n") {
		if strings.Contains(l, id) {
			lines = append(lines, l)
		}
	}
	return "\nlog: " + strings.Join(lines, "\nlog: ")
}

// postForm uploads data with a presigned form, as a browser does (the S3
// POST reaches the engine without the functions' SDK, so without faults).
func postForm(upload map[string]any, data []byte) (int, error) {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	fields, _ := upload["fields"].(map[string]any)
	for k, v := range fields {
		if err := form.WriteField(k, v.(string)); err != nil {
			return 0, err
		}
	}
	part, err := form.CreateFormFile("file", "file")
	if err != nil {
		return 0, err
	}
	_, _ = part.Write(data)
	_ = form.Close()
	url, _ := upload["url"].(string)
	resp, err := http.Post(url, form.FormDataContentType(), &body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// ---- The model

// mItem is an item as the workload's answers say it must be.
type mItem struct {
	id, sku, name string
	tags          []string
	deleted       bool
	onHand        map[string]int64 // by location id; a level once made stays
	lines         int              // ledger lines
	groups        map[string]bool  // shared groups it is a member of
	upload        string           // the last upload asked for, whose file was sent
}

func (it *mItem) total() int64 {
	var n int64
	for _, q := range it.onHand {
		n += q
	}
	return n
}

// holding are the locations where the item has stock.
func (it *mItem) holding() []string {
	var out []string
	for loc, q := range it.onHand {
		if q != 0 {
			out = append(out, loc)
		}
	}
	sort.Strings(out)
	return out
}

type mRecord struct { // a location or a group of one worker
	id, name string
	deleted  bool
	version  int64
}

func (r *mRecord) ifMatch() map[string]string {
	return map[string]string{"If-Match": `"` + strconv.FormatInt(r.version, 10) + `"`}
}

type mImport struct {
	id   string
	rows []mItem // the items it creates
}

// workload is the mixed workload: its client, the model and what was
// asked of the workers.
type workload struct {
	e      *env
	c      *blindClient
	png    []byte
	shared struct {
		locations []string // default and two more
		groups    []string
	}
	mu      sync.Mutex
	items   []*mItem
	records []*mRecord // workers' own locations and groups, to check
	kinds   map[*mRecord]string
	exports []string
	imports []mImport
	uploads int
	opRuns  map[string]int // operations run, by name
}

func (w *workload) ran(op string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.opRuns[op]++
}

func (w *workload) runs(op string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.opRuns[op]
}

func (w *workload) addItem(it *mItem) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = append(w.items, it)
}

func (w *workload) addRecord(r *mRecord, kind string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.records = append(w.records, r)
	w.kinds[r] = kind
}

// worker is one of the workload's clients: it owns its items, locations
// and groups (so that the model of each is a sequence of its answers) and
// shares the locations and groups of the setup with every other worker.
type worker struct {
	n      int
	w      *workload
	rng    *rand.Rand
	items  []*mItem
	locs   []*mRecord
	groups []*mRecord
	seq    int
}

func (k *worker) name(prefix string) string {
	k.seq++
	return fmt.Sprintf("%s%02d-%03d", prefix, k.n, k.seq)
}

var faultTags = []string{"red", "green", "blue", "amber"}

func (k *worker) tags() []string {
	var out []string
	for _, t := range faultTags {
		if k.rng.IntN(3) == 0 {
			out = append(out, t)
		}
	}
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// live returns a random live item of the worker, or nil.
func (k *worker) live() *mItem {
	var live []*mItem
	for _, it := range k.items {
		if !it.deleted {
			live = append(live, it)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[k.rng.IntN(len(live))]
}

func (k *worker) location() string {
	return k.w.shared.locations[k.rng.IntN(len(k.w.shared.locations))]
}

// step runs one operation, drawn by weight.
// workerOp is one write operation of the workload, with its weight in
// the random mix.
type workerOp struct {
	name   string
	weight int
	run    func() bool // false: not possible now
}

func (k *worker) ops() []workerOp {
	return []workerOp{
		{"createItem", 8, k.createItem}, {"patchItem", 8, k.patchItem}, {"patchQuantity", 4, k.patchQuantity},
		{"deleteItem", 3, k.deleteItem}, {"restoreItem", 3, k.restoreItem},
		{"adjust", 12, k.adjust}, {"transfer", 8, k.transfer}, {"count", 6, k.count},
		{"setMember", 6, k.setMember}, {"changeMembers", 4, k.changeMembers},
		{"createLocation", 2, k.createLocation}, {"patchLocation", 2, k.patchLocation},
		{"deleteLocation", 2, k.deleteLocation}, {"restoreLocation", 2, k.restoreLocation},
		{"createGroup", 2, k.createGroup}, {"patchGroup", 2, k.patchGroup}, {"deleteGroup", 2, k.deleteGroup},
		{"restoreGroup", 2, k.restoreGroup},
		{"imageUpload", 4, k.imageUpload}, {"export", 1, k.export}, {"importFile", 1, k.importFile},
		{"shipment", 3, k.shipment},
	}
}

// step runs one operation drawn by weight among those possible now.
func (k *worker) step() {
	ops := k.ops()
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for {
		r := k.rng.IntN(total)
		for _, o := range ops {
			if r -= o.weight; r < 0 {
				if o.run() {
					k.w.ran(o.name)
					return
				}
				break
			}
		}
	}
}

// cover runs, faults still on, each operation the random mix never ran
// (a small workload, as moto's, may draw no import): every write
// operation runs under faults on both engines. An operation not possible
// now (a restore with nothing deleted) waits for random steps to make it so.
func (k *worker) cover(t *testing.T) {
	for _, o := range k.ops() {
		if k.w.runs(o.name) > 0 {
			continue
		}
		for attempt := 0; ; attempt++ {
			if attempt == 50 {
				t.Errorf("the workload never ran %s", o.name)
				break
			}
			if o.run() {
				k.w.ran(o.name)
				break
			}
			k.step()
		}
	}
}

func (k *worker) createItem() bool {
	it := &mItem{sku: k.name("F"), name: "Fault item", tags: k.tags(), onHand: map[string]int64{}, groups: map[string]bool{}}
	q := int64(k.rng.IntN(12))
	a := k.w.c.do(editorEmail, "POST", "/items", jsonOf(map[string]any{"sku": it.sku, "name": it.name, "tags": nonNil(it.tags), "quantity": q}))
	if a.status != http.StatusCreated {
		return true
	}
	it.id = a.str("id")
	it.onHand[inventory.DefaultLocation], it.lines = q, 1 // item_created, 0 included
	k.items = append(k.items, it)
	k.w.addItem(it)
	return true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (k *worker) patchItem() bool {
	it := k.live()
	if it == nil {
		return false
	}
	name, tags := fmt.Sprintf("Renamed %d", k.rng.IntN(1000)), k.tags()
	if k.w.c.do(editorEmail, "PATCH", "/items/"+it.id, jsonOf(map[string]any{"name": name, "tags": nonNil(tags)})).status == http.StatusOK {
		it.name, it.tags = name, tags
	}
	return true
}

// patchQuantity corrects the quantity of an item with stock at one
// location at most (with more, it would be use_adjustments).
func (k *worker) patchQuantity() bool {
	it := k.live()
	if it == nil || len(it.holding()) > 1 {
		return false
	}
	q := max(0, it.total()+int64(k.rng.IntN(9))-3)
	if k.w.c.do(editorEmail, "PATCH", "/items/"+it.id, jsonOf(map[string]any{"quantity": q})).status != http.StatusOK {
		return true
	}
	if delta := q - it.total(); delta != 0 {
		loc := inventory.DefaultLocation
		if h := it.holding(); len(h) == 1 {
			loc = h[0]
		}
		it.onHand[loc] += delta
		it.lines++
	}
	return true
}

func (k *worker) deleteItem() bool {
	it := k.live()
	if it == nil {
		return false
	}
	if k.w.c.do(editorEmail, "DELETE", "/items/"+it.id, `{"comment":"fault test"}`).status == http.StatusOK {
		it.deleted = true
	}
	return true
}

func (k *worker) restoreItem() bool {
	for _, it := range k.items {
		if it.deleted {
			if k.w.c.do(editorEmail, "POST", "/items/"+it.id+"/restore", "").status == http.StatusOK {
				it.deleted = false
			}
			return true
		}
	}
	return false
}

// adjust sends an adjustment of one or two lines of live items; one that
// would take a level below zero must be refused whole.
func (k *worker) adjust() bool {
	type line struct {
		it    *mItem
		loc   string
		delta int64
	}
	var lines []line
	for range 1 + k.rng.IntN(2) {
		it := k.live()
		if it == nil {
			return false
		}
		l := line{it, k.location(), int64(k.rng.IntN(12)) - 3}
		if l.delta == 0 || slices.ContainsFunc(lines, func(o line) bool { return o.it == l.it && o.loc == l.loc }) {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return false
	}
	var body []map[string]any
	short := false
	for _, l := range lines {
		body = append(body, map[string]any{"itemId": l.it.id, "locationId": l.loc, "delta": l.delta})
		short = short || l.it.onHand[l.loc]+l.delta < 0
	}
	want := []string{}
	if short {
		want = append(want, "409 insufficient_stock")
	}
	a := k.w.c.do(editorEmail, "POST", "/adjustments", jsonOf(map[string]any{"reason": "correction", "lines": body}), want...)
	if a.status == http.StatusCreated {
		if short {
			k.w.c.problem("an adjustment below zero was made: %v", body)
		}
		for _, l := range lines {
			l.it.onHand[l.loc] += l.delta
			l.it.lines++
		}
	}
	return true
}

// move draws a move of stock: a live item, a location holding some of it,
// another location and a quantity it has there (ok false: none now).
func (k *worker) move() (it *mItem, from, to string, q int64, ok bool) {
	if it = k.live(); it == nil {
		return nil, "", "", 0, false
	}
	h := it.holding()
	if len(h) == 0 {
		return nil, "", "", 0, false
	}
	from, to = h[k.rng.IntN(len(h))], k.location()
	if to == from || it.onHand[from] <= 0 {
		return nil, "", "", 0, false
	}
	return it, from, to, 1 + int64(k.rng.IntN(int(it.onHand[from]))), true
}

func (k *worker) transfer() bool {
	it, from, to, q, ok := k.move()
	if !ok {
		return false
	}
	if k.w.c.do(editorEmail, "POST", "/transfers", transfer(it.id, from, to, q)).status == http.StatusCreated {
		it.onHand[from] -= q
		it.onHand[to] += q
		it.lines += 2
	}
	return true
}

// shipment moves stock of an item from a location where it has some to
// another through a shipment (issue 13): created, made ready, then either
// cancelled (its commitment released) or shipped and received whole. Each
// transition is a logical request the blind client retries with its key,
// so one its function died in (a run of faults past the SDK's retries) is
// finished by the retry.
func (k *worker) shipment() bool {
	it, from, to, q, ok := k.move()
	if !ok {
		return false
	}
	c := k.w.c
	a := c.do(editorEmail, "POST", "/shipments", shipmentBody(from, to, []string{it.id}, q))
	id := a.str("id")
	if a.status != http.StatusCreated || id == "" {
		return true
	}
	step := func(action, status string) bool {
		a := c.do(editorEmail, "POST", "/shipments/"+id+"/"+action, "")
		if a.status == http.StatusOK && a.str("status") != status {
			c.problem("shipment %s: %s answered status %q, want %q", id, action, a.str("status"), status)
		}
		return a.status == http.StatusOK
	}
	if !step("ready", inventory.ShipmentReady) {
		return true
	}
	it.lines++ // shipment_committed
	if k.rng.IntN(4) == 0 {
		if step("cancel", inventory.ShipmentCancelled) {
			it.lines++ // shipment_released
		}
		return true
	}
	if !step("ship", inventory.ShipmentShipped) {
		return true
	}
	it.onHand[from] -= q
	it.lines += 2 // shipment_shipped, shipment_incoming
	if step("receive", inventory.ShipmentReceived) {
		it.onHand[to] += q
		it.lines++ // shipment_received
	}
	return true
}

// count counts a level as a compare-and-set on what the model says it
// holds.
func (k *worker) count() bool {
	it := k.live()
	if it == nil {
		return false
	}
	loc := k.location()
	counted := max(0, it.onHand[loc]+int64(k.rng.IntN(6))-2)
	body := jsonOf(map[string]any{"itemId": it.id, "locationId": loc, "counted": counted, "expected": it.onHand[loc]})
	if k.w.c.do(editorEmail, "POST", "/counts", body).status == http.StatusCreated {
		it.onHand[loc] = counted
		it.lines++
	}
	return true
}

func (k *worker) group() string {
	return k.w.shared.groups[k.rng.IntN(len(k.w.shared.groups))]
}

func (k *worker) setMember() bool {
	it := k.live()
	if it == nil {
		return false
	}
	g := k.group()
	if it.groups[g] {
		if k.w.c.do(editorEmail, "DELETE", "/groups/"+g+"/items/"+it.id, "").status == http.StatusNoContent {
			delete(it.groups, g)
		}
	} else if a := k.w.c.do(editorEmail, "PUT", "/groups/"+g+"/items/"+it.id, ""); a.status == http.StatusCreated || a.status == http.StatusOK {
		it.groups[g] = true
	}
	return true
}

func (k *worker) changeMembers() bool {
	g := k.group()
	var add, remove []*mItem
	for _, it := range k.items {
		if it.deleted || k.rng.IntN(2) == 0 {
			continue
		}
		if it.groups[g] {
			remove = append(remove, it)
		} else {
			add = append(add, it)
		}
	}
	if len(add)+len(remove) == 0 {
		return false
	}
	ids := func(items []*mItem) []string {
		out := []string{}
		for _, it := range items {
			out = append(out, it.id)
		}
		return out
	}
	a := k.w.c.do(editorEmail, "POST", "/groups/"+g+"/items", jsonOf(map[string]any{"add": ids(add), "remove": ids(remove)}))
	if a.status == http.StatusOK {
		for _, it := range add {
			it.groups[g] = true
		}
		for _, it := range remove {
			delete(it.groups, g)
		}
	}
	return true
}

func (k *worker) createLocation() bool {
	r := &mRecord{name: "Fault warehouse"}
	a := k.w.c.do(adminEmail, "POST", "/locations", jsonOf(map[string]any{"code": k.name("W"), "name": r.name}))
	if a.status == http.StatusCreated {
		r.id, r.version = a.str("id"), 1
		k.locs = append(k.locs, r)
		k.w.addRecord(r, "locations")
	}
	return true
}

func (k *worker) pick(rs []*mRecord, deleted bool) *mRecord {
	var out []*mRecord
	for _, r := range rs {
		if r.deleted == deleted {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out[k.rng.IntN(len(out))]
}

func (k *worker) patchLocation() bool {
	r := k.pick(k.locs, false)
	if r == nil {
		return false
	}
	name := fmt.Sprintf("Warehouse %d", k.rng.IntN(1000))
	if k.w.c.do(adminEmail, "PATCH", "/locations/"+r.id, jsonOf(map[string]any{"name": name})).status == http.StatusOK {
		if name != r.name {
			r.version++
		}
		r.name = name
	}
	return true
}

func (k *worker) deleteLocation() bool {
	r := k.pick(k.locs, false)
	if r == nil {
		return false
	}
	if k.w.c.doWith(adminEmail, "DELETE", "/locations/"+r.id, `{"comment":"fault test"}`, r.ifMatch()).status == http.StatusOK {
		r.deleted = true
		r.version++
	}
	return true
}

func (k *worker) restoreLocation() bool {
	r := k.pick(k.locs, true)
	if r == nil {
		return false
	}
	if k.w.c.doWith(adminEmail, "POST", "/locations/"+r.id+"/restore", "", r.ifMatch()).status == http.StatusOK {
		r.deleted = false
		r.version++
	}
	return true
}

func (k *worker) createGroup() bool {
	r := &mRecord{name: k.name("Fault group ")}
	a := k.w.c.do(editorEmail, "POST", "/groups", jsonOf(map[string]any{"name": r.name}))
	if a.status == http.StatusCreated {
		r.id, r.version = a.str("id"), 1
		k.groups = append(k.groups, r)
		k.w.addRecord(r, "groups")
	}
	return true
}

func (k *worker) patchGroup() bool {
	r := k.pick(k.groups, false)
	if r == nil {
		return false
	}
	name := k.name("Renamed group ")
	if k.w.c.do(editorEmail, "PATCH", "/groups/"+r.id, jsonOf(map[string]any{"name": name})).status == http.StatusOK {
		r.name = name
		r.version++
	}
	return true
}

func (k *worker) deleteGroup() bool {
	r := k.pick(k.groups, false)
	if r == nil {
		return false
	}
	if k.w.c.doWith(editorEmail, "DELETE", "/groups/"+r.id, `{"comment":"fault test"}`, r.ifMatch()).status == http.StatusOK {
		r.deleted = true
		r.version++
	}
	return true
}

func (k *worker) restoreGroup() bool {
	r := k.pick(k.groups, true)
	if r == nil {
		return false
	}
	if k.w.c.doWith(editorEmail, "POST", "/groups/"+r.id+"/restore", "", r.ifMatch()).status == http.StatusOK {
		r.deleted = false
		r.version++
	}
	return true
}

// imageUpload asks for an upload and sends the file; with an external
// engine, which notifies no one, it delivers the S3 event itself, as
// Lambda's asynchronous invoke would: up to three times.
func (k *worker) imageUpload() bool {
	it := k.live()
	if it == nil {
		return false
	}
	a := k.w.c.do(editorEmail, "POST", "/items/"+it.id+"/image-uploads", `{"contentType":"image/png"}`)
	if a.status != http.StatusCreated {
		return true
	}
	if status, err := postForm(a.body, k.w.png); err != nil || status >= 300 {
		k.w.c.problem("S3 POST of an image: %d %v", status, err)
		return true
	}
	it.upload = a.str("uploadId")
	k.w.mu.Lock()
	k.w.uploads++
	k.w.mu.Unlock()
	if engines.Notifier == nil {
		deliver(func(ctx context.Context) error {
			return k.w.e.stack.MakeThumbnails(ctx, s3Event(k.w.e.stack.Settings.BucketName, inventory.UploadKey(it.id, it.upload)))
		})
	}
	return true
}

func (k *worker) export() bool {
	a := k.w.c.do(editorEmail, "POST", "/exports", `{"include":["stock"]}`)
	if a.status == http.StatusAccepted {
		k.w.mu.Lock()
		k.w.exports = append(k.w.exports, a.str("id"))
		k.w.mu.Unlock()
	}
	return true
}

// importFile imports a CSV of new items.
func (k *worker) importFile() bool {
	a := k.w.c.do(editorEmail, "POST", "/imports", `{"dryRun":false}`)
	if a.status != http.StatusCreated {
		return true
	}
	imp := mImport{id: a.str("id")}
	var csv strings.Builder
	csv.WriteString("sku,name,quantity,tags\r\n")
	for range 3 {
		it := mItem{sku: k.name("IMP"), name: "Imported", tags: []string{"imported"}, onHand: map[string]int64{}}
		q := int64(1 + k.rng.IntN(9))
		it.onHand[inventory.DefaultLocation], it.lines = q, 1
		fmt.Fprintf(&csv, "%s,%s,%d,imported\r\n", it.sku, it.name, q)
		imp.rows = append(imp.rows, it)
	}
	upload, _ := a.body["upload"].(map[string]any)
	if status, err := postForm(upload, []byte(csv.String())); err != nil || status >= 300 {
		k.w.c.problem("S3 POST of an import: %d %v", status, err)
		return true
	}
	k.w.mu.Lock()
	k.w.imports = append(k.w.imports, imp)
	k.w.mu.Unlock()
	if engines.ImportNotifier == nil {
		deliver(func(ctx context.Context) error {
			return k.w.e.stack.ImportItems(ctx, s3Event(k.w.e.stack.Settings.BucketName, inventory.ImportKey(imp.id)))
		})
	}
	return true
}

// TestMixedWorkloadUnderFaults (issue 11, §1): 16 workers send every write
// operation of the API — items, locations, groups and memberships,
// adjustments, counts, transfers, image uploads (and MakeThumbnails),
// exports and imports (and their workers) — while 10% of the attempts of
// every function's DynamoDB and S3 calls fail (and 1% of calls fail on
// every attempt, past the SDK's retries). Each request is retried blindly
// with its Idempotency-Key until it has an answer. Then, with the faults
// off: every answer was a 2xx, a 503 service_unavailable with Retry-After,
// or an expected 4xx; the state is exactly what the answers say, each
// operation applied once (quantities and levels, ledger lines and their
// sums, group member counts, tag counts, names, deletions, the images with
// no orphan object, every export and import finished with its rows).
func TestMixedWorkloadUnderFaults(t *testing.T) {
	t.Parallel()
	start := time.Now()
	workers, perWorker := faultWorkloadSize()
	seed := faultSeed()
	e, in := newFaultEnv(t, faults.Config{Seed: seed, Rate: 0.10, RunRate: 0.01}, nil)
	w := &workload{e: e, c: newBlindClient(e), png: pngWithAlpha(t, 48, 32), kinds: map[*mRecord]string{}, opRuns: map[string]int{}}

	// The setup, without faults: two more locations, three groups, and
	// two items for each worker.
	w.shared.locations = []string{inventory.DefaultLocation, e.createLocation("SHARED-1"), e.createLocation("SHARED-2")}
	for i := range 3 {
		w.shared.groups = append(w.shared.groups, e.createGroup(fmt.Sprintf("Shared %d", i))["id"].(string))
	}
	ks := make([]*worker, workers)
	for n := range workers {
		k := &worker{n: n, w: w, rng: rand.New(rand.NewPCG(seed, uint64(n)))}
		for range 2 {
			it := &mItem{sku: k.name("S"), name: "Seeded", tags: k.tags(), onHand: map[string]int64{inventory.DefaultLocation: 10},
				lines: 1, groups: map[string]bool{}}
			it.id = e.createItem(jsonOf(map[string]any{"sku": it.sku, "name": it.name, "tags": nonNil(it.tags), "quantity": 10}))["id"].(string)
			k.items = append(k.items, it)
			w.addItem(it)
		}
		ks[n] = k
	}
	setup := time.Since(start)

	in.Enable(true)
	var wg sync.WaitGroup
	for _, k := range ks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				k.step()
			}
		}()
	}
	wg.Wait()
	ks[0].cover(t)
	// The workers' own queues and notifications finish with the faults on.
	e.stack.ExportQueue.Wait()
	waitNotifiers(t)
	e.stack.ImportQueue.Wait()
	in.Enable(false)
	load := time.Since(start) - setup
	report := in.Report()

	c := w.c
	phase := time.Now()
	redriven := w.settleWorkers(t)
	settled := time.Since(phase)
	// The audit (every invariant, table-wide, and the image objects)
	// finds no drift.
	phase = time.Now()
	audited, drifts := audit(t, e.auditor())
	if audited.Drift != 0 {
		t.Errorf("the audit found %d drifts: %v", audited.Drift, drifts)
	}
	auditTook := time.Since(phase)
	phase = time.Now()
	w.check(t)
	checked := time.Since(phase)
	for _, p := range c.problems {
		t.Error(p)
	}
	if report.Total("DynamoDB") == 0 || report.Total("S3") == 0 || report.Runs == 0 {
		t.Errorf("the faults were not all injected:\n%v", report)
	}
	t.Logf("seed %d: %d workers × %d operations; setup %v, workload %v, checks %v (settling the workers %v, the audit %v, the state against the model %v)",
		seed, workers, perWorker, setup.Round(time.Millisecond), load.Round(time.Millisecond), (time.Since(start) - setup - load).Round(time.Millisecond),
		settled.Round(time.Millisecond), auditTook.Round(time.Millisecond), checked.Round(time.Millisecond))
	t.Logf("faults injected:\n%v", report)
	t.Logf("requests: %d logical, %d sent; retries %v; the slowest took %v: %s", c.ops, c.attempts, c.retries, c.slowest.Round(time.Millisecond), c.slow)
	t.Logf("answers: %v", c.finals)
	t.Logf("operations run: %v", w.opRuns)
	deliveries, failedDeliveries := w.workerDeliveries()
	t.Logf("worker deliveries (failed ones delivered again by S3's retries or the queue): %v, of which failed: %v", deliveries, failedDeliveries)
	t.Logf("audit: %d drift; records %v; objects %v", audited.Drift, audited.Records, audited.Objects)
	t.Logf("final state: %d items, %d locations and groups of the workers, %d uploads, %d exports, %d imports; events redelivered by hand: %s",
		len(w.items), len(w.records), w.uploads, len(w.exports), len(w.imports), redriven)
}

// workerDeliveries counts the deliveries to each worker that its log
// lines record, and those that failed.
func (w *workload) workerDeliveries() (all, failed map[string]int) {
	all, failed = map[string]int{}, map[string]int{}
	for _, line := range strings.Split(w.e.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || (m["msg"] != "event" && m["msg"] != "message") {
			continue
		}
		fn, _ := m["function"].(string)
		if fn != "MakeThumbnails" && fn != "ExportItems" && fn != "ImportItems" {
			continue
		}
		all[fn]++
		if m["level"] == "ERROR" {
			failed[fn]++
		}
	}
	return all, failed
}

// settleWorkers deals, as an operator would, with the events that failed
// every delivery under the faults (Lambda's failure destination): each is
// delivered again, without faults. It returns what it redelivered.
func (w *workload) settleWorkers(t *testing.T) string {
	e := w.e
	ctx := context.Background()
	thumbs, imports := 0, 0
	for _, it := range w.items {
		if it.upload == "" {
			continue
		}
		img, _ := e.anyItem(it.id)["image"].(map[string]any)
		if img["status"] == inventory.ImagePending && img["uploadId"] == it.upload {
			thumbs++
			if err := e.stack.MakeThumbnails(ctx, s3Event(e.stack.Settings.BucketName, inventory.UploadKey(it.id, it.upload))); err != nil {
				t.Errorf("MakeThumbnails redelivered: %v", err)
			}
		}
	}
	for _, imp := range w.imports {
		job := e.must(http.StatusOK, req{Method: "GET", Path: "/imports/" + imp.id}).json(t)
		if s := job["status"]; s == inventory.ImportAwaitingUpload || s == inventory.JobRunning {
			imports++
			if err := e.stack.ImportItems(ctx, s3Event(e.stack.Settings.BucketName, inventory.ImportKey(imp.id))); err != nil {
				t.Errorf("ImportItems redelivered: %v", err)
			}
		}
	}
	e.stack.ImportQueue.Wait()
	var dropped []string
	dropped = append(dropped, e.stack.ExportQueue.Dropped()...)
	dropped = append(dropped, e.stack.ImportQueue.Dropped()...)
	return fmt.Sprintf("%d MakeThumbnails, %d ImportItems; jobs dead-lettered: %v", thumbs, imports, dropped)
}

// check compares the state, read through the API, with the model.
func (w *workload) check(t *testing.T) {
	e := w.e
	// Imports: each succeeded, its rows created once; their items join the
	// model.
	for _, imp := range w.imports {
		job, rows := e.awaitImportDone(imp.id)
		if job["status"] != inventory.JobSucceeded || job["created"] != float64(len(imp.rows)) {
			t.Errorf("import %s: %v", imp.id, job)
			continue
		}
		if got := resultStatuses(rows); strings.Count(got, ":created") != len(imp.rows) {
			t.Errorf("import %s results: %s", imp.id, got)
		}
		for _, row := range imp.rows {
			found := e.must(http.StatusOK, req{Method: "GET", Path: "/items?q=" + row.sku}).json(t)["items"].([]any)
			if len(found) != 1 {
				t.Errorf("import %s: %d items with SKU %s", imp.id, len(found), row.sku)
				continue
			}
			it := row
			it.id, it.groups = found[0].(map[string]any)["id"].(string), map[string]bool{}
			w.items = append(w.items, &it)
		}
	}
	// Exports: each succeeded, its file holding the rows it counts.
	for _, id := range w.exports {
		job := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + id}).json(t)
		if job["status"] != inventory.JobSucceeded {
			t.Errorf("export %s: %v", id, job)
			continue
		}
		_, data := download(t, job["downloadUrl"].(string))
		r := itemcsv.NewReader(bytes.NewReader(data))
		n := -1 // the header
		for {
			if _, _, err := r.Read(); err != nil {
				break
			}
			n++
		}
		if float64(n) != job["rows"] || int64(len(data)) != int64(job["bytes"].(float64)) {
			t.Errorf("export %s: %d rows and %d bytes in the file, the job says %v and %v", id, n, len(data), job["rows"], job["bytes"])
		}
	}

	tags := map[string]int64{}
	members := map[string]int64{}
	deleted := map[string]*mItem{}
	uploads := e.objects(inventory.UploadPrefix)
	if len(uploads) > 0 {
		t.Errorf("uploads left behind: %v", uploads)
	}
	for _, it := range w.items {
		desc := fmt.Sprintf("item %s (%s)", it.id, it.sku)
		res := e.do(req{Method: "GET", Path: "/items/" + it.id})
		if it.deleted {
			// A deleted item is 404 item_deleted; it is listed among the
			// deleted (below), and its stock and ledger stand.
			if res.Status != http.StatusNotFound || res.code(t) != inventory.CodeItemDeleted {
				t.Errorf("%s: %d %s; the model says deleted", desc, res.Status, res.Body)
			}
			deleted[it.id] = it
			w.checkImage(t, it, e.anyItem(it.id), desc)
			continue
		}
		if res.Status != http.StatusOK {
			t.Errorf("%s: %d %s; the model says live", desc, res.Status, res.Body)
			continue
		}
		got := res.json(t)
		if got["sku"] != it.sku || got["name"] != it.name || (got["deleted"] != nil) != it.deleted ||
			!slices.Equal(stringsOf(got["tags"]), sortedCopy(it.tags)) || got["quantity"] != float64(it.total()) {
			t.Errorf("%s: %v; the model says name %q, tags %v, deleted %v, quantity %d", desc, got, it.name, it.tags, it.deleted, it.total())
		}
		var groups []string
		for _, g := range got["groups"].([]any) {
			groups = append(groups, g.(map[string]any)["id"].(string))
		}
		var want []string
		for g := range it.groups {
			want = append(want, g)
		}
		sort.Strings(groups)
		sort.Strings(want)
		if !slices.Equal(groups, want) {
			t.Errorf("%s: groups %v, the model says %v", desc, groups, want)
		}
		for _, tag := range it.tags {
			tags[tag]++
		}
		for g := range it.groups {
			members[g]++
		}
		w.checkStock(t, it, desc)
		w.checkImage(t, it, got, desc)
	}
	for _, d := range e.listAll("/deleted-items", "items", nil) {
		id := d["id"].(string)
		if deleted[id] == nil {
			t.Errorf("item %s is listed as deleted; the model says live", id)
		}
		delete(deleted, id)
	}
	for id := range deleted {
		t.Errorf("item %s is not listed as deleted", id)
	}
	defer func() {
		// The stock and ledger of the deleted items, once restored (a
		// deleted item's stock is not readable).
		for _, it := range w.items {
			if it.deleted {
				e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + it.id + "/restore"})
				w.checkStock(t, it, fmt.Sprintf("deleted item %s (%s), restored", it.id, it.sku))
			}
		}
	}()
	for _, g := range w.shared.groups {
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + g}).json(t)
		if got["memberCount"] != float64(members[g]) {
			t.Errorf("group %s: memberCount %v, the model says %d", g, got["memberCount"], members[g])
		}
		listed := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + g + "/items?limit=100"}).json(t)["items"].([]any)
		if int64(len(listed)) != members[g] {
			t.Errorf("group %s lists %d items, the model says %d", g, len(listed), members[g])
		}
	}
	listed := map[string]int64{}
	for _, tc := range e.must(http.StatusOK, req{Method: "GET", Path: "/tags?limit=100"}).json(t)["tags"].([]any) {
		m := tc.(map[string]any)
		listed[m["tag"].(string)] = int64(m["count"].(float64))
	}
	for _, tag := range append(slices.Clone(faultTags), "imported") {
		if listed[tag] != tags[tag] {
			t.Errorf("tag %s: count %d, the model says %d", tag, listed[tag], tags[tag])
		}
	}
	deletedRecords := map[string]map[string]any{}
	for _, kind := range []string{"locations", "groups"} {
		for _, r := range e.listAll("/deleted-"+kind, kind, as(adminEmail)) {
			deletedRecords[r["id"].(string)] = r
		}
	}
	for _, r := range w.records {
		kind := w.kinds[r]
		got := deletedRecords[r.id]
		res := e.do(req{Method: "GET", Path: "/" + kind + "/" + r.id, Header: as(adminEmail)})
		switch {
		case r.deleted && (res.Status != http.StatusNotFound || res.code(t) != strings.TrimSuffix(kind, "s")+"_deleted"):
			t.Errorf("%s %s: %d %s; the model says deleted", kind, r.id, res.Status, res.Body)
		case !r.deleted && res.Status != http.StatusOK:
			t.Errorf("%s %s: %d %s; the model says live", kind, r.id, res.Status, res.Body)
		case !r.deleted:
			if got != nil {
				t.Errorf("%s %s is listed as deleted; the model says live", kind, r.id)
			}
			got = res.json(t)
		}
		if got["name"] != r.name || got["version"] != float64(r.version) {
			t.Errorf("%s %s: %v; the model says %q, version %d, deleted %v", kind, r.id, got, r.name, r.version, r.deleted)
		}
	}
}

// checkStock checks an item's levels and ledger: each level as the model
// says, the sum of its lines, its count of lines; and that the item's
// objects are only its last upload's.
func (w *workload) checkStock(t *testing.T, it *mItem, desc string) {
	e := w.e
	levels, _ := e.levels(it.id)
	for loc, q := range it.onHand {
		l, ok := levels[loc]
		if !ok || l["onHand"] != float64(q) {
			t.Errorf("%s at %s: level %v, the model says %d", desc, loc, l, q)
		}
	}
	for loc, l := range levels {
		if _, ok := it.onHand[loc]; !ok && l["onHand"] != 0.0 {
			t.Errorf("%s: a level at %s the model does not know: %v", desc, loc, l)
		}
	}
	lines := e.history(it.id, "")
	sums := map[string]int64{}
	for _, ln := range lines {
		sums[ln["locationId"].(string)] += int64(ln["delta"].(float64))
	}
	if len(lines) != it.lines {
		var got []string
		for _, ln := range lines {
			got = append(got, fmt.Sprintf("%v %v%+v", ln["locationId"], ln["reason"], ln["delta"]))
		}
		t.Errorf("%s: %d ledger lines (%v), the model says %d", desc, len(lines), got, it.lines)
	}
	for loc, q := range it.onHand {
		if sums[loc] != q {
			t.Errorf("%s at %s: the ledger sums to %d, on hand %d", desc, loc, sums[loc], q)
		}
	}
	if it.upload != "" {
		for _, key := range e.objects(inventory.ThumbnailPrefix + it.id + "/") {
			if !strings.HasPrefix(key, inventory.ThumbnailPrefix+it.id+"/"+it.upload+"/") {
				t.Errorf("%s: an orphan object %s", desc, key)
			}
		}
	}
}

// checkImage checks that the item shows its last upload, ready.
func (w *workload) checkImage(t *testing.T, it *mItem, got map[string]any, desc string) {
	if it.upload == "" {
		return
	}
	img, _ := got["image"].(map[string]any)
	if img["uploadId"] != it.upload || img["status"] != inventory.ImageReady {
		t.Errorf("%s: image %v, want upload %s ready", desc, img, it.upload)
	}
}

// anyItem is an item as GET /items/{id} shows it, or as the list of
// deleted items does once it is deleted.
func (e *env) anyItem(id string) map[string]any {
	e.t.Helper()
	if res := e.do(req{Method: "GET", Path: "/items/" + id}); res.Status == http.StatusOK {
		return res.json(e.t)
	}
	for _, it := range e.listAll("/deleted-items", "items", nil) {
		if it["id"] == id {
			return it
		}
	}
	e.t.Errorf("item %s is neither live nor deleted", id)
	return nil
}

func stringsOf(v any) []string {
	out := []string{}
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	sort.Strings(out)
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}
