package memstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Imports is an in-memory usecase.ImportStore, like Exports.
type Imports struct {
	s    *Store
	jobs map[string]inventory.Import
	// BeforeSave, when set, runs before each SaveImport is applied, e.g. to
	// stop a worker at a checkpoint.
	BeforeSave func(c inventory.ImportChange) error
}

// NewImports returns an import store that keeps its idempotency records
// in s.
func NewImports(s *Store) *Imports { return &Imports{s: s, jobs: map[string]inventory.Import{}} }

// GetImport reads a job.
func (e *Imports) GetImport(_ context.Context, id string) (inventory.Import, error) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	j, ok := e.jobs[id]
	if !ok {
		return j, inventory.Errorf(inventory.KindNotFound, inventory.CodeImportNotFound, "no import with id %s", id)
	}
	return cloneImport(j), nil
}

// SaveImport writes a job on its version.
func (e *Imports) SaveImport(_ context.Context, c inventory.ImportChange) error {
	if e.BeforeSave != nil {
		if err := e.BeforeSave(c); err != nil {
			return err
		}
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	id := c.Next.ID
	t := newTxn("save import " + id)
	e.s.putIdempotency(t, c.Idempotency)
	cur, exists := e.jobs[id]
	next := cloneImport(c.Next)
	put := func() { e.jobs[id] = next }
	t.add("job", "job#"+id, (c.Old == nil && !exists) || (c.Old != nil && exists && cur.Version == c.Old.Version), put)
	return t.commit(e.s, nil)
}

// ListImports lists jobs, newest first.
func (e *Imports) ListImports(_ context.Context, r inventory.Range) ([]inventory.Import, inventory.Position, error) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	var all []inventory.Import
	for _, j := range e.jobs {
		all = append(all, cloneImport(j))
	}
	page, next := newestFirst(all, r, func(j inventory.Import) (time.Time, string) { return j.CreatedAt, j.ID })
	return page, next, nil
}

func cloneImport(j inventory.Import) inventory.Import {
	if j.Checkpoint != nil {
		cp := *j.Checkpoint
		cp.Header = slices.Clone(cp.Header)
		cp.Locations = maps.Clone(cp.Locations)
		j.Checkpoint = &cp
	}
	return j
}

// Open reads an object from offset; with etag, only if the object's ETag
// (ETag) is still etag.
func (o *Objects) Open(_ context.Context, key string, offset int64, etag string) (inventory.OpenedObject, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.objects[key]
	switch {
	case !ok:
		return inventory.OpenedObject{}, fmt.Errorf("open %s: %w", key, inventory.ErrObjectNotFound)
	case etag != "" && ETag(obj.Data) != etag:
		return inventory.OpenedObject{}, fmt.Errorf("open %s: %w", key, inventory.ErrObjectChanged)
	case offset > int64(len(obj.Data)):
		return inventory.OpenedObject{}, fmt.Errorf("open %s at %d: past its end (%d bytes)", key, offset, len(obj.Data))
	}
	return inventory.OpenedObject{Body: io.NopCloser(bytes.NewReader(bytes.Clone(obj.Data[offset:]))),
		Size: int64(len(obj.Data)), ETag: ETag(obj.Data)}, nil
}

// ETag is the entity tag Objects gives data: its length and a checksum.
func ETag(data []byte) string {
	var sum uint32
	for _, b := range data {
		sum = sum*31 + uint32(b)
	}
	return strconv.Itoa(len(data)) + "-" + strconv.FormatUint(uint64(sum), 16)
}
