package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"slices"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/fuzzcheck"
)

// FuzzJPEGOrientation: the EXIF reader on any bytes reads an orientation
// from 1 to 8, allocates nothing, and reads a TIFF structure the same
// whether it is given bare or inside a JPEG's APP1 Exif segment.
func FuzzJPEGOrientation(f *testing.F) {
	jpg := jpegHeader(8, 8)
	for o := uint16(0); o <= 9; o++ {
		f.Add(withOrientation(jpg, o, binary.LittleEndian))
		f.Add(withOrientation(jpg, o, binary.BigEndian))
	}
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x16Exif\x00\x00II\x2a\x00\xff\xff\xff\xff\x01\x00\x12\x01"))
	f.Add([]byte("\xff\xd8\xff\xff\xff\xd0\xff\xe1\x00\x02\xff\xda"))
	f.Add([]byte("II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o, bare, wrapped int
		read := func() { o, bare = jpegOrientation(data), tiffOrientation(data) }
		// Allocated counts the process's allocations: one that another
		// goroutine of the test framework made meanwhile does not repeat.
		bytes, _ := fuzzcheck.Allocated(read)
		for i := 0; i < 2 && bytes > 0; i++ {
			bytes, _ = fuzzcheck.Allocated(read)
		}
		if bytes > 0 {
			t.Fatalf("reading the orientation allocated %d bytes", bytes)
		}
		if o < 1 || o > 8 || bare < 1 || bare > 8 {
			t.Fatalf("orientations %d (as a JPEG) and %d (as TIFF), want 1 to 8", o, bare)
		}
		if len(data)+8 > 0xffff {
			return // too long for one segment
		}
		seg := binary.BigEndian.AppendUint16([]byte("\xff\xd8\xff\xe1"), uint16(2+6+len(data)))
		seg = append(append(seg, "Exif\x00\x00"...), data...)
		if wrapped = jpegOrientation(append(seg, 0xff, 0xda)); wrapped != bare {
			t.Fatalf("TIFF %q: %d bare, %d in an Exif segment", data, bare, wrapped)
		}
	})
}

// fuzzPixels is the most pixels an input's header may declare for
// FuzzMake to decode it. Decoding allocates in proportion to the declared
// size (up to MaxPixels: hundreds of MB, seconds each), which is Make's
// design, not a finding; the decoders, resizing and encoding take the same
// paths for small images, and thin ones (640x1) still take the box
// reduction. Headers over MaxPixels are still given to Make.
const fuzzPixels = 1 << 16

// makeBound: Make allocates at most this much per declared pixel (16-bit
// RGBA is 8 bytes, and the thumbnails and resizing buffers come on top)
// and per input byte (the decoders' buffers), plus a fixed amount (the
// encoders' tables and buffers).
var makeBound = struct{ perPixel, perByte, fixed uint64 }{perPixel: 64, perByte: 16, fixed: 4 << 20}

// FuzzMake: the image checks and thumbnails on any bytes. Whatever the
// input: a result or a *RejectedError, never another error or a panic; a
// header of zero size or over MaxPixels is rejected without decoding
// (under 256 KiB allocated); an image accepted has an allowed type (the
// header's), the header's size (turned by its EXIF orientation), and one
// thumbnail per size, fitted as fitSize says from the previous, each
// decoding as the type it names to the size it states; memory stays
// within makeBound of the declared pixels and the input's size.
func FuzzMake(f *testing.F) {
	f.Add(encodePNG(f, opaque(8, 8)))
	f.Add(encodePNG(f, withAlpha(20, 6)))
	f.Add(encodePNG(f, opaque(700, 1)))
	f.Add(encodeJPEG(f, opaque(24, 12)))
	f.Add(withOrientation(encodeJPEG(f, opaque(16, 9)), 6, binary.BigEndian))
	f.Add(encodeGIF(f, paletted(12, 12, true)))
	f.Add(encodeWebP(f, withAlpha(10, 10)))
	f.Add(pngHeader(100000, 100000))
	f.Add(jpegHeader(65535, 65535))
	f.Add(gifHeader(0, 7))
	f.Add(pngHeader(64, 64))
	f.Add([]byte("BM\x00\x00"))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, format, cfgErr := image.DecodeConfig(bytes.NewReader(data))
		declared := uint64(0)
		if cfgErr == nil && cfg.Width > 0 && cfg.Height > 0 {
			declared = uint64(cfg.Width) * uint64(cfg.Height)
		}
		huge := declared > MaxPixels
		if declared > fuzzPixels && !huge {
			return
		}
		var res Result
		var err error
		alloc, _ := fuzzcheck.Allocated(func() { res, err = Make(data) })
		if max := makeBound.perPixel*min(declared, fuzzPixels) + makeBound.perByte*uint64(len(data)) + makeBound.fixed; alloc > max {
			t.Fatalf("Make allocated %d bytes for %d bytes declaring %d pixels; the bound is %d", alloc, len(data), declared, max)
		}
		var rejected *RejectedError
		if err != nil {
			if !errors.As(err, &rejected) || rejected.Reason == "" {
				t.Fatalf("Make: %v (%T), not a rejection", err, err)
			}
			if huge && alloc > 256<<10 {
				t.Fatalf("rejecting a header of %d pixels allocated %d bytes", declared, alloc)
			}
			return
		}
		if huge || cfgErr != nil || declared == 0 {
			t.Fatalf("accepted an image whose header says %dx%d (%v)", cfg.Width, cfg.Height, cfgErr)
		}
		if !slices.Contains(AllowedTypes, res.ContentType) || res.ContentType != formats[format] {
			t.Fatalf("accepted %s (header %s)", res.ContentType, format)
		}
		w, h := cfg.Width, cfg.Height
		if format == "jpeg" && jpegOrientation(data) >= 5 {
			w, h = h, w
		}
		if res.Width != w || res.Height != h || len(res.Thumbnails) != len(Sizes) {
			t.Fatalf("result %dx%d with %d thumbnails; header %dx%d", res.Width, res.Height, len(res.Thumbnails), w, h)
		}
		// Largest first, each from the previous (in the stored
		// orientation, turned after: fitSize is symmetric).
		order := slices.Sorted(slices.Values(Sizes))
		slices.Reverse(order)
		want := map[int][2]int{}
		for _, size := range order {
			w, h = fitSize(w, h, size)
			want[size] = [2]int{w, h}
		}
		for i, th := range res.Thumbnails {
			if th.Size != Sizes[i] || [2]int{th.Width, th.Height} != want[th.Size] {
				t.Fatalf("thumbnail %d: %d %dx%d, want %d %v", i, th.Size, th.Width, th.Height, Sizes[i], want[Sizes[i]])
			}
			tc, tf, err := image.DecodeConfig(bytes.NewReader(th.Data))
			if err != nil || formats[tf] != th.ContentType || tc.Width != th.Width || tc.Height != th.Height ||
				(th.Ext != "jpg" || th.ContentType != "image/jpeg") && (th.Ext != "png" || th.ContentType != "image/png") {
				t.Fatalf("thumbnail %d (%s .%s %dx%d) decodes as %s %dx%d, %v", i, th.ContentType, th.Ext, th.Width, th.Height, tf, tc.Width, tc.Height, err)
			}
		}
	})
}
