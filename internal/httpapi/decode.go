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
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/depot-inventory/depot/internal/inventory"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

// readBody reads the whole body, refusing more than MaxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, problem(inventory.KindInvalid, codeMalformedJSON, "the request body could not be read")
	}
	if len(body) > MaxBodyBytes {
		return nil, problem(inventory.KindTooLarge, codeBodyTooLarge, fmt.Sprintf("the request body is over %d bytes", MaxBodyBytes))
	}
	return body, nil
}

// readJSON reads a body that must be a JSON object of the media type
// application/json (or one of extra), with members among allowed.
func readJSON(r *http.Request, allowed []string, extra ...string) (*object, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if err := checkJSONContentType(r, extra...); err != nil {
		return nil, err
	}
	return decodeObject(body, allowed...)
}

// readOptionalJSON is readJSON for a body that may be absent: no body is an
// empty object.
func readOptionalJSON(r *http.Request, allowed []string) (*object, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return &object{members: map[string]json.RawMessage{}}, nil
	}
	if err := checkJSONContentType(r); err != nil {
		return nil, err
	}
	return decodeObject(body, allowed...)
}

// checkJSONContentType accepts application/json and the listed extra media
// types (e.g. application/merge-patch+json).
func checkJSONContentType(r *http.Request, extra ...string) error {
	ct := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	if err == nil && (media == "application/json" || slices.Contains(extra, media)) {
		return nil
	}
	want := strings.Join(append([]string{"application/json"}, extra...), " or ")
	if ct == "" {
		return problem(inventory.KindUnsupportedMediaType, codeUnsupportedMediaType, "the request has a body but no Content-Type; send "+want)
	}
	return problem(inventory.KindUnsupportedMediaType, codeUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not accepted; send %s", ct, want))
}

// object is a decoded JSON object whose members are decoded one by one, so
// that every unknown field and every wrongly typed field is reported.
type object struct {
	members map[string]json.RawMessage
	fields  []inventory.FieldError // type errors so far
	unknown []inventory.FieldError // unknown members of nested objects
	prefix  string                 // JSON pointer of a nested object ("" at the top)
	root    *object                // the top object, which collects the errors (nil at the top)
}

// top returns the object that collects errors.
func (o *object) top() *object {
	if o.root != nil {
		return o.root
	}
	return o
}

// decodeObject parses body as one JSON object whose member names are all in
// allowed. It is strict where encoding/json is lenient: the body must be
// valid UTF-8 with no escaped lone surrogate (which encoding/json would turn
// into U+FFFD), and no object in it may name a member twice (which
// encoding/json would resolve by keeping the last).
func decodeObject(body []byte, allowed ...string) (*object, error) {
	if !utf8.Valid(body) {
		return nil, problem(inventory.KindInvalid, codeMalformedJSON, "the request body is not valid UTF-8")
	}
	if err := checkJSONText(body); err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, problem(inventory.KindInvalid, codeInvalidType, "the request body must be a JSON object")
		}
		return nil, problem(inventory.KindInvalid, codeMalformedJSON, "the request body is not valid JSON: "+jsonErrorText(err))
	}
	if members == nil {
		return nil, problem(inventory.KindInvalid, codeInvalidType, "the request body must be a JSON object")
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
		return nil, problem(inventory.KindInvalid, codeUnknownField, "the request body has fields this operation does not take", unknown...)
	}
	return &object{members: members}, nil
}

// checkJSONText walks the JSON text token by token: it must be one value,
// with no duplicate member in any object and no lone surrogate in any
// string.
func checkJSONText(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next token of this object is a member name (or its end)
	}
	var stack []*frame
	values := 0
	// done is called when a value ends: its object expects a name next.
	done := func() error {
		if len(stack) == 0 {
			if values++; values > 1 {
				return problem(inventory.KindInvalid, codeMalformedJSON, "the request body has data after the JSON value")
			}
			return nil
		}
		if top := stack[len(stack)-1]; top.object {
			top.key = true
		}
		return nil
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return problem(inventory.KindInvalid, codeMalformedJSON, "the request body is not valid JSON: "+jsonErrorText(err))
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].key {
			top := stack[n-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				if err := done(); err != nil {
					return err
				}
				continue
			}
			name, _ := tok.(string) // the decoder yields only names here
			if top.names[name] {
				return problem(inventory.KindInvalid, codeMalformedJSON, fmt.Sprintf("the request body names member %q twice in one object", name))
			}
			top.names[name] = true
			top.key = false
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, names: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default: // ']'; an object's '}' comes where a name may
				stack = stack[:len(stack)-1]
			}
		case string:
			if strings.ContainsRune(t, utf8.RuneError) && hasLoneSurrogate(body) {
				return problem(inventory.KindInvalid, codeMalformedJSON, "the request body has a string with a lone UTF-16 surrogate escape")
			}
		}
		if err := done(); err != nil {
			return err
		}
	}
}

