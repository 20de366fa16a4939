package localrun

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Browser POST uploads (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html).
//
// gofakes3 v1.2.0 stores a POST form upload but ignores its policy (it
// checks neither expiry nor conditions, nor the size range), answers 200
// instead of 204, and reads the whole form into memory or temp files. On
// AWS the policy is what confines a presigned POST, so this engine
// intercepts those POSTs and enforces the policy as S3 does before storing:
//
//   - the policy is base64 JSON {"expiration": ..., "conditions": [...]};
//     past its expiration the upload is refused;
//   - every condition must hold: {"field": "value"} and ["eq", "$field",
//     "value"] exact matches, ["starts-with", "$field", "prefix"] (for
//     Content-Type, each comma-separated type), {"bucket": ...} against the
//     URL's bucket, and ["content-length-range", min, max] against the size
//     of the file actually sent;
//   - every form field but policy, x-amz-signature, signature,
//     awsaccesskeyid, file and x-ignore-* must be covered by a condition;
//   - the file is the last field (those after it are ignored) and is read
//     only up to the range's maximum + 1 byte (and never beyond
//     S3Options.MaxPostBytes, as objects are kept in memory).
//
// The policy's signature is verified first (s3auth.go: verifyPost), as S3
// does: x-amz-signature must be the SigV4 HMAC of the base64 policy under
// the signing key of x-amz-credential's scope, for one of the engine's
// access keys. A form with none of the signature fields is anonymous and
// refused (the bucket is private).
//
// Not done: of the stored headers only Content-Type, Cache-Control,
// Content-Disposition, Content-Encoding, Expires and x-amz-meta-* are kept.
// Field names match case-insensitively.

// Form parts before the file: their total size is capped as S3 does
// (MaxPostPreDataLengthExceeded).
const maxPostPreData = 1 << 20

// browserPost tells a form upload: POST /{bucket} or /{bucket}/ with a
// multipart/form-data body and no subresource.
func browserPost(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost || r.URL.RawQuery != "" {
		return "", false
	}
	bucket, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" || rest != "" {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return bucket, err == nil && mt == "multipart/form-data"
}

// formField is a form value before the file.
type formField struct{ name, value string }

type postForm struct {
	fields []formField
}

// get returns the first value of a field, matching the name
// case-insensitively.
func (f *postForm) get(name string) (string, bool) {
	for _, fld := range f.fields {
		if strings.EqualFold(fld.name, name) {
			return fld.value, true
		}
	}
	return "", false
}

func (h *s3Handler) servePost(w http.ResponseWriter, r *http.Request, bucket string) {
	hdr := w.Header()
	setRequestIDs(hdr)
	// Browsers post cross-origin; gofakes3 answers its own CORS preflight.
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Expose-Headers", "ETag, Location, x-amz-request-id, x-amz-version-id")
	if err := h.post(w, r, bucket); err != nil {
		writeS3Error(w, r, backendError(err))
	}
}

