package localrun

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/depot-inventory/depot/internal/dev/devtest"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/media"
)

const testBucket = "depot-images"

// recorder is a Notify target: it records every attempt and the events it
// accepted; fail decides per attempt (1-based) whether it errs.
type recorder struct {
	mu       sync.Mutex
	attempts int
	events   []events.S3Event
	fail     func(attempt int) error
}

func (r *recorder) notify(_ context.Context, ev events.S3Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.fail != nil {
		if err := r.fail(r.attempts); err != nil {
			return err
		}
	}
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) snapshot() (int, []events.S3Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts, slices.Clone(r.events)
}

// s3Env is an embedded S3 with notifications for uploads/ and a client.
type s3Env struct {
	engine   *Engine
	notifier *Notifier
	client   *s3.Client
	rec      *recorder
	logs     *syncBuffer
}

type syncBuffer = devtest.SyncBuffer

func startS3Env(t *testing.T, fail func(int) error) *s3Env {
	t.Helper()
	env := &s3Env{rec: &recorder{fail: fail}, logs: &syncBuffer{}}
	e, n, err := StartS3WithEvents(S3Options{
		Notify:  env.rec.notify,
		Prefix:  "uploads/",
		Region:  "eu-west-1",
		Backoff: time.Millisecond,
		Logger:  slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	env.engine, env.notifier = e, n
	env.client = s3.New(s3.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(e.URL),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
		}),
	})
	if _, err := env.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	return env
}

// settle waits until every notification under way is delivered or given up.
func (env *s3Env) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.notifier.Wait(ctx); err != nil {
		t.Fatalf("notifications not settled: %v", err)
	}
}

// onlyEvent settles and returns the single event record delivered.
func (env *s3Env) onlyEvent(t *testing.T) events.S3EventRecord {
	t.Helper()
	env.settle(t)
	_, evs := env.rec.snapshot()
	if len(evs) != 1 || len(evs[0].Records) != 1 {
		t.Fatalf("want one event with one record, got %+v", evs)
	}
	return evs[0].Records[0]
}

func (env *s3Env) noEvent(t *testing.T) {
	t.Helper()
	env.settle(t)
	if attempts, evs := env.rec.snapshot(); attempts != 0 || len(evs) != 0 {
		t.Fatalf("want no event, got %d attempts: %+v", attempts, evs)
	}
}

func (env *s3Env) object(t *testing.T, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := env.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, body
}

func (env *s3Env) noObjects(t *testing.T) {
	t.Helper()
	out, err := env.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Fatalf("want no objects, got %d, first %s", len(out.Contents), aws.ToString(out.Contents[0].Key))
	}
}

// postFile sends a browser form upload: the fields in order, the file last.
func postFile(t *testing.T, url string, fields [][2]string, data []byte) (*http.Response, []byte) {
	t.Helper()
	return postTo(t, http.DefaultClient, url, fields, data)
}

// multipartBody is a browser form: the fields in order, the file last.
func multipartBody(t *testing.T, fields [][2]string, data []byte) (io.Reader, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "photo.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &body, mw.FormDataContentType()
}

// formFields orders presigned fields as a browser form would send them:
// key first, the rest by name.
func formFields(m map[string]string) [][2]string {
	var out [][2]string
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if a[0] == "key" {
			return -1
		}
		if b[0] == "key" {
			return 1
		}
		return strings.Compare(a[0], b[0])
	})
	return out
}

func setField(fields [][2]string, name, value string) [][2]string {
	out := slices.Clone(fields)
	for i := range out {
		if out[i][0] == name {
			out[i][1] = value
		}
	}
	return out
}

type xmlError struct {
	Code                       string
	Message                    string
	ProposedSize               string
	MaxSizeAllowed             string
	MinSizeAllowed             string
	Region                     string
	HeadersNotSigned           string
	RequestTime                string
	ServerTime                 string
	MaxAllowedSkewMilliseconds string
	XAmzExpires                string `xml:"X-Amz-Expires"`
	Expires                    string
}

func decodeError(t *testing.T, body []byte) xmlError {
	t.Helper()
	var e xmlError
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e
}

