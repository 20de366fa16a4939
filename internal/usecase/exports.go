package usecase

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
)

// ExportStore keeps export jobs.
type ExportStore interface {
	// GetExport reads a job strongly consistently; a missing one is
	// export_not_found.
	GetExport(ctx context.Context, id string) (inventory.Export, error)
	// SaveExport commits a change of a job on its version, or fails with
	// inventory.ErrStale or inventory.ErrIdempotencyRace.
	SaveExport(ctx context.Context, c inventory.ExportChange) error
	// ListExports lists jobs, newest first.
	ListExports(ctx context.Context, r inventory.Range) ([]inventory.Export, inventory.Position, error)
}

// Multipart writes one object in parts, as S3's multipart upload does:
// every part but the last at least 5 MiB.
type Multipart interface {
	CreateMultipartUpload(ctx context.Context, key, contentType string) (uploadID string, err error)
	UploadPart(ctx context.Context, key, uploadID string, number int32, data []byte) (etag string, err error)
	CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []inventory.UploadedPart) error
	AbortMultipartUpload(ctx context.Context, key, uploadID string) error
}

// Export sizes.
const (
	// DefaultExportPartSize is the size a part of an export grows to
	// before it is uploaded: above S3's 5 MiB minimum, and what the
	// worker holds in memory, whatever the size of the export.
	DefaultExportPartSize = 8 << 20
	// exportPage is the page of items an export reads at a time.
	exportPage = inventory.MaxPageSize
	// ExportContentType is the type of an export's file.
	ExportContentType = "text/csv; charset=utf-8"
)

func (s *Service) exportPartSize() int {
	if s.ExportPartSize <= 0 {
		return DefaultExportPartSize
	}
	return s.ExportPartSize
}

// RequestExport saves an export job and hands it to the export worker. A
// replay (the same Idempotency-Key) of a job still queued hands it over
// again, so a request whose hand-over failed (503) is cured by its retry;
// the worker makes a second message harmless.
func (s *Service) RequestExport(ctx context.Context, req Request, in inventory.ExportInput) (inventory.Export, bool, error) {
	if err := in.Validate(); err != nil {
		return inventory.Export{}, false, err
	}
	// As GET /items answers them: an unknown group or location is 404.
	if in.Filters.GroupID != "" {
		if _, err := s.readGroup(ctx, in.Filters.GroupID, live); err != nil {
			return inventory.Export{}, false, err
		}
	}
	if in.Filters.LocationID != "" {
		if _, err := s.readLocation(ctx, in.Filters.LocationID, anyState); err != nil {
			return inventory.Export{}, false, err
		}
	}
	job, replayed, err := once(ctx, s, "RequestExport", req, in, func(p *pending) (inventory.Export, error) {
		job := inventory.NewExport(in, req.Actor, s.now())
		rec, err := p.record(job)
		if err != nil {
			return inventory.Export{}, err
		}
		return job, s.Jobs.SaveExport(ctx, inventory.ExportChange{Next: job, Idempotency: rec})
	})
	if err != nil {
		return job, replayed, err
	}
	if replayed {
		// The recorded answer is the job as created; hand it over again
		// only if it has not started since.
		current, err := s.Jobs.GetExport(ctx, job.ID)
		if err != nil || current.Status != inventory.JobQueued {
			return job, replayed, err
		}
	}
	if err := s.ExportQueue.Send(ctx, job.ID); err != nil {
		return inventory.Export{}, replayed, inventory.Unavailable(fmt.Errorf("queue export %s: %w", job.ID, err))
	}
	return job, replayed, nil
}

// ExportDetail is an export job as callers see it: with a link to its file
// once it succeeded.
type ExportDetail struct {
	inventory.Export
	DownloadURL       string
	DownloadExpiresAt *time.Time
}

// GetExport returns an export job, with a download link (a presigned GET,
// an attachment named depot-items-<date>.csv) once it succeeded.
func (s *Service) GetExport(ctx context.Context, id string) (ExportDetail, error) {
	if !inventory.IsValidID(id) {
		return ExportDetail{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeExportNotFound,
			"no export with id %q (export ids are 26-character ULIDs)", id)
	}
	job, err := s.Jobs.GetExport(ctx, id)
	if err != nil {
		return ExportDetail{}, err
	}
	d := ExportDetail{Export: job}
	if job.Status == inventory.JobSucceeded {
		expires := s.now().Add(DownloadURLTTL)
		d.DownloadURL, err = s.Signer.PresignDownload(ctx, job.Key, ExportContentType, itemcsv.Filename(job.CreatedAt), DownloadURLTTL)
		if err != nil {
			return ExportDetail{}, fmt.Errorf("link export %s: %w", id, err)
		}
		d.DownloadExpiresAt = &expires
	}
	return d, nil
}

// ListExports lists export jobs, newest first.
func (s *Service) ListExports(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Export], error) {
	return listPage(ctx, inventory.ExportsCursor, pr, s.Jobs.ListExports)
}

