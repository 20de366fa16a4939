package localrun

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (env *s3Env) put(t *testing.T, key string, data []byte) {
	t.Helper()
	_, err := env.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(data), ContentType: aws.String("image/png"),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func TestPutObjectEvent(t *testing.T) {
	env := startS3Env(t, nil)
	data := png(100)
	env.put(t, "uploads/ITEM/UP 1", data)
	rec := env.onlyEvent(t)
	o := rec.S3.Object
	if rec.EventName != "ObjectCreated:Put" || o.Key != "uploads/ITEM/UP+1" || o.URLDecodedKey != "uploads/ITEM/UP 1" ||
		o.Size != 100 || o.ETag != md5hex(data) {
		t.Errorf("record %+v", rec)
	}
}

func TestCopyObjectEvent(t *testing.T) {
	env := startS3Env(t, nil)
	data := png(300)
	env.put(t, "thumbnails/ITEM/UP/160.png", data) // outside the prefix: no event
	env.noEvent(t)
	_, err := env.client.CopyObject(context.Background(), &s3.CopyObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("uploads/ITEM/copy"),
		CopySource: aws.String(testBucket + "/thumbnails/ITEM/UP/160.png"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := env.onlyEvent(t)
	o := rec.S3.Object
	if rec.EventName != "ObjectCreated:Copy" || o.Key != "uploads/ITEM/copy" || o.Size != 300 || o.ETag != md5hex(data) {
		t.Errorf("record %+v", rec)
	}
	if _, got := env.object(t, "uploads/ITEM/copy"); !bytes.Equal(got, data) {
		t.Error("copy differs")
	}
}

func TestNoEventOutsidePrefix(t *testing.T) {
	env := startS3Env(t, nil)
	env.put(t, "thumbnails/ITEM/UP/160.jpg", []byte("jpeg"))
	env.put(t, "xuploads/ITEM/UP", []byte("jpeg"))
	env.noEvent(t)
}

func TestMultipartUploadEvent(t *testing.T) {
	env := startS3Env(t, nil)
	ctx := context.Background()
	key := "uploads/ITEM/multi"
	mpu, err := env.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), ContentType: aws.String("image/png"),
	})
	if err != nil {
		t.Fatal(err)
	}
	data := png(1000)
	part, err := env.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: mpu.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(data),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: mpu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := env.onlyEvent(t)
	if rec.EventName != "ObjectCreated:CompleteMultipartUpload" || rec.S3.Object.Size != 1000 {
		t.Errorf("record %+v", rec)
	}
	out, got := env.object(t, key)
	if !bytes.Equal(got, data) || aws.ToString(out.ContentType) != "image/png" {
		t.Errorf("stored %d bytes as %q", len(got), aws.ToString(out.ContentType))
	}
	for k := range out.Metadata {
		t.Errorf("unexpected metadata %q", k)
	}
}

