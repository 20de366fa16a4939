package inventory

import (
	"io"
	"maps"
	"slices"
	"time"
)

// Import limits.
const (
	// MaxImportBytes is the largest import file: the upload form's
	// content-length-range, and checked again before a row is read.
	MaxImportBytes = 50 << 20
	// MaxImportRows is the most rows a file may have (the header apart).
	MaxImportRows = 1_000_000
)

// Import statuses besides the job statuses.
const (
	// ImportAwaitingUpload: the job waits for its file.
	ImportAwaitingUpload = "awaiting_upload"
	// ImportExpired: the upload form expired and no file came (shown, not
	// stored: the job stays awaiting_upload, and a late file is refused).
	ImportExpired = "expired"
)

// Import row outcomes, the status column of the results file.
const (
	RowCreated   = "created"
	RowUpdated   = "updated"
	RowUnchanged = "unchanged"
	RowFailed    = "failed"
)

// Import phases of a running job.
const (
	PhaseCheck   = "check"   // the whole file is read and checked; nothing changes
	PhaseApply   = "apply"   // rows are applied in chunks, each chunk's results written
	PhaseResults = "results" // the chunks' results are joined into the results file
)

// Import is an import job: a CSV file uploaded to object storage and
// applied row by row by the import worker, which records its progress and
// a checkpoint on the job as it goes.
type Import struct {
	ID              string
	Status          string // ImportAwaitingUpload or a job status
	DryRun          bool
	RequestedBy     string
	CreatedAt       time.Time
	UploadExpiresAt time.Time
	StartedAt       *time.Time
	FinishedAt      *time.Time
	Counts          ImportCounts
	Error           string
	Checkpoint      *ImportCheckpoint
	Version         int64
}

// ImportCounts count the rows done, by outcome.
type ImportCounts struct {
	Rows, Created, Updated, Unchanged, Failed int64
}

// Add counts one row's outcome.
func (c *ImportCounts) Add(status string) {
	c.Rows++
	switch status {
	case RowCreated:
		c.Created++
	case RowUpdated:
		c.Updated++
	case RowUnchanged:
		c.Unchanged++
	default:
		c.Failed++
	}
}

// ImportCheckpoint is where a running import stands. In PhaseApply, the
// rows before Offset (the file's byte offset of the next row, which starts
// on Line) are applied and their results are in Chunks result chunks. A
// worker stopped at any point resumes from it: rows after Offset that a
// stopped run applied are found by their idempotency records (Clean false:
// the run did not stop at a checkpoint of its own).
type ImportCheckpoint struct {
	Phase     string
	ETag      string            // the file's, when it was checked: a file replaced since is refused
	Size      int64             // the file's size
	Header    []string          // the header row as the file has it
	Locations map[string]string // location code (upper case) -> id, for the onHand columns
	Offset    int64
	Line      int
	Chunks    int
	Clean     bool
	UploadID  string // the results file's multipart upload (PhaseResults)
}

// ImportKey is where an import's file is uploaded; ImportResultsKey where
// its results are written, ImportChunkKey each chunk of them before.
func ImportKey(id string) string        { return "imports/" + id + ".csv" }
func ImportResultsKey(id string) string { return "imports/" + id + ".results.csv" }
func ImportChunkKey(id string, n int) string {
	return "imports/" + id + "/chunks/" + padded(n) + ".csv"
}

func padded(n int) string {
	s := []byte("000000")
	for i := len(s) - 1; i >= 0 && n > 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}

// ImportIDOfKey returns the import id of an uploaded file's key, or false
// for any other key (results, chunks, anything else).
func ImportIDOfKey(key string) (string, bool) {
	rest, ok := cutPrefixSuffix(key, "imports/", ".csv")
	if !ok || !IsValidID(rest) {
		return "", false
	}
	return rest, true
}

func cutPrefixSuffix(s, prefix, suffix string) (string, bool) {
	if len(s) < len(prefix)+len(suffix) || s[:len(prefix)] != prefix || s[len(s)-len(suffix):] != suffix {
		return "", false
	}
	return s[len(prefix) : len(s)-len(suffix)], true
}

