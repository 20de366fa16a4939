package itest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/faults"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/inventory"
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
	e, in := newFaultEnv(t, faults.Config{Seed: faultSeed()}, nil)
	id := e.createItem(`{"sku":"TC-1","name":"Conflicted"}`)["id"].(string)
	in.FailNext("TransactWriteItems", faults.TransactionConflict, 0)
	got := e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"name":"Renamed"}`,
		Header: map[string]string{"If-Match": `"1"`, "Content-Type": "application/merge-patch+json"}}).json(t)
	if got["name"] != "Renamed" || got["version"] != 2.0 {
		t.Errorf("after a conflict: %v", got)
	}
	e.eachWorkerSave(t, in, faults.TransactionConflict)
}

// TestLostAnswerToAWorkerSave: a worker's save of its job whose answer is
// lost after it committed (a timeout, a dropped connection: the SDK sends
// it again, and the version it was conditioned on is gone) is the
// worker's own save, not another worker's: the job goes on, at every save
// of an export and of an import.
func TestLostAnswerToAWorkerSave(t *testing.T) {
	e, in := newFaultEnv(t, faults.Config{Seed: faultSeed()}, nil)
	e.eachWorkerSave(t, in, faults.TimeoutAfterSend)
}

// eachWorkerSave runs an export and an import once for each of their
// workers' transactions, that one failing with kind, and requires each to
// finish on its delivery.
func (e *env) eachWorkerSave(t *testing.T, in *faults.Injector, kind faults.Kind) {
	ctx := context.Background()
	for i := range 3 {
		e.createItem(fmt.Sprintf(`{"sku":"SAVE-%d","name":"Saved %d","quantity":%d}`, i, i, i+1))
	}
	failed := func() int { return in.Report().Injected["DynamoDB/"+string(kind)+"/TransactWriteItems"] }
	svc := e.exportService()
	svc.ExportPartSize = 5 << 20
	for skip := 0; ; skip++ {
		job, _, err := svc.RequestExport(ctx, usecase.Request{Actor: editorEmail}, inventory.ExportInput{Include: []string{inventory.IncludeStock}})
		if err != nil {
			t.Fatal(err)
		}
		before := failed()
		in.FailNext("TransactWriteItems", kind, skip)
		err = svc.ProcessExport(ctx, job.ID, 1, time.Now().Add(10*time.Minute))
		if failed() == before { // the run had fewer transactions: done
			in.ClearNext()
			break
		}
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + job.ID}).json(t)
		if err != nil || got["status"] != inventory.JobSucceeded {
			t.Errorf("export, %s at its transaction %d: %v; %v", kind, skip+1, err, got)
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
		in.FailNext("TransactWriteItems", kind, skip)
		err = isvc.ProcessImportUpload(ctx, inventory.ImportKey(up.Import.ID), time.Now().Add(10*time.Minute))
		e.stack.ImportQueue.Wait()
		if failed() == before {
			in.ClearNext()
			break
		}
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/imports/" + up.Import.ID}).json(t)
		if err != nil || got["status"] != inventory.JobSucceeded || got["created"] != 2.0 || got["updated"] != 1.0 {
			t.Errorf("import, %s at its transaction %d: %v; %v", kind, skip+1, err, got)
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
