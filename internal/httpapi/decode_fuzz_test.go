package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
	"github.com/depot-inventory/depot/internal/inventory"
)

// fuzzMembers are the member names the fuzzed bodies may use: short, so
// that mutations find them.
var fuzzMembers = []string{"a", "b", "c", "d", "lines", "filters"}

// decodeBound: decoding a body and reading every member with every
// accessor allocates at most this. The measured worst cases are bodies of
// one-byte tokens (`[[[[…`, `{"a":{"a":…`, `[1,1,1,…`): encoding/json's
// and checkJSONText's per-token state, about 100 bytes a byte of input.
// An allocation driven by a value in the body (a length, an exponent, a
// count) or growing faster than the body exceeds it.
var decodeBound = fuzzcheck.Bound{PerByte: 256, Fixed: 64 << 10}

// FuzzDecodeObject: decodeObject and the accessors, on any body. An error
// is a 400 problem with one of the decoder's codes; an object decoded
// re-encodes to the same members; every string read is valid UTF-8 (no
// lone surrogate quietly turned into U+FFFD); every integer read is the
// JSON number's exact value; memory is bounded by the body's size.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{"a":"x","b":5,"c":["t1","t2"],"d":true}`,
		`{"lines":[{"a":"i","b":"l","c":-3},{"d":1}],"filters":{"a":"q","c":2.0e1}}`,
		`{"a":null,"b":1e400,"c":-0.0,"d":"\ud83d\ude00"}`,
		`{"a":"\ud800"}`, `{"a":1,"a":2}`, `{"zz":1}`, `[1]`, `null`, `{"a":"x"} {}`, "{\"a\":\"\xff\"}",
		`{"b":9223372036854775807,"c":9223372036854775808,"d":5.000}`, `{"filters":{"q":1,"a":{}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > MaxBodyBytes {
			return // readBody answers 413 before decoding
		}
		var obj *object
		var err error
		decodeBound.Check(t, "decodeObject and its accessors", len(body), func() {
			obj, err = decodeObject(body, fuzzMembers...)
			if err == nil {
				readAll(obj)
			}
		})
		if err != nil {
			wantProblem(t, err, http.StatusBadRequest, codeMalformedJSON, codeInvalidType, codeUnknownField)
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("accepted a body that is not valid UTF-8 JSON: %q", body)
		}
		if err := obj.err(); err != nil {
			wantProblem(t, err, http.StatusBadRequest, codeInvalidType, codeUnknownField)
		}
		// Re-encoded, the members decode again to the same values.
		again, err := json.Marshal(obj.members)
		if err != nil {
			t.Fatal(err)
		}
		obj2, err := decodeObject(again, fuzzMembers...)
		if err != nil {
			t.Fatalf("re-encoded %s: %v", again, err)
		}
		if len(obj2.members) != len(obj.members) {
			t.Fatalf("re-encoded %s has %d members, the body %d", again, len(obj2.members), len(obj.members))
		}
		for name, raw := range obj.members {
			if !reflect.DeepEqual(jsonValue(t, raw), jsonValue(t, obj2.members[name])) {
				t.Fatalf("member %q: %s re-encoded as %s", name, raw, obj2.members[name])
			}
		}
		checkValues(t, obj, body)
	})
}

// readAll reads every member of o with every accessor, as the handlers
// read theirs (all of them, whatever the types, then err), and so the
// members' members, as deep as the handlers go (POST /adjustments'
// lines, POST /exports' filters: one level).
func readAll(o *object) {
	for _, name := range fuzzMembers {
		o.has(name)
		o.str(name, true)
		o.str(name, false)
		o.integer(name, true)
		o.integer(name, false)
		o.strings(name)
		o.boolean(name)
		if o.root != nil {
			continue
		}
		for _, child := range o.objects(name, fuzzMembers[:4]) {
			readAll(child)
		}
		if child := o.object(name, fuzzMembers[:4]); child != nil {
			readAll(child)
		}
	}
}

// checkValues holds each value an accessor returns to the JSON it came
// from.
func checkValues(t *testing.T, o *object, body []byte) {
	for _, name := range fuzzMembers {
		if s := o.str(name, false); s != nil {
			checkText(t, *s, body)
		}
		if list := o.strings(name); list != nil {
			for _, s := range *list {
				checkText(t, s, body)
			}
		}
		if v := o.integer(name, false); v != nil {
			checkInteger(t, string(bytes.TrimSpace(o.members[name])), *v)
		}
		if b := o.boolean(name); b != nil && string(bytes.TrimSpace(o.members[name])) != strconv.FormatBool(*b) {
			t.Fatalf("%s read as %v", o.members[name], *b)
		}
		if o.root != nil {
			continue
		}
		for _, child := range o.objects(name, fuzzMembers[:4]) {
			checkValues(t, child, body)
		}
		if child := o.object(name, fuzzMembers[:4]); child != nil {
			checkValues(t, child, body)
		}
	}
}

// checkText: a string read is valid UTF-8, and holds U+FFFD only where the
// body wrote one (as itself or as \ufffd), never for a lone surrogate.
func checkText(t *testing.T, s string, body []byte) {
	if !utf8.ValidString(s) {
		t.Fatalf("read a string that is not UTF-8: %q", s)
	}
	if strings.ContainsRune(s, utf8.RuneError) && !bytes.ContainsRune(body, utf8.RuneError) &&
		!bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
		t.Fatalf("read %q, with a U+FFFD the body %q does not have", s, body)
	}
}

// checkInteger: v is exactly the value of the JSON number num.
func checkInteger(t *testing.T, num string, v int64) {
	r, ok := bigNumber(num)
	if !ok {
		return // an exponent too large to check with math/big
	}
	if !r.IsInt() || r.Num().Cmp(big.NewInt(v)) != 0 {
		t.Fatalf("%s read as the integer %d", num, v)
	}
}

// bigNumber is a JSON number's exact value, when its exponent is small
// enough for math/big to build it quickly.
func bigNumber(num string) (*big.Rat, bool) {
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		e, err := strconv.Atoi(num[i+1:])
		if err != nil || e > 4000 || e < -4000 {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(num)
	return r, ok
}

// jsonValue is a JSON text's value, its numbers as written.
func jsonValue(t *testing.T, raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("member %s: %v", raw, err)
	}
	return v
}

// wantProblem: err is a problem of the given status with one of codes,
// its fields named by JSON pointers or header names.
func wantProblem(t *testing.T, err error, status int, codes ...string) {
	t.Helper()
	var e *inventory.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *inventory.Error", err)
	}
	p, internal := problemOf(err, "")
	if internal || p.Status != status || !slices.Contains(codes, p.Code) {
		t.Fatalf("problem %+v, want status %d and a code among %v", p, status, codes)
	}
	for _, fe := range p.Errors {
		if fe.Field == "" || fe.Code == "" || fe.Message == "" {
			t.Fatalf("field error %+v lacks a field, code or message", fe)
		}
	}
}

// jsonIntegerBound: jsonInteger builds at most a few copies of its input,
// whatever the exponent says (it never builds the number).
var jsonIntegerBound = fuzzcheck.Bound{PerByte: 8, Fixed: 16 << 10}

// FuzzJSONInteger holds jsonInteger to math/big on every JSON number: the
// same integral-or-not, in-range-or-not and value, without building a
// number whatever its exponent.
func FuzzJSONInteger(f *testing.F) {
	for _, s := range []string{"5", "5.0", "50E-1", "-0", "0e99999999999999999999", "1e19", "9223372036854775807",
		"-9223372036854775808", "9223372036854775808", "1.5", "1e-99999999999999999999", "0.000000000000000000001e21",
		"100000000000000000000.5", "-9223372036854775808.000e0", "1E+2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, num string) {
		if len(num) > 1<<10 || num == "" || !(num[0] == '-' || (num[0] >= '0' && num[0] <= '9')) || !json.Valid([]byte(num)) {
			return // integer only reads JSON numbers
		}
		var v int64
		var integral, inRange bool
		jsonIntegerBound.CheckWarm(t, "jsonInteger", len(num), func() { v, integral, inRange = jsonInteger(num) })
		if inRange && !integral {
			t.Fatalf("jsonInteger(%s) in range but not integral", num)
		}
		if !inRange && v != 0 {
			t.Fatalf("jsonInteger(%s) = %d out of range", num, v)
		}
		r, ok := bigNumber(num)
		if !ok {
			return
		}
		wantRange := r.IsInt() && r.Num().IsInt64()
		if integral != r.IsInt() || inRange != wantRange || (wantRange && r.Num().Int64() != v) {
			t.Fatalf("jsonInteger(%s) = %d, %v, %v; math/big says %s (integral %v, in range %v)",
				num, v, integral, inRange, r.RatString(), r.IsInt(), wantRange)
		}
	})
}