// hasLoneSurrogate reports whether the JSON text escapes a UTF-16 surrogate
// (\uD800-\uDFFF) that is not part of a high-low pair.
func hasLoneSurrogate(body []byte) bool {
	for i := 0; i+6 <= len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if body[i+1] != 'u' {
			i++ // skip the escaped character
			continue
		}
		r, ok := hex4(body[i+2 : i+6])
		switch {
		case !ok:
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(body) || body[i+6] != '\\' || body[i+7] != 'u' {
				return true
			}
			if lo, ok := hex4(body[i+8 : i+12]); !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
			continue
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	n, err := strconv.ParseUint(string(b), 16, 32)
	return rune(n), err == nil
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

// pointerEscaper escapes a member name for a JSON pointer (RFC 6901). It
// is built once: building a Replacer allocates several kilobytes, which per
// field error let a 64 KiB body of unknown members allocate 57 MB.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string { return pointerEscaper.Replace(s) }

// has reports whether the member is present (even if null).
func (o *object) has(name string) bool { _, ok := o.members[name]; return ok }

// isNull reports whether the member is present and null.
func (o *object) isNull(name string) bool {
	raw, ok := o.members[name]
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func (o *object) typeError(name, want string) {
	t := o.top()
	t.fields = append(t.fields, inventory.FieldError{
		Field: o.prefix + "/" + escapePointer(name), Code: "invalid_type", Message: name + " must be " + want,
	})
}

// objects returns the member as a list of objects whose members are all
// in allowed; nil if absent. Their type errors and unknown members are
// reported with the top object's, each field named by its whole pointer
// (e.g. /lines/2/delta).
func (o *object) objects(name string, allowed []string) []*object {
	raw, ok := o.members[name]
	if !ok {
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || o.isNull(name) {
		o.typeError(name, "an array of objects")
		return nil
	}
	t := o.top()
	out := make([]*object, 0, len(list))
	for i, el := range list {
		child := &object{members: map[string]json.RawMessage{}, prefix: fmt.Sprintf("%s/%s/%d", o.prefix, escapePointer(name), i), root: t}
		if err := json.Unmarshal(el, &child.members); err != nil || child.members == nil {
			child.members = map[string]json.RawMessage{}
			t.fields = append(t.fields, inventory.FieldError{Field: child.prefix, Code: "invalid_type", Message: "each of " + name + " must be an object"})
		}
		for _, m := range slices.Sorted(maps.Keys(child.members)) {
			if !slices.Contains(allowed, m) {
				t.unknown = append(t.unknown, inventory.FieldError{Field: child.prefix + "/" + escapePointer(m), Code: "unknown_field",
					Message: fmt.Sprintf("unknown field %q; allowed: %s", m, strings.Join(allowed, ", "))})
			}
		}
		out = append(out, child)
	}
	return out
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

// integer returns the member as an int64; nil if absent or (when nullable)
// null. As JSON Schema says, a number with a zero fraction is an integer:
// 5.0 and 5e0 are 5.
func (o *object) integer(name string, nullable bool) *int64 {
	raw, ok := o.members[name]
	if !ok || (nullable && o.isNull(name)) {
		return nil
	}
	text := string(bytes.TrimSpace(raw))
	if text == "" || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) {
		o.typeError(name, "an integer")
		return nil
	}
	v, integral, inRange := jsonInteger(text)
	switch {
	case !integral:
		o.typeError(name, "an integer")
		return nil
	case !inRange:
		o.typeError(name, "an integer between -2^63 and 2^63-1")
		return nil
	}
	return &v
}

// jsonInteger reads a JSON number exactly: whether it has no fractional
// part, and if so whether it fits an int64, and its value. It never builds
// a big number, whatever the exponent.
func jsonInteger(num string) (v int64, integral, inRange bool) {
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		mant = num[:i]
		e, err := strconv.Atoi(num[i+1:])
		if err != nil { // an exponent too long for an int is out of any range
			if strings.Trim(strings.ReplaceAll(mant, ".", ""), "0") == "" {
				return 0, true, true
			}
			return 0, !strings.HasPrefix(num[i+1:], "-"), false
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	point := len(intPart) - (len(intPart+frac) - len(digits)) + exp // digits before the decimal point
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return 0, true, true
	}
	if point < len(digits) {
		return 0, false, false
	}
	if point > 19 {
		return 0, true, false
	}
	text := digits + strings.Repeat("0", point-len(digits))
	if neg {
		text = "-" + text
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, true, false
	}
	return n, true, true
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

// err returns the unknown members of nested objects, or else the type
// errors found, if any.
func (o *object) err() error {
	if len(o.unknown) > 0 {
		return problem(inventory.KindInvalid, codeUnknownField, "the request body has fields this operation does not take", o.unknown...)
	}
	if len(o.fields) == 0 {
		return nil
	}
	return problem(inventory.KindInvalid, codeInvalidType, "fields of the request body have the wrong type", o.fields...)
}

// object returns the member as an object whose members are all in allowed;
// nil if absent (null is a type error). Its type errors and unknown members are reported
// with the top object's, each field named by its whole pointer (e.g.
// /filters/tag).
func (o *object) object(name string, allowed []string) *object {
	raw, ok := o.members[name]
	if !ok {
		return nil
	}
	if o.isNull(name) {
		o.typeError(name, "an object")
		return nil
	}
	t := o.top()
	child := &object{members: map[string]json.RawMessage{}, prefix: o.prefix + "/" + escapePointer(name), root: t}
	if err := json.Unmarshal(raw, &child.members); err != nil || child.members == nil {
		child.members = map[string]json.RawMessage{}
		o.typeError(name, "an object")
		return child
	}
	for _, m := range slices.Sorted(maps.Keys(child.members)) {
		if !slices.Contains(allowed, m) {
			t.unknown = append(t.unknown, inventory.FieldError{Field: child.prefix + "/" + escapePointer(m), Code: "unknown_field",
				Message: fmt.Sprintf("unknown field %q; allowed: %s", m, strings.Join(allowed, ", "))})
		}
	}
	return child
}

// boolean returns the member as a bool; nil if absent.
func (o *object) boolean(name string) *bool {
	raw, ok := o.members[name]
	if !ok {
		return nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil || o.isNull(name) {
		o.typeError(name, "true or false")
		return nil
	}
	return &b
}
