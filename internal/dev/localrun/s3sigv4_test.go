package localrun

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// AWS's documentation signs its examples with this key, at this time.
const (
	awsExampleKeyID  = "AKIAIOSFODNN7EXAMPLE"
	awsExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsExampleAuth   = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
)

var awsExampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func awsExampleVerifier() *s3Auth {
	return &s3Auth{secrets: map[string]string{awsExampleKeyID: awsExampleSecret}, region: "us-east-1",
		now: func() time.Time { return awsExampleTime }}
}

// The worked examples of AWS's SigV4 pages for S3
// (sig-v4-header-based-auth.html, sigv4-query-string-auth.html) verify, and
// stop verifying when one signed thing changes. The canonical request the
// verifier builds for the GET example is the one AWS prints.
func TestAWSPublishedSignatures(t *testing.T) {
	newReq := func(method, target, host string, hdr map[string]string) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		r.Host = host
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return r
	}
	const host = "examplebucket.s3.amazonaws.com"
	cases := []struct {
		name   string
		req    func() *http.Request
		tamper func(r *http.Request)
	}{
		{"GET object", func() *http.Request {
			return newReq("GET", "/test.txt", host, map[string]string{
				"Range": "bytes=0-9", "x-amz-content-sha256": emptySHA256, "x-amz-date": "20130524T000000Z",
				"Authorization": awsExampleAuth + ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"})
		}, func(r *http.Request) { r.Header.Set("Range", "bytes=0-99") }},
		{"PUT object, a key with $ and a Date header", func() *http.Request {
			return newReq("PUT", "/test$file.text", host, map[string]string{
				"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-date": "20130524T000000Z", "x-amz-storage-class": "REDUCED_REDUNDANCY",
				"x-amz-content-sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
				"Authorization":        awsExampleAuth + ",SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"})
		}, func(r *http.Request) { r.Header.Set("x-amz-storage-class", "STANDARD") }},
		{"GET bucket, a query", func() *http.Request {
			return newReq("GET", "/?max-keys=2&prefix=J", host, map[string]string{
				"x-amz-content-sha256": emptySHA256, "x-amz-date": "20130524T000000Z",
				"Authorization": awsExampleAuth + ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"})
		}, func(r *http.Request) { r.URL.RawQuery = "max-keys=2&prefix=K" }},
		{"presigned GET", func() *http.Request {
			return newReq("GET", "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"+
				"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"+
				"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", host, nil)
		}, func(r *http.Request) { r.Host = "otherbucket.s3.amazonaws.com" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, e := awsExampleVerifier().verify(tc.req()); e != nil {
				t.Fatalf("AWS's example refused: %+v", e)
			}
			r := tc.req()
			tc.tamper(r)
			r.RequestURI = r.URL.RequestURI()
			if _, e := awsExampleVerifier().verify(r); e == nil || e.Code != "SignatureDoesNotMatch" || e.status != 403 {
				t.Errorf("tampered example: %+v", e)
			}
		})
	}

	// With a wrong signature, the error shows the canonical request and
	// string to sign as AWS's page does.
	r := cases[0].req()
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "f0e8bdb8", "00000000", 1))
	_, e := awsExampleVerifier().verify(r)
	wantCanonical := "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:" + emptySHA256 +
		"\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" + emptySHA256
	wantSTS := "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
	if e == nil || e.CanonicalRequest != wantCanonical || e.StringToSign != wantSTS || e.AWSAccessKeyID != awsExampleKeyID ||
		!strings.HasPrefix(e.StringToSignBytes, "41 57 53 34 2d") || !strings.HasPrefix(e.SignatureProvided, "00000000") {
		t.Errorf("mismatch details: %+v", e)
	}
}

// streamingExample is one of AWS's chunked upload examples
// (sigv4-streaming.html, sigv4-streaming-trailers.html): 66560 bytes of
// 'a' as a 65536-byte chunk, a 1024-byte one and the final empty one.
type streamingExample struct {
	mode, signedHeaders, seed string
	chunkSigs                 [3]string
	trailer, trailerSig       string
}

var streamingExamples = []streamingExample{{
	mode:          streamingSigned,
	signedHeaders: "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
	seed:          "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
	chunkSigs: [3]string{"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
}, {
	mode:          streamingSignedTrailer,
	signedHeaders: "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
	seed:          "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
	chunkSigs: [3]string{"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"},
	trailer:    "x-amz-checksum-crc32c:sOO8/Q==",
	trailerSig: "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
}}

func (e streamingExample) body() string {
	body := "10000;chunk-signature=" + e.chunkSigs[0] + "\r\n" + strings.Repeat("a", 65536) + "\r\n" +
		"400;chunk-signature=" + e.chunkSigs[1] + "\r\n" + strings.Repeat("a", 1024) + "\r\n" +
		"0;chunk-signature=" + e.chunkSigs[2] + "\r\n"
	if e.trailer != "" {
		body += e.trailer + "\r\nx-amz-trailer-signature:" + e.trailerSig + "\r\n"
	}
	return body + "\r\n"
}

func (e streamingExample) request(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/examplebucket/chunkObject.txt", strings.NewReader(body))
	r.Host = "s3.amazonaws.com"
	r.Header.Set("x-amz-date", "20130524T000000Z")
	r.Header.Set("x-amz-storage-class", "REDUCED_REDUNDANCY")
	r.Header.Set("x-amz-content-sha256", e.mode)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("x-amz-decoded-content-length", "66560")
	r.Header.Set("Content-Length", "66824") // as the first example signs it
	if e.trailer != "" {
		r.Header.Set("x-amz-trailer", "x-amz-checksum-crc32c")
	}
	r.Header.Set("Authorization", awsExampleAuth+",SignedHeaders="+e.signedHeaders+",Signature="+e.seed)
	return r
}

// AWS's signed chunked uploads (the Go SDK sends only the unsigned form)
// are stored whole through the engine, with the trailing CRC32C as the
// object's checksum; any change to a chunk, a signature or the trailer is
// refused and stores nothing.
func TestAWSPublishedStreamingUploads(t *testing.T) {
	newHandler := func(t *testing.T) *s3Handler {
		h, n := newS3Handler(S3Options{Region: "us-east-1", Credentials: map[string]string{awsExampleKeyID: awsExampleSecret}})
		t.Cleanup(func() { n.Close() })
		h.now = func() time.Time { return awsExampleTime }
		if err := h.backend.CreateBucket("examplebucket"); err != nil {
			t.Fatal(err)
		}
		return h
	}
	stored := func(h *s3Handler) (string, map[string]string) {
		obj, err := h.backend.GetObject("examplebucket", "chunkObject.txt", nil)
		if err != nil {
			return "", nil
		}
		defer obj.Contents.Close()
		b, _ := io.ReadAll(obj.Contents)
		return string(b), obj.Metadata
	}
	for _, ex := range streamingExamples {
		t.Run(ex.mode, func(t *testing.T) {
			h := newHandler(t)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, ex.request(ex.body()))
			if w.Code != 200 {
				t.Fatalf("documented upload: %d %s", w.Code, w.Body)
			}
			data, meta := stored(h)
			if data != strings.Repeat("a", 66560) || meta["X-Amz-Storage-Class"] != "REDUCED_REDUNDANCY" || meta["Content-Encoding"] != "" {
				t.Errorf("stored %d bytes, metadata %v", len(data), meta)
			}
			wantSum := algCRC64NVME + " " + checksumOf(algCRC64NVME, []byte(data))
			if ex.trailer != "" {
				wantSum = "CRC32C sOO8/Q=="
			}
			if meta[checksumMeta] != wantSum {
				t.Errorf("checksum %q, want %q", meta[checksumMeta], wantSum)
			}
		})
	}

	ex := streamingExamples[0]
	good := ex.body()
	chunk := func(data, sig string) string {
		return strconv.FormatInt(int64(len(data)), 16) + ";chunk-signature=" + sig + "\r\n" + data + "\r\n"
	}
	final := "0;chunk-signature=" + ex.chunkSigs[2] + "\r\n\r\n"
	tampered := []struct {
		name, body string
		ex         streamingExample
		code       string
	}{
		{"a data byte changed", strings.Replace(good, "a\r\n400;", "b\r\n400;", 1), ex, "SignatureDoesNotMatch"},
		{"a chunk signature changed", strings.Replace(good, ex.chunkSigs[1], strings.Repeat("0", 64), 1), ex, "SignatureDoesNotMatch"},
		{"a chunk signature missing", strings.Replace(good, "400;chunk-signature="+ex.chunkSigs[1], "400", 1), ex, "SignatureDoesNotMatch"},
		{"chunks reordered", chunk(strings.Repeat("a", 1024), ex.chunkSigs[1]) + chunk(strings.Repeat("a", 65536), ex.chunkSigs[0]) + final, ex, "SignatureDoesNotMatch"},
		{"the last chunk dropped", chunk(strings.Repeat("a", 65536), ex.chunkSigs[0]) + final, ex, "SignatureDoesNotMatch"},
		{"cut short", good[:60000], ex, "IncompleteBody"},
		{"a trailer added to an untrailered body", strings.TrimSuffix(good, "\r\n") + "x-amz-checksum-crc32:AAAAAA==\r\n\r\n", ex, "MalformedTrailerError"},
		{"the trailing checksum changed", strings.Replace(streamingExamples[1].body(), "sOO8/Q==", "AAAAAA==", 1), streamingExamples[1], "SignatureDoesNotMatch"},
		{"the trailer signature changed", strings.Replace(streamingExamples[1].body(), streamingExamples[1].trailerSig, strings.Repeat("0", 64), 1),
			streamingExamples[1], "SignatureDoesNotMatch"},
		{"the trailer dropped", strings.Replace(streamingExamples[1].body(), streamingExamples[1].trailer+"\r\n", "", 1), streamingExamples[1], "SignatureDoesNotMatch"},
	}
	for _, tc := range tampered {
		t.Run("tampered/"+tc.name, func(t *testing.T) {
			h := newHandler(t)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.ex.request(tc.body))
			e := decodeError(t, w.Body.Bytes())
			if w.Code/100 != 4 || e.Code != tc.code {
				t.Errorf("got %d %+v, want %s", w.Code, e, tc.code)
			}
			if data, _ := stored(h); data != "" {
				t.Errorf("stored %d bytes", len(data))
			}
		})
	}
}

