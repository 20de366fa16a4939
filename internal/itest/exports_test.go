package itest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// exportService is the use cases on the test's own table and bucket, as a
// function's are built.
func (e *env) exportService() *usecase.Service {
	e.t.Helper()
	svc, err := lambdafn.NewService(context.Background(), e.stack.Settings)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// TestExportThroughTheEngines: an export's job record and its multipart
// file go through the real SDK to each engine; the file is the CSV of the
// items, hostile cells neutralised, and a second run changes nothing.
func TestExportThroughTheEngines(t *testing.T) {
	e := newEnv(t)
	e.createItem(`{"sku":"EXP-1","name":"=1+2","description":"@cmd, \"quoted\"\nnext line","tags":["a;b","émoji 🧰"],"quantity":3}`)
	e.createItem(`{"sku":"EXP-2","name":"Écrou M8","quantity":0,"reorderPoint":5}`)
	svc := e.exportService()
	ctx := context.Background()
	job, _, err := svc.RequestExport(ctx, usecase.Request{Actor: editorEmail}, inventory.ExportInput{Include: []string{inventory.IncludeStock}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if done, err := svc.RunExport(ctx, job.ID, time.Now().Add(time.Minute)); err != nil || !done {
			t.Fatalf("run: %v %v", done, err)
		}
	}
	job, err = svc.GetExport(ctx, job.ID)
	if err != nil || job.Status != inventory.JobSucceeded || job.Rows != 2 {
		t.Fatalf("job %+v, %v", job, err)
	}
	data, err := svc.Objects.Get(ctx, job.Key, 1<<20)
	if err != nil || int64(len(data)) != job.Bytes {
		t.Fatalf("file: %d bytes, %v", len(data), err)
	}
	r := itemcsv.NewReader(bytes.NewReader(data))
	head, _, err := r.Read()
	if err != nil || strings.Join(head, ",") != "id,sku,name,description,tags,quantity,available,reorderPoint,createdAt,updatedAt,onHand:DEFAULT" {
		t.Fatalf("header %q, %v", head, err)
	}
	// Its download link, as GET /exports/{id} will give it: an attachment.
	url, err := svc.Signer.PresignDownload(ctx, job.Key, usecase.ExportContentType, itemcsv.Filename(job.CreatedAt), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != usecase.ExportContentType ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="`+itemcsv.Filename(job.CreatedAt)+`"` {
		t.Errorf("download: %d %v, %d bytes", resp.StatusCode, resp.Header, len(body))
	}
	first, _, err := r.Read()
	if err != nil || first[1] != "EXP-1" || first[2] != "'=1+2" || first[3] != "'@cmd, \"quoted\"\nnext line" ||
		first[4] != `a\;b;émoji 🧰` || first[10] != "3" {
		t.Errorf("first row %q, %v", first, err)
	}
}

// TestMultipartUploadOnTheEngines: parts of S3's minimum size and a last
// small one, a part uploaded twice, completed into one object; an upload
// aborted.
func TestMultipartUploadOnTheEngines(t *testing.T) {
	e := newEnv(t)
	svc := e.exportService()
	ctx := context.Background()
	mp := svc.Multipart
	key := "exports/multipart-test.csv"
	id, err := mp.CreateMultipartUpload(ctx, key, usecase.ExportContentType)
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), bytes.Repeat([]byte("b"), 5<<20), []byte("tail\r\n")}
	var done []inventory.UploadedPart
	for i, p := range parts {
		etag, err := mp.UploadPart(ctx, key, id, int32(i+1), p)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, inventory.UploadedPart{Number: int32(i + 1), ETag: etag})
	}
	again, err := mp.UploadPart(ctx, key, id, 2, parts[1])
	if err != nil || again != done[1].ETag {
		t.Fatalf("part 2 again: %s (first %s), %v", again, done[1].ETag, err)
	}
	if err := mp.CompleteMultipartUpload(ctx, key, id, done); err != nil {
		t.Fatal(err)
	}
	data, err := svc.Objects.Get(ctx, key, 11<<20)
	if err != nil || !bytes.Equal(data, bytes.Join(parts, nil)) {
		t.Fatalf("object: %d bytes, %v", len(data), err)
	}
	other, err := mp.CreateMultipartUpload(ctx, "exports/aborted.csv", usecase.ExportContentType)
	if err != nil {
		t.Fatal(err)
	}
	if err := mp.AbortMultipartUpload(ctx, "exports/aborted.csv", other); err != nil {
		t.Errorf("abort: %v", err)
	}
}
