package inventory

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Image states. Pending, ready and failed are stored; expired is shown
// (Image.Shown) for a pending image whose upload can no longer come.
const (
	ImagePending = "pending"
	ImageReady   = "ready"
	ImageFailed  = "failed"
	ImageExpired = "expired"
)

// Lifetimes of an image upload, from the moment it is asked for (the time
// of its ULID). Its first form lasts UploadFormTTL (package usecase); a
// replay of the request (the same Idempotency-Key) after that gets a fresh
// form while the upload is still pending, expiring by ImageUploadWindow.
// An upload sent by then is processed within ImageUploadGrace: S3 stores
// it at once, and MakeThumbnails' event is retried for up to an hour
// (MaximumEventAgeInSeconds in template.yaml). Past both, a pending image
// shows expired.
const (
	ImageUploadWindow = time.Hour
	ImageUploadGrace  = time.Hour
)

// UploadDeadline is when the forms of an upload stop working, at the
// latest: ImageUploadWindow after the upload was asked for.
func UploadDeadline(uploadID string) time.Time {
	return idTime(uploadID).Add(ImageUploadWindow)
}

// idTime is the creation time of a ULID (the zero time for anything else).
func idTime(id string) time.Time {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Time{}
	}
	return ulid.Time(u.Time()).UTC()
}

// Shown is the image's status as callers see it: a pending image whose
// upload was never received or processed by its deadline plus
// ImageUploadGrace is expired. Processing an upload still makes it ready
// or failed if its event comes later (an operator replaying a failed
// event); a new upload replaces it.
func (im *Image) Shown(now time.Time) string {
	if im.Status == ImagePending && now.After(UploadDeadline(im.UploadID).Add(ImageUploadGrace)) {
		return ImageExpired
	}
	return im.Status
}

// ImageContentTypes are the media types an image upload may have.
var ImageContentTypes = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}

// ThumbnailSizes are the bounding boxes, in pixels, of every image's
// thumbnails; ThumbnailExts the file extensions a thumbnail may have.
var (
	ThumbnailSizes = []int{160, 640}
	ThumbnailExts  = []string{"jpg", "png"}
)

// Image is an item's photo: the latest upload asked for, and once processed
// its dimensions and stored objects.
type Image struct {
	Status      string
	UploadID    string
	ContentType string
	RequestedBy string // who asked for the upload
	Width       int
	Height      int
	Bytes       int64
	Reason      string // why processing failed
	Original    string // object key of the processed original
	Thumbnails  []Thumbnail
	// Replaces lists the object keys of the last ready image, deleted once
	// a newer image is ready.
	Replaces []string
}

// Thumbnail is one stored thumbnail of an image.
type Thumbnail struct {
	Size        int // bounding box, px
	Width       int
	Height      int
	ContentType string
	Key         string
}

// Keys returns the object keys a ready image owns.
func (im *Image) Keys() []string {
	if im == nil || im.Status != ImageReady {
		return nil
	}
	keys := []string{im.Original}
	for _, t := range im.Thumbnails {
		keys = append(keys, t.Key)
	}
	return keys
}

// StartUpload returns the change that makes uploadID, asked for by actor,
// the item's pending image. The objects of the last ready image are kept
// until the new one replaces them.
func StartUpload(old Item, uploadID, contentType, actor string, now time.Time) ItemChange {
	now = instant(now)
	next := old
	img := Image{Status: ImagePending, UploadID: uploadID, ContentType: contentType, RequestedBy: actor}
	if cur := old.Image; cur != nil {
		if keys := cur.Keys(); keys != nil {
			img.Replaces = keys
		} else {
			img.Replaces = slices.Clone(cur.Replaces)
		}
	}
	next.Image = &img
	touch(&next, old, actor, now)
	a := newActivity(old.ID, ActivityUpdated, actor, now)
	a.UploadID = uploadID
	a.Changes = []FieldChange{{Field: "image", From: imageSummary(old.Image), To: imageSummary(&img)}}
	return ItemChange{Old: &old, Next: next, Activity: []Activity{a}}
}

func imageSummary(im *Image) []byte {
	if im == nil {
		return jsonValue(nil)
	}
	return jsonValue(map[string]string{"status": im.Status, "uploadId": im.UploadID})
}

// FinishUpload returns the change that records the outcome of processing
// the pending upload of old: img, ready or failed. It is stamped by the
// uploader, who asked for the upload.
func FinishUpload(old Item, img Image, now time.Time) ItemChange {
	now = instant(now)
	next := old
	img.RequestedBy = old.Image.RequestedBy
	next.Image = &img
	actor := img.RequestedBy
	touch(&next, old, actor, now)
	typ := ActivityImageReady
	if img.Status == ImageFailed {
		typ = ActivityImageFailed
	}
	a := newActivity(old.ID, typ, actor, now)
	a.UploadID, a.ImageReason = img.UploadID, img.Reason
	return ItemChange{Old: &old, Next: next, Activity: []Activity{a}}
}

// Upload is what a client needs to send a photo straight to object storage.
type Upload struct {
	ID           string
	Form         UploadForm
	MaxBytes     int64
	ContentTypes []string
}

// UploadForm is a presigned HTML form POST: send every field, then the file
// last, as multipart/form-data to URL, before ExpiresAt.
type UploadForm struct {
	URL       string
	Fields    map[string]string
	ExpiresAt time.Time
}

// ProcessedImage is a checked upload and its thumbnails.
type ProcessedImage struct {
	ContentType string // of the original, as its bytes say
	Width       int
	Height      int
	Thumbnails  []Rendition
}

// Rendition is one thumbnail made of an image.
type Rendition struct {
	Size        int // bounding box, px
	Width       int
	Height      int
	ContentType string
	Ext         string // jpg or png
	Data        []byte
}

// RejectedImageError is a file that is not an image Depot accepts; retrying
// will not change that.
type RejectedImageError struct{ Reason string }

func (e *RejectedImageError) Error() string { return "image rejected: " + e.Reason }

// Object keys of images:
//
//	uploads/{itemId}/{uploadId}                    what a client uploaded (triggers processing)
//	thumbnails/{itemId}/{uploadId}/original        the checked original, kept once processed
//	thumbnails/{itemId}/{uploadId}/{size}.{ext}    thumbnails (ext jpg or png)
const (
	UploadPrefix    = "uploads/"
	ThumbnailPrefix = "thumbnails/"
)

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

// ProcessedKeys are every key processing an upload may write.
func ProcessedKeys(itemID, uploadID string) []string {
	keys := []string{OriginalKey(itemID, uploadID)}
	for _, size := range ThumbnailSizes {
		for _, ext := range ThumbnailExts {
			keys = append(keys, ThumbnailKey(itemID, uploadID, size, ext))
		}
	}
	return keys
}

// ParseUploadKey splits an upload key into its item and upload ids; ok is
// false for any other key.
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