// MaxJobAttempts is how many times a worker's queue delivers a job that
// fails before the job is marked failed (the queue's maxReceiveCount).
const MaxJobAttempts = 5

// HandoverMargin is what a worker keeps of its invocation's time: it stops
// reading once less than this is left, saves its checkpoint and hands the
// job over.
const HandoverMargin = time.Minute

// ProcessExport is the export worker's handling of one delivery of a job:
// it runs the export until deadline less HandoverMargin, and hands it over
// (sends it to the queue again) if it is not done. A nil error means the
// delivery is dealt with. An error asks for the delivery again, unless it
// was the attempt-th of MaxJobAttempts: the job is then marked failed with
// the error, and that is dealt with too. A job another run holds
// (inventory.ErrStale) is that run's to finish.
func (s *Service) ProcessExport(ctx context.Context, id string, attempt int, deadline time.Time) error {
	done, err := s.RunExport(ctx, id, deadline.Add(-HandoverMargin))
	switch {
	case inventory.CodeOf(err) == inventory.CodeExportNotFound:
		s.logger().Warn("a message for no export; dropped", "export", id)
		return nil
	case errors.Is(err, inventory.ErrStale):
		s.logger().Info("export run by another worker", "export", id)
		return nil
	case err == nil && !done:
		if err := s.ExportQueue.Send(ctx, id); err != nil {
			return fmt.Errorf("hand over export %s: %w", id, err)
		}
		return nil
	case err == nil:
		return nil
	case permanent(err):
		// No retry changes it (the group was deleted since the request).
		return s.failExport(ctx, id, err, err.Error())
	case attempt < MaxJobAttempts:
		return err
	}
	return s.failExport(ctx, id, err, fmt.Sprintf("the export failed %d times; the last error: %v", MaxJobAttempts, err))
}

// permanent reports whether an error is one of the request (not found,
// invalid), which a retry gets again.
func permanent(err error) bool {
	var e *inventory.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Kind == inventory.KindNotFound || e.Kind == inventory.KindInvalid
}

// failExport marks a job failed for good, aborting its upload.
func (s *Service) failExport(ctx context.Context, id string, cause error, reason string) error {
	for {
		job, err := s.Jobs.GetExport(ctx, id)
		if err != nil {
			return errors.Join(cause, err)
		}
		if job.Status == inventory.JobSucceeded || job.Status == inventory.JobFailed {
			return nil
		}
		if cp := job.Checkpoint; cp != nil {
			if err := s.Multipart.AbortMultipartUpload(ctx, job.Key, cp.UploadID); err != nil {
				s.logger().Warn("abort the upload of a failed export", "export", id, "error", err.Error())
			}
		}
		s.logger().Error("export failed", "export", id, "error", cause.Error())
		err = s.Jobs.SaveExport(ctx, inventory.ExportChange{Old: &job, Next: job.Fail(reason, s.now())})
		if !errors.Is(err, inventory.ErrStale) {
			return err
		}
	}
}

// RunExport does the work of an export, or the rest of it: it streams the
// query's items page by page into parts of a multipart upload, and after
// each part records on the job the part and the cursor of its last row.
// It stops, with done false, once it is past stopBy between two pages
// (the rows read since the last part are dropped, and read again on the
// next run), so a worker near its time limit hands over; a run that
// finds the job running resumes from its checkpoint. Memory holds one
// part and one page, whatever the size of the export. A job already
// finished is done. A job changed by another worker meanwhile is
// inventory.ErrStale: this run stops, that one goes on.
func (s *Service) RunExport(ctx context.Context, id string, stopBy time.Time) (done bool, err error) {
	job, err := s.Jobs.GetExport(ctx, id)
	if err != nil {
		return false, err
	}
	save := func(next inventory.Export) error {
		if err := s.Jobs.SaveExport(ctx, inventory.ExportChange{Old: &job, Next: next}); err != nil {
			return fmt.Errorf("export %s: %w", id, err)
		}
		job = next
		return nil
	}
	switch job.Status {
	case inventory.JobSucceeded, inventory.JobFailed:
		return true, nil
	case inventory.JobQueued:
		var locations []inventory.Location
		if job.Input.Has(inventory.IncludeStock) {
			if locations, err = s.allLocations(ctx); err != nil {
				return false, err
			}
		}
		upload, err := s.Multipart.CreateMultipartUpload(ctx, job.Key, ExportContentType)
		if err != nil {
			return false, fmt.Errorf("start the upload of export %s: %w", id, err)
		}
		if err := save(job.Start(upload, locations, s.now())); err != nil {
			// Another run's start (ErrStale) leaves this upload unused.
			// After any other failure the start may have been recorded
			// (its answer lost), and the upload is the job's: it stays
			// (an unused one is aborted by the bucket's lifecycle rule).
			if errors.Is(err, inventory.ErrStale) {
				_ = s.Multipart.AbortMultipartUpload(ctx, job.Key, upload)
			}
			return false, err
		}
	}
	if !job.Checkpoint.Done {
		finished, err := s.writeExport(ctx, &job, save, stopBy)
		if err != nil || !finished {
			return false, err
		}
	}
	// A run that completed the upload and stopped before saving the job
	// leaves the file, and no upload to complete (S3 may refuse to
	// complete it again).
	if !s.exportWritten(ctx, job) {
		cp := job.Checkpoint
		if err := s.Multipart.CompleteMultipartUpload(ctx, job.Key, cp.UploadID, cp.Parts); err != nil {
			return false, fmt.Errorf("complete export %s: %w", id, err)
		}
	}
	return true, save(job.Succeed(s.now()))
}

