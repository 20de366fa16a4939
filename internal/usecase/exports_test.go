package usecase_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/usecase"
)

// exportFixture is a fixture whose service exports: jobs in memory, parts
// of partSize bytes (the memstore's minimum lowered to match).
func exportFixture(t *testing.T, partSize int) (*fixture, *memstore.Exports) {
	f := newFixture(t)
	jobs := memstore.NewExports(f.store)
	f.svc.Jobs, f.svc.Multipart, f.svc.Files, f.svc.ExportPartSize = jobs, f.objects, f.objects, partSize
	f.svc.ExportQueue = &memstore.Queue{}
	f.objects.MinPartSize = partSize
	return f, jobs
}

func (f *fixture) catalogue(n int) {
	f.t.Helper()
	for i := range n {
		f.mkItem(inventory.CreateInput{SKU: fmt.Sprintf("SKU-%04d", i), Name: fmt.Sprintf("Item %d, \"quoted\"", i),
			Description: "=HYPERLINK(\"http://x\")", Quantity: int64(i), Tags: []string{"t;1", "@t2"}})
	}
}

func (f *fixture) runExport(id string) inventory.Export {
	f.t.Helper()
	done, err := f.svc.RunExport(f.ctx, id, f.now.Add(time.Hour))
	if err != nil || !done {
		f.t.Fatalf("run export: done %v, %v", done, err)
	}
	job, err := f.svc.GetExport(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return job.Export
}

func (f *fixture) exportFile(job inventory.Export) []byte {
	f.t.Helper()
	obj, ok := f.objects.Object(job.Key)
	if !ok {
		f.t.Fatalf("no file at %s", job.Key)
	}
	return obj.Data
}

func TestExportWritesTheCSV(t *testing.T) {
	f, _ := exportFixture(t, 1<<20)
	loc := f.location("RTM-1")
	f.catalogue(3)
	g := f.mkGroup("Spring; sale")
	first, _, err := f.svc.RequestExport(f.ctx, alice, inventory.ExportInput{Include: []string{inventory.IncludeStock, inventory.IncludeGroups}, BOM: true})
	if err != nil || first.Status != inventory.JobQueued || first.Key != "exports/"+first.ID+".csv" {
		t.Fatalf("request = %+v, %v", first, err)
	}
	d := f.mkItem(inventory.CreateInput{SKU: "ZZZ-LAST", Name: "Last", Quantity: 4, LocationID: loc.ID})
	f.setMember(g.ID, d.ID, true)
	job := f.runExport(first.ID)
	if job.Status != inventory.JobSucceeded || job.Rows != 4 || job.FinishedAt == nil || job.Checkpoint != nil {
		t.Fatalf("job = %+v", job)
	}
	data := f.exportFile(job)
	if int64(len(data)) != job.Bytes || !bytes.HasPrefix(data, []byte(itemcsv.BOM+`"id","sku","name","description","tags","quantity","available","reorderPoint","createdAt","updatedAt","onHand:DEFAULT","onHand:RTM-1","groups"`+"\r\n")) {
		t.Fatalf("file:\n%s", data)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
	if len(lines) != 5 || !strings.Contains(lines[1], `"SKU-0000","Item 0, ""quoted""","'=HYPERLINK(""http://x"")","t\;1;@t2"`) {
		t.Errorf("first row %s", lines[1])
	}
	if !strings.HasSuffix(lines[4], `"0","4","Spring\; sale"`) {
		t.Errorf("last row %s", lines[4])
	}
	if f.objects.Uploads() != 0 {
		t.Errorf("%d uploads left open", f.objects.Uploads())
	}
	// A finished job runs no more.
	if done, err := f.svc.RunExport(f.ctx, job.ID, f.now); !done || err != nil {
		t.Errorf("a finished job: %v %v", done, err)
	}
}

// TestExportParts: a large export goes up in parts of the configured size,
// so the worker never holds more than a part and a page, and the file is
// the parts joined.
func TestExportParts(t *testing.T) {
	const part = 4096
	f, _ := exportFixture(t, part)
	f.catalogue(300)
	job, _, err := f.svc.RequestExport(f.ctx, alice, inventory.ExportInput{})
	if err != nil {
		t.Fatal(err)
	}
	job = f.runExport(job.ID)
	data := f.exportFile(job)
	if job.Rows != 300 || int64(len(data)) != job.Bytes || strings.Count(string(data), "\r\n") != 301 {
		t.Fatalf("job %+v, %d bytes", job, len(data))
	}
	if largest := f.objects.LargestPart(); largest < part || largest > part+512 {
		t.Errorf("largest part %d bytes, want one part's worth (%d) and at most a row more", largest, part)
	}
}

// TestExportResumesFromItsCheckpoint: a worker stopped at any point — at
// each checkpoint in turn, or by its deadline — resumes where it was, and
// the file equals an uninterrupted run's byte for byte.
func TestExportResumesFromItsCheckpoint(t *testing.T) {
	const part = 2048
	f, jobs := exportFixture(t, part)
	f.catalogue(120)
	want := f.exportFile(f.runExport(f.mustExport()))

	for kill := 1; kill <= 6; kill++ {
		id := f.mustExport()
		saves := 0
		jobs.BeforeSave = func(c inventory.ExportChange) error {
			if saves++; saves == kill {
				return errors.New("killed")
			}
			return nil
		}
		if _, err := f.svc.RunExport(f.ctx, id, f.now.Add(time.Hour)); err == nil {
			t.Fatalf("kill %d: the run was not stopped", kill)
		}
		jobs.BeforeSave = nil
		if got := f.exportFile(f.runExport(id)); !bytes.Equal(got, want) {
			t.Errorf("kill at save %d: %d bytes, want %d; same=%v", kill, len(got), len(want), bytes.Equal(got, want))
		}
	}

	// Killed after the upload was completed, before the job recorded it:
	// the next run finds the file written.
	id := f.mustExport()
	jobs.BeforeSave = func(c inventory.ExportChange) error {
		if c.Next.Status == inventory.JobSucceeded {
			return errors.New("killed")
		}
		return nil
	}
	if _, err := f.svc.RunExport(f.ctx, id, f.now.Add(time.Hour)); err == nil {
		t.Fatal("the run was not stopped before it recorded its success")
	}
	jobs.BeforeSave = nil
	if got := f.exportFile(f.runExport(id)); !bytes.Equal(got, want) {
		t.Errorf("completed, then resumed: %d bytes, want %d", len(got), len(want))
	}

	// Out of time after the first page: the run hands over.
	id = f.mustExport()
	f.svc.ExportPartSize, f.objects.MinPartSize = 1024, 1024
	stop := f.now.Add(-time.Second)
	done, err := f.svc.RunExport(f.ctx, id, stop)
	job, _ := f.svc.GetExport(f.ctx, id)
	if err != nil || done || job.Status != inventory.JobRunning {
		t.Fatalf("out of time: done %v, %v, %+v", done, err, job)
	}
	want2 := f.exportFile(f.runExport(f.mustExport()))
	if got := f.exportFile(f.runExport(id)); !bytes.Equal(got, want2) || !bytes.Equal(want2, want) {
		t.Errorf("resumed after the deadline: %d bytes, want %d", len(got), len(want2))
	}
}

func (f *fixture) mustExport() string {
	f.t.Helper()
	job, _, err := f.svc.RequestExport(f.ctx, alice, inventory.ExportInput{Include: []string{inventory.IncludeStock}})
	if err != nil {
		f.t.Fatal(err)
	}
	return job.ID
}

func TestExportRequestValidation(t *testing.T) {
	f, _ := exportFixture(t, 1<<20)
	for _, c := range []struct {
		in    inventory.ExportInput
		field string
	}{
		{inventory.ExportInput{Include: []string{"prices"}}, "/include/0"},
		{inventory.ExportInput{Include: []string{"stock", "stock"}}, "/include/1"},
		{inventory.ExportInput{Filters: inventory.ItemQuery{Sort: "price"}}, "/filters/sort"},
		{inventory.ExportInput{Filters: inventory.ItemQuery{LocationID: "default", Sort: inventory.SortName}}, "/filters/sort"},
	} {
		_, _, err := f.svc.RequestExport(f.ctx, alice, c.in)
		var e *inventory.Error
		if !errors.As(err, &e) || e.Code != inventory.CodeValidationFailed || len(e.Fields) == 0 || e.Fields[0].Field != c.field {
			t.Errorf("%+v: %v", c.in, err)
		}
	}
	// Idempotent with a key.
	a, _, err := f.svc.RequestExport(f.ctx, with(alice, "k"), inventory.ExportInput{})
	b, replayed, err2 := f.svc.RequestExport(f.ctx, with(alice, "k"), inventory.ExportInput{})
	if err != nil || err2 != nil || !replayed || a.ID != b.ID {
		t.Errorf("replay: %s %s %v %v %v", a.ID, b.ID, replayed, err, err2)
	}
	if _, err := f.svc.GetExport(f.ctx, "nope"); inventory.CodeOf(err) != inventory.CodeExportNotFound {
		t.Errorf("unknown export: %v", err)
	}
	// An unknown group or location is 404, as GET /items answers it; a
	// group deleted after the request fails the job at once (no retry
	// brings it back).
	if _, _, err := f.svc.RequestExport(f.ctx, alice, inventory.ExportInput{Filters: inventory.ItemQuery{GroupID: "01JQ91C7WEHX5N3TB2Y8QZKD4M"}}); inventory.CodeOf(err) != inventory.CodeGroupNotFound {
		t.Errorf("unknown group: %v", err)
	}
	if _, _, err := f.svc.RequestExport(f.ctx, alice, inventory.ExportInput{Filters: inventory.ItemQuery{LocationID: "01JQ91C7WEHX5N3TB2Y8QZKD4M"}}); inventory.CodeOf(err) != inventory.CodeLocationNotFound {
		t.Errorf("unknown location: %v", err)
	}
	g := f.mkGroup("Soon gone")
	job, _, err := f.svc.RequestExport(f.ctx, alice, inventory.ExportInput{Filters: inventory.ItemQuery{GroupID: g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.DeleteGroup(f.ctx, alice, g.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ProcessExport(f.ctx, job.ID, 1, f.now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.GetExport(f.ctx, job.ID); d.Status != inventory.JobFailed || !strings.Contains(d.Error, "group_deleted") {
		t.Errorf("export of a group deleted since: %+v", d)
	}
}

// TestExportHandOver: the request hands the job to the queue; a delivery
// near the deadline hands it over again, and the next finishes it; a
// replay hands over a job still queued, and not one that started; a queue
// that fails is a 503 the retry cures.
func TestExportHandOver(t *testing.T) {
	f, _ := exportFixture(t, 1024)
	f.catalogue(40)
	q := f.svc.ExportQueue.(*memstore.Queue)
	job, _, err := f.svc.RequestExport(f.ctx, with(alice, "h1"), inventory.ExportInput{})
	if err != nil || !slices.Equal(q.Sent(), []string{job.ID}) {
		t.Fatalf("request: %v, sent %v", err, q.Sent())
	}
	if _, replayed, err := f.svc.RequestExport(f.ctx, with(alice, "h1"), inventory.ExportInput{}); err != nil || !replayed || len(q.Sent()) != 2 {
		t.Fatalf("replay of a queued job: %v %v, sent %v", replayed, err, q.Sent())
	}
	// Less than HandoverMargin left: the run stops after its first page
	// and hands over.
	if err := f.svc.ProcessExport(f.ctx, job.ID, 1, f.now.Add(usecase.HandoverMargin-time.Second)); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.GetExport(f.ctx, job.ID); d.Status != inventory.JobRunning || len(q.Sent()) != 3 {
		t.Fatalf("after the first delivery: %s, sent %v", d.Status, q.Sent())
	}
	if _, _, err := f.svc.RequestExport(f.ctx, with(alice, "h1"), inventory.ExportInput{}); err != nil || len(q.Sent()) != 3 {
		t.Fatalf("replay of a running job sent again: %v, sent %v", err, q.Sent())
	}
	if err := f.svc.ProcessExport(f.ctx, job.ID, 1, f.now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	d, _ := f.svc.GetExport(f.ctx, job.ID)
	if d.Status != inventory.JobSucceeded || d.Rows != 40 || d.DownloadURL == "" || d.DownloadExpiresAt == nil ||
		!strings.Contains(d.DownloadURL, "depot-items-2026-11-30.csv") || len(q.Sent()) != 3 {
		t.Fatalf("after the second delivery: %+v, sent %v", d, q.Sent())
	}
	// A duplicate delivery of a finished job does nothing.
	if err := f.svc.ProcessExport(f.ctx, job.ID, 1, f.now.Add(time.Hour)); err != nil || len(q.Sent()) != 3 {
		t.Fatalf("duplicate: %v, sent %v", err, q.Sent())
	}

	q.Fail = errors.New("queue down")
	_, _, err = f.svc.RequestExport(f.ctx, with(alice, "h2"), inventory.ExportInput{})
	if inventory.CodeOf(err) != inventory.CodeServiceUnavailable {
		t.Fatalf("queue down: %v", err)
	}
	q.Fail = nil
	again, replayed, err := f.svc.RequestExport(f.ctx, with(alice, "h2"), inventory.ExportInput{})
	if err != nil || !replayed || q.Sent()[len(q.Sent())-1] != again.ID {
		t.Fatalf("retry: %v %v, sent %v", replayed, err, q.Sent())
	}
}

// TestExportFailsOnTheLastAttempt: a delivery that fails asks to be
// retried until the last attempt, which marks the job failed with the
// error and aborts its upload; a job held by another run is left to it.
func TestExportFailsOnTheLastAttempt(t *testing.T) {
	f, jobs := exportFixture(t, 1024)
	f.catalogue(30)
	id := f.mustExport()
	broken := errors.New("disk on fire")
	saves := 0
	jobs.BeforeSave = func(c inventory.ExportChange) error {
		if saves++; c.Next.Status == inventory.JobRunning && len(c.Next.Checkpoint.Parts) > 0 {
			return broken
		}
		return nil
	}
	for attempt := 1; attempt < usecase.MaxJobAttempts; attempt++ {
		if err := f.svc.ProcessExport(f.ctx, id, attempt, f.now.Add(time.Hour)); !errors.Is(err, broken) {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	if err := f.svc.ProcessExport(f.ctx, id, usecase.MaxJobAttempts, f.now.Add(time.Hour)); err != nil {
		t.Fatalf("last attempt: %v", err)
	}
	d, _ := f.svc.GetExport(f.ctx, id)
	if d.Status != inventory.JobFailed || !strings.Contains(d.Error, "disk on fire") || d.DownloadURL != "" || d.FinishedAt == nil {
		t.Fatalf("job %+v", d)
	}
	if n := f.objects.Uploads(); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}

	// Another run saved first: this one stops without error.
	held := f.mustExport()
	jobs.BeforeSave = func(c inventory.ExportChange) error { return inventory.ErrStale }
	if err := f.svc.ProcessExport(f.ctx, held, 1, f.now.Add(time.Hour)); err != nil {
		t.Fatalf("stale: %v", err)
	}
}