// Requests signed by aws-sdk-go-v2's own signer verify, whatever the key,
// query and headers: the engine canonicalizes as the reference signer does.
func TestVerifierAgreesWithSDKSigner(t *testing.T) {
	f := startFront(t, false)
	c := f.client(static(localCreds))
	ctx := context.Background()
	keys := []string{
		"plain.txt",
		"with space/and+plus=equals&amp.txt",
		"ünïcødé/日本語/ß.bin",
		"tilde~dash-dot._underscore",
		"percent%25 and %2F encoded",
		"brackets[1](2){3}!$'*,;:@",
		"double//slash/ends/",
	}
	for _, key := range keys {
		data := []byte("bytes of " + key)
		// Header-signed PUT by the SDK signer, with extra signed headers.
		u := f.srv.URL + "/" + testBucket + "/" + uriEncode(key, false)
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Cache-Control", "private,   max-age=60")
		req.Header.Set("X-Amz-Meta-Note", "  spaced   out  ")
		sdkSign(t, req, data, frontRegion, localCreds, time.Now())
		if resp, e := f.do(t, req); resp.StatusCode != 200 {
			t.Errorf("PUT %q: %d %+v", key, resp.StatusCode, e)
			continue
		}
		// Presigned GET by the SDK signer.
		req, _ = http.NewRequest(http.MethodGet, u+"?response-content-type=text%2Fcsv&x-id=GetObject", nil)
		pu := sdkPresign(t, req, frontRegion, localCreds, time.Now(), time.Minute)
		req, _ = http.NewRequest(http.MethodGet, pu, nil)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "text/csv" {
			t.Errorf("presigned GET %q: %d %q", key, resp.StatusCode, body)
		}
		// And the SDK client, which builds its own URLs.
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("GetObject %q: %v", key, err)
			continue
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) || !strings.Contains(out.Metadata["note"], "spaced") {
			t.Errorf("GetObject %q: %q %v", key, got, out.Metadata)
		}
	}
	// Queries with characters to encode.
	for _, prefix := range []string{"with space/and+", "ünïcødé/", "percent%25 and"} {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix),
			Delimiter: aws.String("/"), StartAfter: aws.String("!&=+ ")})
		if err != nil || len(out.Contents)+len(out.CommonPrefixes) == 0 {
			t.Errorf("ListObjectsV2 prefix %q: %v %+v", prefix, err, out)
		}
	}
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(testBucket), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String(keys[1])}, {Key: aws.String(keys[2])}}}}); err != nil {
		t.Errorf("DeleteObjects: %v", err)
	}
	if f.stored(keys[1]) != nil || f.stored(keys[2]) == nil && f.stored(keys[0]) == nil {
		t.Error("DeleteObjects deleted the wrong objects")
	}
}

