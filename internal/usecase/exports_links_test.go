package usecase_test

import (
	"context"
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
