// Package testimg makes photo-like test images: smooth gradients, a few
// hard-edged shapes, fine texture and sensor-like noise, so that JPEG sizes
// and decode costs are close to those of camera pictures. Deterministic.
package testimg

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Photo returns a w x h opaque photo-like image.
func Photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	type disc struct {
		cx, cy, r2 float64
		c          [3]float64
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	discs := make([]disc, 12)
	for i := range discs {
		r := (0.03 + 0.12*rnd.Float64()) * float64(min(w, h))
		discs[i] = disc{rnd.Float64() * float64(w), rnd.Float64() * float64(h), r * r,
			[3]float64{rnd.Float64() * 255, rnd.Float64() * 255, rnd.Float64() * 255}}
	}
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for p := range procs {
		y0, y1 := h*p/procs, h*(p+1)/procs
		wg.Go(func() {
			noise := rand.New(rand.NewPCG(uint64(y0), 7))
			for y := y0; y < y1; y++ {
				fy := float64(y) / float64(h)
				row := img.Pix[y*img.Stride : y*img.Stride+4*w]
				for x := 0; x < w; x++ {
					fx := float64(x) / float64(w)
					var c [3]float64
					if fy < 0.45 { // sky
						c = [3]float64{90 + 80*fy, 140 + 60*fy, 230 - 40*fx}
					} else { // ground with texture
						t := 20 * math.Sin(float64(x)*0.21+math.Sin(float64(y)*0.05)*3) * math.Sin(float64(y)*0.17)
						c = [3]float64{110 + 60*fx + t, 90 + 40*fy + t, 50 + t}
					}
					for _, d := range discs {
						dx, dy := float64(x)-d.cx, float64(y)-d.cy
						if dx*dx+dy*dy < d.r2 {
							shade := 0.7 + 0.3*(dx+dy)/math.Sqrt(d.r2)/2
							c = [3]float64{d.c[0] * shade, d.c[1] * shade, d.c[2] * shade}
						}
					}
					px := row[4*x : 4*x+4 : 4*x+4]
					for i := range 3 {
						v := c[i] + noise.NormFloat64()*9
						px[i] = uint8(max(0, min(255, v)))
					}
					px[3] = 255
				}
			}
		})
	}
	wg.Wait()
	return img
}

// PhotoJPEG encodes Photo(w, h) as a baseline 4:2:0 JPEG of quality 90, as
// cameras write them.
func PhotoJPEG(w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Photo(w, h), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
