package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/importfn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// importCSV asks for an import, uploads data with its form as a browser
// does, lets ImportItems run (the embedded S3 notifies it; with moto the
// test delivers the event S3 would send) and returns the finished job and
// its results' rows.
func (e *env) importCSV(data []byte, dryRun bool) (map[string]any, [][]string) {
	e.t.Helper()
	job := e.must(http.StatusCreated, req{Method: "POST", Path: "/imports", Body: fmt.Sprintf(`{"dryRun":%v}`, dryRun)}).json(e.t)
	if status := e.postFile(job["upload"].(map[string]any), data); status != http.StatusNoContent {
		e.t.Fatalf("upload: %d", status)
	}
	return e.awaitImport(job["id"].(string))
}

func (e *env) awaitImport(id string) (map[string]any, [][]string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if engines.ImportNotifier != nil {
		if err := engines.ImportNotifier.Wait(ctx); err != nil {
			e.t.Fatal(err)
		}
	} else if err := e.stack.ImportItems(ctx, s3Event(e.stack.Settings.BucketName, inventory.ImportKey(id))); err != nil {
		e.t.Fatalf("ImportItems: %v", err)
	}
	e.stack.ImportQueue.Wait()
	job := e.must(http.StatusOK, req{Method: "GET", Path: "/imports/" + id, Header: as(viewerEmail)}).json(e.t)
	if job["status"] != inventory.JobSucceeded {
		return job, nil
	}
	resp, body := download(e.t, job["resultsUrl"].(string))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("results: %d", resp.StatusCode)
	}
	var rows [][]string
	r := itemcsv.NewReader(bytes.NewReader(body))
	for {
		rec, _, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			e.t.Fatal(err)
		}
		rows = append(rows, rec)
	}
	return job, rows
}

// exportCSV exports every item through the API and downloads the file.
func (e *env) exportCSV(body string) []byte {
	e.t.Helper()
	job := e.must(http.StatusAccepted, req{Method: "POST", Path: "/exports", Body: body}).json(e.t)
	done := e.awaitExport(job["id"].(string))
	if done["status"] != inventory.JobSucceeded {
		e.t.Fatalf("export %v", done)
	}
	_, data := download(e.t, done["downloadUrl"].(string))
	return data
}

// snapshot is what an import may change: every item's GET, and its ledger.
func (e *env) snapshot(ids ...string) string {
	e.t.Helper()
	var b strings.Builder
	for _, id := range ids {
		b.Write(e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/stock"}).Body)
		item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(e.t)
		delete(item, "image")
		fmt.Fprintf(&b, "%v\n", item)
		b.Write(e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id + "/history"}).Body)
	}
	return b.String()
}

func resultStatuses(rows [][]string) string {
	if len(rows) == 0 {
		return "no results"
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[1]+":"+r[2])
	}
	return strings.Join(out, " ")
}

