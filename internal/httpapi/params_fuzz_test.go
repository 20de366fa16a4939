package httpapi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
	"github.com/depot-inventory/depot/internal/inventory"
)

// headerBound: reading a header allocates a small multiple of it (the
// regexp's submatches, the versions), whatever it holds, and a regexp
// matching machine (about 37 KB) for each of the two expressions it
// matches, which the measured call may not find in the sync.Pool the
// warm-up put it in (fuzzcheck.Bound.CheckWarm).
var headerBound = fuzzcheck.Bound{PerByte: 64, Fixed: 128 << 10}

// formatIfMatch is the If-Match a client sends for m: the ETags Depot
// gave it, or "*".
func formatIfMatch(m *inventory.IfMatch) string {
	if m.Any {
		return "*"
	}
	tags := make([]string, len(m.Versions))
	for i, v := range m.Versions {
		tags[i] = etag(v)
	}
	return strings.Join(tags, ", ")
}

// FuzzIfMatch: parseIfMatch on any header value, as sent or as API
// Gateway hands it over. A value outside RFC 9110's grammar is a 400
// invalid_header; a value inside it is a precondition whose versions are
// positive, come from strong tags of Depot's form ("<version>", no sign or
// leading zero), and which formats back to an If-Match that parses to the
// same precondition.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"8"`, `*`, `"1", "2"`, `"1",W/"2"`, `W/"8"`, `"abc"`, `"08"`, `""`, `8`, `"8`,
		`"1",`, `*, "1"`, "\"\u00e9\"", " \t\"3\"\t,\t\"9223372036854775807\" ", `"9223372036854775808"`, `"-1"`, `"+1"`, `"0"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		var m *inventory.IfMatch
		var err error
		headerBound.CheckWarm(t, "parseIfMatch", len(value), func() { m, err = parseIfMatch(value) })
		if err != nil {
			wantProblem(t, err, http.StatusBadRequest, codeInvalidHeader)
			return
		}
		if m.Versions == nil || (m.Any && (len(m.Versions) > 0 || strings.TrimSpace(value) != "*")) {
			t.Fatalf("If-Match %q = %+v", value, m)
		}
		for _, v := range m.Versions {
			if v <= 0 || !strings.Contains(value, etag(v)) {
				t.Fatalf("If-Match %q: version %d is not one of its strong tags", value, v)
			}
			if !m.Matches(v) || m.Matches(-v) {
				t.Fatalf("If-Match %q = %+v: Matches(%d) %v, Matches(%d) %v", value, m, v, m.Matches(v), -v, m.Matches(-v))
			}
		}
		if !m.Any && len(m.Versions) == 0 {
			return // only tags that never match: nothing to send back
		}
		back := formatIfMatch(m)
		m2, err := parseIfMatch(back)
		if err != nil || m2.Any != m.Any || !slices.Equal(m2.Versions, m.Versions) {
			t.Fatalf("If-Match %q = %+v, formatted %q, parsed again %+v, %v", value, m, back, m2, err)
		}
		// The same through request, as API Gateway sends it (raw) and as
		// net/http has it.
		r := httptest.NewRequest("POST", "/items", nil)
		r.Header.Set("If-Match", value)
		for _, r := range []*http.Request{r, r.WithContext(WithRawHeaders(r.Context(), map[string]string{"if-match": value}))} {
			req, err := request(r)
			if err != nil || req.IfMatch == nil || !slices.Equal(req.IfMatch.Versions, m.Versions) || req.IfMatch.Any != m.Any {
				t.Fatalf("request with If-Match %q: %+v, %v; parseIfMatch gave %+v", value, req.IfMatch, err, m)
			}
		}
	})
}

// FuzzIdempotencyKey: idempotencyKey accepts exactly the keys openapi.yaml
// describes (1 to 200 visible ASCII characters, spaces only inside),
// returns them unchanged, and refuses the rest with 400 invalid_header.
// The grammar is checked here by hand, not by the regular expression the
// code uses.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"k", "a b", "Ri;,", "a,b", strings.Repeat("k", 200), "", " k", "k ", strings.Repeat("k", 201),
		"k\u00e9", "k\t", "\x7f", "~!", "01JDQ3ZK7X9V4M2N8P6R5T3W1Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		var got string
		var err error
		headerBound.CheckWarm(t, "idempotencyKey", len(value), func() { got, err = idempotencyKey(value) })
		want := len(value) >= 1 && len(value) <= 200 && value[0] != ' ' && value[len(value)-1] != ' ' &&
			!strings.ContainsFunc(value, func(r rune) bool { return r < ' ' || r > '~' })
		if want != (err == nil) {
			t.Fatalf("Idempotency-Key %q: accepted %v, want %v (%v)", value, err == nil, want, err)
		}
		if err != nil {
			wantProblem(t, err, http.StatusBadRequest, codeInvalidHeader)
			return
		}
		if got != value {
			t.Fatalf("Idempotency-Key %q came back as %q", value, got)
		}
		r := httptest.NewRequest("POST", "/items", nil)
		r = r.WithContext(WithRawHeaders(r.Context(), map[string]string{"idempotency-key": value}))
		if req, err := request(r); err != nil || req.IdempotencyKey != value {
			t.Fatalf("request with Idempotency-Key %q: %q, %v", value, req.IdempotencyKey, err)
		}
	})
}
