package thumbnail

import (
	"image"
	"runtime"
	"sync"
)

// reduce shrinks img by the integer factor k, each output pixel the mean of
// a k x k block of input pixels (the blocks at the right and bottom edges
// may be partial). It works on the decoder's own layout, so a YCbCr JPEG is
// averaged plane by plane and stays YCbCr, with no RGB copy of the full
// image; the colour conversion is affine, so averaging before it is the same
// as after. It returns nil for image types it does not handle.
func reduce(img image.Image, k int) image.Image {
	switch m := img.(type) {
	case *image.YCbCr:
		if m.Rect.Min != (image.Point{}) {
			return nil // chroma siting depends on the origin's parity
		}
		w, h := m.Rect.Dx(), m.Rect.Dy()
		cw, ch, ok := chromaSize(w, h, m.SubsampleRatio)
		if !ok {
			return nil
		}
		dw, dh := ceilDiv(w, k), ceilDiv(h, k)
		dcw, dch := ceilDiv(cw, k), ceilDiv(ch, k)
		buf := make([]byte, dw*dh+2*dcw*dch)
		out := &image.YCbCr{
			Y:              buf[:dw*dh],
			Cb:             buf[dw*dh : dw*dh+dcw*dch],
			Cr:             buf[dw*dh+dcw*dch:],
			YStride:        dw,
			CStride:        dcw,
			SubsampleRatio: m.SubsampleRatio,
			Rect:           image.Rect(0, 0, dw, dh),
		}
		reducePlane(out.Y, dw, m.Y, m.YStride, w, h, k)
		reducePlane(out.Cb, dcw, m.Cb, m.CStride, cw, ch, k)
		reducePlane(out.Cr, dcw, m.Cr, m.CStride, cw, ch, k)
		return out
	case *image.Gray:
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := image.NewGray(image.Rect(0, 0, ceilDiv(w, k), ceilDiv(h, k)))
		reducePlane(out.Pix, out.Stride, m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, w, h, k)
		return out
	case *image.RGBA:
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := image.NewRGBA(image.Rect(0, 0, ceilDiv(w, k), ceilDiv(h, k)))
		reduce4(out.Pix, out.Stride, m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, w, h, k, false)
		return out
	case *image.NRGBA:
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := image.NewNRGBA(image.Rect(0, 0, ceilDiv(w, k), ceilDiv(h, k)))
		reduce4(out.Pix, out.Stride, m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, w, h, k, true)
		return out
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// chromaSize is the size of a chroma plane of a w x h YCbCr image whose
// origin is (0, 0), as image.NewYCbCr lays it out.
func chromaSize(w, h int, r image.YCbCrSubsampleRatio) (cw, ch int, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return w, h, true
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h, true
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2, true
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2, true
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h, true
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2, true
	}
	return 0, 0, false
}

// reducePlane box-averages a w x h plane of one byte per sample by k into
// dst, which holds ceil(w/k) x ceil(h/k) samples. The k rows of a block row
// are first summed column by column (a tight loop), then the columns of
// that sum k by k, once per output row.
func reducePlane(dst []byte, dstStride int, src []byte, srcStride, w, h, k int) {
	dw, dh := ceilDiv(w, k), ceilDiv(h, k)
	lastW := w - (dw-1)*k // width of the last column of blocks
	parallelRows(dh, func(y0, y1 int) {
		cols := make([]uint32, w)
		for oy := y0; oy < y1; oy++ {
			clear(cols)
			sy0, sy1 := oy*k, min(oy*k+k, h)
			for sy := sy0; sy < sy1; sy++ {
				row := src[sy*srcStride : sy*srcStride+w]
				cols := cols[:len(row)]
				for x, v := range row {
					cols[x] += uint32(v)
				}
			}
			rows := uint32(sy1 - sy0)
			out := dst[oy*dstStride : oy*dstStride+dw]
			n := uint32(k) * rows
			for ox := range out[:dw-1] {
				var s uint32
				for _, v := range cols[ox*k : ox*k+k] {
					s += v
				}
				out[ox] = uint8((s + n/2) / n)
			}
			var s uint32
			for _, v := range cols[(dw-1)*k:] {
				s += v
			}
			n = uint32(lastW) * rows
			out[dw-1] = uint8((s + n/2) / n)
		}
	})
}

// reduce4 is reducePlane for four interleaved channels, RGBA or NRGBA. RGBA
// is premultiplied, so a plain mean is right; NRGBA colours are weighted by
// their alpha.
func reduce4(dst []byte, dstStride int, src []byte, srcStride, w, h, k int, weighted bool) {
	dw, dh := ceilDiv(w, k), ceilDiv(h, k)
	parallelRows(dh, func(y0, y1 int) {
		acc := make([]uint64, 4*dw)
		for oy := y0; oy < y1; oy++ {
			clear(acc)
			sy0, sy1 := oy*k, min(oy*k+k, h)
			for sy := sy0; sy < sy1; sy++ {
				row := src[sy*srcStride : sy*srcStride+4*w]
				for x := 0; x < w; x++ {
					p := row[4*x : 4*x+4 : 4*x+4]
					a := acc[4*(x/k) : 4*(x/k)+4 : 4*(x/k)+4]
					if weighted {
						al := uint64(p[3])
						a[0] += uint64(p[0]) * al
						a[1] += uint64(p[1]) * al
						a[2] += uint64(p[2]) * al
						a[3] += al
					} else {
						a[0] += uint64(p[0])
						a[1] += uint64(p[1])
						a[2] += uint64(p[2])
						a[3] += uint64(p[3])
					}
				}
			}
			rows := uint64(sy1 - sy0)
			out := dst[oy*dstStride : oy*dstStride+4*dw]
			for ox := 0; ox < dw; ox++ {
				n := uint64(min(k, w-ox*k)) * rows
				a := acc[4*ox : 4*ox+4 : 4*ox+4]
				d := out[4*ox : 4*ox+4 : 4*ox+4]
				if !weighted {
					for c := range 4 {
						d[c] = uint8((a[c] + n/2) / n)
					}
					continue
				}
				if a[3] == 0 {
					d[0], d[1], d[2], d[3] = 0, 0, 0, 0
					continue
				}
				for c := range 3 {
					d[c] = uint8((a[c] + a[3]/2) / a[3])
				}
				d[3] = uint8((a[3] + n/2) / n)
			}
		}
	})
}

// parallelRows splits [0, n) into one contiguous range per processor.
func parallelRows(n int, fn func(y0, y1 int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range p {
		y0, y1 := n*i/p, n*(i+1)/p
		wg.Go(func() { fn(y0, y1) })
	}
	wg.Wait()
}