// TestImportRoundTripAndEdits (issue 10): an export re-imported changes
// nothing; edited rows change exactly their items, stock differences
// become import lines in the ledger; hostile cells round-trip; bad rows
// each get their error while good rows land; the same file again changes
// nothing.
func TestImportRoundTripAndEdits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := e.must(http.StatusCreated, req{Method: "POST", Path: "/locations", Header: as(adminEmail),
		Body: `{"code":"RTM-1","name":"Rotterdam"}`}).json(t)
	a := e.createItem(`{"sku":"RT-A","name":"=HYPERLINK(\"http://evil\")","description":"a, \"quoted\"\nmultiline; é 🧰","tags":["@x","a;b"],"quantity":3}`)
	b := e.createItem(`{"sku":"RT-B","name":"Plain","quantity":5,"reorderPoint":2}`)
	c := e.createItem(`{"sku":"RT-C","name":"+tab\tin","quantity":0}`)
	ids := []string{a["id"].(string), b["id"].(string), c["id"].(string)}
	before, beforeAC := e.snapshot(ids...), e.snapshot(ids[0], ids[2])
	file := e.exportCSV(`{"include":["stock","groups"]}`)
	if !bytes.Contains(file, []byte(`"'=HYPERLINK(""http://evil"")"`)) || !bytes.Contains(file, []byte(`"'+tab`)) {
		t.Fatalf("hostile cells not neutralised:\n%s", file)
	}

	job, rows := e.importCSV(file, false)
	if job["status"] != inventory.JobSucceeded || job["unchanged"] != float64(3) || job["rows"] != float64(3) {
		t.Fatalf("round trip: %v %q", job, rows)
	}
	if after := e.snapshot(ids...); after != before {
		t.Fatalf("the round trip changed items:\n%s\nwant\n%s", after, before)
	}

	// Edit: RT-B renamed and 2 of its 5 moved to RTM-1; a new row; bad rows.
	text := strings.Replace(string(file), `"Plain"`, `"Plain, renamed ✓"`, 1)
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	header := lines[0]
	for i, l := range lines {
		if strings.Contains(l, `"RT-B"`) {
			cells := strings.Split(l, `","`)
			cells[10], cells[11] = "3", `2",""` // and an empty groups cell, the last
			lines[i] = strings.Join(cells[:12], `","`)
		}
	}
	lines = append(lines,
		`"","RT-NEW","Brand new","","","7","","","","","7","0",""`,
		`"","RT-BAD","Bad","","","-4","","","","","","",""`,
		`"","","No sku","","","","","","","","","",""`)
	if !strings.HasSuffix(header, `"onHand:DEFAULT","onHand:RTM-1","groups"`) {
		t.Fatalf("header %s", header)
	}
	edited := []byte(strings.Join(lines, "\r\n") + "\r\n")
	job, rows = e.importCSV(edited, false)
	if got := resultStatuses(rows); got != "RT-A:unchanged RT-B:updated RT-C:unchanged RT-NEW:created RT-BAD:failed :failed" {
		t.Fatalf("edits: %v %q", job, rows)
	}
	if !strings.Contains(rows[5][3], "/quantity") || !strings.Contains(rows[6][3], "/sku") {
		t.Errorf("bad rows' errors: %q %q", rows[5][3], rows[6][3])
	}
	if after := e.snapshot(ids[0], ids[2]); after != beforeAC {
		t.Errorf("rows left as they were changed:\n%s\nwant\n%s", after, beforeAC)
	}
	item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + ids[1]}).json(t)
	if item["name"] != "Plain, renamed ✓" || item["quantity"] != float64(5) || item["version"] != float64(2) {
		t.Errorf("RT-B: %v", item)
	}
	history := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + ids[1] + "/history"}).json(t)
	entries := history["entries"].([]any)
	var imported []string
	for _, en := range entries {
		m := en.(map[string]any)
		if m["reason"] == inventory.ReasonImport {
			imported = append(imported, fmt.Sprintf("%v:%v", m["locationId"], m["delta"]))
		}
	}
	slices.Sort(imported)
	if want := []string{fmt.Sprintf("%v:2", loc["id"]), "default:-2"}; !slices.Equal(imported, want) {
		t.Errorf("ledger: import lines %v in %v", imported, entries)
	}
	fresh := e.must(http.StatusOK, req{Method: "GET", Path: "/items?q=RT-NEW"}).json(t)["items"].([]any)
	if len(fresh) != 1 || fresh[0].(map[string]any)["quantity"] != float64(7) {
		t.Errorf("created: %v", fresh)
	}

	// The same file again: nothing changes.
	mid := e.snapshot(ids...)
	job, _ = e.importCSV(edited, false)
	if job["created"] != float64(0) || job["updated"] != float64(0) || e.snapshot(ids...) != mid {
		t.Errorf("second run: %v", job)
	}
	// A dry run says what would happen and changes nothing.
	job, rows = e.importCSV([]byte("SKU,Name\r\nRT-A,Dry\r\nRT-DRY,Dry\r\n"), true)
	if job["dryRun"] != true || resultStatuses(rows) != "RT-A:updated RT-DRY:created" || e.snapshot(ids...) != mid {
		t.Errorf("dry run: %v %q", job, rows)
	}
}

// TestImportRefusals (issue 10): a malformed file fails with a clear error
// and changes nothing; S3 refuses a file over the limit by the form's
// policy; imports list newest first; unknown ids are 404.
func TestImportRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createItem(`{"sku":"RF-A","name":"A","quantity":1}`)
	before := e.snapshot(a["id"].(string))
	for _, c := range []struct{ file, want string }{
		{"name,quantity\r\nA,1\r\n", "sku column"},
		{"sku,name\r\nRF-A,Caf\xe9\r\n", "not UTF-8"},
		{"sku,name\r\nRF-A,\"open\r\n", "not CSV"},
	} {
		job, _ := e.importCSV([]byte(c.file), false)
		if job["status"] != inventory.JobFailed || !strings.Contains(fmt.Sprint(job["error"]), c.want) {
			t.Errorf("%q: %v", c.file, job)
		}
	}
	if e.snapshot(a["id"].(string)) != before {
		t.Errorf("a refused file changed the item")
	}

	job := e.must(http.StatusCreated, req{Method: "POST", Path: "/imports", Header: map[string]string{"Idempotency-Key": "imp-1"}}).json(t)
	again := e.must(http.StatusCreated, req{Method: "POST", Path: "/imports", Header: map[string]string{"Idempotency-Key": "imp-1"}})
	if again.json(t)["id"] != job["id"] || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %s %v", again.Body, again.Header)
	}
	upload := job["upload"].(map[string]any)
	if upload["maxBytes"] != float64(inventory.MaxImportBytes) {
		t.Fatalf("upload %v", upload)
	}
	// S3 (and the embedded S3) refuses it by the policy's
	// content-length-range; moto checks no policy, so there the worker's
	// own check refuses the file.
	switch status := e.postFile(upload, bytes.Repeat([]byte("x"), inventory.MaxImportBytes+1)); status {
	case http.StatusBadRequest:
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/imports/" + job["id"].(string)}).json(t)
		if got["status"] != inventory.ImportAwaitingUpload || engines.Notifier == nil {
			t.Errorf("after the refused upload: %v", got)
		}
	case http.StatusNoContent:
		got, _ := e.awaitImport(job["id"].(string))
		if engines.Notifier != nil || got["status"] != inventory.JobFailed || !strings.Contains(fmt.Sprint(got["error"]), "over the 50 MB") {
			t.Errorf("an upload over 50 MB that S3 took: %v", got)
		}
	default:
		t.Errorf("an upload over 50 MB: %d", status)
	}
	list := e.must(http.StatusOK, req{Method: "GET", Path: "/imports?limit=2"}).json(t)
	if imports := list["imports"].([]any); len(imports) != 2 || imports[0].(map[string]any)["id"] != job["id"] || list["nextCursor"] == nil {
		t.Errorf("list %v", list)
	}
	if code := e.must(http.StatusNotFound, req{Method: "GET", Path: "/imports/01JR2W3B6D9F2H5K8M1P4R7T0V"}).code(t); code != "import_not_found" {
		t.Errorf("unknown: %s", code)
	}
	if code := e.must(http.StatusForbidden, req{Method: "POST", Path: "/imports", Header: as(viewerEmail)}).code(t); code != "forbidden" {
		t.Errorf("viewer: %s", code)
	}
}

