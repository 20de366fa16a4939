// Package images turns an uploaded photo into an item's image: it checks and
// thumbnails the upload, stores the results, and records them on the item
// only while that upload is still the item's latest.
package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/media"
	"github.com/depot-inventory/depot/internal/thumbnail"
)

// Store is what processing needs of the item store.
type Store interface {
	GetItem(ctx context.Context, id string) (inventory.Item, error)
	SetImage(ctx context.Context, itemID, uploadID string, img inventory.Image) (*inventory.Image, error)
}

// Objects is what processing needs of the object store.
type Objects interface {
	Get(ctx context.Context, key string) ([]byte, string, error)
	Put(ctx context.Context, key, contentType string, data []byte) error
	Delete(ctx context.Context, keys ...string) error
}

// Processor handles S3 ObjectCreated events for uploads.
type Processor struct {
	Store   Store
	Objects Objects
	Logger  *slog.Logger
}

// Handle processes every record of the event. An error makes Lambda retry
// the whole event, which is safe: every step is idempotent.
func (p *Processor) Handle(ctx context.Context, ev events.S3Event) error {
	var errs []error
	for _, rec := range ev.Records {
		key, err := url.QueryUnescape(rec.S3.Object.Key) // S3 sends keys form-encoded
		if err != nil {
			p.Logger.Warn("undecodable key", "key", rec.S3.Object.Key)
			continue
		}
		itemID, uploadID, ok := media.ParseUploadKey(key)
		if !ok {
			p.Logger.Warn("not an upload key; ignored", "key", key)
			continue
		}
		if err := p.process(ctx, key, itemID, uploadID); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

func (p *Processor) process(ctx context.Context, key, itemID, uploadID string) error {
	item, err := p.Store.GetItem(ctx, itemID)
	if inventory.ErrorCode(err) == inventory.CodeItemNotFound {
		p.Logger.Info("upload for no item; deleted", "key", key)
		return p.Objects.Delete(ctx, key)
	}
	if err != nil {
		return err
	}
	if item.Image == nil || item.Image.UploadID != uploadID {
		p.Logger.Info("upload superseded; deleted", "key", key)
		return p.Objects.Delete(ctx, append(thumbnailKeys(itemID, uploadID), key)...)
	}
	if item.Image.Status != inventory.ImagePending {
		// A retry of an event already processed: the outcome stands.
		return nil
	}
	data, _, err := p.Objects.Get(ctx, key)
	if errors.Is(err, media.ErrNotFound) {
		return nil // processed and cleaned up by an earlier delivery
	}
	if err != nil {
		return err
	}
	result, err := thumbnail.Make(data)
	var rejected *thumbnail.RejectedError
	if errors.As(err, &rejected) {
		failed := inventory.Image{Status: inventory.ImageFailed, UploadID: uploadID,
			ContentType: item.Image.ContentType, Bytes: int64(len(data)), Reason: rejected.Reason,
			Replaces: item.Image.Replaces}
		if _, err := p.Store.SetImage(ctx, itemID, uploadID, failed); err != nil && !errors.Is(err, dynamo.ErrNotLatestUpload) {
			return err
		}
		p.Logger.Info("upload rejected", "key", key, "reason", rejected.Reason)
		return p.Objects.Delete(ctx, key)
	}
	if err != nil {
		return err
	}
	ready, err := p.store(ctx, itemID, uploadID, data, result)
	if err != nil {
		return err
	}
	ready.Replaces = nil
	old, err := p.Store.SetImage(ctx, itemID, uploadID, ready)
	if errors.Is(err, dynamo.ErrNotLatestUpload) {
		// A newer upload was asked for meanwhile: this one leaves nothing.
		return p.Objects.Delete(ctx, append(ready.Keys(), key)...)
	}
	if err != nil {
		return err
	}
	var stale []string
	if old != nil {
		for _, k := range old.Replaces {
			if !slices.Contains(ready.Keys(), k) {
				stale = append(stale, k)
			}
		}
	}
	return p.Objects.Delete(ctx, append(stale, key)...)
}

// store writes the original and the thumbnails under thumbnails/, with
// deterministic keys so that a retry overwrites rather than adds.
func (p *Processor) store(ctx context.Context, itemID, uploadID string, data []byte, r thumbnail.Result) (inventory.Image, error) {
	img := inventory.Image{
		Status: inventory.ImageReady, UploadID: uploadID, ContentType: r.ContentType,
		Width: r.Width, Height: r.Height, Bytes: int64(len(data)),
		Original: media.OriginalKey(itemID, uploadID),
	}
	if err := p.Objects.Put(ctx, img.Original, r.ContentType, data); err != nil {
		return img, err
	}
	for _, t := range r.Thumbnails {
		key := media.ThumbnailKey(itemID, uploadID, t.Size, t.Ext)
		if err := p.Objects.Put(ctx, key, t.ContentType, t.Data); err != nil {
			return img, err
		}
		img.Thumbnails = append(img.Thumbnails, inventory.Thumbnail{Size: t.Size, Width: t.Width, Height: t.Height, ContentType: t.ContentType, Key: key})
	}
	return img, nil
}

// thumbnailKeys are every key processing of the upload may have written.
func thumbnailKeys(itemID, uploadID string) []string {
	keys := []string{media.OriginalKey(itemID, uploadID)}
	for _, size := range thumbnail.Sizes {
		for _, ext := range []string{"jpg", "png"} {
			keys = append(keys, media.ThumbnailKey(itemID, uploadID, size, ext))
		}
	}
	return keys
}
