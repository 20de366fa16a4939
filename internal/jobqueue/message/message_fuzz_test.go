package message

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
)

// parseBound: reading a message allocates a small multiple of its body:
// encoding/json's buffer of the value and its scanner's state per level
// of nesting (about 36 bytes a byte for "[[[[…").
var parseBound = fuzzcheck.Bound{PerByte: 64, Fixed: 16 << 10}

// FuzzParse: Parse on any message body. It accepts only a whole JSON
// object (nothing after it) naming a job, and the job it reads is the one
// a message made by the sender (json.Marshal of a Job) names: sent again,
// it reads the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"jobId":"01JR2V8Q4N7C1X5B9M3K6T0W2Y"}`, ` {"jobId":"x"} `, `{"jobId":""}`, `{}`, `{"jobId":"x","y":1}`,
		`{"jobId":"x"} {}`, `{"jobId":"x"}]`, `{"jobId":"x"}}`, `[]`, `null`, `{"jobId":1}`, `{"JOBID":"x"}`, "{\"jobId\":\"\xff\"}", `{"jobId":"\u00e9"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var id string
		var err error
		parseBound.Check(t, "Parse", len(body), func() { id, err = Parse(body) })
		if err != nil {
			return
		}
		if id == "" || !json.Valid([]byte(body)) || !strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), "{") {
			t.Fatalf("Parse(%q) = %q, from a body that is not one JSON object naming a job", body, id)
		}
		sent, err := json.Marshal(Job{JobID: id})
		if err != nil {
			t.Fatal(err)
		}
		if again, err := Parse(string(sent)); err != nil || again != id {
			t.Fatalf("Parse(%q) = %q; sent again as %s it reads %q, %v", body, id, sent, again, err)
		}
	})
}
