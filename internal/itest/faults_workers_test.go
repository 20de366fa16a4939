package itest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/faults"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// The fault layer's tests of single faults, placed, and of the workers
// killed at any point (issue 11, §1); the mixed workload is in
// faults_test.go.

// newFaultEnv deploys a stack whose every function's DynamoDB and S3
// clients go through one injector, disabled until the test enables it.
func newFaultEnv(t *testing.T, cfg faults.Config, edit func(*lambdafn.Settings)) (*env, *faults.Injector) {
	t.Helper()
	in := faults.New(cfg)
	e := newEnvWith(t, func(s *lambdafn.Settings) {
		s.DynamoDBOptions = append(s.DynamoDBOptions, in.DynamoDB)
		s.S3Options = append(s.S3Options, in.S3)
		if edit != nil {
			edit(s)
		}
	})
	return e, in
}

// deliver calls an asynchronously invoked function as Lambda does: the
// first attempt and two retries.
func deliver(f func(context.Context) error) error {
	var err error
	for range 3 {
		if err = f(context.Background()); err == nil {
			return nil
		}
	}
	return err
}

// waitNotifiers waits for the embedded S3's notifications to be processed.
func waitNotifiers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, n := range []*localrun.Notifier{engines.Notifier, engines.ImportNotifier} {
		if n == nil {
			continue
		}
		if err := n.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTransactionConflictIsNoChange: a transaction DynamoDB cancels with
// TransactionConflict wrote nothing and found nothing changed, so a PATCH
// with a matching If-Match succeeds (not 412), and a worker's save of its
// job goes on (the job is not another worker's).
func TestTransactionConflictIsNoChange(t *testing.T) {
	t.Parallel()
	e, in := newFaultEnv(t, faults.Config{Seed: faultSeed()}, nil)
	id := e.createItem(`{"sku":"TC-1","name":"Conflicted"}`)["id"].(string)
	in.FailNext("TransactWriteItems", faults.TransactionConflict, 0)
	got := e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"name":"Renamed"}`,
		Header: map[string]string{"If-Match": `"1"`, "Content-Type": "application/merge-patch+json"}}).json(t)
	if got["name"] != "Renamed" || got["version"] != 2.0 {
		t.Errorf("after a conflict: %v", got)
	}
	e.eachWorkerSave(t, in, faults.TransactionConflict, 1)
}

// TestLostAnswerToAWorkerSave: a worker's save of its job whose answer is
// lost after it committed (a timeout, a dropped connection: the SDK sends
// it again, and the version it was conditioned on is gone) is the
// worker's own save, not another worker's: the job goes on, at every save
// of an export and of an import.
func TestLostAnswerToAWorkerSave(t *testing.T) {
	t.Parallel()
	e, in := newFaultEnv(t, faults.Config{Seed: faultSeed()}, nil)
	e.eachWorkerSave(t, in, faults.TimeoutAfterSend, 1)
}

// TestWorkerSaveUnknownPastRetries: a worker's save of its job that times
// out after sending on every one of the SDK's attempts (the first may have
// committed; the delivery fails with 503) leaves the job as it may be
// recorded — the upload it names is not aborted — and the next delivery
// finishes it, at every save of an export and of an import.
func TestWorkerSaveUnknownPastRetries(t *testing.T) {
	t.Parallel()
	e, in := newFaultEnv(t, faults.Config{Seed: faultSeed()}, nil)
	e.eachWorkerSave(t, in, faults.TimeoutAfterSend, 4) // DynamoDB's client makes 4 attempts
}

// eachWorkerSave runs an export and an import once for each of their
// workers' transactions, that one failing with kind on times attempts in a
// row, and requires each to finish, on its delivery or (when the fault
// outlasts the SDK's retries) on the next ones, as the queue makes them.
func (e *env) eachWorkerSave(t *testing.T, in *faults.Injector, kind faults.Kind, times int) {
	ctx := context.Background()
	for i := range 3 {
		e.createItem(fmt.Sprintf(`{"sku":"SAVE-%d","name":"Saved %d","quantity":%d}`, i, i, i+1))
	}
	failed := func() int { return in.Report().Injected["DynamoDB/"+string(kind)+"/TransactWriteItems"] }
	plan := func(skip int) {
		in.FailNext("TransactWriteItems", kind, skip)
		for range times - 1 {
			in.FailNext("TransactWriteItems", kind, 0)
		}
	}
	svc := e.exportService()
	svc.ExportPartSize = 5 << 20
	for skip := 0; ; skip++ {
		job, _, err := svc.RequestExport(ctx, usecase.Request{Actor: editorEmail}, inventory.ExportInput{Include: []string{inventory.IncludeStock}})
		if err != nil {
			t.Fatal(err)
		}
		before := failed()
		plan(skip)
		err = svc.ProcessExport(ctx, job.ID, 1, time.Now().Add(10*time.Minute))
		if failed() == before { // the run had fewer transactions: done
			in.ClearNext()
			break
		}
		for n := 2; err != nil && times > 1 && n <= usecase.MaxJobAttempts; n++ { // the queue's next deliveries
			err = svc.ProcessExport(ctx, job.ID, n, time.Now().Add(10*time.Minute))
		}
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + job.ID}).json(t)
		if err != nil || got["status"] != inventory.JobSucceeded {
			t.Errorf("export, %s ×%d at its transaction %d: %v; %v", kind, times, skip+1, err, got)
		}
	}
	settings := e.stack.Settings
	isvc, err := lambdafn.NewService(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	isvc.ImportChunkRows = 2
	for skip := 0; ; skip++ {
		up, _, err := isvc.RequestImport(ctx, usecase.Request{Actor: editorEmail}, false)
		if err != nil {
			t.Fatal(err)
		}
		file := fmt.Sprintf("sku,name,quantity\r\nSAVE-0,Renamed %d,1\r\nNEW-%d-A,New,2\r\nNEW-%d-B,New,3\r\n", skip, skip, skip)
		if err := isvc.Objects.Put(ctx, inventory.ImportKey(up.Import.ID), "text/csv", []byte(file)); err != nil {
			t.Fatal(err)
		}
		before := failed()
		plan(skip)
		err = isvc.ProcessImportUpload(ctx, inventory.ImportKey(up.Import.ID), time.Now().Add(10*time.Minute))
		e.stack.ImportQueue.Wait()
		if failed() == before {
			in.ClearNext()
			break
		}
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/imports/" + up.Import.ID}).json(t)
		if err != nil || got["status"] != inventory.JobSucceeded || got["created"] != 2.0 || got["updated"] != 1.0 {
			t.Errorf("import, %s ×%d at its transaction %d: %v; %v", kind, times, skip+1, err, got)
		}
	}
}

// TestMakeThumbnailsKilledAnywhere (issue 11, §1, workers): MakeThumbnails
// killed at each of its calls to DynamoDB and S3, before the call reaches
// the engine and after (its answer lost), while it replaces a ready image
// with a new upload: its next delivery finishes the job as an
// uninterrupted run does — the new image ready, the item written once
// more, the upload deleted and the old image's objects gone, nothing else
// left.
func TestMakeThumbnailsKilledAnywhere(t *testing.T) {
	t.Parallel()
	e, in := newFaultEnv(t, faults.Config{}, nil)
	photo := pngWithAlpha(t, 40, 30)
	ctx := context.Background()
	event := func(id, upload string) error {
		return e.stack.MakeThumbnails(ctx, s3Event(e.stack.Settings.BucketName, inventory.UploadKey(id, upload)))
	}
	// send asks for an upload and sends the file; the embedded S3 runs
	// MakeThumbnails (with its retries); with moto, the test does.
	send := func(id string) string {
		up := e.askUpload(id, "image/png")
		if e.postFile(up, photo) != http.StatusNoContent {
			t.Fatal("upload refused")
		}
		upload := up["uploadId"].(string)
		if engines.Notifier == nil {
			_ = deliver(func(context.Context) error { return event(id, upload) })
		}
		waitNotifiers(t)
		return upload
	}
	// An uninterrupted run, its calls counted.
	id := e.createItem(`{"sku":"KILL-0","name":"Pictured"}`)["id"].(string)
	send(id)
	up := e.askUpload(id, "image/png")
	before := in.Report()
	in.Enable(true) // at rate 0: it counts, and injects nothing
	if e.postFile(up, photo) != http.StatusNoContent {
		t.Fatal("upload refused")
	}
	if engines.Notifier == nil {
		_ = deliver(func(context.Context) error { return event(id, up["uploadId"].(string)) })
	}
	waitNotifiers(t)
	in.Enable(false)
	after := in.Report()
	calls := after.Attempts["DynamoDB"] + after.Attempts["S3"] - before.Attempts["DynamoDB"] - before.Attempts["S3"]
	if calls < 6 {
		t.Fatalf("an uninterrupted run made %d calls", calls)
	}
	want := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["version"]
	kills := 0
	for at := 1; at <= calls; at++ {
		for _, afterSend := range []bool{false, true} {
			id := e.createItem(fmt.Sprintf(`{"sku":"KILL-%d-%v","name":"Pictured"}`, at, afterSend))["id"].(string)
			send(id)
			up := e.askUpload(id, "image/png")
			upload := up["uploadId"].(string)
			in.KillAt(at, afterSend)
			if e.postFile(up, photo) != http.StatusNoContent {
				t.Fatal("upload refused")
			}
			if engines.Notifier == nil {
				_ = deliver(func(context.Context) error { return event(id, upload) })
			}
			waitNotifiers(t)
			dead, point := in.Killed()
			in.KillAt(0, false)
			if !dead {
				t.Errorf("kill at call %d: the run made fewer calls", at)
				continue
			}
			kills++
			if err := event(id, upload); err != nil {
				t.Errorf("killed at %s (call %d, after sending: %v), the next delivery failed: %v", point, at, afterSend, err)
				continue
			}
			got := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)
			img, _ := got["image"].(map[string]any)
			objects := e.objects(inventory.ThumbnailPrefix + id + "/")
			leftover := e.objects(inventory.UploadPrefix + id + "/")
			ok := img["status"] == inventory.ImageReady && img["uploadId"] == upload && got["version"] == want &&
				len(objects) == 3 && len(leftover) == 0
			for _, k := range objects {
				ok = ok && strings.HasPrefix(k, inventory.ThumbnailPrefix+id+"/"+upload+"/")
			}
			if !ok {
				t.Errorf("killed at %s (call %d, after sending: %v), then delivered again: image %v, version %v (want %v), objects %v, uploads left %v",
					point, at, afterSend, img, got["version"], want, objects, leftover)
			}
		}
	}
	t.Logf("MakeThumbnails: %d calls in a run; killed at each, before and after sending: %d kills, each finished by the next delivery", calls, kills)
}

// workerRun is one run of a worker on a job of its own.
type workerRun struct {
	in      *faults.Injector  // the fault layer of the worker's stack
	prepare func()            // makes the job (its calls are not the worker's)
	deliver func(n int) error // the n-th delivery of the job to the worker
	check   func(run string)  // checks the outcome (run says which run it was)
}

// killPoints runs a worker once uninterrupted, counting its calls to the
// engines, then once killed at each of them (or, with an external engine,
// at killPointsExternal of them, spread over the run), before the call
// reaches the engine and after (its answer lost): the first delivery's
// process dies there, and the job is delivered again, to a new process.
// It returns the number of calls of a run and of kills.
func killPoints(t *testing.T, newRun func() workerRun) (calls, kills int) {
	t.Helper()
	r := newRun()
	in := r.in
	r.prepare()
	before := in.Report()
	in.Enable(true) // at rate 0: it counts, and injects nothing
	if err := r.deliver(1); err != nil {
		t.Fatalf("an uninterrupted run: %v", err)
	}
	in.Enable(false)
	after := in.Report()
	r.check("uninterrupted")
	calls = after.Attempts["DynamoDB"] + after.Attempts["S3"] - before.Attempts["DynamoDB"] - before.Attempts["S3"]
	for _, at := range killAt(calls) {
		for _, afterSend := range []bool{false, true} {
			r := newRun()
			in := r.in
			r.prepare()
			in.KillAt(at, afterSend)
			_ = r.deliver(1)
			dead, point := in.Killed()
			in.KillAt(0, false)
			if !dead {
				t.Errorf("kill at call %d (after sending: %v): the run made fewer calls", at, afterSend)
				continue
			}
			kills++
			if err := r.deliver(2); err != nil {
				t.Errorf("killed at %s (call %d, after sending: %v), the next delivery failed: %v", point, at, afterSend, err)
			}
			r.check(fmt.Sprintf("killed at %s (call %d, after sending: %v)", point, at, afterSend))
		}
	}
	return calls, kills
}

// killPointsExternal is how many kill points of a run the worker tests
// try on an external engine (DEPOT_KILL_POINTS, else 10; 0: all): moto
// is several times slower than the embedded engines.
func killPointsExternal() int {
	if n, err := strconv.Atoi(os.Getenv("DEPOT_KILL_POINTS")); err == nil && n >= 0 {
		return n
	}
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		return 0
	}
	return 10
}

// killAt is the calls a worker is killed at: every one of calls, or
// killPointsExternal of them spread from the first to the last.
func killAt(calls int) []int {
	n := killPointsExternal()
	if n == 0 || n >= calls {
		n = calls
	}
	var out []int
	for i := range n {
		at := 1 + i*(calls-1)/max(n-1, 1)
		if len(out) == 0 || out[len(out)-1] != at {
			out = append(out, at)
		}
	}
	return out
}

// TestExportKilledAnywhere (issue 11, §1, workers): ExportItems killed at
// each of its calls to DynamoDB and S3, before and after sending, finishes
// on the next delivery with the file of an uninterrupted run, byte for
// byte.
func TestExportKilledAnywhere(t *testing.T) {
	t.Parallel()
	e, in := newFaultEnv(t, faults.Config{}, nil)
	for i := range 3 {
		e.createItem(fmt.Sprintf(`{"sku":"XK-%d","name":"=Row %d, \"q\"","tags":["t;%d"],"quantity":%d}`, i, i, i, i+1))
	}
	svc := e.exportService()
	ctx := context.Background()
	var want []byte
	calls, kills := killPoints(t, func() workerRun {
		var id string
		return workerRun{
			in: in,
			prepare: func() {
				job, _, err := svc.RequestExport(ctx, usecase.Request{Actor: editorEmail}, inventory.ExportInput{Include: []string{inventory.IncludeStock}})
				if err != nil {
					t.Fatal(err)
				}
				id = job.ID
			},
			deliver: func(n int) error { return svc.ProcessExport(ctx, id, n, time.Now().Add(10*time.Minute)) },
			check: func(run string) {
				got := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + id}).json(t)
				if got["status"] != inventory.JobSucceeded {
					t.Errorf("%s: export %s: %v", run, id, got)
					return
				}
				_, data := download(t, got["downloadUrl"].(string))
				if want == nil {
					want = data
				} else if !bytes.Equal(data, want) {
					t.Errorf("%s: the file differs from an uninterrupted run's:\n%s\nwant\n%s", run, data, want)
				}
			},
		}
	})
	t.Logf("ExportItems: %d calls in a run; killed at each, before and after sending: %d kills, each finished by the next delivery", calls, kills)
}

// TestImportKilledAnywhere (issue 11, §1, workers): ImportItems killed at
// each of its calls to DynamoDB and S3, before and after sending, finishes
// on the next delivery (its S3 event, which Lambda retries) with the
// results and the items of an uninterrupted run: no row applied twice,
// each reported as what it did.
func TestImportKilledAnywhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	runs := 0
	var wantResults, wantState string
	calls, kills := killPoints(t, func() workerRun {
		// A stack for each run: the embedded DynamoDB slows down as its
		// table grows, and each run writes items.
		e, in := newFaultEnv(t, faults.Config{}, nil)
		svc, err := lambdafn.NewService(ctx, e.stack.Settings)
		if err != nil {
			t.Fatal(err)
		}
		svc.ImportQueue, svc.ImportChunkRows = &memstore.Queue{}, 2
		runs++
		p := fmt.Sprintf("R%d-", runs)
		var id string
		return workerRun{
			in: in,
			prepare: func() {
				for i, name := range []string{"Zero", "One", "Two"} {
					e.createItem(fmt.Sprintf(`{"sku":"%s%d","name":%q,"quantity":%d}`, p, i, name, i))
				}
				up, _, err := svc.RequestImport(ctx, usecase.Request{Actor: editorEmail}, false)
				if err != nil {
					t.Fatal(err)
				}
				id = up.Import.ID
				file := strings.ReplaceAll("sku,name,quantity\r\n@0,Zero renamed,10\r\n@1,One,1\r\n@NEW,New,4\r\n@2,,2\r\n@0,Zero again,0\r\n", "@", p)
				if err := svc.Objects.Put(ctx, inventory.ImportKey(id), usecase.ImportContentType, []byte(file)); err != nil {
					t.Fatal(err)
				}
			},
			deliver: func(int) error {
				return svc.ProcessImportUpload(ctx, inventory.ImportKey(id), time.Now().Add(10*time.Minute))
			},
			check: func(run string) {
				job, rows := e.awaitImportDone(id)
				var results []string
				for _, r := range rows {
					results = append(results, strings.ReplaceAll(strings.Join(r, ","), p, "@"))
				}
				got := strings.Join(results, "\n")
				state := strings.ReplaceAll(e.catalogueStateOf(p), p, "@")
				switch {
				case wantResults == "":
					wantResults, wantState = got, state
					if job["status"] != inventory.JobSucceeded || !strings.Contains(got, "3,@1,unchanged") || !strings.Contains(got, "6,@0,updated") {
						t.Fatalf("uninterrupted: %v\n%s\n%s", job, got, state)
					}
				case got != wantResults || state != wantState:
					t.Errorf("%s: import %s (%v):\n%s\n%s\nwant\n%s\n%s", run, id, job["status"], got, state, wantResults, wantState)
				}
			},
		}
	})
	t.Logf("ImportItems: %d calls in a run; killed at each, before and after sending: %d kills, each finished by the next delivery", calls, kills)
}

// catalogueStateOf is catalogueState for the items whose SKU starts with
// prefix.
func (e *env) catalogueStateOf(prefix string) string {
	e.t.Helper()
	var b strings.Builder
	for _, m := range e.listAll("/items", "items", nil) {
		if !strings.HasPrefix(m["sku"].(string), prefix) {
			continue
		}
		fmt.Fprintf(&b, "%v %q %v v%v:", m["sku"], m["name"], m["quantity"], m["version"])
		for _, l := range e.history(m["id"].(string), "") {
			fmt.Fprintf(&b, " %v%+v", l["reason"], l["delta"])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// listAll lists every entry of a paged list (field names its entries).
func (e *env) listAll(path, field string, header map[string]string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		p := path + "?limit=100"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		page := e.must(http.StatusOK, req{Method: "GET", Path: p, Header: header}).json(e.t)
		for _, it := range page[field].([]any) {
			out = append(out, it.(map[string]any))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// awaitImportDone returns a finished import and its results' rows.
func (e *env) awaitImportDone(id string) (map[string]any, [][]string) {
	e.t.Helper()
	e.stack.ImportQueue.Wait()
	job := e.must(http.StatusOK, req{Method: "GET", Path: "/imports/" + id}).json(e.t)
	if job["status"] != inventory.JobSucceeded {
		return job, nil
	}
	_, body := download(e.t, job["resultsUrl"].(string))
	var rows [][]string
	r := itemcsv.NewReader(bytes.NewReader(body))
	for {
		rec, _, err := r.Read()
		if err != nil {
			break
		}
		rows = append(rows, rec)
	}
	return job, rows
}

// faultSeed is DEPOT_FAULT_SEED, else 1: the seed of the faults and of the
// workers' plans.
func faultSeed() uint64 {
	if n, err := strconv.ParseUint(os.Getenv("DEPOT_FAULT_SEED"), 10, 64); err == nil {
		return n
	}
	return 1
}

// TestImportGivesUpAbortingItsResults: an import whose results cannot be
// written (S3 fails every UploadPart, past the SDK's retries) fails on
// each delivery, and on the last the job is marked failed with the error
// and its results upload aborted.
func TestImportGivesUpAbortingItsResults(t *testing.T) {
	t.Parallel()
	e, in := newFaultEnv(t, faults.Config{Seed: faultSeed()}, nil)
	ctx := context.Background()
	svc, err := lambdafn.NewService(ctx, e.stack.Settings) // with the stack's queue and ImportItems
	if err != nil {
		t.Fatal(err)
	}
	up, _, err := svc.RequestImport(ctx, usecase.Request{Actor: editorEmail}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Objects.Put(ctx, inventory.ImportKey(up.Import.ID), usecase.ImportContentType, []byte("sku,name\r\nGIVE-1,Given up\r\n")); err != nil {
		t.Fatal(err)
	}
	// The S3 event's delivery, then the queue's MaxJobAttempts; S3's
	// client makes 3 attempts a call.
	for range 3 * (1 + usecase.MaxJobAttempts) {
		in.FailNext("UploadPart", faults.ServerError, 0)
	}
	defer in.ClearNext()
	if err := svc.ProcessImportUpload(ctx, inventory.ImportKey(up.Import.ID), time.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.stack.ImportQueue.Wait()
	got := e.must(http.StatusOK, req{Method: "GET", Path: "/imports/" + up.Import.ID}).json(t)
	if got["status"] != inventory.JobFailed || !strings.Contains(fmt.Sprint(got["error"]), "failed 5 times") {
		t.Errorf("import %v", got)
	}
	if n := in.Report().Injected["S3/server_error/UploadPart"]; n < 3*usecase.MaxJobAttempts {
		t.Errorf("%d UploadPart faults", n)
	}
	aborted := false
	for _, line := range strings.Split(e.logs.String(), "\n") {
		aborted = aborted || strings.Contains(line, `"function":"ImportItems"`) && strings.Contains(line, "s3:AbortMultipartUpload")
	}
	if !aborted {
		t.Error("ImportItems aborted no upload")
	}
}
