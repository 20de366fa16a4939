package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/HugoSmits86/nativewebp"
	"github.com/disintegration/imaging"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/depot-inventory/depot/internal/thumbnail/internal/testimg"
)

// --- images made for the tests ---

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeWebP(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, img *image.Paletted) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// opaque is a w x h gradient.
func opaque(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			copy(img.Pix[y*img.Stride+4*x:], []byte{uint8(255 * x / w), uint8(255 * y / h), 128, 255})
		}
	}
	return img
}

// withAlpha is a w x h gradient whose left half fades to fully transparent.
func withAlpha(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if x < w/2 {
				a = uint8(255 * x / (w / 2))
			}
			copy(img.Pix[y*img.Stride+4*x:], []byte{200, uint8(255 * y / h), 50, a})
		}
	}
	return img
}

// paletted is a w x h plan9-palette image; with transparent, its top half
// uses a fully transparent palette entry.
func paletted(w, h int, transparent bool) *image.Paletted {
	pal := append(color.Palette{}, palette.Plan9[:255]...)
	pal = append(pal, color.RGBA{})
	img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for y := range h {
		for x := range w {
			idx := uint8((x/8 + y/8) % 255)
			if transparent && y < h/2 {
				idx = 255
			}
			img.SetColorIndex(x, y, idx)
		}
	}
	return img
}

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
)

// markedJPEG is a 400x200 gray JPEG with a red square in its top-left
// corner and a green one in its top-right corner, as stored.
func markedJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 200))
	draw.Draw(img, img.Rect, image.NewUniform(color.Gray{128}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, 0, 60, 60), image.NewUniform(red), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(340, 0, 400, 60), image.NewUniform(green), image.Point{}, draw.Src)
	return encodeJPEG(t, img)
}

// withOrientation inserts, right after SOI, an APP1 Exif segment whose IFD0
// holds one entry: Orientation (0x0112, SHORT, 1) = o.
func withOrientation(jpg []byte, o uint16, bo binary.AppendByteOrder) []byte {
	tiffHdr := []byte("MM\x00\x2a")
	if bo == binary.LittleEndian {
		tiffHdr = []byte("II\x2a\x00")
	}
	tiffHdr = bo.AppendUint32(tiffHdr, 8) // IFD0 right after the header
	tiffHdr = bo.AppendUint16(tiffHdr, 1) // one entry
	tiffHdr = bo.AppendUint16(tiffHdr, 0x0112)
	tiffHdr = bo.AppendUint16(tiffHdr, 3) // SHORT
	tiffHdr = bo.AppendUint32(tiffHdr, 1) // one value
	tiffHdr = bo.AppendUint16(tiffHdr, o)
	tiffHdr = append(tiffHdr, 0, 0)       // value padding
	tiffHdr = bo.AppendUint32(tiffHdr, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiffHdr...)
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+len(payload)))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngHeader is a PNG signature and a valid IHDR chunk (RGBA, 8 bits) for
// w x h, and nothing else.
func pngHeader(w, h uint32) []byte {
	data := binary.BigEndian.AppendUint32(nil, w)
	data = binary.BigEndian.AppendUint32(data, h)
	data = append(data, 8, 6, 0, 0, 0)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "IHDR"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append([]byte("\x89PNG\r\n\x1a\n"), chunk...)
}

// jpegHeader is SOI, a JFIF APP0 and a baseline SOF0 for a 3-component
// w x h image.
func jpegHeader(w, h uint16) []byte {
	b := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	b = append(b, 0xff, 0xc0, 0x00, 0x11, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	return append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
}

// gifHeader is a GIF89a header with a w x h logical screen and no frame.
func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, 0x3b)
}

// --- tests ---

type wantThumb struct {
	size, w, h int
	ext        string
}

