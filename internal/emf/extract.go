package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Datum is a metric value as CloudWatch extracts it from a line.
type Datum struct {
	Namespace  string
	Name       string
	Unit       Unit              // empty when the line gives none (CloudWatch's None)
	Dimensions map[string]string // by name; empty for no dimension
	Values     []float64
}

// units are the units CloudWatch accepts.
var units = []Unit{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None"}

// Limits of the specification and of CloudWatch.
const (
	maxDimensionsPerSet = 30
	maxMetrics          = 100 // per directive
	maxValues           = 100 // per metric member
	maxNameLength       = 255 // namespace, metric and dimension names
	maxDimensionValue   = 1024
)

// Extract reads a log line as CloudWatch Logs reads it in the Embedded
// Metric Format: it checks the line against the format's specification
// (the root a JSON object; _aws an object with an integer Timestamp in
// milliseconds and a CloudWatchMetrics array of directives; each directive
// exactly Namespace, Dimensions and Metrics; each metric a Name, an
// optional CloudWatch Unit and StorageResolution 1 or 60, and nothing
// else; at most 30 dimensions a set and 100 metrics a directive; every
// metric's member a number or an array of at most 100 numbers, every
// dimension's member a string) and returns the values it carries, one
// Datum per metric and dimension set, in the directives' order. A line
// without _aws carries none.
func Extract(line []byte) ([]Datum, error) {
	var root map[string]json.RawMessage
	if err := strictUnmarshal(line, &root); err != nil {
		return nil, fmt.Errorf("emf: the line is not a JSON object: %w", err)
	}
	raw, ok := root[Key]
	if !ok {
		return nil, nil
	}
	var meta map[string]json.RawMessage
	if err := strictUnmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("emf: %s is not an object: %w", Key, err)
	}
	if err := onlyMembers(meta, []string{"Timestamp", "CloudWatchMetrics"}, []string{"LogGroupName", "LogStreamName"}); err != nil {
		return nil, fmt.Errorf("emf: %s: %w", Key, err)
	}
	var ts json.Number
	if t := bytes.TrimSpace(meta["Timestamp"]); len(t) > 0 && t[0] == '"' {
		return nil, fmt.Errorf("emf: Timestamp %s is a string, not a number", t)
	}
	if err := strictUnmarshal(meta["Timestamp"], &ts); err != nil {
		return nil, fmt.Errorf("emf: Timestamp is not a number: %w", err)
	}
	// Milliseconds: a timestamp in seconds would be January 1970.
	if ms, err := ts.Int64(); err != nil || ms < 1e12 {
		return nil, fmt.Errorf("emf: Timestamp %s is not a whole number of milliseconds since the epoch", ts)
	}
	var directives []map[string]json.RawMessage
	if err := strictUnmarshal(meta["CloudWatchMetrics"], &directives); err != nil {
		return nil, fmt.Errorf("emf: CloudWatchMetrics is not an array of objects: %w", err)
	}
	var out []Datum
	for i, d := range directives {
		data, err := directive(root, d)
		if err != nil {
			return nil, fmt.Errorf("emf: CloudWatchMetrics[%d]: %w", i, err)
		}
		out = append(out, data...)
	}
	return out, nil
}