// writeExport writes the rows after the checkpoint, a part at a time.
func (s *Service) writeExport(ctx context.Context, job *inventory.Export, save func(inventory.Export) error, stopBy time.Time) (bool, error) {
	cp := job.Checkpoint
	layout := itemcsv.Layout{Locations: cp.Locations, Groups: job.Input.Has(inventory.IncludeGroups)}
	var groups map[string]string
	if layout.Groups {
		var err error
		if groups, err = s.groupNames(ctx); err != nil {
			return false, err
		}
	}
	partSize := s.exportPartSize()
	buf := make([]byte, 0, partSize+64<<10)
	if len(cp.Parts) == 0 {
		if job.Input.BOM {
			buf = append(buf, itemcsv.BOM...)
		}
		buf = itemcsv.AppendRecord(buf, layout.Header())
	}
	var rows int64
	last := cp.Cursor
	upload := func(done bool) error {
		n := int32(len(job.Checkpoint.Parts) + 1)
		etag, err := s.Multipart.UploadPart(ctx, job.Key, job.Checkpoint.UploadID, n, buf)
		if err != nil {
			return fmt.Errorf("upload part %d of export %s: %w", n, job.ID, err)
		}
		if err := save(job.AddPart(inventory.UploadedPart{Number: n, ETag: etag, Bytes: int64(len(buf)), Rows: rows}, last, done)); err != nil {
			return err
		}
		buf, rows = buf[:0], 0
		return nil
	}
	pr := inventory.PageRequest{Limit: exportPage, Cursor: cp.Cursor}
	for {
		if s.now().After(stopBy) {
			return false, nil
		}
		page, err := transient(ctx, s, stopBy, func() (ItemList, error) { return s.listItems(ctx, pr, job.Input.Filters, false) })
		if err != nil {
			return false, err
		}
		for _, d := range page.Items {
			row := itemcsv.Row{Item: d.Item}
			if len(layout.Locations) > 0 {
				levels, err := transient(ctx, s, stopBy, func() ([]inventory.Level, error) { return s.Store.ListLevels(ctx, d.ID) })
				if err != nil {
					return false, err
				}
				row.OnHand = map[string]int64{}
				for _, l := range levels {
					row.OnHand[l.LocationID] = l.OnHand
				}
			}
			for _, g := range d.Item.Groups {
				if name, ok := groups[g]; ok {
					row.Groups = append(row.Groups, name)
				}
			}
			buf = itemcsv.AppendRecord(buf, layout.Record(row))
			rows++
			last = inventory.ItemsCursor.Encode(inventory.SortPosition(d.Item, job.Input.Filters.Sort))
			if len(buf) >= partSize {
				if err := upload(false); err != nil {
					return false, err
				}
			}
		}
		if page.NextCursor == "" {
			break
		}
		pr.Cursor = page.NextCursor
	}
	// The last part: what is left, or the header alone for an export of
	// no items (an upload needs a part); else only the mark that all is in.
	if len(buf) > 0 || len(job.Checkpoint.Parts) == 0 {
		return true, upload(true)
	}
	return true, save(job.AllWritten(last))
}

// allLocations lists every live location, in code order.
func (s *Service) allLocations(ctx context.Context) ([]inventory.Location, error) {
	var out []inventory.Location
	var after inventory.Position
	for {
		page, next, err := s.Store.ListLocations(ctx, inventory.Range{Limit: inventory.MaxPageSize, After: after})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == nil {
			return out, nil
		}
		after = next
	}
}

// groupNames maps every live group's id to its name.
func (s *Service) groupNames(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	var after inventory.Position
	for {
		page, next, err := s.Store.ListGroups(ctx, inventory.Range{Limit: inventory.MaxPageSize, After: after})
		if err != nil {
			return nil, err
		}
		for _, g := range page {
			out[g.ID] = g.Name
		}
		if next == nil {
			return out, nil
		}
		after = next
	}
}

// exportWritten reports whether the job's file exists, as large as its
// parts (reading its last byte only).
func (s *Service) exportWritten(ctx context.Context, job inventory.Export) bool {
	obj, err := s.Files.Open(ctx, job.Key, max(job.Bytes-1, 0), "")
	if err != nil {
		return false
	}
	obj.Body.Close()
	return obj.Size == job.Bytes
}
