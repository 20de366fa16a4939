package localrun

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/media"
)

var localCreds = aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}

func static(c aws.Credentials) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

// sdkSign signs a raw request with aws-sdk-go-v2's own SigV4 signer, the
// reference the engine's verifier is held to, for a body hashed here.
func sdkSign(t testing.TB, req *http.Request, body []byte, region string, creds aws.Credentials, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), creds, req, hash, "s3", region, at); err != nil {
		t.Fatal(err)
	}
}

// sdkPresign presigns a raw request with the SDK's signer, valid for
// expires from at.
func sdkPresign(t *testing.T, req *http.Request, region string, creds aws.Credentials, at time.Time, expires time.Duration) string {
	t.Helper()
	q := req.URL.Query()
	q.Set("X-Amz-Expires", fmt.Sprint(int(expires.Seconds())))
	req.URL.RawQuery = q.Encode()
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	u, _, err := signer.PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", region, at)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// postSigner signs browser POST policies as a client holding a key would,
// with the SigV4 key derivation written out here, apart from the engine's.
type postSigner struct {
	accessKey, secret, region, date string // date: yyyyMMdd'T'HHmmss'Z'
}

func localPostSigner(region string) postSigner {
	return postSigner{"local", "local", region, time.Now().UTC().Format("20060102T150405Z")}
}

func (p postSigner) credential() string {
	return p.accessKey + "/" + p.date[:8] + "/" + p.region + "/s3/aws4_request"
}

// conditions are the policy conditions covering the signature fields.
func (p postSigner) conditions() []any {
	return []any{
		map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"x-amz-credential": p.credential()},
		map[string]string{"x-amz-date": p.date},
	}
}

func (p postSigner) sign(policy string) string {
	mac := func(key []byte, s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+p.secret), p.date[:8]), p.region), "s3"), "aws4_request")
	return hex.EncodeToString(mac(key, policy))
}

// form is the policy and signature fields of a POST.
func (p postSigner) form(policy string) [][2]string {
	return [][2]string{
		{"policy", policy}, {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"}, {"X-Amz-Credential", p.credential()},
		{"X-Amz-Date", p.date}, {"X-Amz-Signature", p.sign(policy)},
	}
}

// resign replaces a presigned form's policy, signing it anew with the
// default secret for the form's credential and date.
func resign(fields [][2]string, policy string) [][2]string {
	var cred, date string
	for _, f := range fields {
		switch f[0] {
		case "X-Amz-Credential":
			cred = f[1]
		case "X-Amz-Date":
			date = f[1]
		}
	}
	parts := strings.Split(cred, "/")
	p := postSigner{accessKey: parts[0], secret: LocalSecretAccessKey, region: parts[2], date: date}
	return setField(setField(fields, "policy", policy), "X-Amz-Signature", p.sign(policy))
}

// sdkLog records what the SDK logs.
type sdkLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *sdkLog) logger() logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, string(c)+" "+fmt.Sprintf(format, v...))
	})
}

func (l *sdkLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// front is an embedded S3 on an httptest server (TLS or not), its handler
// at hand.
type front struct {
	h    *s3Handler
	srv  *httptest.Server
	log  *sdkLog
	mu   sync.Mutex
	seen []*http.Request // requests as they arrived (headers only)
}

const frontRegion = "us-east-1"

func startFront(t *testing.T, tls bool) *front {
	t.Helper()
	h, n := newS3Handler(S3Options{Region: frontRegion})
	f := &front{h: h, log: &sdkLog{}}
	rec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Clone(context.Background()))
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	})
	if tls {
		f.srv = httptest.NewTLSServer(rec)
	} else {
		f.srv = httptest.NewServer(rec)
	}
	t.Cleanup(func() { f.srv.Close(); n.Close() })
	if _, err := f.client(static(localCreds)).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// client is an SDK client of the front with creds, logging into f.log. It
