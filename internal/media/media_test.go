package media_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/media"
)

const (
	testBucket = "depot-images"
	accessKey  = "AKIDEXAMPLE"
	secretKey  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	region     = "eu-west-1"
)

func newClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey, Source: "test"}, nil
		}),
	})
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// TestPresignUploadPolicy decodes the signed policy and checks every
// condition S3 will enforce, and that the signature is SigV4 over it.
func TestPresignUploadPolicy(t *testing.T) {
	const maxBytes = 10485760
	m := media.New(newClient("http://s3.local.test:9000"), testBucket)
	key := "uploads/01JQ8Z6T3V8K2M4N6P8R0S2T4V/01JQ94V6X8Z0A2C4E6G8J0K2M4"

	before := time.Now()
	post, err := m.PresignUpload(context.Background(), key, "image/png", maxBytes, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://s3.local.test:9000/" + testBucket; post.URL != want {
		t.Errorf("URL = %q, want %q", post.URL, want)
	}
	f := post.Fields
	if f["key"] != key {
		t.Errorf("key field = %q, want %q", f["key"], key)
	}
	if f["Content-Type"] != "image/png" {
		t.Errorf("Content-Type field = %q", f["Content-Type"])
	}
	if f["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256" {
		t.Errorf("X-Amz-Algorithm = %q", f["X-Amz-Algorithm"])
	}
	date := f["X-Amz-Date"]
	if _, err := time.Parse("20060102T150405Z", date); err != nil {
		t.Errorf("X-Amz-Date = %q: %v", date, err)
	}
	wantCred := accessKey + "/" + date[:8] + "/" + region + "/s3/aws4_request"
	if f["X-Amz-Credential"] != wantCred {
		t.Errorf("X-Amz-Credential = %q, want %q", f["X-Amz-Credential"], wantCred)
	}
	if f["policy"] == "" || f["X-Amz-Signature"] == "" {
		t.Fatalf("policy or signature missing: %v", f)
	}

	raw, err := base64.StdEncoding.DecodeString(f["policy"])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Expiration string `json:"expiration"`
		Conditions []any  `json:"conditions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	t.Logf("policy: %s", raw)

	exp, err := time.Parse(time.RFC3339, doc.Expiration)
	if err != nil {
		t.Fatalf("expiration %q: %v", doc.Expiration, err)
	}
	if lo, hi := before.Add(15*time.Minute-2*time.Second), time.Now().Add(15*time.Minute+time.Second); exp.Before(lo) || exp.After(hi) {
		t.Errorf("expiration %v not ~ now+15m", exp)
	}
	if !post.ExpiresAt.Equal(exp) {
		t.Errorf("ExpiresAt %v != policy expiration %v", post.ExpiresAt, exp)
	}

	has := func(want any) bool {
		for _, c := range doc.Conditions {
			if reflect.DeepEqual(c, want) {
				return true
			}
		}
		return false
	}
	for _, want := range []any{
		map[string]any{"bucket": testBucket},
		[]any{"eq", "$key", key},
		map[string]any{"key": key}, // added by the SDK
		[]any{"eq", "$Content-Type", "image/png"},
		[]any{"content-length-range", float64(1), float64(maxBytes)},
		map[string]any{"X-Amz-Algorithm": "AWS4-HMAC-SHA256"},
		map[string]any{"X-Amz-Credential": wantCred},
		map[string]any{"X-Amz-Date": date},
	} {
		if !has(want) {
			t.Errorf("policy lacks condition %v", want)
		}
	}
	// No condition loosens the key or the type.
	for _, c := range doc.Conditions {
		if a, ok := c.([]any); ok && len(a) > 0 && a[0] == "starts-with" {
			t.Errorf("unexpected condition %v", a)
		}
	}
	// S3 rejects a form with a field no condition covers.
	covered := map[string]bool{}
	for _, c := range doc.Conditions {
		switch c := c.(type) {
		case map[string]any:
			for k := range c {
				covered[strings.ToLower(k)] = true
			}
		case []any:
			if s, ok := c[1].(string); ok {
				covered[strings.ToLower(strings.TrimPrefix(s, "$"))] = true
			}
		}
	}
	for name := range f {
		if n := strings.ToLower(name); n != "policy" && n != "x-amz-signature" && !covered[n] {
			t.Errorf("field %q not covered by the policy", name)
		}
	}

	// SigV4 for POST: HMAC of the base64 policy with the derived key.
	k := hmacSHA256([]byte("AWS4"+secretKey), date[:8])
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "s3")
	k = hmacSHA256(k, "aws4_request")
	if want := hex.EncodeToString(hmacSHA256(k, f["policy"])); f["X-Amz-Signature"] != want {
		t.Errorf("signature = %s, want %s", f["X-Amz-Signature"], want)
	}
}

func TestPresignUploadDefaultExpiry(t *testing.T) {
	m := media.New(newClient("http://s3.local.test:9000"), testBucket)
	post, err := m.PresignUpload(context.Background(), "uploads/i/u", "image/jpeg", 1234, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(post.ExpiresAt); d < 14*time.Minute || d > 15*time.Minute+time.Second {
		t.Errorf("default expiry in %v", d)
	}
	raw, _ := base64.StdEncoding.DecodeString(post.Fields["policy"])
	if !strings.Contains(string(raw), `["content-length-range",1,1234]`) {
		t.Errorf("policy %s", raw)
	}
}

// TestObjects runs Put, Get, PresignGet and Delete against gofakes3.
func TestObjects(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	ctx := context.Background()
	m := media.New(newClient(srv.URL), testBucket)

	if err := m.Put(ctx, "thumbnails/I/U/160.png", "image/png", []byte("png bytes")); err != nil {
		t.Fatal(err)
	}
	data, err := m.Get(ctx, "thumbnails/I/U/160.png", 16)
	if err != nil || string(data) != "png bytes" {
		t.Fatalf("Get = %q, %v", data, err)
	}
	if _, err := m.Get(ctx, "missing", 16); !errors.Is(err, inventory.ErrObjectNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if err := m.Put(ctx, "big", "image/png", make([]byte, 17)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "big", 16); !errors.Is(err, inventory.ErrObjectTooLarge) {
		t.Errorf("Get big: %v", err)
	}

	url, err := m.PresignGet(ctx, "thumbnails/I/U/160.png", "image/png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "X-Amz-Expires=60") || !strings.Contains(url, "X-Amz-Signature=") ||
		!strings.Contains(url, "response-content-type=image%2Fpng") {
		t.Errorf("presigned URL %s", url)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "png bytes" {
		t.Errorf("GET presigned: %d %q", resp.StatusCode, body)
	}

	if err := m.Delete(ctx); err != nil {
		t.Errorf("Delete(): %v", err)
	}
	if err := m.Delete(ctx, "thumbnails/I/U/160.png", "big", "never-existed"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"thumbnails/I/U/160.png", "big"} {
		if _, err := m.Get(ctx, k, 16); !errors.Is(err, inventory.ErrObjectNotFound) {
			t.Errorf("after Delete, Get %s: %v", k, err)
		}
	}
}