func TestMake(t *testing.T) {
	jpg := encodeJPEG(t, opaque(800, 600))
	tests := []struct {
		name        string
		data        []byte
		contentType string
		w, h        int
		thumbs      []wantThumb
	}{
		{"jpeg", jpg, "image/jpeg", 800, 600,
			[]wantThumb{{160, 160, 120, "jpg"}, {640, 640, 480, "jpg"}}},
		{"jpeg portrait", encodeJPEG(t, opaque(300, 1000)), "image/jpeg", 300, 1000,
			[]wantThumb{{160, 48, 160, "jpg"}, {640, 192, 640, "jpg"}}},
		{"jpeg large, box-reduced first", encodeJPEG(t, opaque(3001, 1403)), "image/jpeg", 3001, 1403,
			[]wantThumb{{160, 160, 75, "jpg"}, {640, 640, 299, "jpg"}}},
		{"jpeg gray", encodeJPEG(t, imaging.Grayscale(opaque(2700, 400))), "image/jpeg", 2700, 400,
			[]wantThumb{{160, 160, 24, "jpg"}, {640, 640, 95, "jpg"}}},
		{"png with alpha", encodePNG(t, withAlpha(2600, 500)), "image/png", 2600, 500,
			[]wantThumb{{160, 160, 31, "png"}, {640, 640, 123, "png"}}},
		{"png with alpha, small", encodePNG(t, withAlpha(300, 200)), "image/png", 300, 200,
			[]wantThumb{{160, 160, 107, "png"}, {640, 300, 200, "png"}}},
		{"png opaque", encodePNG(t, opaque(600, 2600)), "image/png", 600, 2600,
			[]wantThumb{{160, 37, 160, "jpg"}, {640, 148, 640, "jpg"}}},
		{"webp opaque", encodeWebP(t, opaque(700, 500)), "image/webp", 700, 500,
			[]wantThumb{{160, 160, 114, "jpg"}, {640, 640, 457, "jpg"}}},
		{"webp with alpha", encodeWebP(t, withAlpha(400, 400)), "image/webp", 400, 400,
			[]wantThumb{{160, 160, 160, "png"}, {640, 400, 400, "png"}}},
		{"gif", encodeGIF(t, paletted(200, 100, false)), "image/gif", 200, 100,
			[]wantThumb{{160, 160, 80, "jpg"}, {640, 200, 100, "jpg"}}},
		{"gif with transparency", encodeGIF(t, paletted(200, 100, true)), "image/gif", 200, 100,
			[]wantThumb{{160, 160, 80, "png"}, {640, 200, 100, "png"}}},
		{"1x1 jpeg", encodeJPEG(t, opaque(1, 1)), "image/jpeg", 1, 1,
			[]wantThumb{{160, 1, 1, "jpg"}, {640, 1, 1, "jpg"}}},
		{"1x1 transparent png", encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 1, 1))), "image/png", 1, 1,
			[]wantThumb{{160, 1, 1, "png"}, {640, 1, 1, "png"}}},
		{"very wide", encodePNG(t, opaque(5000, 3)), "image/png", 5000, 3,
			[]wantThumb{{160, 160, 1, "jpg"}, {640, 640, 1, "jpg"}}},
		{"exif orientation 6", withOrientation(markedJPEG(t), 6, binary.BigEndian), "image/jpeg", 200, 400,
			[]wantThumb{{160, 80, 160, "jpg"}, {640, 200, 400, "jpg"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Make(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if res.ContentType != tt.contentType || res.Width != tt.w || res.Height != tt.h {
				t.Fatalf("got %s %dx%d, want %s %dx%d", res.ContentType, res.Width, res.Height, tt.contentType, tt.w, tt.h)
			}
			if len(res.Thumbnails) != len(tt.thumbs) {
				t.Fatalf("got %d thumbnails, want %d", len(res.Thumbnails), len(tt.thumbs))
			}
			for i, want := range tt.thumbs {
				th := res.Thumbnails[i]
				if th.Size != want.size || th.Width != want.w || th.Height != want.h || th.Ext != want.ext {
					t.Errorf("thumbnail %d: got size %d %dx%d .%s, want size %d %dx%d .%s",
						i, th.Size, th.Width, th.Height, th.Ext, want.size, want.w, want.h, want.ext)
				}
				wantType := map[string]string{"jpg": "image/jpeg", "png": "image/png"}[want.ext]
				if th.ContentType != wantType {
					t.Errorf("thumbnail %d: content type %s, want %s", i, th.ContentType, wantType)
				}
				img, format, err := image.Decode(bytes.NewReader(th.Data))
				if err != nil {
					t.Fatalf("thumbnail %d does not decode: %v", i, err)
				}
				if "image/"+format != wantType {
					t.Errorf("thumbnail %d is %s, labelled %s", i, format, wantType)
				}
				if img.Bounds().Dx() != want.w || img.Bounds().Dy() != want.h {
					t.Errorf("thumbnail %d decodes as %v, want %dx%d", i, img.Bounds(), want.w, want.h)
				}
				if want.ext == "png" && !hasTransparency(img) {
					t.Errorf("thumbnail %d lost its transparency", i)
				}
			}
		})
	}
}