// computes request checksums and validates response ones when the
// operation supports them, as config.LoadDefaultConfig's clients (Depot's)
// do by default.
func (f *front) client(creds aws.CredentialsProvider, optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region: frontRegion, BaseEndpoint: aws.String(f.srv.URL), UsePathStyle: true,
		Credentials: creds, HTTPClient: f.srv.Client(), Logger: f.log.logger(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}, optFns...)
}

// shiftClock moves the engine's clock by d until the test ends.
func (f *front) shiftClock(t *testing.T, d time.Duration) {
	f.h.now = func() time.Time { return time.Now().Add(d) }
	t.Cleanup(func() { f.h.now = time.Now })
}

func (f *front) put(t *testing.T, key string, data []byte) {
	t.Helper()
	_, err := f.client(static(localCreds)).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(data), ContentType: aws.String("image/jpeg")})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// stored returns an object's bytes as the backend holds them, or nil.
func (f *front) stored(key string) []byte {
	obj, err := f.h.backend.GetObject(testBucket, key, nil)
	if err != nil {
		return nil
	}
	defer obj.Contents.Close()
	b, _ := io.ReadAll(obj.Contents)
	return b
}

func (f *front) do(t *testing.T, req *http.Request) (*http.Response, xmlError) {
	t.Helper()
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e xmlError
	if resp.StatusCode >= 300 && len(body) > 0 {
		e = decodeError(t, body)
		if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
			t.Errorf("error Content-Type %q", ct)
		}
	}
	return resp, e
}

// apiError is the status and S3 error code of an SDK call's error.
func apiError(err error) (int, string) {
	if err == nil {
		return 200, ""
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return status, ae.ErrorCode()
	}
	return status, err.Error()
}

// garbleSignature replaces the signature of every request the client signs.
func garbleSignature(o *s3.Options) {
	mw := middleware.FinalizeMiddlewareFunc("garbleSignature", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			a := req.Header.Get("Authorization")
			if i := strings.Index(a, "Signature="); i >= 0 {
				req.Header.Set("Authorization", a[:i]+"Signature="+strings.Repeat("0", 64))
			}
		}
		return next.HandleFinalize(ctx, in)
	})
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Finalize.Add(mw, middleware.After) })
}

const (
	victimKey  = "thumbnails/ITEM/UP/160.jpg"
	victimData = "the real thumbnail"
)

