package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/exportfn"
	"github.com/depot-inventory/depot/internal/usecase"
)

// exportService is the use cases on the test's own table and bucket, as a
// function's are built, with a queue that keeps the jobs it is given (so
// that the test runs them itself).
func (e *env) exportService() *usecase.Service {
	e.t.Helper()
	settings := e.stack.Settings
	settings.ExportQueue = &memstore.Queue{}
	svc, err := lambdafn.NewService(context.Background(), settings)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// TestExportThroughTheEngines: an export's job record and its multipart
// file go through the real SDK to each engine; the file is the CSV of the
// items, hostile cells neutralised, and a second run changes nothing.
func TestExportThroughTheEngines(t *testing.T) {
	t.Parallel()
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
	detail, err := svc.GetExport(ctx, job.ID)
	job = detail.Export
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
	t.Parallel()
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

// awaitExport polls GET /exports/{id} until the job is finished.
func (e *env) awaitExport(id string) map[string]any {
	e.t.Helper()
	e.stack.ExportQueue.Wait()
	for range 100 {
		job := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + id, Header: as(viewerEmail)}).json(e.t)
		if s := job["status"]; s == inventory.JobSucceeded || s == inventory.JobFailed {
			return job
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("export %s never finished", id)
	return nil
}

// download GETs a presigned link from the host, as a browser would.
func download(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestExportThroughTheAPI: a viewer asks for an export with filters; the
// request answers 202 queued at once with a Location, the worker (fed by
// the queue, as on AWS) writes the file, and GET links it for download as
// an attachment; the rows are the filtered items. The same key replays;
// the list shows the newest first.
func TestExportThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 5 {
		tags := `["bulk"]`
		if i%2 == 0 {
			tags = `["bulk","even"]`
		}
		e.createItem(fmt.Sprintf(`{"sku":"API-%d","name":"Item %d","tags":%s,"quantity":%d}`, i, i, tags, i))
	}
	body := `{"filters":{"tag":"even"},"include":["stock","groups"],"bom":true}`
	res := e.must(http.StatusAccepted, req{Method: "POST", Path: "/exports", Body: body,
		Header: withKey(as(viewerEmail), "exp-1")})
	job := res.json(t)
	id, _ := job["id"].(string)
	if job["status"] != inventory.JobQueued || job["requestedBy"] != viewerEmail || res.Header.Get("Location") != "/exports/"+id {
		t.Fatalf("202: %v %v", job, res.Header)
	}
	done := e.awaitExport(id)
	if done["status"] != inventory.JobSucceeded || done["rows"] != float64(3) {
		t.Fatalf("job %v", done)
	}
	resp, data := download(t, done["downloadUrl"].(string))
	name := "depot-items-" + time.Now().UTC().Format("2006-01-02") + ".csv"
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != `attachment; filename="`+name+`"` ||
		int64(len(data)) != int64(done["bytes"].(float64)) || !bytes.HasPrefix(data, []byte(itemcsv.BOM)) {
		t.Fatalf("download %d %v, %d bytes", resp.StatusCode, resp.Header, len(data))
	}
	r := itemcsv.NewReader(bytes.NewReader(data[len(itemcsv.BOM):]))
	head, _, _ := r.Read()
	if strings.Join(head, ",") != "id,sku,name,description,tags,quantity,available,reorderPoint,createdAt,updatedAt,onHand:DEFAULT,groups" {
		t.Errorf("header %q", head)
	}
	var skus []string
	for {
		rec, _, err := r.Read()
		if err != nil {
			break
		}
		skus = append(skus, rec[1])
	}
	if strings.Join(skus, ",") != "API-0,API-2,API-4" {
		t.Errorf("rows %v", skus)
	}

	again := e.must(http.StatusAccepted, req{Method: "POST", Path: "/exports", Body: body,
		Header: withKey(as(viewerEmail), "exp-1")})
	if again.json(t)["id"] != id || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %s %v", again.Body, again.Header)
	}
	second := e.must(http.StatusAccepted, req{Method: "POST", Path: "/exports", Header: as(viewerEmail)}).json(t)
	list := e.must(http.StatusOK, req{Method: "GET", Path: "/exports?limit=1", Header: as(viewerEmail)}).json(t)
	exports, _ := list["exports"].([]any)
	if len(exports) != 1 || exports[0].(map[string]any)["id"] != second["id"] || list["nextCursor"] == nil {
		t.Fatalf("list %v", list)
	}
	next := e.must(http.StatusOK, req{Method: "GET", Path: "/exports?limit=1&cursor=" + list["nextCursor"].(string), Header: as(viewerEmail)}).json(t)
	if exports, _ := next["exports"].([]any); len(exports) != 1 || exports[0].(map[string]any)["id"] != id {
		t.Errorf("page 2 %v", next)
	}
	e.awaitExport(second["id"].(string))

	for _, c := range []struct{ body, code string }{
		{`{"filters":{"sort":"price"}}`, "validation_failed"},
		{`{"filters":{"color":"red"}}`, "unknown_field"},
		{`{"include":["prices"]}`, "validation_failed"},
		{`{"bom":"yes"}`, "invalid_type"},
		{`{"filters":{"locationId":""}}`, "validation_failed"},
		{`{"filters":null}`, "invalid_type"},
	} {
		if got := e.must(http.StatusBadRequest, req{Method: "POST", Path: "/exports", Body: c.body}).code(t); got != c.code {
			t.Errorf("%s: %s, want %s", c.body, got, c.code)
		}
	}
	if got := e.must(http.StatusNotFound, req{Method: "GET", Path: "/exports/01JR2V8Q4N7C1X5B9M3K6T0W2Y"}).code(t); got != "export_not_found" {
		t.Errorf("unknown export: %s", got)
	}
}

// TestExportWorkerGivesUp: a job whose upload vanished fails on every
// delivery and asks to be delivered again; the fifth delivery marks it
// failed with the error (aborting what is left of its upload), and GET
// shows why.
func TestExportWorkerGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createItem(`{"sku":"GONE-1","name":"Gone"}`)
	svc := e.exportService()
	ctx := context.Background()
	job := inventory.NewExport(inventory.ExportInput{}, editorEmail, time.Now())
	if err := svc.Jobs.SaveExport(ctx, inventory.ExportChange{Next: job}); err != nil {
		t.Fatal(err)
	}
	running := job.Start("no-such-upload", nil, time.Now())
	if err := svc.Jobs.SaveExport(ctx, inventory.ExportChange{Old: &job, Next: running}); err != nil {
		t.Fatal(err)
	}
	worker, err := exportfn.New(ctx, e.stack.Settings)
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(receive int) events.SQSEventResponse {
		resp, err := worker.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: fmt.Sprint("m", receive),
			Body: `{"jobId":"` + job.ID + `"}`, Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(receive)}}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := deliver(1); len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Fatalf("first delivery: %+v", resp)
	}
	if got := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + job.ID}).json(t); got["status"] != inventory.JobRunning {
		t.Fatalf("after one failure: %v", got)
	}
	if resp := deliver(usecase.MaxJobAttempts); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("last delivery: %+v", resp)
	}
	got := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + job.ID}).json(t)
	if got["status"] != inventory.JobFailed || got["finishedAt"] == nil || !strings.Contains(fmt.Sprint(got["error"]), "failed 5 times") ||
		got["downloadUrl"] != nil {
		t.Fatalf("after the last: %v", got)
	}
	// A message that names no job is dropped, not retried.
	resp, err := worker.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "junk", Body: "hello"}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("junk: %+v %v", resp, err)
	}
}

