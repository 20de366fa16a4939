package exportfn

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// A delivery's line carries its metrics: the rows it wrote, and the
// DynamoDB figures (none here: the store is in memory).
func TestMessageLineMetrics(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	store, objects := memstore.New(), memstore.NewObjects()
	objects.MinPartSize = 1024
	svc := &usecase.Service{Store: store, Jobs: rows{memstore.NewExports(store)}, Multipart: objects, Files: objects,
		ExportQueue: &memstore.Queue{}, ExportPartSize: 1024, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	alice := usecase.Request{Actor: "alice@example.com"}
	for _, sku := range []string{"A-1", "A-2", "A-3"} {
		if _, _, err := svc.CreateItem(ctx, alice, inventory.CreateInput{SKU: sku, Name: "Item " + sku}); err != nil {
			t.Fatal(err)
		}
	}
	job, _, err := svc.RequestExport(ctx, alice, inventory.ExportInput{})
	if err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	resp, err := (&Worker{Service: svc}).Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"jobId":"` + job.ID + `"}`, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v\n%s", resp, err, logs.String())
	}
	line := bytes.TrimSpace(logs.Bytes())
	line = line[bytes.LastIndexByte(line, '\n')+1:]
	data, err := emf.Extract(line)
	if err != nil {
		t.Fatalf("%v\n%s", err, line)
	}
	got := map[string]float64{}
	for _, d := range data {
		got[d.Name] = d.Values[0]
	}
	want := map[string]float64{emf.ExportRows: 3, emf.DDBCalls: 0, emf.DDBMs: 0, emf.DDBThrottles: 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics %v, want %v\n%s", got, want, line)
	}
}
