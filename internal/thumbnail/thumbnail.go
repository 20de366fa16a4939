// Package thumbnail checks an uploaded image and makes its thumbnails. It is
// pure image logic: bytes in, encoded thumbnails out, no I/O.
//
// Make reads only the header first (image.DecodeConfig) and rejects a format
// that is not allowed or a pixel count over MaxPixels before any pixel is
// decoded, so a small file that claims a huge size costs nothing. Decoded
// images are then shrunk in two steps: a cheap integer box average straight
// on the decoder's planes (YCbCr, gray, RGBA, NRGBA) down to between two and
// four times the largest bounding box, then a Lanczos resize to the box. The
// smaller thumbnails are derived from the larger one, and EXIF orientation is
// applied to the small result, so nothing full-size is copied after decoding.
//
// Memory: a baseline JPEG peaks at about the input plus the decoded YCbCr
// image (1.5 bytes a pixel for 4:2:0, 3 for 4:4:4). Go's decoder also keeps
// every DCT coefficient of a progressive JPEG (4 bytes a sample), so one of
// MaxPixels in 4:4:4 needs about 750 MB: size the function's memory for it.
// `make bench-images` measures time and memory against ImageMagick.
package thumbnail

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"slices"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"
)

// AllowedTypes are the media types Make accepts, detected from the bytes.
var AllowedTypes = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}

// MaxPixels is the largest width*height Make decodes.
const MaxPixels = 50_000_000

// Sizes are the bounding boxes (square, in pixels) of the thumbnails.
var Sizes = []int{160, 640}

// JPEGQuality is the quality of JPEG thumbnails.
const JPEGQuality = 85

// collectAbovePixels is the image size from which Make runs the garbage
// collector before decoding (4 MP: a 6 MB decoded JPEG, 16 MB as RGBA).
const collectAbovePixels = 4_000_000

// Thumbnail is one encoded thumbnail.
type Thumbnail struct {
	Size        int    // the bounding box, one of Sizes
	ContentType string // "image/jpeg" or "image/png"
	Ext         string // "jpg" or "png"
	Width       int
	Height      int
	Data        []byte
}

// Result is what Make found and made.
type Result struct {
	ContentType string // detected from the bytes, one of AllowedTypes
	Width       int    // after EXIF orientation
	Height      int
	Thumbnails  []Thumbnail // in the order of Sizes
}

// RejectedError reports input that is not an acceptable image: a format not
// allowed, too many pixels, zero size, truncated or corrupt data, or bytes
// that are not an image at all. Retrying cannot help.
type RejectedError struct {
	Reason string
}

func (e *RejectedError) Error() string { return "image rejected: " + e.Reason }

func reject(format string, args ...any) error {
	return &RejectedError{Reason: fmt.Sprintf(format, args...)}
}

// formats maps image.DecodeConfig's format names to media types; the four
// decoders register themselves on import. Other registered formats (imaging
// imports x/image's bmp and tiff) are refused after the header.
var formats = map[string]string{
	"jpeg": "image/jpeg",
	"png":  "image/png",
	"gif":  "image/gif",
	"webp": "image/webp",
}