func TestMakeKeepsColours(t *testing.T) {
	// A red left half and a blue right half must stay so in every format
	// and through the box reduction.
	img := image.NewRGBA(image.Rect(0, 0, 2600, 300))
	draw.Draw(img, image.Rect(0, 0, 1300, 300), image.NewUniform(color.RGBA{220, 20, 20, 255}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(1300, 0, 2600, 300), image.NewUniform(color.RGBA{20, 20, 220, 255}), image.Point{}, draw.Src)
	for name, data := range map[string][]byte{"jpeg": encodeJPEG(t, img), "png": encodePNG(t, img), "webp": encodeWebP(t, img)} {
		res, err := Make(data)
		if err != nil {
			t.Fatal(name, err)
		}
		for _, th := range res.Thumbnails {
			out, _, err := image.Decode(bytes.NewReader(th.Data))
			if err != nil {
				t.Fatal(err)
			}
			w, h := out.Bounds().Dx(), out.Bounds().Dy()
			assertNear(t, name+" left", out.At(w/4, h/2), color.RGBA{220, 20, 20, 255})
			assertNear(t, name+" right", out.At(3*w/4, h/2), color.RGBA{20, 20, 220, 255})
		}
	}
}

func assertNear(t *testing.T, what string, got color.Color, want color.RGBA) {
	t.Helper()
	r, g, b, _ := got.RGBA()
	d := max(absDiff(r>>8, uint32(want.R)), absDiff(g>>8, uint32(want.G)), absDiff(b>>8, uint32(want.B)))
	if d > 40 {
		t.Errorf("%s: got %v, want about %v", what, got, want)
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestMakeEXIFOrientation(t *testing.T) {
	// Where the stored top-left (red) and top-right (green) corners end up.
	type corner int
	const (
		topLeft corner = iota
		topRight
		bottomLeft
		bottomRight
	)
	tests := []struct {
		orientation uint16
		portrait    bool
		red, green  corner
	}{
		{1, false, topLeft, topRight},
		{2, false, topRight, topLeft},
		{3, false, bottomRight, bottomLeft},
		{4, false, bottomLeft, bottomRight},
		{5, true, topLeft, bottomLeft},
		{6, true, topRight, bottomRight},
		{7, true, bottomRight, topRight},
		{8, true, bottomLeft, topLeft},
	}
	src := markedJPEG(t)
	for _, tt := range tests {
		for _, bo := range []binary.AppendByteOrder{binary.BigEndian, binary.LittleEndian} {
			res, err := Make(withOrientation(src, tt.orientation, bo))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Height > res.Width; got != tt.portrait {
				t.Fatalf("orientation %d (%v): result %dx%d, portrait want %v", tt.orientation, bo, res.Width, res.Height, tt.portrait)
			}
			for _, th := range res.Thumbnails {
				img, err := jpeg.Decode(bytes.NewReader(th.Data))
				if err != nil {
					t.Fatal(err)
				}
				if got := img.Bounds().Dy() > img.Bounds().Dx(); got != tt.portrait {
					t.Errorf("orientation %d: thumbnail %d is %v", tt.orientation, th.Size, img.Bounds())
				}
				w, h := img.Bounds().Dx(), img.Bounds().Dy()
				// The markers are 60/400 of the long side: sample 1/20 in.
				at := func(c corner) color.Color {
					dx, dy := max(w, h)/20, max(w, h)/20
					switch c {
					case topLeft:
						return img.At(dx, dy)
					case topRight:
						return img.At(w-1-dx, dy)
					case bottomLeft:
						return img.At(dx, h-1-dy)
					}
					return img.At(w-1-dx, h-1-dy)
				}
				what := func(m string) string {
					return fmt.Sprintf("orientation %d (%v), thumbnail %d: %s marker", tt.orientation, bo, th.Size, m)
				}
				assertNear(t, what("red"), at(tt.red), red)
				assertNear(t, what("green"), at(tt.green), green)
			}
		}
	}
}

func TestMakeRejects(t *testing.T) {
	jpg := encodeJPEG(t, opaque(800, 600))
	var bmpBuf, tiffBuf bytes.Buffer
	if err := bmp.Encode(&bmpBuf, opaque(20, 20)); err != nil {
		t.Fatal(err)
	}
	if err := tiff.Encode(&tiffBuf, opaque(20, 20), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   []byte
		reason string // a substring of RejectedError.Reason
	}{
		{"empty", nil, "empty"},
		{"text", []byte("hello, this is a text file, not a picture\n"), "not an image"},
		{"html", []byte("<!doctype html><html><body><img src=x></body></html>"), "not an image"},
		{"bmp", bmpBuf.Bytes(), "image/bmp is not allowed"},
		{"tiff", tiffBuf.Bytes(), "image/tiff is not allowed"},
		{"bmp header only", []byte("BM\x00\x00"), "image/bmp is not allowed"},
		{"heic brand", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), "image/heic is not allowed"},
		{"png claims 100000x100000", pngHeader(100000, 100000), "more than 50000000 pixels"},
		{"jpeg claims 65535x65535", jpegHeader(65535, 65535), "more than 50000000 pixels"},
		{"gif claims 65535x65535", gifHeader(65535, 65535), "more than 50000000 pixels"},
		{"png claims 7072x7072", pngHeader(7072, 7072), "more than 50000000 pixels"},
		{"png zero width", pngHeader(0, 10), "png"},
		{"gif zero size", gifHeader(0, 0), "zero size"},
		{"truncated jpeg", jpg[:len(jpg)/2], "corrupt or truncated jpeg"},
		{"truncated jpeg header", jpg[:40], "jpeg"},
		{"png without pixels", pngHeader(10, 10), "corrupt or truncated png"},
		{"corrupt png", append(pngHeader(10, 10), "\x00\x00\x00\x04IDATjunk\x00\x00\x00\x00"...), "corrupt or truncated png"},
		{"gif without frame", gifHeader(10, 10), "corrupt or truncated gif"},
		{"webp truncated", encodeWebP(t, opaque(50, 50))[:40], "webp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Make(tt.data)
			var rej *RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("got %+v, %v; want a *RejectedError", res, err)
			}
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", rej.Reason, tt.reason)
			}
			if !strings.Contains(err.Error(), rej.Reason) {
				t.Errorf("Error() %q does not carry the reason", err.Error())
			}
		})
	}
}

