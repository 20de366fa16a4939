// Package media is Depot's image object store on S3; it implements the use
// cases' Signer and Objects ports: presigned POST uploads whose policy pins
// the key, the content type and the size, presigned GET URLs that pin the
// served content type, and the reads, writes and deletes image processing
// needs. Object keys are the domain's (inventory.UploadKey and the rest).
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

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/inventory"
)

// deleteBatch is the most keys one DeleteObjects call takes.
const deleteBatch = 1000

// Media is the images bucket.
type Media struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
}

// New returns the store for bucket. The client should count its calls
// (CountCalls).
func New(client *s3.Client, bucket string) *Media {
	return &Media{client: client, presign: s3.NewPresignClient(client), bucket: bucket}
}

// Bucket is the bucket's name.
func (m *Media) Bucket() string { return m.bucket }

// PresignUpload presigns a POST of key. Its policy admits exactly key,
// exactly contentType as the Content-Type field (returned among the
// fields), and 1..maxBytes bytes, until expires from now (<= 0: the SDK's
// 15 minutes). S3 authorizes the upload as a PutObject by the signer.
func (m *Media) PresignUpload(ctx context.Context, key, contentType string, maxBytes int64, expires time.Duration) (inventory.UploadForm, error) {
	callstats.Action(ctx, access.Grant{Action: "s3:PutObject", Resource: access.ObjectResource(key)}.String())
	req, err := m.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key)},
		func(o *s3.PresignPostOptions) {
			o.Expires = expires
			// The SDK adds the bucket, algorithm, credential and date
			// conditions, and {"key": key} (as ["eq", "$key", ...] is not
			// among the forms it recognizes as a key condition).
			o.Conditions = []any{
				[]any{"eq", "$key", key},
				[]any{"eq", "$Content-Type", contentType},
				[]any{"content-length-range", 1, maxBytes},
			}
		})
	if err != nil {
		return inventory.UploadForm{}, fmt.Errorf("presign upload %s: %w", key, err)
	}
	fields := maps.Clone(req.Values)
	fields["Content-Type"] = contentType
	expiresAt, err := policyExpiration(fields["policy"])
	if err != nil {
		return inventory.UploadForm{}, fmt.Errorf("presign upload %s: %w", key, err)
	}
	return inventory.UploadForm{URL: req.URL, Fields: fields, ExpiresAt: expiresAt}, nil
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

// PresignGet presigns a GET of key valid for ttl. The URL pins the
// response's Content-Type to contentType (S3 serves what the signed
// response-content-type says), so an object is only ever served as the
// image type Depot recorded for it.
func (m *Media) PresignGet(ctx context.Context, key, contentType string, ttl time.Duration) (string, error) {
	callstats.Action(ctx, access.Grant{Action: "s3:GetObject", Resource: access.ObjectResource(key)}.String())
	req, err := m.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key),
		ResponseContentType: aws.String(contentType)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignDownload presigns a GET of key for ttl that S3 serves as
// contentType and as an attachment named filename (the signed
// response-content-type and response-content-disposition).
func (m *Media) PresignDownload(ctx context.Context, key, contentType, filename string, ttl time.Duration) (string, error) {
	callstats.Action(ctx, access.Grant{Action: "s3:GetObject", Resource: access.ObjectResource(key)}.String())
	req, err := m.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key),
		ResponseContentType:        aws.String(contentType),
		ResponseContentDisposition: aws.String(`attachment; filename="` + filename + `"`)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign the download of %s: %w", key, err)
	}
	return req.URL, nil
}

// Get reads an object. A missing object is inventory.ErrObjectNotFound;
// one larger than maxBytes is inventory.ErrObjectTooLarge (and is not read).
func (m *Media) Get(ctx context.Context, key string, maxBytes int64) ([]byte, error) {
	out, err := m.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("get %s: %w", key, inventory.ErrObjectNotFound)
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > maxBytes {
		return nil, fmt.Errorf("get %s: %d bytes, limit %d: %w", key, n, maxBytes, inventory.ErrObjectTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: read: %w", key, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("get %s: over %d bytes: %w", key, maxBytes, inventory.ErrObjectTooLarge)
	}
	return data, nil
}

// Open reads key from offset to its end, streaming. With etag, an object
// whose ETag is no longer etag is inventory.ErrObjectChanged (checked on
// the answer, and asked of S3 with If-Match).
func (m *Media) Open(ctx context.Context, key string, offset int64, etag string) (inventory.OpenedObject, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(key)}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	if etag != "" {
		in.IfMatch = aws.String(etag)
	}
	out, err := m.client.GetObject(ctx, in)
	var api smithy.APIError
	switch {
	case err == nil:
	case isNotFound(err):
		return inventory.OpenedObject{}, fmt.Errorf("open %s: %w", key, inventory.ErrObjectNotFound)
	case errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed":
		return inventory.OpenedObject{}, fmt.Errorf("open %s: %w", key, inventory.ErrObjectChanged)
	case errors.As(err, &api) && api.ErrorCode() == "InvalidRange":
		// Nothing after offset: the object ends there.
		return inventory.OpenedObject{Body: io.NopCloser(strings.NewReader("")), Size: offset, ETag: etag}, nil
	default:
		return inventory.OpenedObject{}, fmt.Errorf("open %s: %w", key, err)
	}
	obj := inventory.OpenedObject{Body: out.Body, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag)}
	if cr := aws.ToString(out.ContentRange); cr != "" { // bytes a-b/total
		if _, total, ok := strings.Cut(cr, "/"); ok {
			if n, err := strconv.ParseInt(total, 10, 64); err == nil {
				obj.Size = n
			}
		}
	}
	if etag != "" && obj.ETag != etag {
		out.Body.Close()
		return inventory.OpenedObject{}, fmt.Errorf("open %s: ETag %s, not %s: %w", key, obj.ETag, etag, inventory.ErrObjectChanged)
	}
	return obj, nil
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