func png(n int) []byte {
	b := bytes.Repeat([]byte{0x42}, n)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestPresignedPostUpload(t *testing.T) {
	env := startS3Env(t, nil)
	m := media.New(env.client, testBucket)
	post, err := m.PresignUpload(context.Background(), inventory.UploadKey("01JQ8Z6T3V8K2M4N6P8R0S2T4V", "01JQ94V6X8Z0A2C4E6G8J0K2M4"), "image/png", 1024, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if post.URL != env.engine.URL+"/"+testBucket {
		t.Fatalf("URL %s", post.URL)
	}
	data := png(1024) // exactly the maximum
	resp, body := postFile(t, post.URL, formFields(post.Fields), data)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	key := "uploads/01JQ8Z6T3V8K2M4N6P8R0S2T4V/01JQ94V6X8Z0A2C4E6G8J0K2M4"
	if got, want := resp.Header.Get("ETag"), `"`+md5hex(data)+`"`; got != want {
		t.Errorf("ETag %s, want %s", got, want)
	}
	if got := resp.Header.Get("Location"); got != post.URL+"/"+key {
		t.Errorf("Location %s", got)
	}

	out, stored := env.object(t, key)
	if !bytes.Equal(stored, data) || aws.ToString(out.ContentType) != "image/png" {
		t.Errorf("stored %d bytes as %q", len(stored), aws.ToString(out.ContentType))
	}
	for k := range out.Metadata {
		t.Errorf("unexpected user metadata %q", k)
	}

	rec := env.onlyEvent(t)
	if rec.EventName != "ObjectCreated:Post" || rec.EventVersion != "2.1" || rec.EventSource != "aws:s3" || rec.AWSRegion != "eu-west-1" {
		t.Errorf("record %+v", rec)
	}
	if d := time.Since(rec.EventTime); d < 0 || d > time.Minute {
		t.Errorf("eventTime %v", rec.EventTime)
	}
	b := rec.S3.Bucket
	if b.Name != testBucket || b.Arn != "arn:aws:s3:::"+testBucket {
		t.Errorf("bucket %+v", b)
	}
	o := rec.S3.Object
	if o.Key != key || o.URLDecodedKey != key || o.Size != 1024 || o.ETag != md5hex(data) || o.Sequencer == "" {
		t.Errorf("object %+v", o)
	}
	if rec.S3.SchemaVersion != "1.0" || rec.ResponseElements["x-amz-request-id"] == "" {
		t.Errorf("record %+v", rec)
	}

	// The stored object can be read with media's own Get.
	got, err := m.Get(context.Background(), key, 1024)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("media.Get: %d bytes, %v", len(got), err)
	}
}

func TestPresignedPostEventKeyEncoding(t *testing.T) {
	env := startS3Env(t, nil)
	m := media.New(env.client, testBucket)
	post, err := m.PresignUpload(context.Background(), inventory.UploadKey("item one+2", "up=3:4"), "image/jpeg", 1024, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := postFile(t, post.URL, formFields(post.Fields), []byte("jpeg"))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	rawKey := "uploads/item one+2/up=3:4"
	if out, _ := env.object(t, rawKey); aws.ToString(out.ContentType) != "image/jpeg" {
		t.Errorf("content type %q", aws.ToString(out.ContentType))
	}
	o := env.onlyEvent(t).S3.Object
	if want := "uploads/item+one%2B2/up%3D3%3A4"; o.Key != want {
		t.Errorf("event key %q, want %q", o.Key, want)
	}
	if o.URLDecodedKey != rawKey {
		t.Errorf("urlDecodedKey %q", o.URLDecodedKey)
	}
	if itemID, uploadID, ok := inventory.ParseUploadKey(o.URLDecodedKey); !ok || itemID != "item one+2" || uploadID != "up=3:4" {
		t.Errorf("ParseUploadKey = %q %q %v", itemID, uploadID, ok)
	}
}

// handPolicy encodes a policy this test writes; resign or postSigner.form
// signs it.
func handPolicy(expiration time.Time, conditions ...any) string {
	doc, _ := json.Marshal(map[string]any{"expiration": expiration.UTC().Format(time.RFC3339), "conditions": conditions})
	return base64.StdEncoding.EncodeToString(doc)
}

func TestPresignedPostViolations(t *testing.T) {
	const maxBytes = 64
	key := "uploads/ITEM/UPLOAD"
	cases := []struct {
		name   string
		form   func(fields [][2]string) [][2]string
		size   int
		status int
		code   string
		msg    string
	}{
		{name: "wrong key", form: func(f [][2]string) [][2]string { return setField(f, "key", "uploads/ITEM/OTHER") },
			size: 10, status: 403, code: "AccessDenied", msg: `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/ITEM/UPLOAD"]`},
		{name: "key outside uploads", form: func(f [][2]string) [][2]string { return setField(f, "key", "thumbnails/ITEM/UPLOAD/160.jpg") },
			size: 10, status: 403, code: "AccessDenied", msg: `Policy Condition failed: ["eq", "$key"`},
		{name: "wrong content type", form: func(f [][2]string) [][2]string { return setField(f, "Content-Type", "image/jpeg") },
			size: 10, status: 403, code: "AccessDenied", msg: `Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]`},
		{name: "content type missing", form: func(f [][2]string) [][2]string {
			return slices.DeleteFunc(slices.Clone(f), func(x [2]string) bool { return x[0] == "Content-Type" })
		}, size: 10, status: 403, code: "AccessDenied", msg: `["eq", "$Content-Type", "image/png"]`},
		{name: "too large", size: maxBytes + 1, status: 400, code: "EntityTooLarge", msg: "exceeds the maximum allowed size"},
		{name: "much too large", size: 3 << 20, status: 400, code: "EntityTooLarge", msg: "exceeds the maximum allowed size"},
		{name: "empty", size: 0, status: 400, code: "EntityTooSmall", msg: "smaller than the minimum allowed size"},
		{name: "extra field", form: func(f [][2]string) [][2]string { return append(slices.Clone(f), [2]string{"x-amz-meta-owner", "eve"}) },
			size: 10, status: 403, code: "AccessDenied", msg: "Invalid according to Policy: Extra input fields: x-amz-meta-owner"},
		{name: "no policy", form: func(f [][2]string) [][2]string {
			return slices.DeleteFunc(slices.Clone(f), func(x [2]string) bool { return x[0] == "policy" })
		}, size: 10, status: 400, code: "InvalidArgument", msg: "Bucket POST must contain a field named 'policy'."},
		{name: "no signature fields", form: func(f [][2]string) [][2]string {
			return slices.DeleteFunc(slices.Clone(f), func(x [2]string) bool { return x[0] == "policy" || strings.HasPrefix(x[0], "X-Amz-") })
		}, size: 10, status: 403, code: "AccessDenied", msg: "Access Denied"},
		{name: "expired policy", form: func(f [][2]string) [][2]string {
			return resign(f, handPolicy(time.Now().Add(-time.Second),
				map[string]string{"bucket": testBucket}, []any{"eq", "$key", key}, []any{"starts-with", "$Content-Type", "image/"}))
		}, size: 10, status: 403, code: "AccessDenied", msg: "Invalid according to Policy: Policy expired."},
		{name: "other bucket's policy", form: func(f [][2]string) [][2]string {
			return resign(f, handPolicy(time.Now().Add(time.Minute),
				map[string]string{"bucket": "elsewhere"}, []any{"starts-with", "$key", ""}, []any{"starts-with", "$Content-Type", ""}))
		}, size: 10, status: 403, code: "AccessDenied", msg: `Policy Condition failed: ["eq", "$bucket", "elsewhere"]`},
		{name: "policy not base64", form: func(f [][2]string) [][2]string { return resign(f, "{not base64") },
			size: 10, status: 400, code: "InvalidPolicyDocument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := startS3Env(t, nil)
			m := media.New(env.client, testBucket)
			post, err := m.PresignUpload(context.Background(), inventory.UploadKey("ITEM", "UPLOAD"), "image/png", maxBytes, 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			fields := formFields(post.Fields)
			if tc.form != nil {
				fields = tc.form(fields)
			}
			resp, body := postFile(t, post.URL, fields, png(tc.size))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			e := decodeError(t, body)
			if e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error %+v, want %s %q", e, tc.code, tc.msg)
			}
			switch tc.code {
			case "EntityTooLarge":
				if e.MaxSizeAllowed != "64" || e.ProposedSize != strconv.Itoa(tc.size) {
					t.Errorf("size error %+v", e)
				}
			case "EntityTooSmall":
				if e.MinSizeAllowed != "1" || e.ProposedSize != "0" {
					t.Errorf("size error %+v", e)
				}
			}
			env.noObjects(t)
			env.noEvent(t)
		})
	}
}

func TestPostHandPolicy(t *testing.T) {
	env := startS3Env(t, nil)
	signer := localPostSigner("eu-west-1")
	policy := handPolicy(time.Now().Add(time.Minute), append(signer.conditions(),
		map[string]string{"bucket": testBucket},
		[]any{"starts-with", "$key", "uploads/ITEM/"},
		[]any{"starts-with", "$Content-Type", "image/"},
		[]any{"eq", "$success_action_status", "201"},
		[]any{"starts-with", "$x-amz-meta-owner", ""},
		[]any{"content-length-range", "2", "8"}, // bounds as strings are accepted too
	)...)
	fields := append([][2]string{
		{"key", "uploads/ITEM/${filename}"}, {"Content-Type", "image/webp"}, {"success_action_status", "201"},
		{"X-Amz-Meta-Owner", "ana"}, {"x-ignore-me", "1"},
	}, signer.form(policy)...)
	resp, body := postFile(t, env.engine.URL+"/"+testBucket+"/", fields, []byte("webp"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	var pr struct{ Bucket, Key, ETag, Location string }
	if err := xml.Unmarshal(body, &pr); err != nil || pr.Key != "uploads/ITEM/photo.png" || pr.Bucket != testBucket || pr.ETag != `"`+md5hex([]byte("webp"))+`"` {
		t.Errorf("PostResponse %+v %v: %s", pr, err, body)
	}
	out, data := env.object(t, "uploads/ITEM/photo.png")
	if string(data) != "webp" || aws.ToString(out.ContentType) != "image/webp" || out.Metadata["owner"] != "ana" {
		t.Errorf("stored %q %q %v", data, aws.ToString(out.ContentType), out.Metadata)
	}
	if rec := env.onlyEvent(t); rec.EventName != "ObjectCreated:Post" || rec.S3.Object.Key != "uploads/ITEM/photo.png" {
		t.Errorf("record %+v", rec)
	}

	// Out of range, and a Content-Type starts-with fails for any listed type.
	for _, tc := range []struct {
		ct   string
		data string
		code string
	}{{"image/png", "123456789", "EntityTooLarge"}, {"image/png", "1", "EntityTooSmall"}, {"image/png, text/html", "1234", "AccessDenied"}} {
		fields := setField(fields, "Content-Type", tc.ct)
		resp, body := postFile(t, env.engine.URL+"/"+testBucket, setField(fields, "key", "uploads/ITEM/other"), []byte(tc.data))
		if e := decodeError(t, body); e.Code != tc.code {
			t.Errorf("%q as %s: %d %+v", tc.data, tc.ct, resp.StatusCode, e)
		}
	}
	if _, err := env.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("uploads/ITEM/other")}); err == nil {
		t.Error("rejected upload stored")
	}
}

func TestPostErrors(t *testing.T) {
	env := startS3Env(t, nil)
	m := media.New(env.client, "no-such-bucket")
	post, err := m.PresignUpload(context.Background(), inventory.UploadKey("I", "U"), "image/png", 64, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := postFile(t, post.URL, formFields(post.Fields), png(10))
	if e := decodeError(t, body); resp.StatusCode != 404 || e.Code != "NoSuchBucket" {
		t.Errorf("no bucket: %d %+v", resp.StatusCode, e)
	}

	// No file part.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("key", "uploads/I/U")
	mw.Close()
	resp2, err := http.Post(env.engine.URL+"/"+testBucket, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if e := decodeError(t, body); resp2.StatusCode != 400 || e.Code != "IncorrectNumberOfFilesInPostRequest" {
		t.Errorf("no file: %d %+v", resp2.StatusCode, e)
	}

	// No key field.
	resp, body = postFile(t, env.engine.URL+"/"+testBucket, [][2]string{{"policy", "e30="}}, png(10))
	if e := decodeError(t, body); resp.StatusCode != 400 || e.Code != "InvalidArgument" {
		t.Errorf("no key: %d %+v", resp.StatusCode, e)
	}
	env.noObjects(t)
	env.noEvent(t)
}

// Other POSTs still reach gofakes3: DeleteObjects (media.Delete) works.
func TestPostDeleteObjectsPassesThrough(t *testing.T) {
	env := startS3Env(t, nil)
	m := media.New(env.client, testBucket)
	ctx := context.Background()
	for _, k := range []string{"thumbnails/I/U/160.jpg", "thumbnails/I/U/640.jpg"} {
		if err := m.Put(ctx, k, "image/jpeg", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Delete(ctx, "thumbnails/I/U/160.jpg", "thumbnails/I/U/640.jpg", "uploads/I/U"); err != nil {
		t.Fatal(err)
	}
	env.noObjects(t)
	if _, err := m.Get(ctx, "thumbnails/I/U/160.jpg", 64); !errors.Is(err, inventory.ErrObjectNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	env.noEvent(t)
}
