package thumbfn

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
	"github.com/depot-inventory/depot/internal/usecase"
)

// eventBound: handling an event allocates in proportion to it (its
// records, their keys) plus a fixed amount per event (the log line, the
// fake thumbnails of the one pending upload).
var eventBound = fuzzcheck.Bound{PerByte: 512, Fixed: 1 << 20}

// FuzzS3Event: MakeThumbnails' handler on any event the Lambda runtime can
// decode as an S3 event, with an item whose image upload is pending ($ITEM
// and $UPLOAD in the event name them) and an object stored at each key the
// event names. Whatever the event: no error (every key is handled or
// ignored), every key that decodes (S3 sends them form-encoded) to an
// upload key is processed under that decoded key (its object is gone; the
// pending upload's image is made), every other object is left alone.
func FuzzS3Event(f *testing.F) {
	sample, err := os.ReadFile("../../../events/make-thumbnails.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	for _, key := range []string{"uploads/$ITEM/$UPLOAD", "uploads%2F$ITEM%2F$UPLOAD", "uploads/$ITEM/$UPLOAD+", "uploads/$ITEM/other",
		"uploads/01JBZ4Q7Y3M7R2K5X9V8N6T4PA/01JBZ5A0000000000000000000", "uploads//x", "uploads/a/b/c", "thumbnails/$ITEM/$UPLOAD/original",
		"imports/x.csv", "%zz", "uploads/a+b/c%20d", ""} {
		ev := events.S3Event{Records: []events.S3EventRecord{{EventSource: "aws:s3"}}}
		ev.Records[0].S3.Object.Key = key
		raw, _ := json.Marshal(ev)
		f.Add(raw)
	}
	f.Add([]byte(`{"Records":[{"s3":{"object":{"key":"uploads/$ITEM/$UPLOAD"}}},{"s3":{"object":{"key":"uploads/$ITEM/$UPLOAD"}}}]}`))
	f.Add([]byte(`{"Records":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ctx := context.Background()
		store, objects := memstore.New(), memstore.NewObjects()
		now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		svc := &usecase.Service{Store: store, Objects: objects, Signer: memstore.Signer{Now: func() time.Time { return now }},
			Thumbnailer: memstore.Thumbnailer{}, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
		item, _, err := svc.CreateItem(ctx, usecase.Request{Actor: "a"}, inventory.CreateInput{SKU: "S-1", Name: "S"})
		if err != nil {
			t.Fatal(err)
		}
		up, _, err := svc.RequestImageUpload(ctx, usecase.Request{Actor: "a"}, item.ID, "image/png")
		if err != nil {
			t.Fatal(err)
		}
		raw = []byte(strings.NewReplacer("$ITEM", item.ID, "$UPLOAD", up.ID).Replace(string(raw)))
		var ev events.S3Event
		if json.Unmarshal(raw, &ev) != nil {
			return // the runtime fails the invocation before the handler
		}
		pending := inventory.UploadKey(item.ID, up.ID)
		keys := map[string]bool{} // decoded key -> an upload key
		for _, rec := range ev.Records {
			key, err := url.QueryUnescape(rec.S3.Object.Key)
			if err != nil {
				continue
			}
			_, _, upload := inventory.ParseUploadKey(key)
			keys[key] = upload
			if err := objects.Put(ctx, key, "image/png", []byte("IMG fuzz")); err != nil {
				t.Fatal(err)
			}
		}
		eventBound.Check(t, "Handle", len(raw), func() { err = (&Processor{Service: svc}).Handle(ctx, ev) })
		if err != nil {
			t.Fatalf("event %s: %v", raw, err)
		}
		for key, upload := range keys {
			_, stored := objects.Object(key)
			switch {
			case upload && stored:
				t.Fatalf("event %s: the upload %q is still there", raw, key)
			case !upload && !stored && !strings.HasPrefix(key, inventory.ThumbnailPrefix):
				t.Fatalf("event %s: %q, not an upload, was deleted", raw, key)
			}
		}
		got, err := store.GetItem(ctx, item.ID)
		if err != nil {
			t.Fatal(err)
		}
		if processed := got.Image.Status != inventory.ImagePending; processed != keys[pending] {
			t.Fatalf("event %s: the pending upload %s named %v, processed %v (%+v)", raw, pending, keys[pending], processed, got.Image)
		}
	})
}
