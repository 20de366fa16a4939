package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/media"
)

// Media is what the handlers need of the image store.
type Media interface {
	PresignUpload(ctx context.Context, itemID, uploadID, contentType string, expires time.Duration) (media.PresignedPost, error)
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	MaxUploadBytes() int64
}

// Lifetimes of presigned URLs.
const (
	UploadURLTTL   = 15 * time.Minute
	DownloadURLTTL = 15 * time.Minute
)

type imageUploadJSON struct {
	UploadID     string            `json:"uploadId"`
	URL          string            `json:"url"`
	Fields       map[string]string `json:"fields"`
	ExpiresAt    string            `json:"expiresAt"`
	MaxBytes     int64             `json:"maxBytes"`
	AllowedTypes []string          `json:"allowedTypes"`
}

type imageJSON struct {
	Status       string          `json:"status"`
	UploadID     string          `json:"uploadId"`
	ContentType  string          `json:"contentType,omitempty"`
	Width        int             `json:"width,omitempty"`
	Height       int             `json:"height,omitempty"`
	Bytes        int64           `json:"bytes,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	URL          string          `json:"url,omitempty"`
	URLExpiresAt string          `json:"urlExpiresAt,omitempty"`
	Thumbnails   []thumbnailJSON `json:"thumbnails,omitempty"`
}

type thumbnailJSON struct {
	Size        int    `json:"size"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ContentType string `json:"contentType"`
	URL         string `json:"url"`
}

// imageView is the image of an item as clients see it: ready images carry
// presigned GET URLs for the original and each thumbnail.
func (a *api) imageView(ctx context.Context, im *inventory.Image) (*imageJSON, error) {
	if im == nil {
		return nil, nil
	}
	j := &imageJSON{Status: im.Status, UploadID: im.UploadID, ContentType: im.ContentType, Reason: im.Reason}
	if im.Status != inventory.ImageReady {
		return j, nil
	}
	j.Width, j.Height, j.Bytes = im.Width, im.Height, im.Bytes
	var err error
	if j.URL, err = a.Media.PresignGet(ctx, im.Original, DownloadURLTTL); err != nil {
		return nil, fmt.Errorf("presign %s: %w", im.Original, err)
	}
	j.URLExpiresAt = jsonTime(a.Now().Add(DownloadURLTTL))
	for _, t := range im.Thumbnails {
		url, err := a.Media.PresignGet(ctx, t.Key, DownloadURLTTL)
		if err != nil {
			return nil, fmt.Errorf("presign %s: %w", t.Key, err)
		}
		j.Thumbnails = append(j.Thumbnails, thumbnailJSON{Size: t.Size, Width: t.Width, Height: t.Height, ContentType: t.ContentType, URL: url})
	}
	return j, nil
}

func (a *api) createImageUpload(r *http.Request) response {
	body, p := readJSONBody(r)
	if p != nil {
		return p.response()
	}
	return a.idempotent(r, body, func(idem *dynamo.IdempotencyRecord) response {
		obj, p := decodeObject(body, "contentType")
		if p != nil {
			return p.response()
		}
		contentType := deref(obj.str("contentType", false))
		if p := obj.err(); p != nil {
			return p.response()
		}
		if !slices.Contains(inventory.ImageContentTypes, contentType) {
			return problem(string(inventory.CodeValidationFailed), "the request body has invalid fields", inventory.FieldError{
				Field: "/contentType", Code: "enum",
				Message: "contentType must be one of " + strings.Join(inventory.ImageContentTypes, ", "),
			}).response()
		}
		for attempt := 1; ; attempt++ {
			item, err := a.liveItem(r)
			if err != nil {
				return a.failure(r, err)
			}
			uploadID := inventory.NewID(a.Now())
			post, err := a.Media.PresignUpload(r.Context(), item.ID, uploadID, contentType, UploadURLTTL)
			if err != nil {
				return a.failure(r, err)
			}
			resp := jsonResponse(http.StatusCreated, imageUploadJSON{
				UploadID: uploadID, URL: post.URL, Fields: post.Fields, ExpiresAt: jsonTime(post.ExpiresAt),
				MaxBytes: a.Media.MaxUploadBytes(), AllowedTypes: inventory.ImageContentTypes,
			})
			img := inventory.PendingImage(item.Image, uploadID, contentType)
			err = a.Store.StartImageUpload(r.Context(), item, img, withResponse(idem, resp))
			if errors.Is(err, dynamo.ErrVersionConflict) && attempt < maxSaveAttempts {
				continue
			}
			if err != nil {
				return a.failure(r, err)
			}
			return resp
		}
	})
}
