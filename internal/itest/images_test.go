package itest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/usecase"
)

func pngWithAlpha(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: uint8(100 + x%100)})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegPhoto(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: uint8(x + y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// askUpload asks for an upload of the item's image.
func (e *env) askUpload(id, contentType string) map[string]any {
	e.t.Helper()
	return e.must(http.StatusCreated, req{Method: "POST", Path: "/items/" + id + "/image-uploads",
		Body: `{"contentType":"` + contentType + `"}`}).json(e.t)
}

// postFile uploads data to S3 the way a browser does: a multipart form POST
// of the presigned fields, then the file.
func (e *env) postFile(upload map[string]any, data []byte) int {
	e.t.Helper()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	for k, v := range upload["fields"].(map[string]any) {
		if err := form.WriteField(k, v.(string)); err != nil {
			e.t.Fatal(err)
		}
	}
	part, err := form.CreateFormFile("file", "photo")
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = part.Write(data)
	_ = form.Close()
	resp, err := http.Post(upload["url"].(string), form.FormDataContentType(), &body)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		e.t.Logf("S3 POST: %d %s", resp.StatusCode, msg)
	}
	return resp.StatusCode
}

// settle waits until the uploads' events have been processed: the
// embedded S3 notifies MakeThumbnails itself; moto notifies no one, so the
// test delivers the event S3 would send.
func (e *env) settle(itemID string, uploadIDs ...string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if engines.Notifier != nil {
		if err := engines.Notifier.Wait(ctx); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	for _, u := range uploadIDs {
		if err := e.stack.MakeThumbnails(ctx, s3Event(e.stack.Settings.BucketName, inventory.UploadKey(itemID, u))); err != nil {
			e.t.Fatalf("MakeThumbnails: %v", err)
		}
	}
}

func s3Event(bucket, key string) events.S3Event {
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1", EventName: "ObjectCreated:Post",
		EventTime: time.Now().UTC(),
		S3: events.S3Entity{
			Bucket: events.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
			Object: events.S3Object{Key: localrun.EventKey(key)},
		},
	}}}
}

// objects lists the bucket's keys under prefix.
func (e *env) objects(prefix string) []string {
	e.t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := lambdafn.NewS3Client(cfg).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{
		Bucket: aws.String(e.stack.Settings.BucketName), Prefix: aws.String(prefix)})
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

func fetch(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), data
}

func TestImageUploadMakesThumbnails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := as(adminEmail)
	admin["Content-Type"] = "application/json"
	created := e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: `{"sku":"IMG-1","name":"Pictured"}`, Header: admin}).json(t)
	id := created["id"].(string)
	up := e.askUpload(id, "image/png")
	if up["maxBytes"] != float64(usecase.DefaultMaxUploadBytes) || len(up["allowedTypes"].([]any)) != 4 {
		t.Fatalf("upload = %v", up)
	}
	uploadID := up["uploadId"].(string)
	pending := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["image"].(map[string]any)
	if pending["status"] != "pending" || pending["uploadId"] != uploadID {
		t.Fatalf("image before upload = %v", pending)
	}
	if code := e.postFile(up, pngWithAlpha(t, 800, 400)); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("S3 POST: %d", code)
	}
	e.settle(id, uploadID)

	item := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)
	// Processing is a change of the item like any other, stamped with the
	// uploader (the editor), not the creator (the admin).
	if item["updatedBy"] != editorEmail || item["version"] != 3.0 || item["updatedAt"].(string) <= created["updatedAt"].(string) {
		t.Errorf("after processing: updatedBy %v, version %v, updatedAt %v (created %v)", item["updatedBy"], item["version"], item["updatedAt"], created["updatedAt"])
	}
	img := item["image"].(map[string]any)
	if img["status"] != "ready" || img["width"] != 800.0 || img["height"] != 400.0 || img["contentType"] != "image/png" {
		t.Fatalf("image = %v", img)
	}
	thumbs := img["thumbnails"].([]any)
	if len(thumbs) != 2 {
		t.Fatalf("thumbnails = %v", thumbs)
	}
	for _, th := range thumbs {
		m := th.(map[string]any)
		size := int(m["size"].(float64))
		if int(m["width"].(float64)) != size || m["contentType"] != "image/png" {
			t.Errorf("thumbnail %v: want %d wide, PNG (the source has transparency)", m, size)
		}
		status, ct, data := fetch(t, m["url"].(string))
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if status != http.StatusOK || err != nil || cfg.Width != size || cfg.Height != size/2 {
			t.Errorf("GET thumbnail %d: %d %s %v %+v", size, status, ct, err, cfg)
		}
	}
	if status, _, _ := fetch(t, img["url"].(string)); status != http.StatusOK {
		t.Errorf("GET original: %d", status)
	}
	if left := e.objects("uploads/"); len(left) != 0 {
		t.Errorf("uploads left behind: %v", left)
	}
	list := e.must(http.StatusOK, req{Method: "GET", Path: "/items"}).json(t)["items"].([]any)
	if list[0].(map[string]any)["image"].(map[string]any)["status"] != "ready" {
		t.Errorf("list does not show the image")
	}
	// A group's list links the image too.
	gid := e.createGroup("Photographed")["id"].(string)
	e.must(http.StatusCreated, req{Method: "PUT", Path: "/groups/" + gid + "/items/" + id})
	members := e.must(http.StatusOK, req{Method: "GET", Path: "/groups/" + gid + "/items"}).json(t)["items"].([]any)
	groupThumbs, _ := members[0].(map[string]any)["image"].(map[string]any)["thumbnails"].([]any)
	if len(groupThumbs) == 0 {
		t.Fatalf("the group's list does not link the image: %v", members)
	}
	if status, _, _ := fetch(t, groupThumbs[0].(map[string]any)["url"].(string)); status != http.StatusOK {
		t.Errorf("GET a thumbnail linked by the group's list: %d", status)
	}

	// The same event again: one result, nothing more written.
	before := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["version"]
	if err := e.stack.MakeThumbnails(context.Background(), s3Event(e.stack.Settings.BucketName, inventory.UploadKey(id, uploadID))); err != nil {
		t.Fatal(err)
	}
	after := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)
	if after["version"] != before || after["image"].(map[string]any)["status"] != "ready" {
		t.Fatalf("redelivered event changed the item: %v -> %v", before, after)
	}
}

func TestBrokenUploadFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"IMG-2","name":"Not a photo"}`)["id"].(string)
	up := e.askUpload(id, "image/jpeg")
	e.postFile(up, []byte("this is a text file, not a JPEG"))
	e.settle(id, up["uploadId"].(string))
	img := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["image"].(map[string]any)
	if img["status"] != "failed" || img["reason"] == "" || img["url"] != nil {
		t.Fatalf("image = %v", img)
	}
	if left := e.objects(""); len(left) != 0 {
		t.Fatalf("objects left: %v", left)
	}
}

func TestRacingUploadsLaterWinsNoOrphans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"IMG-3","name":"Twice pictured"}`)["id"].(string)
	// A first image, ready; then two uploads asked for, both sent.
	first := e.askUpload(id, "image/jpeg")
	e.postFile(first, jpegPhoto(t, 300, 200))
	e.settle(id, first["uploadId"].(string))
	a, b := e.askUpload(id, "image/jpeg"), e.askUpload(id, "image/png")
	e.postFile(b, pngWithAlpha(t, 200, 200))
	e.postFile(a, jpegPhoto(t, 320, 240))
	e.settle(id, b["uploadId"].(string), a["uploadId"].(string))

	img := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["image"].(map[string]any)
	if img["status"] != "ready" || img["uploadId"] != b["uploadId"] {
		t.Fatalf("image = %v, want the later upload %v ready", img, b["uploadId"])
	}
	want := fmt.Sprintf("thumbnails/%s/%s/", id, b["uploadId"])
	for _, k := range e.objects("") {
		if !strings.HasPrefix(k, want) {
			t.Errorf("orphan object %s", k)
		}
	}
	if n := len(e.objects(want)); n != 3 {
		t.Errorf("%d objects for the winner, want original + 2 thumbnails", n)
	}
}

func TestUploadRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createItem(`{"sku":"IMG-4","name":"Rules"}`)["id"].(string)
	for _, c := range []struct {
		body, code string
	}{
		{`{"contentType":"image/bmp"}`, "validation_failed"},
		{`{}`, "validation_failed"},
		{`{"contentType":5}`, "invalid_type"},
		{`{"contentType":"image/png","size":1}`, "unknown_field"},
	} {
		res := e.must(http.StatusBadRequest, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: c.body})
		if got := res.code(t); got != c.code {
			t.Errorf("%s: code %s, want %s", c.body, got, c.code)
		}
	}
	e.must(http.StatusForbidden, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: `{"contentType":"image/png"}`, Header: as(viewerEmail)})
	key := map[string]string{"Idempotency-Key": "photo-1"}
	first := e.must(http.StatusCreated, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: `{"contentType":"image/png"}`, Header: key})
	again := e.must(http.StatusCreated, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: `{"contentType":"image/png"}`, Header: key})
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
		t.Fatalf("retried upload request was not replayed: %s vs %s", again.Body, first.Body)
	}
	if v := e.must(http.StatusOK, req{Method: "GET", Path: "/items/" + id}).json(t)["version"]; v != 2.0 {
		t.Fatalf("version %v after one upload request and its replay, want 2", v)
	}
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id})
	if code := e.must(http.StatusNotFound, req{Method: "POST", Path: "/items/" + id + "/image-uploads", Body: `{"contentType":"image/png"}`}).code(t); code != "item_deleted" {
		t.Fatalf("upload for a deleted item: %s", code)
	}
}