// Make checks data and makes one thumbnail per entry of Sizes, each fitting
// its bounding box, never upscaled. Opaque images give JPEG thumbnails,
// images with any transparency PNG ones. Bad input gives a *RejectedError.
func Make(data []byte) (Result, error) {
	if len(data) == 0 {
		return Result{}, reject("empty file")
	}
	// Formats that are not allowed are told by their magic before any
	// header is parsed: x/image/tiff's DecodeConfig (registered because
	// imaging imports it) grows its buffer to the IFD offset the file
	// names, 10 MB for an 8-byte file.
	if kind := sniff(data); kind != "" {
		return Result{}, reject("format %s is not allowed", kind)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		return Result{}, reject("not an image")
	}
	if err != nil {
		return Result{}, reject("unreadable %s header: %v", format, err)
	}
	contentType, ok := formats[format]
	if !ok {
		return Result{}, reject("format image/%s is not allowed", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Result{}, reject("image has zero size (%dx%d)", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return Result{}, reject("image is %dx%d, more than %d pixels", cfg.Width, cfg.Height, MaxPixels)
	}

	orientation := 1
	if format == "jpeg" {
		orientation = jpegOrientation(data)
	}
	if int64(cfg.Width)*int64(cfg.Height) >= collectAbovePixels {
		// The previous call's decoded image is most likely still garbage on
		// the heap: collecting it now (about a millisecond, the big buffers
		// hold no pointers) lets this decode reuse its memory instead of
		// growing the heap to twice the decoded size.
		runtime.GC()
	}
	img, err := decode(format, data)
	if err != nil {
		return Result{}, reject("corrupt or truncated %s: %v", format, err)
	}
	if screen := image.Rect(0, 0, cfg.Width, cfg.Height); format == "gif" && img.Bounds() != screen {
		// A GIF's first frame may cover part of its logical screen, which
		// is what viewers show: the frame drawn where it stands on the
		// screen, transparent elsewhere (not the frame alone, cropped).
		canvas := image.NewNRGBA(screen)
		draw.Draw(canvas, img.Bounds(), img, img.Bounds().Min, draw.Src)
		img = canvas
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return Result{}, reject("image has zero size")
	}
	if int64(b.Dx())*int64(b.Dy()) > MaxPixels { // cannot happen past DecodeConfig; kept as a guard
		return Result{}, reject("image is %dx%d, more than %d pixels", b.Dx(), b.Dy(), MaxPixels)
	}

	res := Result{ContentType: contentType, Width: b.Dx(), Height: b.Dy()}
	if orientation >= 5 {
		res.Width, res.Height = res.Height, res.Width
	}
	transparent := hasTransparency(img)

	// Largest box first, from the decoded image; each smaller one from the
	// previous (already oriented) thumbnail.
	order := slices.Clone(Sizes)
	slices.Sort(order)
	slices.Reverse(order)
	made := make(map[int]Thumbnail, len(order))
	var src image.Image = img
	img = nil
	for i, size := range order {
		t := fit(src, size)
		if i == 0 {
			t = orient(t, orientation)
		}
		src = t // the decoded image is garbage from here on
		th, err := encode(t, size, transparent)
		if err != nil {
			return Result{}, err
		}
		made[size] = th
	}
	for _, size := range Sizes {
		res.Thumbnails = append(res.Thumbnails, made[size])
	}
	return res, nil
}

func decode(format string, data []byte) (image.Image, error) {
	r := bytes.NewReader(data)
	switch format {
	case "jpeg":
		return jpeg.Decode(r)
	case "png":
		return png.Decode(r)
	case "gif":
		return gif.Decode(r) // the first frame
	case "webp":
		return webp.Decode(r)
	}
	return nil, fmt.Errorf("no decoder for %s", format)
}

// fitSize is the size of a w x h image fitted into a box x box square:
// never larger than the source, each side at least 1.
func fitSize(w, h, box int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	if w >= h {
		return box, max(1, int((int64(h)*int64(box)*2+int64(w))/(2*int64(w))))
	}
	return max(1, int((int64(w)*int64(box)*2+int64(h))/(2*int64(h)))), box
}

// fit resizes img into a box x box square. When img is more than four
// times the box it is first box-averaged by an integer factor to between
// two and four times the box, which costs one pass over the pixels instead
// of a wide Lanczos kernel over all of them.
func fit(img image.Image, box int) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := fitSize(w, h, box)
	if dw == w && dh == h {
		return imaging.Clone(img)
	}
	if k := max(w, h) / (2 * box); k >= 2 {
		if small := reduce(img, k); small != nil {
			img = small
		}
	}
	return imaging.Resize(img, dw, dh, imaging.Lanczos)
}

// encode writes t as JPEG when the source is opaque, else as PNG.
func encode(t *image.NRGBA, size int, transparent bool) (Thumbnail, error) {
	th := Thumbnail{Size: size, Width: t.Rect.Dx(), Height: t.Rect.Dy()}
	var buf bytes.Buffer
	if transparent {
		th.ContentType, th.Ext = "image/png", "png"
		if err := png.Encode(&buf, t); err != nil {
			return Thumbnail{}, fmt.Errorf("thumbnail: encode png: %w", err)
		}
	} else {
		th.ContentType, th.Ext = "image/jpeg", "jpg"
		// Opaque: with alpha 255 the NRGBA bytes are valid RGBA, which the
		// JPEG encoder converts on its fast path.
		for i := 3; i < len(t.Pix); i += 4 {
			t.Pix[i] = 0xff
		}
		rgba := &image.RGBA{Pix: t.Pix, Stride: t.Stride, Rect: t.Rect}
		if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: JPEGQuality}); err != nil {
			return Thumbnail{}, fmt.Errorf("thumbnail: encode jpeg: %w", err)
		}
	}
	th.Data = buf.Bytes()
	return th, nil
}

// hasTransparency reports whether any pixel of img is not fully opaque. The
// standard image types answer through their Opaque method (constant time
// for YCbCr and Gray, one pass over the alpha bytes for NRGBA/RGBA, the used
// palette entries for Paletted); anything else is checked pixel by pixel.
func hasTransparency(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return !o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return true
			}
		}
	}
	return false
}

// sniff names image formats that are not allowed, by their magic: those
// image.DecodeConfig does not know (for a clearer rejection reason) and
// those it knows (BMP, TIFF), so that they are refused before it parses
// them.
func sniff(data []byte) string {
	has := func(off int, magic string) bool {
		return len(data) >= off+len(magic) && string(data[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "BM"):
		return "image/bmp"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "image/tiff"
	case has(4, "ftypheic"), has(4, "ftypheix"), has(4, "ftypmif1"), has(4, "ftypmsf1"):
		return "image/heic"
	case has(4, "ftypavif"):
		return "image/avif"
	case has(0, "\x00\x00\x01\x00"):
		return "image/x-icon"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL "):
		return "image/jxl"
	}
	return ""
}