// CreateMultipartUpload starts a multipart upload of key.
func (m *Media) CreateMultipartUpload(ctx context.Context, key, contentType string) (string, error) {
	out, err := m.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(m.bucket), Key: aws.String(key), ContentType: aws.String(contentType)})
	if err != nil {
		return "", fmt.Errorf("start the upload of %s: %w", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart uploads (or uploads again) part number of an upload, and
// returns its ETag.
func (m *Media) UploadPart(ctx context.Context, key, uploadID string, number int32, data []byte) (string, error) {
	out, err := m.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(m.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
		PartNumber: aws.Int32(number), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		return "", fmt.Errorf("upload part %d of %s: %w", number, key, err)
	}
	return aws.ToString(out.ETag), nil
}

// CompleteMultipartUpload joins the parts into the object.
func (m *Media) CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []inventory.UploadedPart) error {
	completed := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(p.ETag)}
	}
	_, err := m.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(m.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed}})
	if err != nil {
		return fmt.Errorf("complete the upload of %s: %w", key, err)
	}
	return nil
}

// AbortMultipartUpload drops an upload and its parts.
func (m *Media) AbortMultipartUpload(ctx context.Context, key, uploadID string) error {
	_, err := m.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(m.bucket), Key: aws.String(key), UploadId: aws.String(uploadID)})
	if err != nil {
		return fmt.Errorf("abort the upload of %s: %w", key, err)
	}
	return nil
}

// ListObjects calls fn with the key and last modification time of every
// object under prefix, in key order, a page of up to 1,000 at a time (IAM
// authorizes ListObjectsV2 as s3:ListBucket on the bucket). The audit
// uses it; no request path lists.
func (m *Media) ListObjects(ctx context.Context, prefix string, fn func(key string, modified time.Time) error) error {
	pages := s3.NewListObjectsV2Paginator(m.client, &s3.ListObjectsV2Input{Bucket: aws.String(m.bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if err := fn(aws.ToString(o.Key), aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}

// CountCalls is an SDK API option that records every S3 call in the
// request's callstats, with the grants it needs: the action on the prefix of
// each key it names (DeleteObjects is authorized as s3:DeleteObject per
// key).
var CountCalls = callstats.SDKCalls("S3", s3Grants)

func s3Grants(op string, params any) []string {
	grant := func(action, key string) string {
		return access.Grant{Action: action, Resource: access.ObjectResource(key)}.String()
	}
	switch in := params.(type) {
	case *s3.GetObjectInput:
		return []string{grant("s3:GetObject", aws.ToString(in.Key))}
	case *s3.PutObjectInput:
		return []string{grant("s3:PutObject", aws.ToString(in.Key))}
	// A multipart upload is authorized as s3:PutObject on its key
	// (CreateMultipartUpload, UploadPart, CompleteMultipartUpload), and
	// its abort as s3:AbortMultipartUpload.
	case *s3.CreateMultipartUploadInput:
		return []string{grant("s3:PutObject", aws.ToString(in.Key))}
	case *s3.UploadPartInput:
		return []string{grant("s3:PutObject", aws.ToString(in.Key))}
	case *s3.CompleteMultipartUploadInput:
		return []string{grant("s3:PutObject", aws.ToString(in.Key))}
	case *s3.AbortMultipartUploadInput:
		return []string{grant("s3:AbortMultipartUpload", aws.ToString(in.Key))}
	case *s3.ListObjectsV2Input:
		return []string{access.ListBucket.String()}
	case *s3.DeleteObjectsInput:
		var out []string
		if in.Delete != nil {
			for _, o := range in.Delete.Objects {
				out = append(out, grant("s3:DeleteObject", aws.ToString(o.Key)))
			}
		}
		return out
	}
	return []string{"s3:" + op + " *"}
}
