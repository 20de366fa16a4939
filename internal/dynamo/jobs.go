package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Export jobs (docs/data-model.md §2.10): PK=JOB#<id>, SK=JOB, listed in
// GSI1 JOBS#export by creation, newest first.
const (
	jobPrefix  = "JOB#"
	jobSK      = "JOB"
	exportJobs = "JOBS#export"
)

var exportsList = indexList{gsi1, exportJobs, jobPrefix, jobSK, "#", true}

func jobKey(id string) key { return tableKey(jobPrefix+id, jobSK) }

// GetExport reads an export job strongly consistently.
func (s *Store) GetExport(ctx context.Context, id string) (inventory.Export, error) {
	return getRecord(ctx, s, jobKey(id), "export "+id, decodeExport, func() error {
		return inventory.Errorf(inventory.KindNotFound, inventory.CodeExportNotFound, "no export with id %s", id)
	})
}

// SaveExport writes a job on its version, with the idempotency record.
func (s *Store) SaveExport(ctx context.Context, c inventory.ExportChange) error {
	tx := &txn{table: s.table}
	putIdempotency(tx, c.Idempotency)
	job := encodeExport(c.Next)
	if c.Old == nil {
		tx.put("job", job, "attribute_not_exists(PK)", nil)
	} else {
		tx.put("job", job, "version = :v", attrMap{":v": num(c.Old.Version)})
	}
	return s.saveJob(ctx, tx, job, c.Old != nil, "save export "+c.Next.ID)
}

// saveJob commits the save of a job record. A save on a version (update
// true) whose condition fails may be this very save: its answer lost after
// it committed (a timeout, a dropped connection), the SDK sent it again,
// and the version it was conditioned on is gone. If the job is now exactly
// the record this save writes, the save is done: it is the worker's own,
// not another worker's (inventory.ErrStale would stop the worker, and the
// job would stay running with nobody on it).
func (s *Store) saveJob(ctx context.Context, tx *txn, job attrMap, update bool, what string) error {
	err := s.commit(ctx, tx, what, nil)
	if !update || !errors.Is(err, inventory.ErrStale) {
		return err
	}
	out, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table,
		Key: key{"PK": job["PK"], "SK": job["SK"]}, ConsistentRead: aws.Bool(true)})
	if gerr != nil {
		return classify(fmt.Errorf("%s: read it back: %w", what, gerr))
	}
	if sameRecord(out.Item, job) {
		return nil
	}
	return err
}

// sameRecord reports whether two records hold the same attributes with
// the same values (sets in any order).
func sameRecord(a, b attrMap) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !sameValue(v, w) {
			return false
		}
	}
	return true
}

func sameValue(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok
	case *types.AttributeValueMemberSS:
		b, ok := b.(*types.AttributeValueMemberSS)
		return ok && slices.Equal(slices.Sorted(slices.Values(a.Value)), slices.Sorted(slices.Values(b.Value)))
	case *types.AttributeValueMemberL:
		b, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(a.Value) != len(b.Value) {
			return false
		}
		for i := range a.Value {
			if !sameValue(a.Value[i], b.Value[i]) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberM:
		b, ok := b.(*types.AttributeValueMemberM)
		return ok && sameRecord(a.Value, b.Value)
	}
	return false
}

// ListExports lists export jobs, newest first.
func (s *Store) ListExports(ctx context.Context, r inventory.Range) ([]inventory.Export, inventory.Position, error) {
	return queryList(ctx, s, exportsList, r, decodeExport)
}

