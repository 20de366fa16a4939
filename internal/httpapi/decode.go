package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/depot-inventory/depot/internal/inventory"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

// readBody reads the whole body, refusing more than MaxBodyBytes.
func readBody(r *http.Request) ([]byte, *Problem) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, problem(codeMalformedJSON, "the request body could not be read")
	}
	if len(body) > MaxBodyBytes {
		return nil, problem(codeBodyTooLarge, fmt.Sprintf("the request body is over %d bytes", MaxBodyBytes))
	}
	return body, nil
}

// readJSONBody reads a body that must be JSON (or one of the extra media types).
func readJSONBody(r *http.Request, extra ...string) ([]byte, *Problem) {
	body, p := readBody(r)
	if p == nil {
		p = checkJSONContentType(r, extra...)
	}
	return body, p
}

// checkJSONContentType accepts application/json and the listed extra media
// types (e.g. application/merge-patch+json).
func checkJSONContentType(r *http.Request, extra ...string) *Problem {
	ct := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	if err == nil && (media == "application/json" || slices.Contains(extra, media)) {
		return nil
	}
	want := strings.Join(append([]string{"application/json"}, extra...), " or ")
	if ct == "" {
		return problem(codeUnsupportedMediaType, "the request has a body but no Content-Type; send "+want)
	}
	return problem(codeUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not accepted; send %s", ct, want))
}

// object is a decoded JSON object whose members are decoded one by one, so
// that every unknown field and every wrongly typed field is reported.
type object struct {
	members map[string]json.RawMessage
	fields  []inventory.FieldError // type errors so far
}

// decodeObject parses body as one JSON object whose member names are all in
// allowed.
func decodeObject(body []byte, allowed ...string) (*object, *Problem) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var members map[string]json.RawMessage
	if err := dec.Decode(&members); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) || bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
			return nil, problem(codeInvalidType, "the request body must be a JSON object")
		}
		return nil, problem(codeMalformedJSON, "the request body is not valid JSON: "+jsonErrorText(err))
	}
	if members == nil {
		return nil, problem(codeInvalidType, "the request body must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, problem(codeMalformedJSON, "the request body has data after the JSON object")
	}
	var unknown []inventory.FieldError
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, inventory.FieldError{
				Field: "/" + escapePointer(name), Code: "unknown_field",
				Message: fmt.Sprintf("unknown field %q; allowed: %s", name, strings.Join(allowed, ", ")),
			})
		}
	}
	if len(unknown) > 0 {
		return nil, problem(codeUnknownField, "the request body has fields this operation does not take", unknown...)
	}
	return &object{members: members}, nil
}

func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// has reports whether the member is present (even if null).
func (o *object) has(name string) bool { _, ok := o.members[name]; return ok }

// isNull reports whether the member is present and null.
func (o *object) isNull(name string) bool {
	raw, ok := o.members[name]
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func (o *object) typeError(name, want string) {
	o.fields = append(o.fields, inventory.FieldError{
		Field: "/" + escapePointer(name), Code: "invalid_type", Message: name + " must be " + want,
	})
}

// str returns the member as a string; nil if absent. null is a type error
// unless nullable.
func (o *object) str(name string, nullable bool) *string {
	raw, ok := o.members[name]
	if !ok || (nullable && o.isNull(name)) {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || o.isNull(name) {
		o.typeError(name, "a string")
		return nil
	}
	return &s
}

// integer returns the member as an int64; nil if absent or (when nullable) null.
func (o *object) integer(name string, nullable bool) *int64 {
	raw, ok := o.members[name]
	if !ok || (nullable && o.isNull(name)) {
		return nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// json.Number also takes a quoted number; a JSON string is not an integer.
	if err := dec.Decode(&n); err != nil || bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) {
		o.typeError(name, "an integer")
		return nil
	}
	v, err := n.Int64()
	if err != nil {
		o.typeError(name, "an integer between -2^63 and 2^63-1")
		return nil
	}
	return &v
}

// strings returns the member as a list of strings; nil if absent.
func (o *object) strings(name string) *[]string {
	raw, ok := o.members[name]
	if !ok {
		return nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || o.isNull(name) {
		o.typeError(name, "an array of strings")
		return nil
	}
	if list == nil {
		list = []string{}
	}
	return &list
}

// err returns the type errors found, if any.
func (o *object) err() *Problem {
	if len(o.fields) == 0 {
		return nil
	}
	return problem(codeInvalidType, "fields of the request body have the wrong type", o.fields...)
}
