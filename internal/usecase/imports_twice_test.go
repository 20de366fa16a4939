package usecase_test

import (
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// A row that another run of the same job applied (a message delivered
// twice, both runs on the same chunks) is reported as what it did, not as
// unchanged, whichever run writes the chunk's results — in any chunk, not
// only a run's first: here the job is set back to its checkpoint after
// the first chunk (with that chunk's results, and no results file), as
// the other run saw it, and run again: its second chunk (row 4) was
// applied by the first run.
func TestImportRowAppliedByAnotherRun(t *testing.T) {
	f, jobs := importFixture(t, 1)
	f.catalogue(1)
	id := f.uploadImport("sku,name\r\nSKU-0000,Renamed\r\nNEW-A,New A\r\nNEW-B,New B\r\n", false)
	var before inventory.Import
	var chunk1 []byte
	jobs.BeforeSave = func(c inventory.ImportChange) error {
		if c.Next.Checkpoint != nil && c.Next.Checkpoint.Phase == inventory.PhaseApply && c.Next.Checkpoint.Chunks == 1 {
			before = c.Next
			obj, _ := f.objects.Object(inventory.ImportChunkKey(id, 1))
			chunk1 = obj.Data
		}
		return nil
	}
	job, rows := f.finishImport(id)
	jobs.BeforeSave = nil
	want := statuses(rows)
	if job.Counts.Created != 2 || want != "2:updated 3:created 4:created" {
		t.Fatalf("the first run: %+v %s", job.Counts, want)
	}
	current, err := f.svc.Imports.GetImport(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	again := before
	again.Version = current.Version + 1
	cp := *before.Checkpoint
	cp.Clean = true
	again.Checkpoint = &cp
	if err := f.svc.Imports.SaveImport(f.ctx, inventory.ImportChange{Old: &current, Next: again}); err != nil {
		t.Fatal(err)
	}
	// Its first chunk's results as that run left them, and no results file.
	if err := f.objects.Put(f.ctx, inventory.ImportChunkKey(id, 1), "text/csv", chunk1); err != nil {
		t.Fatal(err)
	}
	if err := f.objects.Delete(f.ctx, inventory.ImportResultsKey(id)); err != nil {
		t.Fatal(err)
	}
	f.tick(time.Second)
	job, rows = f.finishImport(id)
	if got := statuses(rows); got != want || job.Counts != (inventory.ImportCounts{Rows: 3, Created: 2, Updated: 1}) {
		t.Errorf("the other run: %+v %s, want %s", job.Counts, got, want)
	}
}
