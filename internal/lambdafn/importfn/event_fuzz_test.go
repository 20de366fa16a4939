package importfn

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/jobqueue/message"
	"github.com/depot-inventory/depot/internal/usecase"
)

// eventBound: handling an event allocates in proportion to it plus a
// fixed amount: the log lines, and the one import it may run, whose
// results are joined in a buffer of one part (8 MiB, whatever the file).
var eventBound = fuzzcheck.Bound{PerByte: 512, Fixed: 12 << 20}

// FuzzHandle: ImportItems' handler on any payload, with an import whose
// file is uploaded and not yet imported ($IMPORT in the payload is its
// id). A payload that is not an event with records of S3 or SQS (told by
// the first record's eventSource) is an error; any S3 or SQS event is
// handled without one, and an SQS batch reports no failure (the store
// never fails here). The import runs exactly when a record names it: an
// S3 key that decodes (S3 sends keys form-encoded) to its file's key, or
// a message whose body is a job naming it.
func FuzzHandle(f *testing.F) {
	for _, name := range []string{"import-items.json", "export-items.json"} {
		sample, err := os.ReadFile("../../../events/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sample)
	}
	s3 := func(key string) []byte {
		ev := events.S3Event{Records: []events.S3EventRecord{{EventSource: "aws:s3"}}}
		ev.Records[0].S3.Object.Key = key
		raw, _ := json.Marshal(ev)
		return raw
	}
	sqs := func(body string) []byte {
		raw, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", EventSource: "aws:sqs", Body: body,
			Attributes: map[string]string{"ApproximateReceiveCount": "2"}}}})
		return raw
	}
	for _, raw := range [][]byte{
		s3("imports/$IMPORT.csv"), s3("imports%2F$IMPORT.csv"), s3("imports/$IMPORT.results.csv"), s3("imports/01JR2W3B6D9F2H5K8M1P4R7T0V.csv"),
		s3("imports/x.csv"), s3("%zz"), sqs(`{"jobId":"$IMPORT"}`), sqs(`{"jobId":"01JR2W3B6D9F2H5K8M1P4R7T0V"}`), sqs(`{"jobId":""}`), sqs("x"),
		[]byte(`{"Records":[]}`), []byte(`{"Records":[{"eventSource":"aws:sns"}]}`), []byte(`{"Records":[{"eventSource":"aws:s3","s3":[]}]}`),
		[]byte(`{"Records":[{"eventSource":"aws:sqs","body":"{\"jobId\":\"$IMPORT\"}"},{"eventSource":"aws:s3"}]}`), []byte(`null`), []byte(`[]`),
	} {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ctx := context.Background()
		store, objects := memstore.New(), memstore.NewObjects()
		objects.MinPartSize = 1024
		now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		svc := &usecase.Service{Store: store, Imports: memstore.NewImports(store), Files: objects, Multipart: objects, Objects: objects,
			Signer: memstore.Signer{Now: clock}, ImportQueue: &memstore.Queue{}, Now: clock, Logger: slog.New(slog.DiscardHandler),
			Pause: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
		up, _, err := svc.RequestImport(ctx, usecase.Request{Actor: "a"}, false)
		if err != nil {
			t.Fatal(err)
		}
		id := up.Import.ID
		if err := objects.Put(ctx, inventory.ImportKey(id), usecase.ImportContentType, []byte("sku,name\r\nN-1,One\r\n")); err != nil {
			t.Fatal(err)
		}
		raw = []byte(strings.ReplaceAll(string(raw), "$IMPORT", id))

		var resp any
		eventBound.Check(t, "Handle", len(raw), func() { resp, err = (&Worker{Service: svc}).Handle(ctx, raw) })

		var probe struct {
			Records []struct {
				EventSource string `json:"eventSource"`
			} `json:"Records"`
		}
		source := ""
		if json.Unmarshal(raw, &probe) == nil && len(probe.Records) > 0 {
			source = probe.Records[0].EventSource
		}
		var s3ev events.S3Event
		var sqsev events.SQSEvent
		names := false // a record names the import
		switch {
		case source == "aws:s3" && json.Unmarshal(raw, &s3ev) == nil:
			for _, rec := range s3ev.Records {
				key, err := url.QueryUnescape(rec.S3.Object.Key)
				if got, ok := inventory.ImportIDOfKey(key); err == nil && ok && got == id {
					names = true
				}
			}
		case source == "aws:sqs" && json.Unmarshal(raw, &sqsev) == nil:
			for _, m := range sqsev.Records {
				if got, err := message.Parse(m.Body); err == nil && got == id {
					names = true
				}
			}
			if r, ok := resp.(events.SQSEventResponse); err == nil && (!ok || len(r.BatchItemFailures) > 0) {
				t.Fatalf("payload %s: response %#v", raw, resp)
			}
		default:
			if err == nil {
				t.Fatalf("payload %s (source %q) handled without an error", raw, source)
			}
			return
		}
		if err != nil {
			t.Fatalf("payload %s: %v", raw, err)
		}
		job, err := svc.Imports.GetImport(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ran := job.Status != inventory.ImportAwaitingUpload; ran != names {
			t.Fatalf("payload %s: names the import %v, the import ran %v (%s)", raw, names, ran, job.Status)
		}
	})
}