// NewImport returns an import waiting for its file until uploadExpires.
func NewImport(dryRun bool, actor string, now, uploadExpires time.Time) Import {
	now = instant(now)
	return Import{ID: NewID(now), Status: ImportAwaitingUpload, DryRun: dryRun, RequestedBy: actor, CreatedAt: now,
		UploadExpiresAt: instant(uploadExpires), Version: 1}
}

// Shown is the status as callers see it: an import whose form expired
// without a file is expired.
func (j Import) Shown(now time.Time) string {
	if j.Status == ImportAwaitingUpload && now.After(j.UploadExpiresAt.Add(ImportUploadGrace)) {
		return ImportExpired
	}
	return j.Status
}

// ImportUploadGrace is how long after its form expires an upload that was
// under way may still arrive.
const ImportUploadGrace = 5 * time.Minute

// ImportChange is a change of an import job: Old as read (nil to create);
// storage refuses it with ErrStale if the stored job is no longer Old.
type ImportChange struct {
	Old         *Import
	Next        Import
	Idempotency *IdempotencyRecord
}

func (j Import) next() Import {
	n := j
	n.Version++
	if j.Checkpoint != nil {
		cp := *j.Checkpoint
		cp.Header = slices.Clone(cp.Header)
		cp.Locations = maps.Clone(cp.Locations)
		n.Checkpoint = &cp
	}
	return n
}

// Start marks an import running: its file is being checked.
func (j Import) Start(now time.Time) Import {
	n := j.next()
	t := instant(now)
	n.Status, n.StartedAt = JobRunning, &t
	n.Checkpoint = &ImportCheckpoint{Phase: PhaseCheck}
	return n
}

// Checked records the checked file: the rows begin at offset, on line.
func (j Import) Checked(etag string, size int64, header []string, locations map[string]string, offset int64, line int) Import {
	n := j.next()
	n.Checkpoint = &ImportCheckpoint{Phase: PhaseApply, ETag: etag, Size: size, Header: slices.Clone(header),
		Locations: maps.Clone(locations), Offset: offset, Line: line, Clean: true}
	return n
}

// Applied records a chunk of rows applied and its results written: the
// next row is at offset, on line. The checkpoint stays unclean: the run
// goes on applying rows after it.
func (j Import) Applied(counts ImportCounts, offset int64, line int) Import {
	n := j.next()
	n.Counts.Rows += counts.Rows
	n.Counts.Created += counts.Created
	n.Counts.Updated += counts.Updated
	n.Counts.Unchanged += counts.Unchanged
	n.Counts.Failed += counts.Failed
	n.Checkpoint.Offset, n.Checkpoint.Line = offset, line
	n.Checkpoint.Chunks++
	return n
}

// Resumed marks the checkpoint as one a run resumes from: until its next
// checkpoint, rows may have been applied by a run that stopped.
func (j Import) Resumed() Import {
	n := j.next()
	n.Checkpoint.Clean = false
	return n
}

// AllApplied records that every row is applied; the results file is
// written next, by the multipart upload uploadID.
func (j Import) AllApplied(uploadID string) Import {
	n := j.next()
	n.Checkpoint.Phase, n.Checkpoint.UploadID = PhaseResults, uploadID
	return n
}

// Succeed marks the import done.
func (j Import) Succeed(now time.Time) Import {
	n := j.next()
	t := instant(now)
	n.Status, n.FinishedAt, n.Checkpoint = JobSucceeded, &t, nil
	return n
}

// Fail marks the import failed, for a reason a person can read.
func (j Import) Fail(reason string, now time.Time) Import {
	n := j.next()
	t := instant(now)
	if n.StartedAt == nil {
		n.StartedAt = &t
	}
	n.Status, n.FinishedAt, n.Error, n.Checkpoint = JobFailed, &t, reason, nil
	return n
}

// OpenedObject is an object of object storage being read.
type OpenedObject struct {
	Body io.ReadCloser
	Size int64 // the whole object's
	ETag string
}
