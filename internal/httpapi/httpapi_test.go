package httpapi

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/inventory"
)

func codeOf(err error) string { return inventory.CodeOf(err) }

func TestDecodeObjectIsStrict(t *testing.T) {
	for _, c := range []struct {
		name, body, code string
	}{
		{"object", `{"a":1,"b":{"c":[1,{"d":2}]}}`, ""},
		{"nested same names in other objects", `{"a":{"x":1},"b":{"x":2}}`, ""},
		{"duplicate member", `{"a":1,"a":2}`, codeMalformedJSON},
		{"duplicate nested member", `{"a":{"x":1,"x":2}}`, codeMalformedJSON},
		{"duplicate after a nested object", `{"a":{"y":1},"a":3}`, codeMalformedJSON},
		{"duplicate in an array's object", `{"a":[{"x":1,"x":1}]}`, codeMalformedJSON},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", codeMalformedJSON},
		{"lone high surrogate", `{"a":"\ud800"}`, codeMalformedJSON},
		{"lone low surrogate", `{"a":"x\udc00"}`, codeMalformedJSON},
		{"reversed pair", `{"a":"\udc00\ud800"}`, codeMalformedJSON},
		{"surrogate pair", `{"a":"\ud83d\ude00"}`, ""},
		{"escaped backslash then u", `{"a":"\\ud800"}`, ""},
		{"U+FFFD itself", `{"a":"\ufffd �"}`, ""},
		{"trailing value", `{"a":1} {}`, codeMalformedJSON},
		{"truncated", `{"a":`, codeMalformedJSON},
		{"array", `[1]`, codeInvalidType},
		{"null", `null`, codeInvalidType},
		{"string", `"x"`, codeInvalidType},
		{"unknown member", `{"zzz":1}`, codeUnknownField},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeObject([]byte(c.body), "a", "b")
			if got := codeOf(err); got != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
		})
	}
}

func TestIntegersWithZeroFraction(t *testing.T) {
	for _, c := range []struct {
		in                string
		v                 int64
		integral, inRange bool
	}{
		{"5", 5, true, true}, {"5.0", 5, true, true}, {"5.000", 5, true, true}, {"5e0", 5, true, true},
		{"50E-1", 5, true, true}, {"0.5e1", 5, true, true}, {"-3.0", -3, true, true}, {"-0", 0, true, true},
		{"0.0", 0, true, true}, {"0e99999999999999999999", 0, true, true}, {"1e2", 100, true, true},
		{"1.5", 0, false, false}, {"0.1", 0, false, false}, {"1e-1", 0, false, false}, {"5.0001", 0, false, false},
		{"9223372036854775807", 9223372036854775807, true, true}, {"9223372036854775807.0", 9223372036854775807, true, true},
		{"-9223372036854775808", -9223372036854775808, true, true},
		{"9223372036854775808", 0, true, false}, {"1e19", 0, true, false}, {"1e400", 0, true, false},
		{"1e99999999999999999999", 0, true, false}, {"1e-99999999999999999999", 0, false, false},
		{"100000000000000000000.5", 0, false, false},
	} {
		v, integral, inRange := jsonInteger(c.in)
		if v != c.v || integral != c.integral || inRange != c.inRange {
			t.Errorf("jsonInteger(%s) = %d, %v, %v; want %d, %v, %v", c.in, v, integral, inRange, c.v, c.integral, c.inRange)
		}
	}
	obj, err := decodeObject([]byte(`{"q":5.0,"r":1.5,"s":"5","t":1e30}`), "q", "r", "s", "t")
	if err != nil {
		t.Fatal(err)
	}
	if q := obj.integer("q", false); q == nil || *q != 5 {
		t.Errorf("5.0 = %v", q)
	}
	for _, name := range []string{"r", "s", "t"} {
		if v := obj.integer(name, false); v != nil {
			t.Errorf("%s = %d, want a type error", name, *v)
		}
	}
	if len(obj.fields) != 3 {
		t.Errorf("field errors %+v", obj.fields)
	}
}

func TestParseIfMatch(t *testing.T) {
	for _, c := range []struct {
		header   string
		any      bool
		versions []int64
		invalid  bool
	}{
		{header: `"8"`, versions: []int64{8}},
		{header: `*`, any: true},
		{header: `"1", "2"`, versions: []int64{1, 2}},
		{header: `"1",W/"2"`, versions: []int64{1}},
		{header: `W/"8"`, versions: []int64{}}, // weak: never matches
		{header: `"abc"`, versions: []int64{}}, // not ours: never matches
		{header: `"08"`, versions: []int64{}},
		{header: `""`, versions: []int64{}},
		{header: `8`, invalid: true},
		{header: `garbage`, invalid: true},
		{header: `"8`, invalid: true},
		{header: `W/8`, invalid: true},
		{header: `"1",`, invalid: true},
		{header: `*, "1"`, invalid: true},
		{header: `MK1,6<`, invalid: true},
		{header: "\"\u00e9\"", invalid: true},
	} {
		m, err := parseIfMatch(c.header)
		if c.invalid {
			if codeOf(err) != codeInvalidHeader {
				t.Errorf("If-Match %s: %v, want invalid_header", c.header, err)
			}
			continue
		}
		if err != nil || m.Any != c.any || !slices.Equal(m.Versions, c.versions) {
			t.Errorf("If-Match %s = %+v, %v; want any %v versions %v", c.header, m, err, c.any, c.versions)
		}
		if !c.any && m.Matches(8) != slices.Contains(c.versions, 8) {
			t.Errorf("If-Match %s matches 8: %v", c.header, m.Matches(8))
		}
	}
}