func (h *s3Handler) post(w http.ResponseWriter, r *http.Request, bucket string) error {
	exists, err := h.backend.BucketExists(bucket)
	if err != nil {
		return err
	}
	if !exists {
		e := newS3Error(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return e
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
	}
	form := &postForm{}
	var preData int64
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return badRequest("IncorrectNumberOfFilesInPostRequest", "POST requires exactly one file upload per request.")
		}
		if err != nil {
			return badRequest("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		name := part.FormName()
		if name == "" {
			continue
		}
		if strings.EqualFold(name, "file") {
			return h.store(w, r, bucket, form, part.FileName(), part)
		}
		value, err := io.ReadAll(io.LimitReader(part, maxPostPreData-preData+1))
		if err != nil {
			return badRequest("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		preData += int64(len(value))
		if preData > maxPostPreData {
			return badRequest("MaxPostPreDataLengthExceeded", "Your POST request fields preceeding the upload file was too large.")
		}
		form.fields = append(form.fields, formField{name: name, value: string(value)})
	}
}

// store checks the form against its policy, reads the file within the
// allowed size, stores it and answers as S3 does.
func (h *s3Handler) store(w http.ResponseWriter, r *http.Request, bucket string, form *postForm, filename string, file io.Reader) error {
	key, ok := form.get("key")
	if !ok {
		return badRequest("InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
	}
	if err := h.auth.verifyPost(form); err != nil {
		return err
	}
	rng, err := h.checkPolicy(bucket, form)
	if err != nil {
		return err
	}
	limit := h.maxPostBytes
	if rng.set && rng.max < limit {
		limit = rng.max
	}
	data, err := io.ReadAll(io.LimitReader(file, limit+1))
	if err != nil {
		return badRequest("IncompleteBody", "The request body terminated unexpectedly")
	}
	size := int64(len(data))
	if size > limit {
		e := badRequest("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
		e.MaxSizeAllowed = strconv.FormatInt(limit, 10)
		// Count the rest of a modest file for the size S3 reports.
		const countMax = 8 << 20
		if rest, err := io.Copy(io.Discard, io.LimitReader(file, countMax+1)); err == nil && rest <= countMax {
			e.ProposedSize = strconv.FormatInt(size+rest, 10)
		}
		return e
	}
	if rng.set && size < rng.min {
		e := badRequest("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
		e.ProposedSize = strconv.FormatInt(size, 10)
		e.MinSizeAllowed = strconv.FormatInt(rng.min, 10)
		return e
	}
	key = strings.ReplaceAll(key, "${filename}", filename)
	if len(key) > gofakes3.KeySizeLimit {
		return badRequest("KeyTooLongError", "Your key is too long")
	}

	meta := map[string]string{"Content-Type": "binary/octet-stream"}
	for _, f := range form.fields {
		name := textproto.CanonicalMIMEHeaderKey(f.name)
		switch {
		case name == "Content-Type", name == "Cache-Control", name == "Content-Disposition",
			name == "Content-Encoding", name == "Expires", strings.HasPrefix(name, "X-Amz-Meta-"):
			meta[name] = f.value
		}
	}
	meta["Last-Modified"] = h.now().UTC().Format(http.TimeFormat)
	result, etag, err := h.putPost(bucket, key, meta, data)
	if err != nil {
		return err
	}

	location := "http://" + r.Host + "/" + bucket + "/" + (&url.URL{Path: key}).EscapedPath()
	hdr := w.Header()
	hdr.Set("ETag", `"`+etag+`"`)
	hdr.Set("Location", location)
	if result.VersionID != "" {
		hdr.Set("x-amz-version-id", string(result.VersionID))
	}
	if redirect, ok := form.get("success_action_redirect"); ok && redirect != "" {
		if u, err := url.Parse(redirect); err == nil && u.Scheme != "" {
			q := u.Query()
			q.Set("bucket", bucket)
			q.Set("key", key)
			q.Set("etag", `"`+etag+`"`)
			u.RawQuery = q.Encode()
			hdr.Set("Location", u.String())
			w.WriteHeader(http.StatusSeeOther)
			return nil
		}
	}
	status, _ := form.get("success_action_status")
	switch status {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		hdr.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string   `xml:"Location"`
			Bucket   string   `xml:"Bucket"`
			Key      string   `xml:"Key"`
			ETag     string   `xml:"ETag"`
		}{Location: location, Bucket: bucket, Key: key, ETag: `"` + etag + `"`})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// lengthRange is a policy's content-length-range.
type lengthRange struct {
	set      bool
	min, max int64
}

// fields exempt from the rule that a condition must cover every field.
func exemptField(name string) bool {
	n := strings.ToLower(name)
	return n == "policy" || n == "x-amz-signature" || n == "signature" || n == "awsaccesskeyid" ||
		n == "file" || strings.HasPrefix(n, "x-ignore-")
}

// checkPolicy verifies the form against its policy; it returns the
// content-length-range for the file to be checked against.
func (h *s3Handler) checkPolicy(bucket string, form *postForm) (lengthRange, error) {
	var rng lengthRange
	encoded, ok := form.get("policy")
	if !ok {
		return rng, accessDenied("Access Denied")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return rng, invalidPolicy("Invalid Base64 Encoding.")
	}
	var doc struct {
		Expiration *string           `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return rng, invalidPolicy("Invalid JSON.")
	}
	if doc.Expiration == nil {
		return rng, invalidPolicy("Policy missing expiration.")
	}
	exp, err := time.Parse(time.RFC3339Nano, *doc.Expiration)
	if err != nil {
		return rng, invalidPolicy("Invalid 'expiration' value: '" + *doc.Expiration + "'")
	}
	if !h.now().Before(exp) {
		return rng, policyDenied("Policy expired.")
	}

	covered := map[string]bool{}
	for _, c := range doc.Conditions {
		field, err := checkCondition(c, bucket, form, &rng)
		if err != nil {
			return rng, err
		}
		if field != "" {
			covered[strings.ToLower(field)] = true
		}
	}
	for _, f := range form.fields {
		if !exemptField(f.name) && !covered[strings.ToLower(f.name)] {
			return rng, policyDenied("Extra input fields: %s", f.name)
		}
	}
	return rng, nil
}

// checkCondition checks one condition; it returns the form field the
// condition covers ("" for content-length-range).
func checkCondition(raw json.RawMessage, bucket string, form *postForm, rng *lengthRange) (string, error) {
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		if len(obj) != 1 {
			return "", invalidPolicy("Invalid Condition: " + string(raw))
		}
		for name, v := range obj {
			want, ok := v.(string)
			if !ok {
				return "", invalidPolicy("Invalid Condition: " + string(raw))
			}
			if err := matchField("eq", name, want, bucket, form); err != nil {
				return "", err
			}
			return name, nil
		}
	}
	var arr []any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&arr) != nil || len(arr) != 3 {
		return "", invalidPolicy("Invalid Condition: " + string(raw))
	}
	op, _ := arr[0].(string)
	switch strings.ToLower(op) {
	case "content-length-range":
		lo, okLo := policyInt(arr[1])
		hi, okHi := policyInt(arr[2])
		if !okLo || !okHi || lo < 0 || hi < lo {
			return "", invalidPolicy("Invalid content-length-range: " + string(raw))
		}
		*rng = lengthRange{set: true, min: lo, max: hi}
		return "", nil
	case "eq", "starts-with":
		ref, okRef := arr[1].(string)
		want, okWant := arr[2].(string)
		if !okRef || !okWant || !strings.HasPrefix(ref, "$") {
			return "", invalidPolicy("Invalid Condition: " + string(raw))
		}
		name := ref[1:]
		if err := matchField(strings.ToLower(op), name, want, bucket, form); err != nil {
			return "", err
		}
		return name, nil
	default:
		return "", invalidPolicy("Invalid Condition: " + string(raw))
	}
}

// matchField checks a field (or the bucket) against an eq or starts-with
// condition, failing with S3's message, which quotes the condition.
func matchField(op, name, want, bucket string, form *postForm) error {
	var got string
	var present bool
	if strings.EqualFold(name, "bucket") {
		got, present = bucket, true
	} else {
		got, present = form.get(name)
	}
	ok := present
	if ok {
		switch {
		case op == "eq":
			ok = got == want
		case strings.EqualFold(name, "Content-Type"):
			// S3 checks each of a comma-separated list of types.
			for _, t := range strings.Split(got, ",") {
				ok = ok && strings.HasPrefix(strings.TrimSpace(t), want)
			}
		default:
			ok = strings.HasPrefix(got, want)
		}
	}
	if !ok {
		return policyDenied("Policy Condition failed: [%q, %q, %q]", op, "$"+name, want)
	}
	return nil
}

// policyInt reads a content-length-range bound: a JSON integer or a
// string holding one.
func policyInt(v any) (int64, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}