// killingImports is killingExports for import jobs.
type killingImports struct {
	usecase.ImportStore
	saves, kill int
}

func (k *killingImports) SaveImport(ctx context.Context, c inventory.ImportChange) error {
	if k.saves++; k.saves == k.kill {
		return errors.New("killed at a checkpoint")
	}
	return k.ImportStore.SaveImport(ctx, c)
}

// catalogueState is the items as text without ids or times: each one's
// fields, version and ledger (reasons and deltas), in SKU order.
func (e *env) catalogueState() string {
	e.t.Helper()
	var b strings.Builder
	items := e.must(http.StatusOK, req{Method: "GET", Path: "/items?limit=100"}).json(e.t)["items"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		fmt.Fprintf(&b, "%v %q %v v%v:", m["sku"], m["name"], m["quantity"], m["version"])
		history := e.must(http.StatusOK, req{Method: "GET", Path: fmt.Sprintf("/items/%v/history", m["id"])}).json(e.t)
		for _, en := range history["entries"].([]any) {
			l := en.(map[string]any)
			fmt.Fprintf(&b, " %v%+v", l["reason"], l["delta"])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestImportResumesOnTheEngines (issue 10, checkpoints): ImportItems killed
// at each checkpoint of an import (started; file checked; resumed; after
// each chunk of 2 rows was applied and its results written; results
// started; succeeded) finishes on the next delivery with the items and the
// results file of an uninterrupted run: no row applied twice, each
// reported as what it did.
func TestImportResumesOnTheEngines(t *testing.T) {
	t.Parallel()
	file := []byte("sku,name,quantity\r\nRS-0,Zero renamed,10\r\nRS-1,One,1\r\nRS-NEW,New,4\r\nRS-2,,2\r\nRS-0,Zero again,0\r\n")
	run := func(kill int) (string, string) {
		e := newEnv(t)
		for i := range 3 {
			e.createItem(fmt.Sprintf(`{"sku":"RS-%d","name":"%s","quantity":%d}`, i, []string{"Zero", "One", "Two"}[i], i))
		}
		settings := e.stack.Settings // with the stack's queue, which feeds its ImportItems
		svc, err := lambdafn.NewService(context.Background(), settings)
		if err != nil {
			t.Fatal(err)
		}
		hook := &killingImports{ImportStore: svc.Imports}
		svc.Imports, svc.ImportChunkRows = hook, 2
		worker := &importfn.Worker{Service: svc}
		ctx := context.Background()
		up, _, err := svc.RequestImport(ctx, usecase.Request{Actor: editorEmail}, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Objects.Put(ctx, inventory.ImportKey(up.Import.ID), usecase.ImportContentType, file); err != nil {
			t.Fatal(err)
		}
		hook.saves, hook.kill = 0, kill
		if err := worker.HandleS3(ctx, s3Event(settings.BucketName, inventory.ImportKey(up.Import.ID))); err != nil {
			t.Fatal(err)
		}
		hook.kill = 0
		// Killed, the run handed the job to the queue, whose delivery to
		// the stack's ImportItems finishes it.
		job, rows := e.awaitImport(up.Import.ID)
		if job["status"] != inventory.JobSucceeded {
			t.Fatalf("kill at save %d: %v", kill, job)
		}
		var results []string
		for _, r := range rows {
			results = append(results, strings.Join(r, ","))
		}
		return strings.Join(results, "\n"), e.catalogueState()
	}
	wantResults, wantState := run(0)
	if !strings.Contains(wantResults, "3,RS-1,unchanged") || !strings.Contains(wantResults, "5,RS-2,failed") || !strings.Contains(wantResults, "6,RS-0,updated") {
		t.Fatalf("uninterrupted:\n%s\n%s", wantResults, wantState)
	}
	for kill := 1; kill <= 8; kill++ {
		results, state := run(kill)
		if results != wantResults || state != wantState {
			t.Errorf("kill at save %d:\n%s\n%s\nwant\n%s\n%s", kill, results, state, wantResults, wantState)
		}
	}
}
