package itest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/faults"
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
