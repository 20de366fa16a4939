package usecase

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
)

// ImportStore keeps import jobs.
type ImportStore interface {
	// GetImport reads a job strongly consistently; a missing one is
	// import_not_found.
	GetImport(ctx context.Context, id string) (inventory.Import, error)
	// SaveImport commits a change of a job on its version, or fails with
	// inventory.ErrStale or inventory.ErrIdempotencyRace.
	SaveImport(ctx context.Context, c inventory.ImportChange) error
	// ListImports lists jobs, newest first.
	ListImports(ctx context.Context, r inventory.Range) ([]inventory.Import, inventory.Position, error)
}

// Files reads objects as a stream.
type Files interface {
	// Open reads key from offset to its end; with etag, only if the object
	// still has it (inventory.ErrObjectChanged otherwise). A missing
	// object is inventory.ErrObjectNotFound.
	Open(ctx context.Context, key string, offset int64, etag string) (inventory.OpenedObject, error)
}

// Import sizes.
const (
	// ImportContentType is the type an import's file is uploaded as.
	ImportContentType = "text/csv"
	// ImportChunkRows is how many rows an import applies between two
	// checkpoints (each writes a chunk of results and saves the job).
	ImportChunkRows = 500
	// ImportWorkers is how many rows of a chunk are applied at once (rows
	// of one SKU one after the other, in file order).
	ImportWorkers = 8
)

// ImportUpload is a new import and the form its file is uploaded with.
type ImportUpload struct {
	Import inventory.Import
	Form   inventory.UploadForm
}

// RequestImport creates an import waiting for its file, and a presigned
// POST form for one CSV file of at most MaxImportBytes to its key.
func (s *Service) RequestImport(ctx context.Context, req Request, dryRun bool) (ImportUpload, bool, error) {
	input := struct{ DryRun bool }{dryRun}
	return once(ctx, s, "RequestImport", req, input, func(p *pending) (ImportUpload, error) {
		now := s.now()
		job := inventory.NewImport(dryRun, req.Actor, now, now.Add(UploadFormTTL))
		form, err := s.Signer.PresignUpload(ctx, inventory.ImportKey(job.ID), ImportContentType, inventory.MaxImportBytes, UploadFormTTL)
		if err != nil {
			return ImportUpload{}, fmt.Errorf("sign the upload of import %s: %w", job.ID, err)
		}
		out := ImportUpload{Import: job, Form: form}
		rec, err := p.record(out)
		if err != nil {
			return ImportUpload{}, err
		}
		return out, s.Imports.SaveImport(ctx, inventory.ImportChange{Next: job, Idempotency: rec})
	})
}

// ImportDetail is an import job as callers see it: its shown status, and
// a link to its results once it succeeded.
type ImportDetail struct {
	inventory.Import
	Shown            string
	ResultsURL       string
	ResultsExpiresAt *time.Time
}

// GetImport returns an import job.
func (s *Service) GetImport(ctx context.Context, id string) (ImportDetail, error) {
	if !inventory.IsValidID(id) {
		return ImportDetail{}, inventory.Errorf(inventory.KindNotFound, inventory.CodeImportNotFound,
			"no import with id %q (import ids are 26-character ULIDs)", id)
	}
	job, err := s.Imports.GetImport(ctx, id)
	if err != nil {
		return ImportDetail{}, err
	}
	d := ImportDetail{Import: job, Shown: job.Shown(s.now())}
	if job.Status == inventory.JobSucceeded {
		expires := s.now().Add(DownloadURLTTL)
		name := "depot-import-" + job.CreatedAt.UTC().Format("2006-01-02") + "-results.csv"
		d.ResultsURL, err = s.Signer.PresignDownload(ctx, inventory.ImportResultsKey(id), ExportContentType, name, DownloadURLTTL)
		if err != nil {
			return ImportDetail{}, fmt.Errorf("link the results of import %s: %w", id, err)
		}
		d.ResultsExpiresAt = &expires
	}
	return d, nil
}

// ListImports lists import jobs, newest first.
func (s *Service) ListImports(ctx context.Context, pr inventory.PageRequest) (inventory.Page[inventory.Import], error) {
	return listPage(ctx, inventory.ImportsCursor, pr, s.Imports.ListImports)
}