func TestMakeRejectsHugeHeaderWithoutAllocating(t *testing.T) {
	for name, data := range map[string][]byte{
		"png": pngHeader(100000, 100000), "jpeg": jpegHeader(65535, 65535), "gif": gifHeader(65535, 65535),
	} {
		var before, after runtime.MemStats
		const runs = 20
		runtime.ReadMemStats(&before)
		for range runs {
			if _, err := Make(data); err == nil {
				t.Fatalf("%s: accepted", name)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 256<<10 {
			t.Errorf("%s: rejecting allocated %d bytes per call", name, per)
		}
		if allocs := testing.AllocsPerRun(runs, func() { _, _ = Make(data) }); allocs > 50 {
			t.Errorf("%s: %v allocations per rejection", name, allocs)
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	jpg := markedJPEG(t)
	if got := jpegOrientation(jpg); got != 1 {
		t.Errorf("no EXIF: %d", got)
	}
	for o := uint16(1); o <= 8; o++ {
		if got := jpegOrientation(withOrientation(jpg, o, binary.LittleEndian)); got != int(o) {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	for _, bad := range [][]byte{
		nil, []byte("\xff\xd8"), withOrientation(jpg, 9, binary.BigEndian), withOrientation(jpg, 0, binary.BigEndian),
		withOrientation(jpg, 6, binary.BigEndian)[:12], // cut inside the segment
		[]byte("\xff\xd8\xff\xe1\x00\x0cExif\x00\x00II\x2a\x00"),
		[]byte("\xff\xd8\xff\xe1\x00\x16Exif\x00\x00II\x2a\x00\xff\xff\xff\xff\x01\x00\x12\x01"), // IFD out of range
	} {
		if got := jpegOrientation(bad); got != 1 {
			t.Errorf("%q: %d, want 1", bad, got)
		}
	}
}

// plain is an image type with no Opaque method.
type plain struct{ image.Image }

func TestHasTransparency(t *testing.T) {
	opaqueNRGBA := imaging.Clone(opaque(10, 10))
	oneClear := imaging.Clone(opaque(10, 10))
	oneClear.Pix[4*55+3] = 254
	unusedClear := paletted(16, 16, false) // uses entries 0..3 only
	unusedClear.Palette[200] = color.RGBA{}
	ycc := image.NewYCbCr(image.Rect(0, 0, 10, 10), image.YCbCrSubsampleRatio420)
	nycca := image.NewNYCbCrA(image.Rect(0, 0, 10, 10), image.YCbCrSubsampleRatio420)
	tests := []struct {
		name string
		img  image.Image
		want bool
	}{
		{"ycbcr", ycc, false},
		{"gray", image.NewGray(image.Rect(0, 0, 5, 5)), false},
		{"cmyk", image.NewCMYK(image.Rect(0, 0, 5, 5)), false},
		{"rgba opaque", opaque(10, 10), false},
		{"nrgba opaque", opaqueNRGBA, false},
		{"nrgba one pixel 254", oneClear, true},
		{"nrgba zero", image.NewNRGBA(image.Rect(0, 0, 3, 3)), true},
		{"nycbcra zero alpha", nycca, true},
		{"paletted opaque", paletted(16, 16, false), false},
		{"paletted transparent entry used", paletted(16, 16, true), true},
		{"paletted transparent entry unused", unusedClear, false},
		{"no Opaque method, opaque", plain{opaque(4, 4)}, false},
		{"no Opaque method, transparent", plain{withAlpha(4, 4)}, true},
	}
	for _, tt := range tests {
		if got := hasTransparency(tt.img); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFitSize(t *testing.T) {
	tests := []struct{ w, h, box, ww, wh int }{
		{1, 1, 160, 1, 1},
		{160, 100, 160, 160, 100},
		{161, 100, 160, 160, 99},
		{4000, 3000, 640, 640, 480},
		{6000, 4000, 640, 640, 427},
		{3000, 4000, 640, 480, 640},
		{50000, 1, 640, 640, 1},
		{1, 50000, 160, 1, 160},
		{1000, 1000, 640, 640, 640},
	}
	for _, tt := range tests {
		if w, h := fitSize(tt.w, tt.h, tt.box); w != tt.ww || h != tt.wh {
			t.Errorf("fitSize(%d, %d, %d) = %d, %d; want %d, %d", tt.w, tt.h, tt.box, w, h, tt.ww, tt.wh)
		}
	}
}

// The two-step resize (integer box average, then Lanczos) must look like a
// single Lanczos resize of the full image, for every layout reduce handles,
// with sizes that leave partial blocks at the edges.
func TestFitMatchesDirectLanczos(t *testing.T) {
	const w, h = 2603, 301 // k = 2, partial blocks at both edges
	photo := testimg.Photo(w, h)
	var yccBuf bytes.Buffer
	if err := jpeg.Encode(&yccBuf, photo, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	ycc, err := jpeg.Decode(&yccBuf)
	if err != nil {
		t.Fatal(err)
	}
	translucent := imaging.Clone(photo)
	for i := 3; i < len(translucent.Pix); i += 4 {
		translucent.Pix[i] = uint8(i / 4 % w * 255 / w) // alpha ramps left to right
	}
	gray := image.NewGray(photo.Rect)
	draw.Draw(gray, gray.Rect, photo, image.Point{}, draw.Src)
	ycc444 := image.NewYCbCr(photo.Rect, image.YCbCrSubsampleRatio444)
	ycc422 := image.NewYCbCr(photo.Rect, image.YCbCrSubsampleRatio422)
	for _, m := range []*image.YCbCr{ycc444, ycc422} {
		for y := range h {
			for x := range w {
				c := photo.RGBAAt(x, y)
				yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
				m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)] = yy, cb, cr
			}
		}
	}
	for name, img := range map[string]image.Image{
		"ycbcr420 (jpeg)": ycc, "ycbcr444": ycc444, "ycbcr422": ycc422, "rgba": photo,
		"nrgba translucent": translucent, "gray": gray,
	} {
		if reduce(img, 2) == nil {
			t.Fatalf("%s: reduce does not handle %T", name, img)
		}
		got := fit(img, 640)
		want := imaging.Resize(img, got.Rect.Dx(), got.Rect.Dy(), imaging.Lanczos)
		if got.Rect != want.Rect {
			t.Fatalf("%s: %v, want %v", name, got.Rect, want.Rect)
		}
		if p := psnr(got, want); p < 35 {
			t.Errorf("%s: PSNR %.1f dB against a direct Lanczos resize, want >= 35", name, p)
		} else {
			t.Logf("%s: PSNR %.1f dB", name, p)
		}
	}
}

// psnr compares premultiplied values: the colour of a nearly transparent
// pixel does not show.
func psnr(a, b *image.NRGBA) float64 {
	var se float64
	for i := 0; i < len(a.Pix); i += 4 {
		aa, ba := float64(a.Pix[i+3]), float64(b.Pix[i+3])
		for c := range 3 {
			d := float64(a.Pix[i+c])*aa/255 - float64(b.Pix[i+c])*ba/255
			se += d * d
		}
		se += (aa - ba) * (aa - ba)
	}
	mse := se / float64(len(a.Pix))
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func TestFitOtherTypes(t *testing.T) {
	// Types and layouts reduce leaves alone go straight to Lanczos.
	nycca := image.NewNYCbCrA(image.Rect(0, 0, 1500, 300), image.YCbCrSubsampleRatio420)
	for i := range nycca.A {
		nycca.A[i] = 255
	}
	sub := opaque(3000, 300).SubImage(image.Rect(1, 1, 2999, 299)).(*image.RGBA)
	subYCC := image.NewYCbCr(image.Rect(0, 0, 3000, 300), image.YCbCrSubsampleRatio420).SubImage(image.Rect(1, 1, 2999, 299))
	for name, img := range map[string]image.Image{
		"nycbcra": nycca, "cmyk": image.NewCMYK(image.Rect(0, 0, 2000, 300)),
		"paletted": paletted(2000, 300, false), "rgba sub-image": sub, "ycbcr sub-image": subYCC,
	} {
		got := fit(img, 640)
		if got.Rect.Dx() != 640 {
			t.Errorf("%s: %v", name, got.Rect)
		}
	}
}
