package usecase_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// countingSigner counts the links it presigns for reading.
type countingSigner struct {
	usecase.Signer
	gets int
}

func (c *countingSigner) PresignGet(ctx context.Context, key, contentType string, ttl time.Duration) (string, error) {
	c.gets++
	return c.Signer.PresignGet(ctx, key, contentType, ttl)
}

// An export writes no image link, so its worker presigns none (ExportItems
// may not read thumbnails/: a link it signed would be denied, and signing
// one per item with a photo is work for nothing).
func TestExportPresignsNoImageLink(t *testing.T) {
	f, _ := exportFixture(t, 1<<20)
	d := f.create(alice, "PIC-1", 1)
	up := f.upload(bob, d.ID, "IMG photo")
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, up.ID)); err != nil {
		t.Fatal(err)
	}
	signer := &countingSigner{Signer: f.svc.Signer}
	f.svc.Signer = signer
	job := f.runExport(f.mustExport())
	if job.Status != inventory.JobSucceeded || job.Rows != 1 || signer.gets != 0 {
		t.Errorf("export %s of %d rows, %d image links presigned", job.Status, job.Rows, signer.gets)
	}
	if got, err := f.svc.GetItem(f.ctx, d.ID); err != nil || got.Links == nil || signer.gets == 0 {
		t.Errorf("GET links the image: %+v %v", got.Links, err)
	}
}

// throttledLevels is a store whose level reads fail as a dependency that
// throttles past the SDK's retries does, fails times in all.
type throttledLevels struct {
	usecase.Store
	fails int
}

func (s *throttledLevels) ListLevels(ctx context.Context, itemID string) ([]inventory.Level, error) {
	if s.fails > 0 {
		s.fails--
		return nil, inventory.Unavailable(errors.New("ProvisionedThroughputExceededException"))
	}
	return s.Store.ListLevels(ctx, itemID)
}

// An export's run reads through a passing throttle: a read that fails
// with service_unavailable is tried again after a pause (5 times at most),
// so the run keeps the rows it has read since its last checkpoint rather
// than failing its delivery; one that keeps failing fails the run.
func TestExportReadsThroughAThrottle(t *testing.T) {
	f, _ := exportFixture(t, 1<<20)
	f.catalogue(3)
	var waited []time.Duration
	f.svc.Pause = func(ctx context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	store := &throttledLevels{Store: f.svc.Store, fails: 4}
	f.svc.Store = store
	job := f.runExport(f.mustExport())
	if job.Status != inventory.JobSucceeded || job.Rows != 3 || len(waited) != 4 || waited[3] != 8*waited[0] {
		t.Errorf("export %s of %d rows; waits %v", job.Status, job.Rows, waited)
	}
	store.fails = 100
	id := f.mustExport()
	if done, err := f.svc.RunExport(f.ctx, id, f.now.Add(time.Hour)); done || inventory.KindOf(err) != inventory.KindUnavailable {
		t.Errorf("throttled for good: done %v, %v", done, err)
	}
}