// ProcessImportUpload is the import worker's handling of the event of an
// uploaded object: for an import's file it runs the import until deadline
// less HandoverMargin, and hands it to the import queue if it is not done
// or failed (the queue retries and counts attempts; an event does not).
// Other keys are ignored. An error means the hand-over failed too.
func (s *Service) ProcessImportUpload(ctx context.Context, key string, deadline time.Time) error {
	id, ok := inventory.ImportIDOfKey(key)
	if !ok {
		return nil
	}
	done, err := s.RunImport(ctx, id, deadline.Add(-HandoverMargin))
	switch {
	case done || errors.Is(err, inventory.ErrStale) || inventory.CodeOf(err) == inventory.CodeImportNotFound:
		return nil
	case err != nil:
		s.logger().Warn("import run failed; queued for a retry", "import", id, "error", err.Error())
	}
	if err := s.ImportQueue.Send(ctx, id); err != nil {
		return fmt.Errorf("hand over import %s: %w", id, err)
	}
	return nil
}

// ProcessImport is the import worker's handling of one delivery of a job
// by its queue, as ProcessExport's.
func (s *Service) ProcessImport(ctx context.Context, id string, attempt int, deadline time.Time) error {
	done, err := s.RunImport(ctx, id, deadline.Add(-HandoverMargin))
	switch {
	case inventory.CodeOf(err) == inventory.CodeImportNotFound:
		s.logger().Warn("a message for no import; dropped", "import", id)
		return nil
	case errors.Is(err, inventory.ErrStale):
		s.logger().Info("import run by another worker", "import", id)
		return nil
	case err == nil && !done:
		if err := s.ImportQueue.Send(ctx, id); err != nil {
			return fmt.Errorf("hand over import %s: %w", id, err)
		}
		return nil
	case err == nil:
		return nil
	case attempt < MaxJobAttempts:
		return err
	}
	s.logger().Error("import failed", "import", id, "error", err.Error())
	return s.failImport(ctx, id, fmt.Sprintf("the import failed %d times; the last error: %v", MaxJobAttempts, err))
}

// failImport marks a job failed for good, aborting its results upload.
func (s *Service) failImport(ctx context.Context, id, reason string) error {
	for {
		job, err := s.Imports.GetImport(ctx, id)
		if err != nil {
			return err
		}
		if job.Status == inventory.JobSucceeded || job.Status == inventory.JobFailed {
			return nil
		}
		if cp := job.Checkpoint; cp != nil && cp.UploadID != "" {
			if err := s.Multipart.AbortMultipartUpload(ctx, inventory.ImportResultsKey(id), cp.UploadID); err != nil {
				s.logger().Warn("abort the results upload of a failed import", "import", id, "error", err.Error())
			}
		}
		err = s.Imports.SaveImport(ctx, inventory.ImportChange{Old: &job, Next: job.Fail(reason, s.now())})
		if !errors.Is(err, inventory.ErrStale) {
			return err
		}
	}
}

// fileError is a file that cannot be imported: the job fails with it and
// nothing changes.
type fileError struct{ reason string }

func (e *fileError) Error() string { return e.reason }

func badFile(format string, args ...any) error { return &fileError{fmt.Sprintf(format, args...)} }

// RunImport does the work of an import, or the rest of it (docs/csv.md,
// "Import"): it checks the whole file first (CSV, UTF-8, a sku column,
// known columns and locations, at most MaxImportRows rows and
// MaxImportBytes) and fails the job, changing nothing, if it is not
// importable; then applies its rows a chunk at a time, writing each
// chunk's results and saving a checkpoint after it; then joins the chunks
// into the results file. It stops between chunks once past stopBy, with
// done false. A run that finds the job running resumes from its
// checkpoint; rows a stopped run applied after it are recognised by their
// idempotency records, so none is applied twice and each is reported as
// what it did.
func (s *Service) RunImport(ctx context.Context, id string, stopBy time.Time) (done bool, err error) {
	job, err := s.Imports.GetImport(ctx, id)
	if err != nil {
		return false, err
	}
	save := func(next inventory.Import) error {
		if err := s.Imports.SaveImport(ctx, inventory.ImportChange{Old: &job, Next: next}); err != nil {
			return fmt.Errorf("import %s: %w", id, err)
		}
		job = next
		return nil
	}
	switch job.Status {
	case inventory.JobSucceeded, inventory.JobFailed:
		return true, nil
	case inventory.ImportAwaitingUpload:
		if err := save(job.Start(s.now())); err != nil {
			return false, err
		}
	}
	if job.Checkpoint.Phase == inventory.PhaseCheck {
		err := s.checkImport(ctx, &job, save)
		var bad *fileError
		if errors.As(err, &bad) {
			s.logger().Info("import refused", "import", id, "reason", bad.reason)
			return true, save(job.Fail(bad.reason, s.now()))
		}
		if err != nil {
			return false, err
		}
	}
	if job.Checkpoint.Phase == inventory.PhaseApply {
		finished, err := s.applyImport(ctx, &job, save, stopBy)
		var bad *fileError
		if errors.As(err, &bad) {
			return true, save(job.Fail(bad.reason, s.now()))
		}
		if err != nil || !finished {
			return false, err
		}
	}
	if err := s.writeImportResults(ctx, &job, save); err != nil {
		return false, err
	}
	return true, nil
}