// withKey adds an Idempotency-Key to headers.
func withKey(h map[string]string, key string) map[string]string {
	out := map[string]string{"Idempotency-Key": key}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// TestExportHandsOver: a delivery with less than HandoverMargin left starts
// the job, stops, and sends it to the queue again; the next delivery (the
// queue's own, to the stack's worker) finishes it.
func TestExportHandsOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createItem(`{"sku":"HAND-1","name":"Handed over"}`)
	svc := e.exportService()
	ctx := context.Background()
	job, _, err := svc.RequestExport(ctx, usecase.Request{Actor: editorEmail}, inventory.ExportInput{})
	if err != nil {
		t.Fatal(err)
	}
	worker, err := exportfn.New(ctx, e.stack.Settings)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, usecase.HandoverMargin/2)
	defer cancel()
	resp, err := worker.Handle(short, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1",
		Body: `{"jobId":"` + job.ID + `"}`, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("short delivery: %+v %v", resp, err)
	}
	if got := e.awaitExport(job.ID); got["status"] != inventory.JobSucceeded || got["rows"] != float64(1) {
		t.Fatalf("after the hand-over: %v", got)
	}
}

// killingExports is a test hook at the job store: the kill-th save fails,
// as if the worker were killed just before it, and nothing of it reaches
// the engine.
type killingExports struct {
	usecase.ExportStore
	saves, kill int
}

func (k *killingExports) SaveExport(ctx context.Context, c inventory.ExportChange) error {
	if k.saves++; k.saves == k.kill {
		return errors.New("killed at a checkpoint")
	}
	return k.ExportStore.SaveExport(ctx, c)
}

// TestExportResumesOnTheEngines (issue 10, checkpoints): the worker killed
// at each of its checkpoints (the job started; the part recorded; the
// upload completed but not recorded) resumes on the next delivery, and the
// file equals an uninterrupted run's byte for byte.
func TestExportResumesOnTheEngines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 4 {
		e.createItem(fmt.Sprintf(`{"sku":"KILL-%d","name":"=Row %d, \"q\"","tags":["t;%d"],"quantity":%d}`, i, i, i, i))
	}
	want := e.exportCSV(`{"include":["stock"]}`)
	ctx := context.Background()
	for kill := 1; kill <= 3; kill++ {
		svc := e.exportService()
		hook := &killingExports{ExportStore: svc.Jobs}
		svc.Jobs = hook
		worker := &exportfn.Worker{Service: svc}
		job, _, err := svc.RequestExport(ctx, usecase.Request{Actor: editorEmail}, inventory.ExportInput{Include: []string{inventory.IncludeStock}})
		if err != nil {
			t.Fatal(err)
		}
		hook.saves, hook.kill = 0, kill // the worker's kill-th save
		deliver := func(receive int) events.SQSEventResponse {
			resp, err := worker.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: fmt.Sprint(kill, "-", receive),
				Body: `{"jobId":"` + job.ID + `"}`, Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(receive)}}}})
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		if resp := deliver(1); len(resp.BatchItemFailures) != 1 {
			t.Fatalf("kill at save %d: the run was not stopped: %+v", kill, resp)
		}
		hook.kill = 0
		if resp := deliver(2); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("kill at save %d: the resumed run failed: %+v", kill, resp)
		}
		got := e.must(http.StatusOK, req{Method: "GET", Path: "/exports/" + job.ID}).json(t)
		if got["status"] != inventory.JobSucceeded {
			t.Fatalf("kill at save %d: %v", kill, got)
		}
		_, data := download(t, got["downloadUrl"].(string))
		if !bytes.Equal(data, want) {
			t.Errorf("kill at save %d: the file differs from an uninterrupted run's:\n%s\nwant\n%s", kill, data, want)
		}
	}
}
