package localrun

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/media"
)

const noChecksumWarning = "Response has no supported checksum"

// The SDK's own requests verify, over HTTP and over TLS (where it sends
// PutObject and UploadPart bodies aws-chunked with a trailing CRC32): every
// operation Depot and the tests use succeeds, stores what was sent, and
// each GetObject is validated against a stored checksum, so the SDK logs no
// "Response has no supported checksum".
func TestSDKOperationsAuthenticate(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			f := startFront(t, tls)
			c := f.client(static(localCreds))
			ctx := context.Background()
			big := bytes.Repeat([]byte("0123456789abcdef"), 20<<10) // 320 KiB

			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("second")}); err != nil {
				t.Fatalf("CreateBucket: %v", err)
			}
			put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a/big one+.bin"),
				Body: bytes.NewReader(big), ContentType: aws.String("application/octet-stream")})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if aws.ToString(put.ETag) != `"`+md5hex(big)+`"` {
				t.Errorf("PutObject ETag %s", aws.ToString(put.ETag))
			}
			// An unseekable body of known length.
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a/stream"),
				Body: io.MultiReader(bytes.NewReader(big[:100<<10])), ContentLength: aws.Int64(100 << 10)}); err != nil && tls {
				t.Errorf("PutObject unseekable: %v", err)
			} else if err == nil && !tls {
				t.Error("PutObject unseekable over HTTP: the SDK should refuse it (no trailer without TLS)")
			}

			get := func(key string) (*s3.GetObjectOutput, []byte) {
				t.Helper()
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("GetObject %s: %v", key, err)
				}
				defer out.Body.Close()
				b, err := io.ReadAll(out.Body)
				if err != nil {
					t.Fatalf("GetObject %s: read: %v", key, err)
				}
				return out, b
			}
			out, got := get("a/big one+.bin")
			if !bytes.Equal(got, big) || aws.ToString(out.ChecksumCRC32) != checksumOf(algCRC32, big) || out.ChecksumType != types.ChecksumTypeFullObject {
				t.Errorf("GetObject: %d bytes, CRC32 %q, type %q", len(got), aws.ToString(out.ChecksumCRC32), out.ChecksumType)
			}
			if tls {
				if _, got := get("a/stream"); !bytes.Equal(got, big[:100<<10]) {
					t.Errorf("unseekable PutObject stored %d bytes", len(got))
				}
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a/big one+.bin"), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil || aws.ToInt64(head.ContentLength) != int64(len(big)) || aws.ToString(head.ChecksumCRC32) != checksumOf(algCRC32, big) {
				t.Errorf("HeadObject: %v %+v", err, head)
			}
			list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("a/big one+")})
			if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "a/big one+.bin" {
				t.Errorf("ListObjectsV2: %v %+v", err, list)
			}
			if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("b/copy"),
				CopySource: aws.String(testBucket + "/a/big%20one%2B.bin")}); err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			if out, got := get("b/copy"); !bytes.Equal(got, big) || aws.ToString(out.ChecksumCRC32) != checksumOf(algCRC32, big) {
				t.Errorf("copy: %d bytes, CRC32 %q", len(got), aws.ToString(out.ChecksumCRC32))
			}

			// Multipart: parts of 5 MiB and 1 KiB.
			part1 := bytes.Repeat([]byte{'p'}, 5<<20)
			part2 := []byte(strings.Repeat("q", 1024))
			mpu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("c/multi")})
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			var parts []types.CompletedPart
			for i, p := range [][]byte{part1, part2} {
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("c/multi"), UploadId: mpu.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
				if err != nil {
					t.Fatalf("UploadPart %d: %v", i+1, err)
				}
				parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
			}
			if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("c/multi"),
				UploadId: mpu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			whole := append(append([]byte{}, part1...), part2...)
			if out, got := get("c/multi"); !bytes.Equal(got, whole) || aws.ToString(out.ChecksumCRC64NVME) != checksumOf(algCRC64NVME, whole) {
				t.Errorf("multipart: %d bytes, CRC64NVME %q", len(got), aws.ToString(out.ChecksumCRC64NVME))
			}

			// Presigned POST and GET made by internal/media.
			m := media.New(c, testBucket)
			post, err := m.PresignUpload(ctx, inventory.UploadKey("ITEM", "UP"), "image/png", 1024, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := postTo(t, f.srv.Client(), post.URL, formFields(post.Fields), png(200))
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("presigned POST: %d %s", resp.StatusCode, body)
			}
			if out, got := get("uploads/ITEM/UP"); !bytes.Equal(got, png(200)) || aws.ToString(out.ChecksumCRC64NVME) != checksumOf(algCRC64NVME, png(200)) {
				t.Errorf("POST upload: %d bytes, CRC64NVME %q", len(got), aws.ToString(out.ChecksumCRC64NVME))
			}
			if data, err := m.Get(ctx, "uploads/ITEM/UP", 1024); err != nil || !bytes.Equal(data, png(200)) {
				t.Errorf("media.Get: %d bytes %v", len(data), err)
			}
			u, err := m.PresignGet(ctx, "uploads/ITEM/UP", "image/png", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			gresp, err := f.srv.Client().Get(u)
			if err != nil {
				t.Fatal(err)
			}
			gbody, _ := io.ReadAll(gresp.Body)
			gresp.Body.Close()
			if gresp.StatusCode != 200 || !bytes.Equal(gbody, png(200)) {
				t.Errorf("presigned GET: %d, %d bytes", gresp.StatusCode, len(gbody))
			}

			del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(testBucket), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("a/big one+.bin")}, {Key: aws.String("b/copy")}, {Key: aws.String("c/multi")}}}})
			if err != nil || len(del.Errors) != 0 {
				t.Fatalf("DeleteObjects: %v %+v", err, del)
			}
			for _, k := range []string{"a/big one+.bin", "b/copy", "c/multi"} {
				if f.stored(k) != nil {
					t.Errorf("%s not deleted", k)
				}
			}

			if logs := f.log.String(); strings.Contains(logs, noChecksumWarning) {
				t.Errorf("SDK warned:\n%s", logs)
			}
			// The SDK did send aws-chunked bodies over TLS, and only hashed
			// payloads over HTTP.
			payloads := map[string]int{}
			f.mu.Lock()
			for _, r := range f.seen {
				p := r.Header.Get("X-Amz-Content-Sha256")
				if validPayloadHash(p) && len(p) == 64 {
					p = "sha256"
				}
				payloads[p]++
			}
			f.mu.Unlock()
			if tls && payloads[streamingUnsignedTrailer] < 4 ||
				!tls && len(payloads) != 2 { // hashes, and "" for the presigned GET and POST
				t.Errorf("payload kinds: %v", payloads)
			}
		})
	}
}

