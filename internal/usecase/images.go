package usecase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// RequestImageUpload makes a new upload the live item's pending image and
// returns the form that sends the file straight to object storage. A replay
// (same Idempotency-Key) whose form has expired gets a fresh form for the
// same upload while it is still the item's pending image and within its
// window (inventory.UploadDeadline), the fresh form expiring by then; it
// gets upload_expired otherwise: an expired form is never handed back as
// usable, and no form outlives the upload's window, after which (and a
// grace for processing) the image shows expired.
func (s *Service) RequestImageUpload(ctx context.Context, req Request, itemID, contentType string) (inventory.Upload, bool, error) {
	if err := inventory.ValidateImageContentType(contentType); err != nil {
		return inventory.Upload{}, false, err
	}
	input := struct{ ItemID, ContentType string }{itemID, contentType}
	up, replayed, err := once(ctx, s, "RequestImageUpload", req, input, func(p *pending) (inventory.Upload, error) {
		var up inventory.Upload
		_, err := s.changeItem(ctx, itemID, live, req, nil, func(old inventory.Item) (*inventory.ItemChange, error) {
			var err error
			up, err = s.newUpload(ctx, old.ID, inventory.NewID(s.now()), contentType, UploadFormTTL)
			if err != nil {
				return nil, err
			}
			c := inventory.StartUpload(old, up.ID, contentType, req.Actor, s.now())
			if c.Idempotency, err = p.record(up); err != nil {
				return nil, err
			}
			return &c, nil
		})
		return up, err
	})
	if err != nil || !replayed || s.now().Before(up.Form.ExpiresAt) {
		return up, replayed, err
	}
	it, err := s.readItem(ctx, itemID, anyState)
	if err != nil {
		return inventory.Upload{}, false, err
	}
	ttl := min(UploadFormTTL, inventory.UploadDeadline(up.ID).Sub(s.now()))
	if it.Image == nil || it.Image.UploadID != up.ID || it.Image.Status != inventory.ImagePending || ttl < time.Second {
		return inventory.Upload{}, false, inventory.Errorf(inventory.KindConflict, inventory.CodeUploadExpired,
			"the form of upload %s expired at %s and the upload is no longer pending, or past its window; ask for a new upload with a new Idempotency-Key",
			up.ID, up.Form.ExpiresAt.UTC().Format(inventory.TimeLayout))
	}
	up, err = s.newUpload(ctx, it.ID, up.ID, contentType, ttl)
	return up, true, err
}

// newUpload presigns the form of one upload, working for ttl.
func (s *Service) newUpload(ctx context.Context, itemID, uploadID, contentType string, ttl time.Duration) (inventory.Upload, error) {
	form, err := s.Signer.PresignUpload(ctx, inventory.UploadKey(itemID, uploadID), contentType, s.maxUploadBytes(), ttl)
	if err != nil {
		return inventory.Upload{}, fmt.Errorf("presign upload %s of %s: %w", uploadID, itemID, err)
	}
	return inventory.Upload{ID: uploadID, Form: form, MaxBytes: s.maxUploadBytes(),
		ContentTypes: slices.Clone(inventory.ImageContentTypes)}, nil
}

// errSuperseded: the item's image is no longer the upload being processed.
var errSuperseded = errors.New("upload superseded")