// checkImport reads the whole file and checks it can be imported.
func (s *Service) checkImport(ctx context.Context, job *inventory.Import, save func(inventory.Import) error) error {
	obj, err := s.Files.Open(ctx, inventory.ImportKey(job.ID), 0, "")
	if errors.Is(err, inventory.ErrObjectNotFound) {
		return badFile("no file was uploaded")
	}
	if err != nil {
		return err
	}
	defer obj.Body.Close()
	if obj.Size > inventory.MaxImportBytes {
		return badFile("the file is %d bytes, over the %d MB an import takes", obj.Size, inventory.MaxImportBytes>>20)
	}
	r := itemcsv.NewReader(obj.Body)
	header, _, err := r.Read()
	switch {
	case err == io.EOF:
		return badFile("the file is empty: it needs a header row with a sku column")
	case err != nil:
		return notCSV(err)
	}
	if bad := invalidUTF8(header); bad >= 0 {
		return badFile("line 1 is not UTF-8 text (column %d); save the file as CSV UTF-8", bad+1)
	}
	cols, err := itemcsv.ReadHeader(header)
	if err != nil {
		return badFile("%v", err)
	}
	if len(cols.Unknown) > 0 {
		return badFile("the header names columns an import does not know: %s (known: %s, and onHand:<CODE> per location)",
			strings.Join(cols.Unknown, ", "), strings.Join(append(slices.Clone(itemcsv.BaseColumns), itemcsv.ColGroups), ", "))
	}
	locations := map[string]string{}
	if codes := cols.OnHandCodes(); len(codes) > 0 {
		live, err := s.allLocations(ctx)
		if err != nil {
			return err
		}
		for _, l := range live {
			locations[strings.ToUpper(l.Code)] = l.ID
		}
		for _, code := range codes {
			if _, ok := locations[code]; !ok {
				return badFile("column onHand:%s names no live location (GET /locations lists their codes)", code)
			}
		}
	}
	offset, line := r.Offset(), r.NextLine()
	limit := cmp.Or(s.ImportRowLimit, inventory.MaxImportRows)
	var rows int
	for {
		rec, line, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return notCSV(err)
		}
		if bad := invalidUTF8(rec); bad >= 0 {
			return badFile("line %d is not UTF-8 text (column %d); save the file as CSV UTF-8", line, bad+1)
		}
		if rows++; rows > limit {
			return badFile("the file has more than %d rows", limit)
		}
	}
	return save(job.Checked(obj.ETag, obj.Size, header, locations, offset, line))
}

func notCSV(err error) error {
	var pe *itemcsv.NotCSVError
	if errors.As(err, &pe) {
		return badFile("the file is not CSV: %v", err)
	}
	return err
}

// invalidUTF8 is the index of the first field that is not UTF-8, or -1.
func invalidUTF8(rec []string) int {
	return slices.IndexFunc(rec, func(f string) bool { return !utf8.ValidString(f) })
}

// importRow is one row of a chunk and its outcome.
type importRow struct {
	rec    []string
	line   int
	sku    string
	status string
	err    string
}