// The stored checksum is what the SDK validates reads against: one that no
// longer matches the bytes makes GetObject's read fail.
func TestCorruptStoredChecksumFailsSDKRead(t *testing.T) {
	f := startFront(t, false)
	c := f.client(static(localCreds))
	ctx := context.Background()
	data := []byte("thumbnail bytes")
	f.put(t, "k", data)
	read := func() error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		_, err = io.ReadAll(out.Body)
		return err
	}
	if err := read(); err != nil {
		t.Fatalf("intact object: %v", err)
	}
	// Corrupt the stored checksum behind the engine's back.
	meta := map[string]string{"Content-Type": "image/jpeg", checksumMeta: algCRC32 + " " + checksumOf(algCRC32, []byte("other bytes"))}
	if _, err := f.h.backend.Backend.PutObject(testBucket, "k", meta, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
	err := read()
	if err == nil || !strings.Contains(err.Error(), "checksum did not match") {
		t.Fatalf("read with a corrupt checksum: %v", err)
	}
	if logs := f.log.String(); strings.Contains(logs, noChecksumWarning) {
		t.Errorf("SDK warned:\n%s", logs)
	}
}

// Checksums on the wire: returned only when asked for, never for a range,
// and a write whose checksum or payload hash does not match its body is
// refused and stores nothing.
func TestChecksumHeaders(t *testing.T) {
	f := startFront(t, false)
	data := []byte("0123456789")
	f.put(t, "k", []byte("original"))
	f.put(t, "obj", data)
	send := func(method, key string, body []byte, hdr map[string]string) (*http.Response, xmlError) {
		req, _ := http.NewRequest(method, f.srv.URL+"/"+testBucket+"/"+key, bytes.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		sdkSign(t, req, body, frontRegion, localCreds, time.Now())
		return f.do(t, req)
	}
	crc := checksumOf(algCRC32, data) // the SDK sent it with the PUT
	reads := []struct {
		name      string
		hdr       map[string]string
		status    int
		checksum  string
		checkType string
	}{
		{"not asked", nil, 200, "", ""},
		{"asked", map[string]string{"x-amz-checksum-mode": "ENABLED"}, 200, crc, "FULL_OBJECT"},
		{"asked, a range", map[string]string{"x-amz-checksum-mode": "ENABLED", "Range": "bytes=0-3"}, 206, "", ""},
	}
	for _, tc := range reads {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp, _ := send(method, "obj", nil, tc.hdr)
			if resp.StatusCode != tc.status || resp.Header.Get("x-amz-checksum-crc32") != tc.checksum ||
				resp.Header.Get("x-amz-checksum-type") != tc.checkType || resp.Header.Get(checksumMeta) != "" {
				t.Errorf("%s %s: %d %v", method, tc.name, resp.StatusCode, resp.Header)
			}
			for k := range resp.Header {
				if k == "X-Amz-Date" || k == "X-Amz-Content-Sha256" || k == "Authorization" {
					t.Errorf("%s %s: request header %s echoed", method, tc.name, k)
				}
			}
		}
	}

	writes := []struct {
		name   string
		hdr    map[string]string
		code   string
		inMsg  string
		status int
	}{
		{"wrong CRC32", map[string]string{"x-amz-checksum-crc32": checksumOf(algCRC32, []byte("other"))}, "BadDigest",
			"The CRC32 you specified did not match the calculated checksum.", 400},
		{"wrong SHA256", map[string]string{"x-amz-checksum-sha256": checksumOf(algSHA256, []byte("other"))}, "BadDigest", "SHA256", 400},
		{"malformed CRC32C", map[string]string{"x-amz-checksum-crc32c": "not base64!"}, "InvalidRequest",
			"Value for x-amz-checksum-crc32c header is invalid.", 400},
		{"unknown algorithm", map[string]string{"x-amz-checksum-md4": "AAAA"}, "InvalidRequest", "x-amz-checksum- header is invalid", 400},
		{"two checksums", map[string]string{"x-amz-checksum-crc32": checksumOf(algCRC32, []byte("evil")),
			"x-amz-checksum-crc32c": checksumOf(algCRC32C, []byte("evil"))}, "InvalidRequest", "Multiple checksum Types", 400},
	}
	for _, tc := range writes {
		resp, e := send(http.MethodPut, "k", []byte("evil"), tc.hdr)
		if resp.StatusCode != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.inMsg) {
			t.Errorf("%s: %d %+v", tc.name, resp.StatusCode, e)
		}
	}
	// A body that is not the one signed.
	req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/"+testBucket+"/k", strings.NewReader("evil"))
	sdkSign(t, req, []byte("fine"), frontRegion, localCreds, time.Now())
	if resp, e := f.do(t, req); resp.StatusCode != 400 || e.Code != "XAmzContentSHA256Mismatch" {
		t.Errorf("payload hash mismatch: %d %+v", resp.StatusCode, e)
	}
	if got := f.stored("k"); string(got) != "original" {
		t.Errorf("object now %q", got)
	}
	// A right checksum is stored, and returned.
	if resp, e := send(http.MethodPut, "k", []byte("good"), map[string]string{"x-amz-checksum-sha1": checksumOf(algSHA1, []byte("good"))}); resp.StatusCode != 200 {
		t.Fatalf("PUT with SHA1: %d %+v", resp.StatusCode, e)
	}
	if resp, _ := send(http.MethodHead, "k", nil, map[string]string{"x-amz-checksum-mode": "ENABLED"}); resp.Header.Get("x-amz-checksum-sha1") != checksumOf(algSHA1, []byte("good")) {
		t.Errorf("SHA1 not returned: %v", resp.Header)
	}
}