// ProcessUpload turns the object an upload stored at key into the item's
// image: it checks the file and makes its thumbnails, stores them, deletes
// the objects of the image it replaces (shown by no one since the upload
// was asked for), records the new image on the item only while that upload
// is still the item's pending image, and deletes the upload. Every step is
// safe to repeat, so an error (which makes the caller retry the whole
// event) never leaves a half-done image, and a run stopped at any point —
// after the record, before the upload was deleted — is finished by the
// next: an upload already processed is deleted. A file that can never
// become an image (not one, or over the size limit) is a permanent
// rejection: the image is failed with the reason and the file deleted, and
// no error is returned.
func (s *Service) ProcessUpload(ctx context.Context, key string) error {
	log := s.logger().With("key", key)
	itemID, uploadID, ok := inventory.ParseUploadKey(key)
	if !ok {
		log.Warn("not an upload key; ignored")
		return nil
	}
	item, err := s.Store.GetItem(ctx, itemID)
	if inventory.CodeOf(err) == inventory.CodeItemNotFound {
		log.Info("upload for no item; deleted")
		return s.Objects.Delete(ctx, key)
	}
	if err != nil {
		return err
	}
	if item.Image == nil || item.Image.UploadID != uploadID {
		log.Info("upload superseded; deleted")
		return s.Objects.Delete(ctx, append(inventory.ProcessedKeys(itemID, uploadID), key)...)
	}
	if item.Image.Status != inventory.ImagePending {
		// A retry of an event already processed: the outcome stands, and
		// the upload, which a stopped run may have left, goes.
		return s.Objects.Delete(ctx, key)
	}
	data, err := s.Objects.Get(ctx, key, s.maxUploadBytes())
	switch {
	case errors.Is(err, inventory.ErrObjectNotFound):
		return nil // processed and cleaned up by an earlier delivery
	case errors.Is(err, inventory.ErrObjectTooLarge):
		return s.reject(ctx, key, itemID, uploadID, 0,
			fmt.Sprintf("the file is larger than the %d bytes an image may have", s.maxUploadBytes()))
	case err != nil:
		return err
	}
	result, err := s.Thumbnailer.Make(data)
	var rejected *inventory.RejectedImageError
	if errors.As(err, &rejected) {
		return s.reject(ctx, key, itemID, uploadID, int64(len(data)), rejected.Reason)
	}
	if err != nil {
		return err
	}
	ready, err := s.storeImage(ctx, itemID, uploadID, data, result)
	if err != nil {
		return err
	}
	// The replaced image's objects go before the new image is recorded:
	// once recorded, nothing says which they were (and an upload asked for
	// makes the item show it pending, so none of them is linked any more).
	var stale []string
	for _, k := range item.Image.Replaces {
		if !slices.Contains(ready.Keys(), k) {
			stale = append(stale, k)
		}
	}
	if err := s.Objects.Delete(ctx, stale...); err != nil {
		return err
	}
	_, err = s.changeItem(ctx, itemID, anyState, Request{}, nil, func(old inventory.Item) (*inventory.ItemChange, error) {
		if old.Image == nil || old.Image.UploadID != uploadID {
			return nil, errSuperseded
		}
		if old.Image.Status != inventory.ImagePending {
			return nil, nil
		}
		c := inventory.FinishUpload(old, ready, s.now())
		return &c, nil
	})
	if errors.Is(err, errSuperseded) {
		log.Info("upload superseded while processed; its objects deleted")
		return s.Objects.Delete(ctx, append(ready.Keys(), key)...)
	}
	if err != nil {
		return err
	}
	return s.Objects.Delete(ctx, key)
}

// reject fails the upload's image with reason and deletes the file.
func (s *Service) reject(ctx context.Context, key, itemID, uploadID string, size int64, reason string) error {
	_, err := s.changeItem(ctx, itemID, anyState, Request{}, nil, func(old inventory.Item) (*inventory.ItemChange, error) {
		if old.Image == nil || old.Image.UploadID != uploadID || old.Image.Status != inventory.ImagePending {
			return nil, nil
		}
		failed := inventory.Image{Status: inventory.ImageFailed, UploadID: uploadID,
			ContentType: old.Image.ContentType, Bytes: size, Reason: reason, Replaces: old.Image.Replaces}
		c := inventory.FinishUpload(old, failed, s.now())
		return &c, nil
	})
	if err != nil {
		return err
	}
	s.logger().Info("upload rejected", "key", key, "reason", reason)
	return s.Objects.Delete(ctx, key)
}

// storeImage writes the original and the thumbnails under thumbnails/,
// with deterministic keys so that a retry overwrites rather than adds.
func (s *Service) storeImage(ctx context.Context, itemID, uploadID string, data []byte, r inventory.ProcessedImage) (inventory.Image, error) {
	img := inventory.Image{
		Status: inventory.ImageReady, UploadID: uploadID, ContentType: r.ContentType,
		Width: r.Width, Height: r.Height, Bytes: int64(len(data)),
		Original: inventory.OriginalKey(itemID, uploadID),
	}
	if err := s.Objects.Put(ctx, img.Original, r.ContentType, data); err != nil {
		return img, err
	}
	for _, t := range r.Thumbnails {
		key := inventory.ThumbnailKey(itemID, uploadID, t.Size, t.Ext)
		if err := s.Objects.Put(ctx, key, t.ContentType, t.Data); err != nil {
			return img, err
		}
		img.Thumbnails = append(img.Thumbnails, inventory.Thumbnail{Size: t.Size, Width: t.Width,
			Height: t.Height, ContentType: t.ContentType, Key: key})
	}
	return img, nil
}
