package inventory

import "slices"

// Image states.
const (
	ImagePending = "pending"
	ImageReady   = "ready"
	ImageFailed  = "failed"
)

// Image is an item's photo: the latest upload asked for, and once processed
// its dimensions and stored objects.
type Image struct {
	Status      string
	UploadID    string
	ContentType string
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

// PendingImage is the image of an item after a new upload is asked for: the
// objects of the last ready image are kept until the new one replaces them.
func PendingImage(current *Image, uploadID, contentType string) Image {
	next := Image{Status: ImagePending, UploadID: uploadID, ContentType: contentType}
	if current != nil {
		if keys := current.Keys(); keys != nil {
			next.Replaces = keys
		} else {
			next.Replaces = slices.Clone(current.Replaces)
		}
	}
	return next
}

// ImageContentTypes are the media types an image upload may have.
var ImageContentTypes = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}
