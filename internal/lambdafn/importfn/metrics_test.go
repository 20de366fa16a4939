package importfn

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

// An event's line carries its metrics: the rows it applied and the failed
// ones among them, and the DynamoDB figures (none here: the store is in
// memory).
func TestEventLineMetrics(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	store, objects := memstore.New(), memstore.NewObjects()
	objects.MinPartSize = 1024
	svc := &usecase.Service{Store: store, Imports: rows{memstore.NewImports(store)}, Files: objects, Multipart: objects,
		Objects: objects, Signer: memstore.Signer{Now: time.Now}, ImportQueue: &memstore.Queue{},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	up, _, err := svc.RequestImport(ctx, usecase.Request{Actor: "alice@example.com"}, false)
	if err != nil {
		t.Fatal(err)
	}
	key := inventory.ImportKey(up.Import.ID)
	// Two new items and a row without a name, which fails.
	if err := objects.Put(ctx, key, usecase.ImportContentType, []byte("sku,name\r\nN-1,One\r\nN-2,Two\r\nN-3,\r\n")); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	var rec events.S3EventRecord
	rec.S3.Object.Key = key
	if err := (&Worker{Service: svc}).HandleS3(ctx, events.S3Event{Records: []events.S3EventRecord{rec}}); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
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
	want := map[string]float64{emf.ImportRows: 3, emf.ImportRowsFailed: 1, emf.DDBCalls: 0, emf.DDBMs: 0, emf.DDBThrottles: 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics %v, want %v\n%s", got, want, line)
	}
}