// Malformed, stale or incomplete authentication gets S3's error, with its
// code, status and details, and writes nothing.
func TestSignatureErrors(t *testing.T) {
	f := startFront(t, false)
	f.put(t, "k", []byte("original"))
	base := f.srv.URL + "/" + testBucket + "/k"
	signed := func(mod func(r *http.Request), at time.Time, region string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r, _ := http.NewRequest(http.MethodPut, base, strings.NewReader("evil"))
			sdkSign(t, r, []byte("evil"), region, localCreds, at)
			if mod != nil {
				mod(r)
			}
			return r
		}
	}
	presigned := func(mod func(q url.Values)) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r, _ := http.NewRequest(http.MethodPut, base, nil)
			u, _ := url.Parse(sdkPresign(t, r, frontRegion, localCreds, time.Now(), time.Minute))
			q := u.Query()
			mod(q)
			u.RawQuery = q.Encode()
			r, _ = http.NewRequest(http.MethodPut, u.String(), strings.NewReader("evil"))
			return r
		}
	}
	setAuth := func(from, to string) func(r *http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), from, to, 1))
		}
	}
	now := time.Now()
	cases := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		status int
		code   string
		msg    string
		check  func(e xmlError) bool
	}{
		{"a signed header changed after signing", signed(func(r *http.Request) { r.Header.Set("X-Amz-Date", now.Add(time.Second).UTC().Format(amzDateLayout)) }, now, frontRegion),
			403, "SignatureDoesNotMatch", "Check your key and signing method", nil},
		{"an unsigned x-amz-meta header added", signed(func(r *http.Request) { r.Header.Set("X-Amz-Meta-Owner", "eve") }, now, frontRegion),
			403, "AccessDenied", "There were headers present in the request which were not signed", func(e xmlError) bool { return e.HeadersNotSigned == "x-amz-meta-owner" }},
		{"host not signed", signed(setAuth("host;", ""), now, frontRegion),
			403, "AccessDenied", "not signed", func(e xmlError) bool { return e.HeadersNotSigned == "host" }},
		{"x-amz-content-sha256 missing", signed(func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, now, frontRegion),
			400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256", nil},
		{"x-amz-content-sha256 not a hash", signed(func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "nope") }, now, frontRegion),
			400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD", nil},
		{"signed 16 minutes ago", signed(nil, now.Add(-16*time.Minute), frontRegion),
			403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
			func(e xmlError) bool {
				return e.MaxAllowedSkewMilliseconds == "900000" && e.RequestTime != "" && e.ServerTime != ""
			}},
		{"signed 16 minutes ahead", signed(nil, now.Add(16*time.Minute), frontRegion), 403, "RequestTimeTooSkewed", "", nil},
		{"signed for another region", signed(nil, now, "eu-west-1"),
			400, "AuthorizationHeaderMalformed", "the region 'eu-west-1' is wrong; expecting 'us-east-1'", func(e xmlError) bool { return e.Region == "us-east-1" }},
		{"signed for another service", signed(setAuth("/s3/", "/sqs/"), now, frontRegion),
			400, "AuthorizationHeaderMalformed", `incorrect service "sqs"`, nil},
		{"credential date not the request's", signed(setAuth("/"+now.UTC().Format("20060102")+"/", "/20130524/"), now, frontRegion),
			400, "AuthorizationHeaderMalformed", "Invalid credential date", nil},
		{"credential mal-formed", signed(setAuth("Credential=local/", "Credential=local-"), now, frontRegion),
			400, "AuthorizationHeaderMalformed", "the Credential is mal-formed", nil},
		{"no Signature component", signed(func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}, now, frontRegion), 400, "AuthorizationHeaderMalformed", "missing Signature.", nil},
		{"no date", signed(func(r *http.Request) { r.Header.Del("X-Amz-Date") }, now, frontRegion),
			403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", nil},
		{"a session token", signed(func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "tok") }, now, frontRegion), 400, "InvalidToken", "", nil},
		{"Signature Version 2", func(t *testing.T) *http.Request {
			r, _ := http.NewRequest(http.MethodPut, base, strings.NewReader("evil"))
			r.Header.Set("Authorization", "AWS local:c2lnbmF0dXJl")
			return r
		}, 400, "InvalidRequest", "Please use AWS4-HMAC-SHA256", nil},
		{"an unknown scheme", func(t *testing.T) *http.Request {
			r, _ := http.NewRequest(http.MethodPut, base, strings.NewReader("evil"))
			r.Header.Set("Authorization", "Bearer token")
			return r
		}, 400, "InvalidArgument", "Unsupported Authorization Type", nil},
		{"both header and query authentication", presigned(func(q url.Values) {}), 0, "", "", nil}, // replaced below
		{"presigned, X-Amz-Credential missing", presigned(func(q url.Values) { q.Del("X-Amz-Credential") }),
			400, "AuthorizationQueryParametersError", "requires the X-Amz-Algorithm, X-Amz-Credential", nil},
		{"presigned, a negative X-Amz-Expires", presigned(func(q url.Values) { q.Set("X-Amz-Expires", "-1") }),
			400, "AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative", nil},
		{"presigned for the future", presigned(func(q url.Values) { dated(q, now, now.Add(time.Hour)) }),
			403, "AccessDenied", "Request is not valid yet", nil},
		{"presigned an hour ago for a minute", presigned(func(q url.Values) { dated(q, now, now.Add(-time.Hour)) }),
			403, "AccessDenied", "Request has expired", func(e xmlError) bool { return e.XAmzExpires == "60" && e.Expires != "" && e.ServerTime != "" }},
		{"presigned with SigV2 parameters", func(t *testing.T) *http.Request {
			r, _ := http.NewRequest(http.MethodPut, base+"?AWSAccessKeyId=local&Expires=9999999999&Signature=x", strings.NewReader("evil"))
			return r
		}, 400, "InvalidRequest", "Please use AWS4-HMAC-SHA256", nil},
	}
	cases[16].req = func(t *testing.T) *http.Request {
		r := presigned(func(q url.Values) {})(t)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
		return r
	}
	cases[16].status, cases[16].code, cases[16].msg = 400, "InvalidArgument", "Only one auth mechanism allowed"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, e := f.do(t, tc.req(t))
			if resp.StatusCode != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got %d %+v, want %d %s %q", resp.StatusCode, e, tc.status, tc.code, tc.msg)
			}
			if tc.check != nil && !tc.check(e) {
				t.Errorf("details: %+v", e)
			}
			if got := f.stored("k"); string(got) != "original" {
				t.Errorf("object now %q", got)
			}
		})
	}
}