func directive(root, d map[string]json.RawMessage) ([]Datum, error) {
	if err := onlyMembers(d, []string{"Namespace", "Dimensions", "Metrics"}, nil); err != nil {
		return nil, err
	}
	var ns string
	if err := strictUnmarshal(d["Namespace"], &ns); err != nil {
		return nil, fmt.Errorf("Namespace is not a string: %w", err)
	}
	if err := name("Namespace", ns); err != nil {
		return nil, err
	}
	if strings.HasPrefix(ns, "AWS/") {
		return nil, fmt.Errorf("namespace %q: AWS/ is reserved", ns)
	}
	var sets [][]string
	if err := strictUnmarshal(d["Dimensions"], &sets); err != nil || sets == nil {
		return nil, fmt.Errorf("Dimensions is not an array of arrays of strings: %v", err)
	}
	var dims []map[string]string
	for _, set := range sets {
		if set == nil {
			return nil, errors.New("a dimension set is null, not an array")
		}
		if len(set) > maxDimensionsPerSet {
			return nil, fmt.Errorf("dimension set %v has more than %d dimensions", set, maxDimensionsPerSet)
		}
		m := map[string]string{}
		for _, k := range set {
			if err := name("dimension", k); err != nil {
				return nil, err
			}
			var v string
			if err := strictUnmarshal(root[k], &v); err != nil {
				return nil, fmt.Errorf("dimension %q: its member is not a string: %v", k, err)
			}
			if v == "" || len(v) > maxDimensionValue {
				return nil, fmt.Errorf("dimension %q: value %q is empty or longer than %d", k, v, maxDimensionValue)
			}
			m[k] = v
		}
		dims = append(dims, m)
	}
	var metrics []map[string]json.RawMessage
	if err := strictUnmarshal(d["Metrics"], &metrics); err != nil || metrics == nil {
		return nil, fmt.Errorf("Metrics is not an array of objects: %v", err)
	}
	if len(metrics) > maxMetrics {
		return nil, fmt.Errorf("%d metrics, more than %d", len(metrics), maxMetrics)
	}
	var out []Datum
	for _, m := range metrics {
		if err := onlyMembers(m, []string{"Name"}, []string{"Unit", "StorageResolution"}); err != nil {
			return nil, fmt.Errorf("metric: %w", err)
		}
		var metric Metric
		if err := strictUnmarshal(m["Name"], &metric.Name); err != nil {
			return nil, fmt.Errorf("metric Name is not a string: %w", err)
		}
		if err := name("metric", metric.Name); err != nil {
			return nil, err
		}
		if u, ok := m["Unit"]; ok {
			if err := strictUnmarshal(u, &metric.Unit); err != nil || !slices.Contains(units, metric.Unit) {
				return nil, fmt.Errorf("metric %q: Unit %s is not a CloudWatch unit", metric.Name, u)
			}
		}
		if r, ok := m["StorageResolution"]; ok {
			var res int
			if err := strictUnmarshal(r, &res); err != nil || (res != 1 && res != 60) {
				return nil, fmt.Errorf("metric %q: StorageResolution %s is neither 1 nor 60", metric.Name, r)
			}
		}
		values, err := numbers(root[metric.Name])
		if err != nil {
			return nil, fmt.Errorf("metric %q: %w", metric.Name, err)
		}
		for _, dm := range dims {
			out = append(out, Datum{Namespace: ns, Name: metric.Name, Unit: metric.Unit, Dimensions: maps.Clone(dm), Values: values})
		}
	}
	return out, nil
}

// numbers reads a metric's member: a number, or an array of 1 to 100.
func numbers(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, errors.New("the line has no such member")
	}
	var one float64
	if err := strictUnmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := strictUnmarshal(raw, &many); err != nil || len(many) == 0 || len(many) > maxValues {
		return nil, fmt.Errorf("its member %s is neither a number nor an array of 1 to %d numbers", raw, maxValues)
	}
	return many, nil
}

func name(what, s string) error {
	if strings.TrimSpace(s) == "" || len(s) > maxNameLength {
		return fmt.Errorf("%s name %q is empty or longer than %d", what, s, maxNameLength)
	}
	return nil
}

// onlyMembers checks that an object has the required members, and no
// member but those and the optional ones.
func onlyMembers(obj map[string]json.RawMessage, required, optional []string) error {
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			return fmt.Errorf("no %s", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			return fmt.Errorf("member %q is not in the specification", k)
		}
	}
	return nil
}

// strictUnmarshal decodes one JSON value into v; null and trailing data
// are errors.
func strictUnmarshal(data []byte, v any) error {
	if data == nil || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return errors.New("missing or null")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the value")
	}
	return nil
}
