// Package media is Depot's image object store on S3: presigned POST uploads
// whose policy pins the key, the content type and the size, presigned GET
// URLs, and the reads, writes and deletes thumbnailing needs.
//
// Object keys:
//
//	uploads/{itemId}/{uploadId}                    what a client uploaded (triggers MakeThumbnails)
//	thumbnails/{itemId}/{uploadId}/original        the checked original, kept once processed
//	thumbnails/{itemId}/{uploadId}/{size}.{ext}    thumbnails (ext jpg or png)
package media

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// DefaultMaxUploadBytes is the largest upload accepted unless configured
// otherwise (MAX_UPLOAD_BYTES): 10 MiB.
const DefaultMaxUploadBytes int64 = 10 << 20

// Key prefixes.
const (
	UploadPrefix    = "uploads/"
	ThumbnailPrefix = "thumbnails/"
)

// deleteBatch is the most keys one DeleteObjects call takes.
const deleteBatch = 1000

var (
	// ErrNotFound is returned by Get for a missing object.
	ErrNotFound = errors.New("media: object not found")
	// ErrTooLarge is returned by Get for an object larger than the limit.
	ErrTooLarge = errors.New("media: object too large")
)

// Media is the images bucket.
type Media struct {
	client   *s3.Client
	presign  *s3.PresignClient
	bucket   string
	maxBytes int64
}

// New returns the store for bucket. maxBytes is the largest upload a
// presigned POST accepts and the largest object Get reads (<= 0:
// DefaultMaxUploadBytes).
func New(client *s3.Client, bucket string, maxBytes int64) *Media {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxUploadBytes
	}
	return &Media{client: client, presign: s3.NewPresignClient(client), bucket: bucket, maxBytes: maxBytes}
}

// Bucket is the bucket's name.
func (m *Media) Bucket() string { return m.bucket }

// MaxUploadBytes is the largest upload accepted.
func (m *Media) MaxUploadBytes() int64 { return m.maxBytes }

// PresignedPost is what a client needs to upload with an HTML form POST:
// send every field, then the file last, as multipart/form-data to URL.
type PresignedPost struct {
	URL       string
	Fields    map[string]string
	ExpiresAt time.Time
}

// PresignUpload presigns a POST of the upload's object. Its policy admits
// exactly the key UploadKey(itemID, uploadID), exactly contentType as the
// Content-Type field (returned among the fields), and 1..MaxUploadBytes
// bytes, until expires from now (<= 0: the SDK's 15 minutes).
func (m *Media) PresignUpload(ctx context.Context, itemID, uploadID, contentType string, expires time.Duration) (PresignedPost, error) {
	key := UploadKey(itemID, uploadID)
	req, err := m.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key)},
		func(o *s3.PresignPostOptions) {
			o.Expires = expires
			// The SDK adds the bucket, algorithm, credential and date
			// conditions, and {"key": key} (as ["eq", "$key", ...] is not
			// among the forms it recognizes as a key condition).
			o.Conditions = []any{
				[]any{"eq", "$key", key},
				[]any{"eq", "$Content-Type", contentType},
				[]any{"content-length-range", 1, m.maxBytes},
			}
		})
	if err != nil {
		return PresignedPost{}, fmt.Errorf("presign upload %s: %w", key, err)
	}
	fields := maps.Clone(req.Values)
	fields["Content-Type"] = contentType
	expiresAt, err := policyExpiration(fields["policy"])
	if err != nil {
		return PresignedPost{}, fmt.Errorf("presign upload %s: %w", key, err)
	}
	return PresignedPost{URL: req.URL, Fields: fields, ExpiresAt: expiresAt}, nil
}

// policyExpiration reads the expiration the SDK wrote into the policy: the
// instant S3 enforces, to the second.
func policyExpiration(policy string) (time.Time, error) {
	raw, err := base64.StdEncoding.DecodeString(policy)
	if err != nil {
		return time.Time{}, fmt.Errorf("decode policy: %w", err)
	}
	var doc struct {
		Expiration string `json:"expiration"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return time.Time{}, fmt.Errorf("decode policy: %w", err)
	}
	t, err := time.Parse(time.RFC3339, doc.Expiration)
	if err != nil {
		return time.Time{}, fmt.Errorf("policy expiration: %w", err)
	}
	return t.UTC(), nil
}

// PresignGet presigns a GET of key valid for ttl.
func (m *Media) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := m.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return req.URL, nil
}

// Get reads an object and its content type. A missing object is
// ErrNotFound; one larger than MaxUploadBytes is ErrTooLarge.
func (m *Media) Get(ctx context.Context, key string) ([]byte, string, error) {
	out, err := m.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, "", fmt.Errorf("get %s: %w", key, ErrNotFound)
		}
		return nil, "", fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > m.maxBytes {
		return nil, "", fmt.Errorf("get %s: %d bytes, limit %d: %w", key, n, m.maxBytes, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, m.maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("get %s: read: %w", key, err)
	}
	if int64(len(data)) > m.maxBytes {
		return nil, "", fmt.Errorf("get %s: over %d bytes: %w", key, m.maxBytes, ErrTooLarge)
	}
	return data, aws.ToString(out.ContentType), nil
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")
}

// Put writes an object.
func (m *Media) Put(ctx context.Context, key, contentType string, data []byte) error {
	_, err := m.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(m.bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		ContentType: aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Delete removes objects; missing ones are no error (S3 reports them
// deleted). It uses DeleteObjects, which IAM authorizes as s3:DeleteObject
// per key.
func (m *Media) Delete(ctx context.Context, keys ...string) error {
	var errs []error
	for len(keys) > 0 {
		batch := keys[:min(len(keys), deleteBatch)]
		keys = keys[len(batch):]
		objs := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := m.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(m.bucket),
			Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("delete %s: %w", strings.Join(batch, ", "), err)
		}
		for _, e := range out.Errors {
			errs = append(errs, fmt.Errorf("delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
	}
	return errors.Join(errs...)
}

// UploadKey is the key a client uploads an image to.
func UploadKey(itemID, uploadID string) string {
	return UploadPrefix + itemID + "/" + uploadID
}

// OriginalKey is the key of a processed upload's original.
func OriginalKey(itemID, uploadID string) string {
	return ThumbnailPrefix + itemID + "/" + uploadID + "/original"
}

// ThumbnailKey is the key of one thumbnail of an upload, e.g.
// thumbnails/{itemId}/{uploadId}/160.jpg.
func ThumbnailKey(itemID, uploadID string, size int, ext string) string {
	return ThumbnailPrefix + itemID + "/" + uploadID + "/" + strconv.Itoa(size) + "." + ext
}

// ParseUploadKey splits an (unescaped) upload key into its item and upload
// IDs; ok is false for any other key.
func ParseUploadKey(key string) (itemID, uploadID string, ok bool) {
	rest, found := strings.CutPrefix(key, UploadPrefix)
	if !found {
		return "", "", false
	}
	itemID, uploadID, found = strings.Cut(rest, "/")
	if !found || itemID == "" || uploadID == "" || strings.Contains(uploadID, "/") {
		return "", "", false
	}
	return itemID, uploadID, true
}
