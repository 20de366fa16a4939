package thumbfn

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// An event's line carries its metrics: one upload made into an image, one
// rejected as no image, and the DynamoDB figures (none here: the store is
// in memory).
func TestEventLineMetrics(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	objects := memstore.NewObjects()
	svc := &usecase.Service{Store: outcomes{memstore.New()}, Objects: objects, Signer: memstore.Signer{Now: time.Now},
		Thumbnailer: memstore.Thumbnailer{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	var records []events.S3EventRecord
	for i, data := range []string{"IMG a photo", "a letter"} {
		item, _, err := svc.CreateItem(ctx, usecase.Request{Actor: "alice@example.com"},
			inventory.CreateInput{SKU: "SKU-" + string(rune('A'+i)), Name: "Item"})
		if err != nil {
			t.Fatal(err)
		}
		up, _, err := svc.RequestImageUpload(ctx, usecase.Request{Actor: "alice@example.com"}, item.ID, "image/png")
		if err != nil {
			t.Fatal(err)
		}
		key := inventory.UploadKey(item.ID, up.ID)
		if err := objects.Put(ctx, key, "image/png", []byte(data)); err != nil {
			t.Fatal(err)
		}
		var rec events.S3EventRecord
		rec.S3.Object.Key = key
		records = append(records, rec)
	}
	logs.Reset()
	if err := (&Processor{Service: svc}).Handle(ctx, events.S3Event{Records: records}); err != nil {
		t.Fatal(err)
	}
	line := lastLine(logs.Bytes())
	data, err := emf.Extract(line)
	if err != nil {
		t.Fatalf("%v\n%s", err, line)
	}
	got := map[string]float64{}
	for _, d := range data {
		if d.Namespace != emf.Namespace || len(d.Dimensions) != 0 || len(d.Values) != 1 {
			t.Errorf("datum %+v", d)
		}
		got[d.Name] = d.Values[0]
	}
	want := map[string]float64{emf.ThumbnailsMade: 1, emf.ThumbnailsFailed: 1, emf.DDBCalls: 0, emf.DDBMs: 0, emf.DDBThrottles: 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics %v, want %v\n%s", got, want, line)
	}
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}