func encodeExport(j inventory.Export) attrMap {
	m := jobKey(j.ID)
	m["GSI1PK"], m["GSI1SK"] = str(exportJobs), str(deletedSort(j.CreatedAt, j.ID))
	m["type"], m["kind"] = str("job"), str("export")
	m["id"], m["status"], m["requestedBy"] = str(j.ID), str(j.Status), str(j.RequestedBy)
	m["createdAt"] = str(formatTime(j.CreatedAt))
	if j.StartedAt != nil {
		m["startedAt"] = str(formatTime(*j.StartedAt))
	}
	if j.FinishedAt != nil {
		m["finishedAt"] = str(formatTime(*j.FinishedAt))
	}
	m["rows"], m["bytes"], m["version"] = num(j.Rows), num(j.Bytes), num(j.Version)
	putStr(m, "error", j.Error)
	m["s3Key"] = str(j.Key)
	in := j.Input
	f := attrMap{}
	putStr(f, "q", in.Filters.Q)
	putStr(f, "tag", in.Filters.Tag)
	putStr(f, "groupId", in.Filters.GroupID)
	putStr(f, "locationId", in.Filters.LocationID)
	putStr(f, "sort", in.Filters.Sort)
	if in.Filters.LowStock {
		f["lowStock"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if in.Filters.MinQuantity != nil {
		f["minQuantity"] = num(*in.Filters.MinQuantity)
	}
	if in.Filters.MaxQuantity != nil {
		f["maxQuantity"] = num(*in.Filters.MaxQuantity)
	}
	if len(f) > 0 { // an empty map does not survive every engine
		m["filters"] = &types.AttributeValueMemberM{Value: f}
	}
	putStrings(m, "include", in.Include)
	if in.BOM {
		m["bom"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if cp := j.Checkpoint; cp != nil {
		c := attrMap{"uploadId": str(cp.UploadID)}
		putStr(c, "cursor", cp.Cursor)
		if cp.Done {
			c["done"] = &types.AttributeValueMemberBOOL{Value: true}
		}
		if len(cp.Parts) > 0 {
			l := make([]types.AttributeValue, len(cp.Parts))
			for i, p := range cp.Parts {
				l[i] = &types.AttributeValueMemberM{Value: attrMap{"n": num(int64(p.Number)), "etag": str(p.ETag),
					"bytes": num(p.Bytes), "rows": num(p.Rows)}}
			}
			c["parts"] = &types.AttributeValueMemberL{Value: l}
		}
		if len(cp.Locations) > 0 {
			l := make([]types.AttributeValue, len(cp.Locations))
			for i, loc := range cp.Locations {
				l[i] = &types.AttributeValueMemberM{Value: attrMap{"id": str(loc.ID), "code": str(loc.Code)}}
			}
			c["locations"] = &types.AttributeValueMemberL{Value: l}
		}
		m["checkpoint"] = &types.AttributeValueMemberM{Value: c}
	}
	return m
}

func decodeExport(m attrMap) (inventory.Export, error) {
	a := &attrs{m: m}
	j := inventory.Export{ID: a.str("id"), Status: a.str("status"), RequestedBy: a.str("requestedBy"),
		CreatedAt: a.time("createdAt"), Rows: a.int("rows"), Bytes: a.int("bytes"), Version: a.int("version"),
		Error: a.str("error"), Key: a.str("s3Key"), Input: inventory.ExportInput{Include: a.strings("include"), BOM: a.bool("bom")}}
	if t := a.time("startedAt"); !t.IsZero() {
		j.StartedAt = &t
	}
	if t := a.time("finishedAt"); !t.IsZero() {
		j.FinishedAt = &t
	}
	if f := a.sub("filters"); f != nil {
		j.Input.Filters = inventory.ItemQuery{Q: f.str("q"), Tag: f.str("tag"), GroupID: f.str("groupId"),
			LocationID: f.str("locationId"), Sort: f.str("sort"), LowStock: f.bool("lowStock"),
			MinQuantity: f.optInt("minQuantity"), MaxQuantity: f.optInt("maxQuantity")}
		if j.Input.Filters.Q != "" {
			j.Input.Filters.Words = nil
			_ = j.Input.Filters.Validate() // sets Words, as when it was asked for
		}
		a.keep(f)
	}
	if c := a.sub("checkpoint"); c != nil {
		cp := &inventory.ExportCheckpoint{UploadID: c.str("uploadId"), Cursor: c.str("cursor"), Done: c.bool("done")}
		for _, p := range c.maps("parts") {
			cp.Parts = append(cp.Parts, inventory.UploadedPart{Number: int32(p.int("n")), ETag: p.str("etag"),
				Bytes: p.int("bytes"), Rows: p.int("rows")})
			c.keep(p)
		}
		for _, l := range c.maps("locations") {
			cp.Locations = append(cp.Locations, inventory.Location{ID: l.str("id"), Code: l.str("code")})
			c.keep(l)
		}
		j.Checkpoint = cp
		a.keep(c)
	}
	if a.err != nil {
		return j, fmt.Errorf("decode export %s: %w", j.ID, a.err)
	}
	return j, nil
}

// Import jobs: the same key as an export's, listed in GSI1 JOBS#import.
const importJobs = "JOBS#import"

var importsList = indexList{gsi1, importJobs, jobPrefix, jobSK, "#", true}

// GetImport reads an import job strongly consistently.
func (s *Store) GetImport(ctx context.Context, id string) (inventory.Import, error) {
	return getRecord(ctx, s, jobKey(id), "import "+id, decodeImport, func() error {
		return inventory.Errorf(inventory.KindNotFound, inventory.CodeImportNotFound, "no import with id %s", id)
	})
}

// SaveImport writes an import job on its version, with the idempotency
// record.
func (s *Store) SaveImport(ctx context.Context, c inventory.ImportChange) error {
	tx := &txn{table: s.table}
	putIdempotency(tx, c.Idempotency)
	job := encodeImport(c.Next)
	if c.Old == nil {
		tx.put("job", job, "attribute_not_exists(PK)", nil)
	} else {
		tx.put("job", job, "version = :v", attrMap{":v": num(c.Old.Version)})
	}
	return s.saveJob(ctx, tx, job, c.Old != nil, "save import "+c.Next.ID)
}

// ListImports lists import jobs, newest first.
func (s *Store) ListImports(ctx context.Context, r inventory.Range) ([]inventory.Import, inventory.Position, error) {
	return queryList(ctx, s, importsList, r, decodeImport)
}

func encodeImport(j inventory.Import) attrMap {
	m := jobKey(j.ID)
	m["GSI1PK"], m["GSI1SK"] = str(importJobs), str(deletedSort(j.CreatedAt, j.ID))
	m["type"], m["kind"] = str("job"), str("import")
	m["id"], m["status"], m["requestedBy"] = str(j.ID), str(j.Status), str(j.RequestedBy)
	m["createdAt"], m["uploadExpiresAt"] = str(formatTime(j.CreatedAt)), str(formatTime(j.UploadExpiresAt))
	if j.DryRun {
		m["dryRun"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if j.StartedAt != nil {
		m["startedAt"] = str(formatTime(*j.StartedAt))
	}
	if j.FinishedAt != nil {
		m["finishedAt"] = str(formatTime(*j.FinishedAt))
	}
	c := j.Counts
	m["rows"], m["created"], m["updated"] = num(c.Rows), num(c.Created), num(c.Updated)
	m["unchanged"], m["failed"], m["version"] = num(c.Unchanged), num(c.Failed), num(j.Version)
	putStr(m, "error", j.Error)
	if cp := j.Checkpoint; cp != nil {
		// The header as JSON: its cells may be empty, which not every
		// engine keeps in a list.
		header, _ := json.Marshal(cp.Header)
		c := attrMap{"phase": str(cp.Phase), "offset": num(cp.Offset), "line": num(int64(cp.Line)),
			"chunks": num(int64(cp.Chunks)), "header": str(string(header))}
		putStr(c, "etag", cp.ETag)
		putStr(c, "uploadId", cp.UploadID)
		putNum(c, "size", cp.Size)
		if cp.Clean {
			c["clean"] = &types.AttributeValueMemberBOOL{Value: true}
		}
		if len(cp.Locations) > 0 {
			locs := attrMap{}
			for code, id := range cp.Locations {
				locs[code] = str(id)
			}
			c["locations"] = &types.AttributeValueMemberM{Value: locs}
		}
		m["checkpoint"] = &types.AttributeValueMemberM{Value: c}
	}
	return m
}

func decodeImport(m attrMap) (inventory.Import, error) {
	a := &attrs{m: m}
	j := inventory.Import{ID: a.str("id"), Status: a.str("status"), RequestedBy: a.str("requestedBy"), DryRun: a.bool("dryRun"),
		CreatedAt: a.time("createdAt"), UploadExpiresAt: a.time("uploadExpiresAt"), Version: a.int("version"), Error: a.str("error"),
		Counts: inventory.ImportCounts{Rows: a.int("rows"), Created: a.int("created"), Updated: a.int("updated"),
			Unchanged: a.int("unchanged"), Failed: a.int("failed")}}
	if t := a.time("startedAt"); !t.IsZero() {
		j.StartedAt = &t
	}
	if t := a.time("finishedAt"); !t.IsZero() {
		j.FinishedAt = &t
	}
	if c := a.sub("checkpoint"); c != nil {
		cp := &inventory.ImportCheckpoint{Phase: c.str("phase"), ETag: c.str("etag"), UploadID: c.str("uploadId"),
			Size: c.int("size"), Offset: c.int("offset"), Line: int(c.int("line")), Chunks: int(c.int("chunks")), Clean: c.bool("clean")}
		if err := json.Unmarshal([]byte(c.str("header")), &cp.Header); err != nil {
			c.fail("header", "a JSON list of strings")
		}
		if l := c.sub("locations"); l != nil {
			cp.Locations = map[string]string{}
			for code := range l.m {
				cp.Locations[code] = l.str(code)
			}
			c.keep(l)
		}
		j.Checkpoint = cp
		a.keep(c)
	}
	if a.err != nil {
		return j, fmt.Errorf("decode import %s: %w", j.ID, a.err)
	}
	return j, nil
}