// applyImport applies the rows after the checkpoint, a chunk at a time.
func (s *Service) applyImport(ctx context.Context, job *inventory.Import, save func(inventory.Import) error, stopBy time.Time) (bool, error) {
	cp := job.Checkpoint
	cols, err := itemcsv.ReadHeader(cp.Header)
	if err != nil {
		return false, fmt.Errorf("import %s: its checked header: %w", job.ID, err)
	}
	// Rows after a checkpoint that is not clean may have been applied by
	// a run that stopped: they are recognised in the first chunk.
	// Always: a second delivery of the job may be running beside this one
	// (SQS delivers at least once), and may have applied rows after a
	// checkpoint that still says clean.
	recover := !job.DryRun
	if cp.Clean && !job.DryRun {
		if err := save(job.Resumed()); err != nil {
			return false, err
		}
	}
	obj, err := s.Files.Open(ctx, inventory.ImportKey(job.ID), cp.Offset, cp.ETag)
	switch {
	case errors.Is(err, inventory.ErrObjectChanged), errors.Is(err, inventory.ErrObjectNotFound):
		return false, badFile("the file was replaced or removed while it was being imported; upload it to a new import")
	case err != nil:
		return false, err
	}
	defer obj.Body.Close()
	r := itemcsv.NewReaderAt(obj.Body, cp.Offset, cp.Line)
	for {
		if s.now().After(stopBy) {
			return false, nil
		}
		var chunk []*importRow
		for len(chunk) < cmp.Or(s.ImportChunkRows, ImportChunkRows) {
			rec, line, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return false, notCSV(err)
			}
			chunk = append(chunk, &importRow{rec: rec, line: line})
		}
		if len(chunk) == 0 {
			return true, nil
		}
		if err := s.applyChunk(ctx, *job, cols, chunk, recover); err != nil {
			return false, err
		}
		recover = false
		var counts inventory.ImportCounts
		buf := make([]byte, 0, 64*len(chunk))
		for _, row := range chunk {
			counts.Add(row.status)
			buf = itemcsv.AppendRecord(buf, []string{fmt.Sprint(row.line), itemcsv.Neutralize(row.sku), row.status, itemcsv.Neutralize(row.err)})
		}
		if err := s.Objects.Put(ctx, inventory.ImportChunkKey(job.ID, job.Checkpoint.Chunks+1), ExportContentType, buf); err != nil {
			return false, fmt.Errorf("write results of import %s: %w", job.ID, err)
		}
		if err := save(job.Applied(counts, r.Offset(), r.NextLine())); err != nil {
			return false, err
		}
	}
}