// Anyone on loopback without the engine's key, or with a stale or broken
// signature, can neither read, list, write, overwrite nor delete, through
// the SDK or a presigned URL or POST; and the victim object stays as it was.
func TestUnauthenticatedRequestsRefused(t *testing.T) {
	attackers := []struct {
		name   string
		creds  aws.CredentialsProvider
		opts   func(*s3.Options)
		clock  time.Duration // the engine's clock moved by this
		status int
		code   string // for requests signed in the Authorization header
		// for presigned GETs and POSTs (default: code)
		presignCode, postCode string
	}{
		{name: "no signature", creds: aws.AnonymousCredentials{}, status: 403, code: "AccessDenied"},
		{name: "garbage signature", creds: static(localCreds), opts: garbleSignature, status: 403, code: "SignatureDoesNotMatch"},
		{name: "wrong secret", creds: static(aws.Credentials{AccessKeyID: "local", SecretAccessKey: "guess"}), status: 403, code: "SignatureDoesNotMatch"},
		{name: "unknown access key", creds: static(aws.Credentials{AccessKeyID: "AKIAEVIL", SecretAccessKey: "local"}), status: 403, code: "InvalidAccessKeyId"},
		// Eight days on: past any presigned URL's week and the policy's
		// expiration, far outside the 15 minutes allowed a signed request.
		{name: "expired", creds: static(localCreds), clock: 8 * 24 * time.Hour, status: 403, code: "RequestTimeTooSkewed",
			presignCode: "AccessDenied", postCode: "AccessDenied"},
	}
	type result struct {
		status int
		code   string
		kind   string // "header", "presign" or "post"
	}
	ops := []struct {
		name string
		do   func(t *testing.T, f *front, c *s3.Client, who string) result
	}{
		{"list the bucket", func(t *testing.T, f *front, c *s3.Client, who string) result {
			_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
			s, code := apiError(err)
			return result{s, code, "header"}
		}},
		{"read an object", func(t *testing.T, f *front, c *s3.Client, who string) result {
			_, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(victimKey)})
			s, code := apiError(err)
			return result{s, code, "header"}
		}},
		{"PUT into uploads/", func(t *testing.T, f *front, c *s3.Client, who string) result {
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("uploads/ITEM/EVIL"),
				Body: strings.NewReader("evil")})
			s, code := apiError(err)
			return result{s, code, "header"}
		}},
		{"overwrite an object", func(t *testing.T, f *front, c *s3.Client, who string) result {
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(victimKey),
				Body: strings.NewReader("evil")})
			s, code := apiError(err)
			return result{s, code, "header"}
		}},
		{"delete objects", func(t *testing.T, f *front, c *s3.Client, who string) result {
			_, err := c.DeleteObjects(context.Background(), &s3.DeleteObjectsInput{Bucket: aws.String(testBucket),
				Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String(victimKey)}}}})
			s, code := apiError(err)
			return result{s, code, "header"}
		}},
		{"read through a presigned GET", func(t *testing.T, f *front, c *s3.Client, who string) result {
			u := f.srv.URL + "/" + testBucket + "/" + victimKey // no credentials: no signature
			if who != "no signature" {
				var err error
				if u, err = media.New(c, testBucket).PresignGet(context.Background(), victimKey, "image/png", time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if who == "garbage signature" {
				p, _ := url.Parse(u)
				q := p.Query()
				q.Set("X-Amz-Signature", strings.Repeat("0", 64))
				p.RawQuery = q.Encode()
				u = p.String()
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			resp, e := f.do(t, req)
			return result{resp.StatusCode, e.Code, "presign"}
		}},
		{"upload through a presigned POST", func(t *testing.T, f *front, c *s3.Client, who string) result {
			// No credentials: a form without signature.
			post := inventory.UploadForm{URL: f.srv.URL + "/" + testBucket, Fields: map[string]string{"key": "uploads/ITEM/EVIL", "Content-Type": "image/png"}}
			if who != "no signature" {
				var err error
				if post, err = media.New(c, testBucket).PresignUpload(context.Background(), inventory.UploadKey("ITEM", "EVIL"), "image/png", 1024, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if who == "garbage signature" {
				post.Fields["X-Amz-Signature"] = strings.Repeat("0", 64)
			}
			fields := formFields(post.Fields)
			resp, body := postTo(t, f.srv.Client(), post.URL, fields, png(10))
			var code string
			if resp.StatusCode >= 300 {
				code = decodeError(t, body).Code
			}
			return result{resp.StatusCode, code, "post"}
		}},
	}
	for _, a := range attackers {
		for _, op := range ops {
			t.Run(a.name+"/"+op.name, func(t *testing.T) {
				f := startFront(t, false)
				f.put(t, victimKey, []byte(victimData))
				f.shiftClock(t, a.clock)
				var opts []func(*s3.Options)
				if a.opts != nil {
					opts = append(opts, a.opts)
				}
				c := f.client(a.creds, append(opts, func(o *s3.Options) { o.RetryMaxAttempts = 1 })...)
				got := op.do(t, f, c, a.name)
				want := a.code
				switch {
				case got.kind == "presign" && a.presignCode != "":
					want = a.presignCode
				case got.kind == "post" && a.postCode != "":
					want = a.postCode
				}
				if got.status != a.status || got.code != want {
					t.Errorf("got %d %s, want %d %s", got.status, got.code, a.status, want)
				}
				if b := f.stored(victimKey); string(b) != victimData {
					t.Errorf("victim object now %q", b)
				}
				if b := f.stored("uploads/ITEM/EVIL"); b != nil {
					t.Errorf("uploads/ITEM/EVIL stored: %q", b)
				}
			})
		}
	}
}

// postTo sends a browser form upload with client.
func postTo(t *testing.T, client *http.Client, u string, fields [][2]string, data []byte) (*http.Response, []byte) {
	t.Helper()
	body, ct := multipartBody(t, fields, data)
	resp, err := client.Post(u, ct, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Presigned URLs and POST forms made by internal/media, altered after
// signing, are refused; the upload beyond the signed size range is not
// stored.
func TestTamperedPresignedRequestsRefused(t *testing.T) {
	const maxBytes = 64
	rewritePolicy := func(fields [][2]string, edit func(doc map[string]any)) [][2]string {
		var policy string
		for _, f := range fields {
			if f[0] == "policy" {
				policy = f[1]
			}
		}
		raw, _ := base64.StdEncoding.DecodeString(policy)
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			panic(err)
		}
		edit(doc)
		out, _ := json.Marshal(doc)
		return setField(fields, "policy", base64.StdEncoding.EncodeToString(out))
	}
	conditions := func(doc map[string]any) []any { return doc["conditions"].([]any) }
	posts := []struct {
		name   string
		tamper func([][2]string) [][2]string
		size   int
		status int
		code   string
	}{
		{"content-length-range widened in the policy", func(f [][2]string) [][2]string {
			return rewritePolicy(f, func(doc map[string]any) {
				for _, c := range conditions(doc) {
					if arr, ok := c.([]any); ok && arr[0] == "content-length-range" {
						arr[2] = 1 << 30
					}
				}
			})
		}, 1000, 403, "SignatureDoesNotMatch"},
		{"key condition widened in the policy", func(f [][2]string) [][2]string {
			f = rewritePolicy(f, func(doc map[string]any) {
				for i, c := range conditions(doc) {
					if arr, ok := c.([]any); ok && arr[0] == "eq" && arr[1] == "$key" {
						conditions(doc)[i] = []any{"starts-with", "$key", ""}
					}
					if m, ok := c.(map[string]any); ok && m["key"] != nil {
						conditions(doc)[i] = []any{"starts-with", "$key", ""}
					}
				}
			})
			return setField(f, "key", "thumbnails/ITEM/UP/160.jpg")
		}, 10, 403, "SignatureDoesNotMatch"},
		{"policy expiration extended", func(f [][2]string) [][2]string {
			return rewritePolicy(f, func(doc map[string]any) { doc["expiration"] = "2099-01-01T00:00:00Z" })
		}, 10, 403, "SignatureDoesNotMatch"},
		{"signature field garbled", func(f [][2]string) [][2]string {
			return setField(f, "X-Amz-Signature", strings.Repeat("f", 64))
		}, 10, 403, "SignatureDoesNotMatch"},
		{"key field changed", func(f [][2]string) [][2]string { return setField(f, "key", "thumbnails/ITEM/UP/160.jpg") },
			10, 403, "AccessDenied"},
		{"Content-Type field changed", func(f [][2]string) [][2]string { return setField(f, "Content-Type", "text/html") },
			10, 403, "AccessDenied"},
		{"credential changed to another key", func(f [][2]string) [][2]string {
			for _, x := range f {
				if x[0] == "X-Amz-Credential" {
					return setField(f, "X-Amz-Credential", "eve"+strings.TrimPrefix(x[1], "local"))
				}
			}
			return f
		}, 10, 403, "InvalidAccessKeyId"},
		{"algorithm changed", func(f [][2]string) [][2]string { return setField(f, "X-Amz-Algorithm", "AWS4-HMAC-SHA1") },
			10, 400, "InvalidArgument"},
		{"signature field removed", func(f [][2]string) [][2]string {
			var out [][2]string
			for _, x := range f {
				if x[0] != "X-Amz-Signature" {
					out = append(out, x)
				}
			}
			return out
		}, 10, 400, "InvalidArgument"},
		{"untampered but past content-length-range", func(f [][2]string) [][2]string { return f }, maxBytes + 1, 400, "EntityTooLarge"},
	}
	for _, tc := range posts {
		t.Run("POST/"+tc.name, func(t *testing.T) {
			f := startFront(t, false)
			f.put(t, victimKey, []byte(victimData))
			post, err := media.New(f.client(static(localCreds)), testBucket).PresignUpload(context.Background(), inventory.UploadKey("ITEM", "UP"), "image/png", maxBytes, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := postTo(t, f.srv.Client(), post.URL, tc.tamper(formFields(post.Fields)), png(tc.size))
			if e := decodeError(t, body); resp.StatusCode != tc.status || e.Code != tc.code {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, e, tc.status, tc.code)
			}
			if b := f.stored("uploads/ITEM/UP"); b != nil {
				t.Errorf("upload stored: %d bytes", len(b))
			}
			if b := f.stored(victimKey); string(b) != victimData {
				t.Errorf("victim object now %q", b)
			}
		})
	}

	gets := []struct {
		name   string
		tamper func(u *url.URL)
		code   string
	}{
		{"key changed", func(u *url.URL) { u.Path = strings.Replace(u.Path, "160.jpg", "640.jpg", 1) }, "SignatureDoesNotMatch"},
		{"expiry raised", func(u *url.URL) {
			q := u.Query()
			q.Set("X-Amz-Expires", "604800")
			u.RawQuery = q.Encode()
		}, "SignatureDoesNotMatch"},
		{"response-content-type added", func(u *url.URL) { u.RawQuery += "&response-content-type=text%2Fhtml" }, "SignatureDoesNotMatch"},
		{"signature removed", func(u *url.URL) {
			q := u.Query()
			q.Del("X-Amz-Signature")
			u.RawQuery = q.Encode()
		}, "AuthorizationQueryParametersError"},
		{"expiry beyond a week", func(u *url.URL) {
			q := u.Query()
			q.Set("X-Amz-Expires", "604801")
			u.RawQuery = q.Encode()
		}, "AuthorizationQueryParametersError"},
	}
	for _, tc := range gets {
		t.Run("presigned GET/"+tc.name, func(t *testing.T) {
			f := startFront(t, false)
			f.put(t, victimKey, []byte(victimData))
			f.put(t, "thumbnails/ITEM/UP/640.jpg", []byte("other"))
			raw, err := media.New(f.client(static(localCreds)), testBucket).PresignGet(context.Background(), victimKey, "image/png", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(raw)
			tc.tamper(u)
			req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
			resp, e := f.do(t, req)
			if resp.StatusCode/100 != 4 || e.Code != tc.code {
				t.Errorf("got %d %+v, want %s", resp.StatusCode, e, tc.code)
			}
		})
	}

	// A presigned PUT for one key writes no other, and not after expiry.
	t.Run("presigned PUT", func(t *testing.T) {
		f := startFront(t, false)
		f.put(t, victimKey, []byte(victimData))
		ps, err := s3.NewPresignClient(f.client(static(localCreds))).PresignPutObject(context.Background(),
			&s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("uploads/ITEM/UP")}, s3.WithPresignExpires(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		put := func(u string) (*http.Response, xmlError) {
			req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader("evil"))
			for k, v := range ps.SignedHeader {
				if !strings.EqualFold(k, "host") {
					req.Header[k] = v
				}
			}
			return f.do(t, req)
		}
		other := strings.Replace(ps.URL, "uploads/ITEM/UP", "thumbnails/ITEM/UP/160.jpg", 1)
		if resp, e := put(other); resp.StatusCode != 403 || e.Code != "SignatureDoesNotMatch" {
			t.Errorf("other key: %d %+v", resp.StatusCode, e)
		}
		f.shiftClock(t, 2*time.Minute)
		if resp, e := put(ps.URL); resp.StatusCode != 403 || e.Code != "AccessDenied" || e.Message != "Request has expired" {
			t.Errorf("expired: %d %+v", resp.StatusCode, e)
		}
		f.shiftClock(t, 0)
		if resp, e := put(ps.URL); resp.StatusCode != 200 {
			t.Errorf("in time: %d %+v", resp.StatusCode, e)
		}
		if string(f.stored("uploads/ITEM/UP")) != "evil" || string(f.stored(victimKey)) != victimData {
			t.Error("presigned PUT wrote the wrong object")
		}
	})
}