// A client cannot pass the engine's event-name marker, nor its stored
// checksum, even in a validly signed request.
func TestEventNameHeaderFromClientIgnored(t *testing.T) {
	env := startS3Env(t, nil)
	req, _ := http.NewRequest(http.MethodPut, env.engine.URL+"/"+testBucket+"/uploads/I/U", strings.NewReader("abc"))
	req.Header.Set(eventNameMeta, EventObjectCreatedMultipart)
	req.Header.Set(checksumMeta, "CRC32 AAAAAA==")
	sdkSign(t, req, []byte("abc"), "eu-west-1", localCreds, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	if rec := env.onlyEvent(t); rec.EventName != "ObjectCreated:Put" {
		t.Errorf("event %s", rec.EventName)
	}
	head, err := env.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("uploads/I/U"),
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if len(head.Metadata) != 0 {
		t.Errorf("metadata %v", head.Metadata)
	}
	if got, want := aws.ToString(head.ChecksumCRC64NVME), checksumOf(algCRC64NVME, []byte("abc")); got != want || aws.ToString(head.ChecksumCRC32) != "" {
		t.Errorf("checksum %q %q, want CRC64NVME %q", got, aws.ToString(head.ChecksumCRC32), want)
	}
}

func TestNotifyRetriedUntilSuccess(t *testing.T) {
	env := startS3Env(t, func(attempt int) error {
		if attempt < 3 {
			return errors.New("throttled")
		}
		return nil
	})
	env.put(t, "uploads/ITEM/UP", []byte("x"))
	rec := env.onlyEvent(t)
	if rec.S3.Object.Key != "uploads/ITEM/UP" {
		t.Errorf("record %+v", rec)
	}
	if attempts, _ := env.rec.snapshot(); attempts != 3 {
		t.Errorf("attempts %d, want 3", attempts)
	}
	if logs := env.logs.String(); !strings.Contains(logs, "delivered after retries") || strings.Contains(logs, "given up") {
		t.Errorf("logs: %s", logs)
	}
}

func TestNotifyGivenUpAfterThreeAttempts(t *testing.T) {
	env := startS3Env(t, func(int) error { return errors.New("function error") })
	env.put(t, "uploads/ITEM/UP", []byte("x"))
	env.settle(t)
	attempts, evs := env.rec.snapshot()
	if attempts != 3 || len(evs) != 0 {
		t.Errorf("attempts %d, events %d", attempts, len(evs))
	}
	logs := env.logs.String()
	if !strings.Contains(logs, `"level":"ERROR","msg":"S3 event notification failed; given up"`) ||
		!strings.Contains(logs, `"error":"function error"`) || !strings.Contains(logs, `"attempts":3`) {
		t.Errorf("logs: %s", logs)
	}
	// The object stays stored, as on S3.
	env.object(t, "uploads/ITEM/UP")
}

func TestNotifyPanicIsAnError(t *testing.T) {
	env := startS3Env(t, func(attempt int) error {
		if attempt == 1 {
			panic("boom")
		}
		return nil
	})
	env.put(t, "uploads/ITEM/UP", []byte("x"))
	env.onlyEvent(t)
	if attempts, _ := env.rec.snapshot(); attempts != 2 {
		t.Errorf("attempts %d", attempts)
	}
}

func TestNotifierAsyncAndSetTarget(t *testing.T) {
	e, n, err := StartS3WithEvents(S3Options{Prefix: "uploads/"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.URL), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
		})})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	put("uploads/before-target") // no target yet: dropped

	// The PUT answers while the target still runs: delivery is asynchronous.
	release := make(chan struct{})
	got := make(chan events.S3Event, 4)
	n.SetTarget(func(ctx context.Context, ev events.S3Event) error {
		<-release
		got <- ev
		return nil
	})
	put("uploads/after-target")
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := n.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait while delivering = %v", err)
	}
	close(release)
	if err := n.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := <-got; ev.Records[0].AWSRegion != "us-east-1" || ev.Records[0].S3.Object.Key != "uploads/after-target" {
		t.Errorf("event %+v", ev)
	}
	if len(got) != 0 {
		t.Errorf("%d more events", len(got))
	}
}

func TestNotifierCloseDropsPendingRetries(t *testing.T) {
	var calls atomic.Int32
	n := NewNotifier(S3Options{Backoff: time.Hour, Notify: func(context.Context, events.S3Event) error {
		calls.Add(1)
		return errors.New("fail")
	}})
	n.created(EventObjectCreatedPut, "b", "k", 1, "etag", "")
	start := time.Now()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second || calls.Load() != 1 {
		t.Errorf("Close took %v after %d calls", time.Since(start), calls.Load())
	}
	n.created(EventObjectCreatedPut, "b", "k", 1, "etag", "") // after Close: ignored
	if err := n.Wait(context.Background()); err != nil || calls.Load() != 1 {
		t.Errorf("after Close: %v, %d calls", err, calls.Load())
	}
}

func TestEventKey(t *testing.T) {
	for key, want := range map[string]string{
		"uploads/I/U":         "uploads/I/U",
		"uploads/my photo":    "uploads/my+photo",
		"uploads/a+b":         "uploads/a%2Bb",
		"a=b&c?d#e%f:g,h;i@j": "a%3Db%26c%3Fd%23e%25f%3Ag%2Ch%3Bi%40j",
		"caf\u00e9/x_y-z.~":   "caf%C3%A9/x_y-z.~",
	} {
		if got := EventKey(key); got != want {
			t.Errorf("EventKey(%q) = %q, want %q", key, got, want)
		}
	}
}
