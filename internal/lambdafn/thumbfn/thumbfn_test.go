package thumbfn

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"slices"
	"testing"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/thumbnail"
)

// The use cases name every key processing may write from the domain's
// sizes and extensions; the thumbnail maker must make exactly those.
func TestThumbnailSizesAreTheDomains(t *testing.T) {
	if !slices.Equal(thumbnail.Sizes, inventory.ThumbnailSizes) {
		t.Fatalf("thumbnail.Sizes %v, inventory.ThumbnailSizes %v", thumbnail.Sizes, inventory.ThumbnailSizes)
	}
}

func TestThumbnailerPort(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 9, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	got, err := Thumbnailer{}.Make(buf.Bytes())
	if err != nil || got.ContentType != "image/png" || got.Width != 300 || got.Height != 200 || len(got.Thumbnails) != len(inventory.ThumbnailSizes) {
		t.Fatalf("Make = %+v, %v", got, err)
	}
	for i, r := range got.Thumbnails {
		if r.Size != inventory.ThumbnailSizes[i] || !slices.Contains(inventory.ThumbnailExts, r.Ext) || len(r.Data) == 0 {
			t.Errorf("rendition %d: %+v", i, r)
		}
	}
	_, err = Thumbnailer{}.Make([]byte("not an image"))
	var rejected *inventory.RejectedImageError
	if !errors.As(err, &rejected) || rejected.Reason == "" {
		t.Fatalf("text: %v, want an *inventory.RejectedImageError", err)
	}
}