func TestIdempotencyKeyHeader(t *testing.T) {
	for _, c := range []struct {
		value string
		ok    bool
	}{
		{"k", true}, {"a b", true}, {"Ri;,", true}, {"a,b", true}, {strings.Repeat("k", 200), true},
		{"", false}, {" k", false}, {"k ", false}, {strings.Repeat("k", 201), false}, {"k\u00e9", false}, {"k\t", false},
	} {
		if _, err := idempotencyKey(c.value); (err == nil) != c.ok {
			t.Errorf("Idempotency-Key %q: %v", c.value, err)
		}
	}
}

// TestHeadersAsAPIGatewaySentThem: behind the Lambda adapter, which splits
// header values at commas, the handlers read Idempotency-Key and If-Match
// as the event holds them.
func TestHeadersAsAPIGatewaySentThem(t *testing.T) {
	r := httptest.NewRequest("POST", "/items", nil)
	r.Header["Idempotency-Key"] = []string{"Ri;", ""} // what the adapter makes of "Ri;,"
	r = r.WithContext(WithRawHeaders(r.Context(), map[string]string{"idempotency-key": "Ri;,", "if-match": `"1",W/"2"`}))
	req, err := request(r)
	if err != nil || req.IdempotencyKey != "Ri;," || !slices.Equal(req.IfMatch.Versions, []int64{1}) {
		t.Fatalf("request = %+v, %v", req, err)
	}
	plain := httptest.NewRequest("POST", "/items", nil)
	plain.Header.Add("If-Match", `"1"`)
	plain.Header.Add("If-Match", `"2"`)
	if req, err := request(plain); err != nil || !slices.Equal(req.IfMatch.Versions, []int64{1, 2}) || req.IdempotencyKey != "" {
		t.Fatalf("plain request = %+v, %v", req, err)
	}
}

func TestCheckQuery(t *testing.T) {
	for _, c := range []struct {
		query string
		ok    bool
	}{
		{"", true}, {"limit=2&cursor=x", true}, {"limit=2&extra=1", false}, {"=x", false}, {"limit=1&limit=2", false},
	} {
		q, _ := url.ParseQuery(c.query)
		err := checkQuery(q, []string{"limit", "cursor"})
		if (err == nil) != c.ok || (err != nil && codeOf(err) != inventory.CodeInvalidParameter) {
			t.Errorf("query %q: %v", c.query, err)
		}
	}
	if err := checkQuery(url.Values{"x": {"1"}}, nil); codeOf(err) != inventory.CodeInvalidParameter {
		t.Errorf("a route without parameters took one: %v", err)
	}
}

func TestMatchNeverCleansPaths(t *testing.T) {
	pattern := strings.Split("/items/{id}/restore", "/")
	for path, want := range map[string]string{
		"/items/01X/restore": "01X", "/items/../restore": "..", "/items/./restore": ".",
	} {
		if p, ok := match(pattern, path); !ok || p["id"] != want {
			t.Errorf("match %s = %v, %v", path, p, ok)
		}
	}
	for _, path := range []string{"/items//restore", "/items/x/restore/", "/restore", "/items/x"} {
		if _, ok := match(pattern, path); ok {
			t.Errorf("%s matched", path)
		}
	}
}

// TestEveryKindHasOneStatus: statusOf is the one place statuses are
// decided, and it covers every kind.
func TestEveryKindHasOneStatus(t *testing.T) {
	seen := map[int]inventory.Kind{}
	for k := inventory.KindInternal; k <= inventory.KindUnavailable; k++ {
		status, ok := statusOf[k]
		if !ok {
			t.Errorf("kind %v has no status", k)
		}
		if prev, dup := seen[status]; dup {
			t.Errorf("kinds %v and %v share status %d", prev, k, status)
		}
		seen[status] = k
		p, internal := problemOf(&inventory.Error{Kind: k, Code: "some_code", Message: "m"}, "rid")
		if p.Status != status || internal != (k == inventory.KindInternal) {
			t.Errorf("kind %v: problem %+v internal %v", k, p, internal)
		}
	}
	if len(statusOf) != int(inventory.KindUnavailable)+1 {
		t.Errorf("statusOf has %d kinds", len(statusOf))
	}
}
