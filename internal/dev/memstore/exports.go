package memstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Exports is an in-memory usecase.ExportStore. Jobs are written on their
// version, with an idempotency record kept in the Store it is made from,
// as one all-or-nothing change.
type Exports struct {
	s    *Store
	jobs map[string]inventory.Export
	// BeforeSave, when set, runs before each SaveExport is applied (as
	// Store.BeforeSave does), e.g. to stop a worker at a checkpoint.
	BeforeSave func(c inventory.ExportChange) error
}

// NewExports returns an export store that keeps its idempotency records
// in s.
func NewExports(s *Store) *Exports { return &Exports{s: s, jobs: map[string]inventory.Export{}} }

// GetExport reads a job.
func (e *Exports) GetExport(_ context.Context, id string) (inventory.Export, error) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	j, ok := e.jobs[id]
	if !ok {
		return j, inventory.Errorf(inventory.KindNotFound, inventory.CodeExportNotFound, "no export with id %s", id)
	}
	return cloneExport(j), nil
}

// SaveExport writes a job on its version.
func (e *Exports) SaveExport(_ context.Context, c inventory.ExportChange) error {
	if e.BeforeSave != nil {
		if err := e.BeforeSave(c); err != nil {
			return err
		}
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	id := c.Next.ID
	t := newTxn("save export " + id)
	e.s.putIdempotency(t, c.Idempotency)
	cur, exists := e.jobs[id]
	next := cloneExport(c.Next)
	put := func() { e.jobs[id] = next }
	if c.Old == nil {
		t.add("job", "job#"+id, !exists, put)
	} else {
		t.add("job", "job#"+id, exists && cur.Version == c.Old.Version, put)
	}
	return t.commit(e.s, nil)
}

// ListExports lists jobs, newest first.
func (e *Exports) ListExports(_ context.Context, r inventory.Range) ([]inventory.Export, inventory.Position, error) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	var all []inventory.Export
	for _, j := range e.jobs {
		all = append(all, cloneExport(j))
	}
	page, next := newestFirst(all, r, func(j inventory.Export) (time.Time, string) { return j.CreatedAt, j.ID })
	return page, next, nil
}

// newestFirst is a page of jobs, newest first, after r.After (a position
// (created at, id)).
func newestFirst[T any](all []T, r inventory.Range, key func(T) (time.Time, string)) ([]T, inventory.Position) {
	pos := func(j T) inventory.Position {
		at, id := key(j)
		return inventory.Position{at.UTC().Format(inventory.TimeLayout), id}
	}
	slices.SortFunc(all, func(a, b T) int {
		pa, pb := pos(a), pos(b)
		return cmp.Or(strings.Compare(pb[0], pa[0]), strings.Compare(pb[1], pa[1]))
	})
	start := 0
	if r.After != nil {
		start = len(all)
		for i, j := range all {
			if p := pos(j); p[0] < r.After[0] || (p[0] == r.After[0] && p[1] < r.After[1]) {
				start = i
				break
			}
		}
	}
	page := all[start:min(start+r.Limit, len(all))]
	if start+r.Limit >= len(all) {
		return page, nil
	}
	return page, pos(page[len(page)-1])
}

func cloneExport(j inventory.Export) inventory.Export {
	j.Input.Include = slices.Clone(j.Input.Include)
	if j.Checkpoint != nil {
		cp := *j.Checkpoint
		cp.Parts = slices.Clone(cp.Parts)
		cp.Locations = slices.Clone(cp.Locations)
		j.Checkpoint = &cp
	}
	return j
}

// MinPartSize is S3's smallest part but the last: 5 MiB. Objects checks
// parts against its MinPartSize, which tests may lower.
const MinPartSize = 5 << 20

type upload struct {
	key, contentType string
	parts            map[int32][]byte
}

// CreateMultipartUpload starts an upload.
func (o *Objects) CreateMultipartUpload(_ context.Context, key, contentType string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.uploads == nil {
		o.uploads = map[string]*upload{}
	}
	o.uploadSeq++
	id := "upload-" + strconv.Itoa(o.uploadSeq)
	o.uploads[id] = &upload{key: key, contentType: contentType, parts: map[int32][]byte{}}
	return id, nil
}

// UploadPart stores a part (again, if its number was uploaded before) and
// returns its ETag, the digest of its bytes.
func (o *Objects) UploadPart(_ context.Context, key, uploadID string, number int32, data []byte) (string, error) {
	if o.FailPut != nil && o.FailPut(fmt.Sprintf("%s#%d", key, number)) {
		return "", fmt.Errorf("upload part %d of %s: injected failure", number, key)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u, ok := o.uploads[uploadID]
	if !ok || u.key != key || number < 1 || number > 10000 {
		return "", fmt.Errorf("upload part %d of %s: no such upload %s", number, key, uploadID)
	}
	u.parts[number] = bytes.Clone(data)
	o.partBytes = max(o.partBytes, len(data))
	return etagOf(data), nil
}

func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// CompleteMultipartUpload joins the parts named, in order, into the
// object, as S3 does: each must be uploaded with that ETag, numbers
// ascending, every part but the last at least the minimum size.
func (o *Objects) CompleteMultipartUpload(_ context.Context, key, uploadID string, parts []inventory.UploadedPart) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	u, ok := o.uploads[uploadID]
	if !ok || u.key != key {
		return fmt.Errorf("complete %s: no such upload %s", key, uploadID)
	}
	if len(parts) == 0 {
		return fmt.Errorf("complete %s: no parts", key)
	}
	minSize := o.MinPartSize
	if minSize == 0 {
		minSize = MinPartSize
	}
	var data []byte
	for i, p := range parts {
		b, ok := u.parts[p.Number]
		switch {
		case !ok || etagOf(b) != p.ETag:
			return fmt.Errorf("complete %s: part %d is not the one uploaded", key, p.Number)
		case i > 0 && p.Number <= parts[i-1].Number:
			return fmt.Errorf("complete %s: part numbers must ascend", key)
		case i < len(parts)-1 && len(b) < minSize:
			return fmt.Errorf("complete %s: part %d is %d bytes, under the %d-byte minimum", key, p.Number, len(b), minSize)
		}
		data = append(data, b...)
	}
	o.objects[key] = Object{ContentType: u.contentType, Data: data}
	delete(o.uploads, uploadID)
	return nil
}

// AbortMultipartUpload drops an upload and its parts.
func (o *Objects) AbortMultipartUpload(_ context.Context, _, uploadID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.uploads, uploadID)
	return nil
}

// Uploads is the number of multipart uploads not completed or aborted.
func (o *Objects) Uploads() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.uploads)
}

// LargestPart is the size of the largest part uploaded so far.
func (o *Objects) LargestPart() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.partBytes
}