// A presigned GET that pins response-content-type and
// response-content-disposition gets them as its response headers, as S3
// overrides the stored ones; the override is part of what is signed.
func TestPresignedGetResponseOverrides(t *testing.T) {
	f := startFront(t, false)
	f.put(t, "thumbnails/I/U/160.jpg", []byte("jpeg")) // stored as image/jpeg
	ctx := context.Background()
	ps, err := s3.NewPresignClient(f.client(static(localCreds))).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("thumbnails/I/U/160.jpg"),
		ResponseContentType:        aws.String("image/png"),
		ResponseContentDisposition: aws.String(`inline; filename="160 px.png"`),
		ResponseCacheControl:       aws.String("private, max-age=60"),
	}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ps.URL, "response-content-type=image%2Fpng") {
		t.Fatalf("URL %s", ps.URL)
	}
	resp, err := f.srv.Client().Get(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "jpeg" || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("Content-Disposition") != `inline; filename="160 px.png"` || resp.Header.Get("Cache-Control") != "private, max-age=60" {
		t.Errorf("%d %q %v", resp.StatusCode, body, resp.Header)
	}
	// media pins the type it is given.
	plain, err := media.New(f.client(static(localCreds)), testBucket).PresignGet(ctx, "thumbnails/I/U/160.jpg", "image/jpeg", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = f.srv.Client().Get(plain)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("plain: %v", resp.Header)
	}
	// Changing the pinned type breaks the signature.
	resp, err = f.srv.Client().Get(strings.Replace(ps.URL, "image%2Fpng", "text%2Fhtml", 1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if e := decodeError(t, b); resp.StatusCode != 403 || e.Code != "SignatureDoesNotMatch" {
		t.Errorf("tampered: %d %+v", resp.StatusCode, e)
	}
	if errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}