// applyChunk applies a chunk's rows: rows of different SKUs at once,
// ImportWorkers at a time, those of one SKU in file order.
func (s *Service) applyChunk(ctx context.Context, job inventory.Import, cols itemcsv.Columns, chunk []*importRow, recover bool) error {
	var order []string
	bySKU := map[string][]*importRow{}
	for _, row := range chunk {
		sku := strings.TrimSpace(cols.Cell(row.rec, itemcsv.ColSKU))
		row.sku = sku
		if _, ok := bySKU[sku]; !ok {
			order = append(order, sku)
		}
		bySKU[sku] = append(bySKU[sku], row)
	}
	work := make(chan []*importRow)
	errs := make([]error, ImportWorkers)
	var wg sync.WaitGroup
	for w := range ImportWorkers {
		wg.Go(func() {
			for rows := range work {
				for _, row := range rows {
					if errs[w] != nil {
						continue
					}
					errs[w] = s.applyRow(ctx, job, cols, row, recover)
				}
			}
		})
	}
	for _, sku := range order {
		work <- bySKU[sku]
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// changedSince reports whether an item was changed after the job started
// (less a minute, for the clocks of two workers): maybe by this job.
func changedSince(it *inventory.Item, started *time.Time) bool {
	return it != nil && started != nil && !it.UpdatedAt.Before(started.Add(-time.Minute))
}

// applyRow applies one row and records its outcome in it; an error is a
// failure of storage (the chunk is applied again), not of the row.
func (s *Service) applyRow(ctx context.Context, job inventory.Import, cols itemcsv.Columns, row *importRow, recover bool) error {
	fail := func(err error) error {
		row.status, row.err = inventory.RowFailed, rowError(err)
		return nil
	}
	in, err := cols.Row(row.rec, row.line)
	if err != nil {
		return fail(err)
	}
	if in.SKU == "" {
		return fail(inventory.Invalid(inventory.CodeValidationFailed, "the row has no sku",
			inventory.FieldError{Field: "/sku", Code: "required", Message: "every row needs a sku"}))
	}
	imp := inventory.ItemImport{SKU: in.SKU, Name: in.Name, Description: in.Description, Tags: in.Tags,
		ReorderPoint: in.ReorderPoint, ReorderPointSet: in.ReorderPointSet, Quantity: in.Quantity}
	for _, code := range slices.Sorted(mapKeys(in.OnHand)) {
		imp.OnHand = append(imp.OnHand, inventory.ImportLevel{LocationID: job.Checkpoint.Locations[code], Code: code, OnHand: in.OnHand[code]})
	}
	scope := inventory.IdempotencyScope(job.RequestedBy, fmt.Sprintf("import:%s:%d", job.ID, row.line))
	for attempt := 1; attempt <= MaxSaveAttempts; attempt++ {
		var old *inventory.Item
		found, err := s.Store.FindItemBySKU(ctx, in.SKU)
		switch {
		case err == nil:
			old = &found
		case inventory.KindOf(err) != inventory.KindNotFound:
			return err
		case in.ID != "":
			// Deleted items are reported, not revived: a row naming one
			// (by its id, as an export does) whose SKU no live item has.
			if it, err := s.Store.GetItem(ctx, in.ID); err == nil && it.Deleted != nil && it.SKU == in.SKU {
				return fail(inventory.Errorf(inventory.KindConflict, inventory.CodeItemDeleted,
					"item %s (sku %s) is deleted; restore it (POST /items/%s/restore) to import into it", it.ID, it.SKU, it.ID))
			}
		}
		var levels []inventory.Level
		if old != nil && (len(imp.OnHand) > 0 || imp.Quantity != nil) {
			if levels, err = s.Store.ListLevels(ctx, old.ID); err != nil {
				return err
			}
		}
		c, ok, err := inventory.ImportItem(old, imp, levels, job.RequestedBy, s.now())
		if err != nil {
			var domain *inventory.Error
			if errors.As(err, &domain) && domain.Kind != inventory.KindInternal {
				return fail(err)
			}
			return err
		}
		if !ok {
			row.status = inventory.RowUnchanged
			if recover || changedSince(old, job.StartedAt) {
				// A stopped run may have applied it, or another run of
				// this job (a message delivered twice) may be applying
				// this chunk too: the row is reported as what it did,
				// whichever run did it, so both write the same results.
				rec, err := s.Store.GetIdempotency(ctx, scope, s.now())
				if err != nil {
					return err
				}
				if rec != nil {
					_ = json.Unmarshal(rec.Result, &row.status)
				}
			}
			return nil
		}
		status := inventory.RowUpdated
		if old == nil {
			status = inventory.RowCreated
		}
		if job.DryRun {
			row.status = status
			return nil
		}
		result, _ := json.Marshal(status)
		now := s.now()
		c.Idempotency = &inventory.IdempotencyRecord{Scope: scope, Operation: "ImportRow",
			RequestHash: requestHash("ImportRow", nil, row.rec), Result: result, CreatedAt: now, ExpiresAt: now.Add(inventory.IdempotencyTTL)}
		err = s.Store.SaveItem(ctx, c)
		switch {
		case err == nil:
			row.status = status
			return nil
		case errors.Is(err, inventory.ErrIdempotencyRace):
			rec, err := s.Store.GetIdempotency(ctx, scope, now)
			if err != nil {
				return err
			}
			if rec != nil {
				_ = json.Unmarshal(rec.Result, &row.status)
				return nil
			}
		case errors.Is(err, inventory.ErrStale), inventory.CodeOf(err) == inventory.CodeSKUConflict:
			// Changed meanwhile (or the SKU taken by a new item): read again.
		default:
			var domain *inventory.Error
			if errors.As(err, &domain) && domain.Kind != inventory.KindInternal && domain.Kind != inventory.KindUnavailable {
				return fail(err)
			}
			return err
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fail(inventory.Errorf(inventory.KindConflict, inventory.CodeVersionConflict,
		"the item kept changing while the row was imported; import the row again"))
}

// rowError is a row's failure as the results file says it: the code, the
// message and each field's.
func rowError(err error) string {
	var e *inventory.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(e.Code + ": " + e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// writeImportResults joins the result chunks, in order and under a header,
// into the results file (a multipart upload of parts of ExportPartSize),
// removes the chunks and marks the job succeeded. Run again after a stop,
// it uploads the parts again under the same numbers; a results file
// already complete is kept.
func (s *Service) writeImportResults(ctx context.Context, job *inventory.Import, save func(inventory.Import) error) error {
	key := inventory.ImportResultsKey(job.ID)
	if job.Checkpoint.Phase == inventory.PhaseApply {
		upload, err := s.Multipart.CreateMultipartUpload(ctx, key, ExportContentType)
		if err != nil {
			return fmt.Errorf("start the results of import %s: %w", job.ID, err)
		}
		if err := save(job.AllApplied(upload)); err != nil {
			// As for an export's start: only an upload another run's
			// save made unused is aborted; after any other failure the
			// save may have been recorded, and the upload is the job's.
			if errors.Is(err, inventory.ErrStale) {
				_ = s.Multipart.AbortMultipartUpload(ctx, key, upload)
			}
			return err
		}
	}
	cp := job.Checkpoint
	partSize := s.exportPartSize()
	buf := itemcsv.AppendRecord(make([]byte, 0, partSize+64<<10), []string{"row", "sku", "status", "error"})
	var parts []inventory.UploadedPart
	upload := func() error {
		n := int32(len(parts) + 1)
		etag, err := s.Multipart.UploadPart(ctx, key, cp.UploadID, n, buf)
		if err != nil {
			return fmt.Errorf("upload part %d of the results of import %s: %w", n, job.ID, err)
		}
		parts = append(parts, inventory.UploadedPart{Number: n, ETag: etag, Bytes: int64(len(buf))})
		buf = buf[:0]
		return nil
	}
	chunks := make([]string, 0, cp.Chunks)
	for n := 1; n <= cp.Chunks; n++ {
		chunks = append(chunks, inventory.ImportChunkKey(job.ID, n))
	}
	// A part that cannot be uploaded may be one of an upload a run
	// completed before it stopped (its chunks not yet deleted): the
	// results are written, and what is left is to finish.
	uploadOrFinish := func() (finished bool, err error) {
		if err := upload(); err != nil {
			if s.resultsExist(ctx, key) {
				return true, s.finishImport(ctx, job, save, chunks)
			}
			return false, err
		}
		return false, nil
	}
	for _, chunk := range chunks {
		data, err := s.Objects.Get(ctx, chunk, inventory.MaxImportBytes)
		if errors.Is(err, inventory.ErrObjectNotFound) && s.resultsExist(ctx, key) {
			return s.finishImport(ctx, job, save, chunks)
		}
		if err != nil {
			return fmt.Errorf("read results chunk %s of import %s: %w", chunk, job.ID, err)
		}
		buf = append(buf, data...)
		if len(buf) >= partSize {
			if finished, err := uploadOrFinish(); finished || err != nil {
				return err
			}
		}
	}
	if len(buf) > 0 || len(parts) == 0 {
		if finished, err := uploadOrFinish(); finished || err != nil {
			return err
		}
	}
	if err := s.Multipart.CompleteMultipartUpload(ctx, key, cp.UploadID, parts); err != nil {
		if !s.resultsExist(ctx, key) { // completed by a run that stopped before saving
			return fmt.Errorf("complete the results of import %s: %w", job.ID, err)
		}
	}
	return s.finishImport(ctx, job, save, chunks)
}

func (s *Service) resultsExist(ctx context.Context, key string) bool {
	obj, err := s.Files.Open(ctx, key, 0, "")
	if err != nil {
		return false
	}
	obj.Body.Close() // unread: the body is not downloaded
	return true
}

// finishImport removes the result chunks and marks the job succeeded.
func (s *Service) finishImport(ctx context.Context, job *inventory.Import, save func(inventory.Import) error, chunks []string) error {
	for batch := range slices.Chunk(chunks, 1000) {
		if err := s.Objects.Delete(ctx, batch...); err != nil {
			return fmt.Errorf("remove the results chunks of import %s: %w", job.ID, err)
		}
	}
	return save(job.Succeed(s.now()))
}
