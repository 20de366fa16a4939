package thumbnail

import (
	"bytes"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/depot-inventory/depot/internal/thumbnail/internal/testimg"
)

// The benchmarks report, besides ns/op:
//   - peak-MB: the highest Go heap (live and not yet swept objects, sampled
//     every 0.5 ms) seen during the timed loop, the input JPEG included;
//   - peak/decoded: that peak over the size of the decoded image as the
//     decoder holds it (YCbCr 4:2:0, 1.5 bytes a pixel; 3 bytes a pixel
//     as 8-bit RGB would halve the ratio).
// `make bench-images` (build/images.mk) compares them with ImageMagick.

func BenchmarkMake12MP(b *testing.B) { benchMake(b, 4000, 3000, Make) }
func BenchmarkMake24MP(b *testing.B) { benchMake(b, 6000, 4000, Make) }

// The straightforward pipeline, for comparison: imaging.Decode with
// AutoOrientation, then imaging.Fit with Lanczos from the full image for
// each size.
func BenchmarkNaive12MP(b *testing.B) { benchMake(b, 4000, 3000, makeNaive) }
func BenchmarkNaive24MP(b *testing.B) { benchMake(b, 6000, 4000, makeNaive) }

func makeNaive(data []byte) (Result, error) {
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return Result{}, err
	}
	res := Result{ContentType: "image/jpeg", Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	for _, size := range Sizes {
		t, err := encode(imaging.Fit(img, size, size, imaging.Lanczos), size, hasTransparency(img))
		if err != nil {
			return Result{}, err
		}
		res.Thumbnails = append(res.Thumbnails, t)
	}
	return res, nil
}

func benchMake(b *testing.B, w, h int, fn func([]byte) (Result, error)) {
	data := testimg.PhotoJPEG(w, h)
	decoded := float64(w*h) * 1.5
	runtime.GC()
	peak := heapSampler()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := fn(data); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	p := float64(peak())
	b.ReportMetric(p/(1<<20), "peak-MB")
	b.ReportMetric(p/decoded, "peak/decoded")
}

// heapSampler samples the heap until the returned function is called, which
// returns the highest value seen.
func heapSampler() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	read := func() {
		metrics.Read(sample)
		mu.Lock()
		peak = max(peak, sample[0].Value.Uint64())
		mu.Unlock()
	}
	read()
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(500 * time.Microsecond):
				read()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		read()
		return peak
	}
}
