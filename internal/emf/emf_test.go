package emf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/emf"
)

// A line written by slog's JSON handler, as the functions write theirs,
// carries what its directives name, and reads as it did.
func TestAttrOnASlogLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	at := time.UnixMilli(1767225600123)
	log.Info("request", "function", "CreateItem", "status", 409, "code", "sku_conflict",
		emf.Requests, 1, emf.ServerErrors, 0, emf.Errors, 1,
		emf.DDBCalls, 3, emf.DDBMs, 12.5, emf.DDBThrottles, 0,
		emf.Attr(at, emf.Request, emf.ErrorCode, emf.DynamoDB))
	data, err := emf.Extract(buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	none := map[string]string{}
	want := []emf.Datum{
		datum(emf.Requests, emf.Count, none, 1),
		datum(emf.ServerErrors, emf.Count, none, 0),
		datum(emf.Errors, emf.Count, map[string]string{emf.Code: "sku_conflict"}, 1),
		datum(emf.DDBCalls, emf.Count, none, 3),
		datum(emf.DDBMs, emf.Milliseconds, none, 12.5),
		datum(emf.DDBThrottles, emf.Count, none, 0),
	}
	if !reflect.DeepEqual(data, want) {
		t.Errorf("extracted\n%+v\nwant\n%+v", data, want)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	meta := line[emf.Key].(map[string]any)
	if meta["Timestamp"] != float64(1767225600123) {
		t.Errorf("Timestamp = %v", meta["Timestamp"])
	}
	if line["status"] != float64(409) || line["function"] != "CreateItem" {
		t.Errorf("the line's own members changed: %s", buf.String())
	}
}

// Every directive of Depot's lines is valid as written.
func TestAllDirectives(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range emf.All {
		if d.Namespace != emf.Namespace || len(d.Dimensions) == 0 || len(d.Metrics) == 0 {
			t.Errorf("directive %+v", d)
		}
		line := map[string]any{}
		for _, set := range d.Dimensions {
			for _, k := range set {
				line[k] = "x"
			}
		}
		for _, m := range d.Metrics {
			line[m.Name] = 1
			if seen[m.Name] {
				t.Errorf("metric %s is in two directives", m.Name)
			}
			seen[m.Name] = true
		}
		a := emf.Attr(time.Now(), d)
		line[a.Key] = a.Value.Any()
		flat, err := json.Marshal(line)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := emf.Extract(flat); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
}

func TestExtractRefuses(t *testing.T) {
	const ok = `{"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"Depot","Dimensions":[["code"]],"Metrics":[{"Name":"errors","Unit":"Count"}]}]},"code":"not_found","errors":1}`
	if d, err := emf.Extract([]byte(ok)); err != nil || len(d) != 1 {
		t.Fatalf("the valid line: %v %v", d, err)
	}
	for name, line := range map[string]string{
		"not an object":         `[1]`,
		"_aws not an object":    `{"_aws":[]}`,
		"no Timestamp":          `{"_aws":{"CloudWatchMetrics":[]}}`,
		"Timestamp in seconds":  `{"_aws":{"Timestamp":1767225600,"CloudWatchMetrics":[]}}`,
		"Timestamp a string":    `{"_aws":{"Timestamp":"1767225600000","CloudWatchMetrics":[]}}`,
		"no CloudWatchMetrics":  `{"_aws":{"Timestamp":1767225600000}}`,
		"unknown _aws member":   strings.Replace(ok, `"Timestamp"`, `"Other":1,"Timestamp"`, 1),
		"unknown directive key": strings.Replace(ok, `"Namespace"`, `"Other":1,"Namespace"`, 1),
		"no Namespace":          strings.Replace(ok, `"Namespace":"Depot",`, ``, 1),
		"AWS namespace":         strings.Replace(ok, `"Depot"`, `"AWS/Lambda"`, 1),
		"no Dimensions":         strings.Replace(ok, `"Dimensions":[["code"]],`, ``, 1),
		"null dimension set":    strings.Replace(ok, `[["code"]]`, `[null]`, 1),
		"dimension member gone": strings.Replace(ok, `"code":"not_found",`, ``, 1),
		"dimension a number":    strings.Replace(ok, `"code":"not_found"`, `"code":404`, 1),
		"dimension empty":       strings.Replace(ok, `"code":"not_found"`, `"code":""`, 1),
		"no Metrics":            strings.Replace(ok, `,"Metrics":[{"Name":"errors","Unit":"Count"}]`, ``, 1),
		"metric without Name":   strings.Replace(ok, `"Name":"errors",`, ``, 1),
		"unknown metric key":    strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Count","Other":1`, 1),
		"bad unit":              strings.Replace(ok, `"Count"`, `"Things"`, 1),
		"bad resolution":        strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Count","StorageResolution":5`, 1),
		"metric member gone":    strings.Replace(ok, `,"errors":1`, ``, 1),
		"metric a string":       strings.Replace(ok, `"errors":1`, `"errors":"1"`, 1),
		"metric empty array":    strings.Replace(ok, `"errors":1`, `"errors":[]`, 1),
		"31 dimensions": strings.Replace(ok, `[["code"]]`,
			`[["code"`+strings.Repeat(`,"code"`, 30)+`]]`, 1),
	} {
		if _, err := emf.Extract([]byte(line)); err == nil {
			t.Errorf("%s: %s was accepted", name, line)
		}
	}
	if d, err := emf.Extract([]byte(`{"msg":"no metrics"}`)); err != nil || d != nil {
		t.Errorf("a line without _aws: %v %v", d, err)
	}
	arr := strings.Replace(ok, `"errors":1`, `"errors":[1,2,3]`, 1)
	if d, err := emf.Extract([]byte(arr)); err != nil || len(d[0].Values) != 3 {
		t.Errorf("an array of values: %v %v", d, err)
	}
}

func TestCounts(t *testing.T) {
	emf.Add(context.Background(), emf.ExportRows, 5) // no counts: nothing, no panic
	ctx, c := emf.WithCounts(context.Background())
	emf.Add(ctx, emf.ExportRows, 5)
	emf.Add(ctx, emf.ExportRows, 2)
	if c.Get(emf.ExportRows) != 7 || c.Get(emf.ImportRows) != 0 {
		t.Errorf("counts %d %d", c.Get(emf.ExportRows), c.Get(emf.ImportRows))
	}
}

func datum(name string, unit emf.Unit, dims map[string]string, values ...float64) emf.Datum {
	return emf.Datum{Namespace: emf.Namespace, Name: name, Unit: unit, Dimensions: dims, Values: values}
}
