package inventory

import (
	"fmt"
	"slices"
	"time"
)

// Job statuses.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// Export inclusions.
const (
	IncludeStock  = "stock"
	IncludeGroups = "groups"
)

// ExportInput is what POST /exports asks for.
type ExportInput struct {
	Filters ItemQuery
	Include []string // IncludeStock, IncludeGroups
	BOM     bool
}

// Validate checks the input: the filters as GET /items checks them, and
// known inclusions, each once.
func (in *ExportInput) Validate() error {
	if err := in.Filters.Validate(); err != nil {
		if e, ok := err.(*Error); ok {
			fields := slices.Clone(e.Fields)
			for i := range fields {
				fields[i].Field = "/filters/" + fields[i].Field
			}
			return Invalid(CodeValidationFailed, "the export's filters are not valid: "+e.Message, fields...)
		}
		return err
	}
	var v validator
	for i, inc := range in.Include {
		field := fmt.Sprintf("/include/%d", i)
		switch {
		case inc != IncludeStock && inc != IncludeGroups:
			v.add(field, "enum", "include takes %q and %q", IncludeStock, IncludeGroups)
		case slices.Index(in.Include, inc) != i:
			v.add(field, "duplicate", "%q is included twice", inc)
		}
	}
	return v.err()
}

// Has reports whether the export includes a kind of column.
func (in ExportInput) Has(include string) bool { return slices.Contains(in.Include, include) }

// Export is an export job: a CSV of the items a query lists, written to
// object storage by the export worker, which records its progress and a
// checkpoint on the job as it goes.
type Export struct {
	ID          string
	Input       ExportInput
	Status      string
	RequestedBy string
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Rows        int64 // rows written (in completed parts, while running)
	Bytes       int64
	Error       string
	Key         string // the object written
	Checkpoint  *ExportCheckpoint
	Version     int64
}

// ExportCheckpoint is where a running export stands: the multipart upload,
// its parts so far, the columns fixed when it started, and the cursor of
// the last row in those parts. A worker stopped at any point resumes from
// it: the rows after the cursor go into the next part, so no row is
// written twice or lost.
type ExportCheckpoint struct {
	UploadID  string
	Parts     []UploadedPart
	Locations []Location // the onHand columns (include "stock"), in order
	Cursor    string     // "" before the first row
	Done      bool       // every row is in the parts; the upload only needs completing
}

// UploadedPart is one part of a multipart upload.
type UploadedPart struct {
	Number int32
	ETag   string
	Bytes  int64
	Rows   int64
}

// ExportKey is where an export's file is written.
func ExportKey(id string) string { return "exports/" + id + ".csv" }

// NewExport returns a queued export.
func NewExport(in ExportInput, actor string, now time.Time) Export {
	now = instant(now)
	id := NewID(now)
	return Export{ID: id, Input: in, Status: JobQueued, RequestedBy: actor, CreatedAt: now, Key: ExportKey(id), Version: 1}
}

// ExportChange is a change of an export job: Old as read (nil to create);
// storage refuses it with ErrStale if the stored job is no longer Old.
type ExportChange struct {
	Old         *Export
	Next        Export
	Idempotency *IdempotencyRecord
}

// Next returns the job with a new version.
func (j Export) next() Export {
	n := j
	n.Version++
	if j.Checkpoint != nil {
		cp := *j.Checkpoint
		cp.Parts = slices.Clone(cp.Parts)
		n.Checkpoint = &cp
	}
	return n
}

// Start marks a queued export running, with its upload and its columns.
func (j Export) Start(uploadID string, locations []Location, now time.Time) Export {
	n := j.next()
	t := instant(now)
	n.Status, n.StartedAt = JobRunning, &t
	n.Checkpoint = &ExportCheckpoint{UploadID: uploadID, Locations: locations}
	return n
}

// AddPart records a part uploaded, and the cursor of its last row.
func (j Export) AddPart(p UploadedPart, cursor string, done bool) Export {
	n := j.next()
	n.Checkpoint.Parts = append(n.Checkpoint.Parts, p)
	n.Checkpoint.Cursor, n.Checkpoint.Done = cursor, done
	n.Rows += p.Rows
	n.Bytes += p.Bytes
	return n
}

// AllWritten records that every row is in the parts uploaded.
func (j Export) AllWritten(cursor string) Export {
	n := j.next()
	n.Checkpoint.Cursor, n.Checkpoint.Done = cursor, true
	return n
}

// Succeed marks the export written.
func (j Export) Succeed(now time.Time) Export {
	n := j.next()
	t := instant(now)
	n.Status, n.FinishedAt, n.Checkpoint = JobSucceeded, &t, nil
	return n
}

// Fail marks the export failed, for a reason a person can read.
func (j Export) Fail(reason string, now time.Time) Export {
	n := j.next()
	t := instant(now)
	n.Status, n.FinishedAt, n.Error, n.Checkpoint = JobFailed, &t, reason, nil
	return n
}