// The canonical forms, piece by piece, as S3 builds them.
func TestCanonicalization(t *testing.T) {
	for _, tc := range []struct{ target, uri, query string }{
		{"/", "/", ""},
		{"/bucket/a%20b+c", "/bucket/a%20b%2Bc", ""},             // '+' in a path is a plus
		{"/bucket/a%2Fb/c", "/bucket/a%2Fb/c", ""},               // an encoded slash stays encoded
		{"/bucket/%7Etilde/%C3%BC", "/bucket/~tilde/%C3%BC", ""}, // encoded once, unreserved left alone
		{"/bucket/x?prefix=a+b&max-keys=2&list-type=2", "/bucket/x", "list-type=2&max-keys=2&prefix=a%20b"},
		{"/bucket?uploads", "/bucket", "uploads="},
		{"/bucket?b=2&a=3&a=1&c=%2F%3D", "/bucket", "a=1&a=3&b=2&c=%2F%3D"},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.target, nil)
		if got := canonicalURI(r); got != tc.uri {
			t.Errorf("canonicalURI(%s) = %s, want %s", tc.target, got, tc.uri)
		}
		if got := canonicalQuery(r.URL.RawQuery, ""); got != tc.query {
			t.Errorf("canonicalQuery(%s) = %s, want %s", tc.target, got, tc.query)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Add("X-Amz-Meta-A", "  one   two ")
	r.Header.Add("X-Amz-Meta-A", "three")
	if got := canonicalHeaderValue(r, "x-amz-meta-a"); got != "one two,three" {
		t.Errorf("canonicalHeaderValue = %q", got)
	}
	if got := canonicalQuery("X-Amz-Signature=abc&X-Amz-Date=1", "X-Amz-Signature"); got != "X-Amz-Date=1" {
		t.Errorf("presigned canonicalQuery = %q", got)
	}
}

// UNSIGNED-PAYLOAD signs the request but not its body, as on S3: the body
// is taken as sent, and a checksum header is what still guards it.
func TestUnsignedPayload(t *testing.T) {
	f := startFront(t, false)
	put := func(body string, hdr map[string]string) (*http.Response, xmlError) {
		r, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/"+testBucket+"/k", strings.NewReader(body))
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err := signer.SignHTTP(context.Background(), localCreds, r, unsignedPayload, "s3", frontRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		return f.do(t, r)
	}
	if resp, e := put("any body", nil); resp.StatusCode != 200 || string(f.stored("k")) != "any body" {
		t.Fatalf("UNSIGNED-PAYLOAD PUT: %d %+v", resp.StatusCode, e)
	}
	if resp, e := put("changed", map[string]string{"x-amz-checksum-crc32": checksumOf(algCRC32, []byte("meant"))}); resp.StatusCode != 400 || e.Code != "BadDigest" {
		t.Errorf("UNSIGNED-PAYLOAD with a wrong checksum: %d %+v", resp.StatusCode, e)
	}
	if got := f.stored("k"); string(got) != "any body" {
		t.Errorf("object now %q", got)
	}
}

// The cost of verifying a typical SDK-signed request (PutObject headers).
func BenchmarkVerifyHeaderSignature(b *testing.B) {
	r := httptest.NewRequest(http.MethodPut, "/depot-images/uploads/01JQ8Z6T3V8K2M4N6P8R0S2T4V/01JQ94V6X8Z0A2C4E6G8J0K2M4", nil)
	r.Header.Set("Content-Type", "image/png")
	r.Header.Set("X-Amz-Checksum-Crc32", "AAAAAA==")
	sdkSign(b, r, []byte("body"), "us-east-1", localCreds, time.Now())
	a := &s3Auth{secrets: map[string]string{"local": "local"}, region: "us-east-1", now: time.Now}
	b.ReportAllocs()
	for b.Loop() {
		if _, e := a.verify(r); e != nil {
			b.Fatal(e)
		}
	}
}

// dated moves a presigned request's X-Amz-Date from now to t, and its
// credential scope's date with it: an hour away can be another day (at
// 23:30 or 00:30 UTC), and a scope of another day is a different error.
func dated(q url.Values, now, t time.Time) {
	q.Set("X-Amz-Date", t.UTC().Format(amzDateLayout))
	q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "/"+now.UTC().Format("20060102")+"/", "/"+t.UTC().Format("20060102")+"/", 1))
}
