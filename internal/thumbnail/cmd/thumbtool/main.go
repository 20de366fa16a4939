// Command thumbtool measures thumbnail.Make against ImageMagick; it backs
// `make bench-images` (build/images.mk).
//
//	thumbtool gen -dir DIR              writes photo-12mp.jpg (4000x3000) and photo-24mp.jpg (6000x4000)
//	thumbtool make -in FILE [-out DIR]  thumbnails FILE once with thumbnail.Make (a process to measure)
//	thumbtool compare -dir DIR [-runs N] [-progressive]
//	                                    gen, then times and measures the max RSS of ImageMagick
//	                                    (convert-im6.q16 -define jpeg:size=2Sx2S -thumbnail SxS: per size,
//	                                    and both sizes in one command) and of `thumbtool make` on each
//	                                    picture, under /usr/bin/time -v, and prints medians and ratios
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/depot-inventory/depot/internal/thumbnail"
	"github.com/depot-inventory/depot/internal/thumbnail/internal/testimg"
)

const imConvert = "convert-im6.q16" // the real ImageMagick 6 binary (`convert` may be something else)

var pictures = []struct {
	name string
	w, h int
}{{"photo-12mp.jpg", 4000, 3000}, {"photo-24mp.jpg", 6000, 4000}}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	switch os.Args[1] {
	case "gen":
		dir := fs.String("dir", ".", "output directory")
		_ = fs.Parse(os.Args[2:])
		for _, p := range gen(*dir) {
			fmt.Println(p)
		}
	case "make":
		in := fs.String("in", "", "input image")
		out := fs.String("out", "", "directory for the thumbnails (none written if empty)")
		_ = fs.Parse(os.Args[2:])
		makeOne(*in, *out)
	case "compare":
		dir := fs.String("dir", ".", "work directory")
		runs := fs.Int("runs", 7, "runs of each command; medians are reported")
		progressive := fs.Bool("progressive", false, "also a progressive copy of the 24 MP picture (made by ImageMagick)")
		_ = fs.Parse(os.Args[2:])
		compare(*dir, *runs, *progressive)
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: thumbtool gen -dir DIR | make -in FILE [-out DIR] | compare -dir DIR [-runs N] [-progressive]")
	os.Exit(2)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "thumbtool:", err)
	os.Exit(1)
}

func gen(dir string) []string {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	var paths []string
	for _, p := range pictures {
		path := filepath.Join(dir, p.name)
		if err := os.WriteFile(path, testimg.PhotoJPEG(p.w, p.h), 0o644); err != nil {
			fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

func makeOne(in, out string) {
	data, err := os.ReadFile(in)
	if err != nil {
		fatal(err)
	}
	start := time.Now()
	res, err := thumbnail.Make(data)
	if err != nil {
		fatal(err)
	}
	elapsed := time.Since(start)
	fmt.Printf("%s %dx%d in %v:", res.ContentType, res.Width, res.Height, elapsed.Round(time.Millisecond))
	for _, t := range res.Thumbnails {
		fmt.Printf(" %d=%dx%d.%s(%dB)", t.Size, t.Width, t.Height, t.Ext, len(t.Data))
		if out != "" {
			if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("%d.%s", t.Size, t.Ext)), t.Data, 0o644); err != nil {
				fatal(err)
			}
		}
	}
	fmt.Println()
}

// measurement is the median wall time and max RSS of a command over runs.
type measurement struct {
	wall time.Duration
	rss  int64 // bytes
}

var maxRSS = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// measureAll runs each command runs times, interleaved (so that a change in
// the machine's load hits all of them alike), under /usr/bin/time -v.
func measureAll(runs int, cmds [][]string) []measurement {
	walls := make([][]time.Duration, len(cmds))
	rsss := make([][]int64, len(cmds))
	for range runs {
		for i, c := range cmds {
			var stderr bytes.Buffer
			cmd := exec.Command("/usr/bin/time", append([]string{"-v"}, c...)...)
			cmd.Stderr = &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				fatal(fmt.Errorf("%v: %v\n%s", c, err, stderr.String()))
			}
			walls[i] = append(walls[i], time.Since(start))
			m := maxRSS.FindSubmatch(stderr.Bytes())
			if m == nil {
				fatal(fmt.Errorf("no max RSS in /usr/bin/time output:\n%s", stderr.String()))
			}
			kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
			rsss[i] = append(rsss[i], kb<<10)
		}
	}
	out := make([]measurement, len(cmds))
	for i := range cmds {
		slices.Sort(walls[i])
		slices.Sort(rsss[i])
		out[i] = measurement{walls[i][runs/2], rsss[i][runs/2]}
	}
	return out
}

// decodedBytes is the memory Go's decoder holds for the picture.
func decodedBytes(path string) (int64, image.Config) {
	f, err := os.Open(path)
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		fatal(err)
	}
	switch m := img.(type) {
	case *image.YCbCr:
		return int64(cap(m.Y) + cap(m.Cb) + cap(m.Cr)), image.Config{Width: m.Rect.Dx(), Height: m.Rect.Dy()}
	case *image.Gray:
		return int64(cap(m.Pix)), image.Config{Width: m.Rect.Dx(), Height: m.Rect.Dy()}
	}
	b := img.Bounds()
	return int64(b.Dx() * b.Dy() * 4), image.Config{Width: b.Dx(), Height: b.Dy()}
}

func compare(dir string, runs int, progressive bool) {
	if _, err := exec.LookPath(imConvert); err != nil {
		fatal(fmt.Errorf("%s not found: apt-get install imagemagick", imConvert))
	}
	self, err := os.Executable()
	if err != nil {
		fatal(err)
	}
	paths := gen(dir)
	if progressive {
		p := filepath.Join(dir, "photo-24mp-progressive.jpg")
		if out, err := exec.Command(imConvert, paths[1], "-interlace", "Plane", "-quality", "90", p).CombinedOutput(); err != nil {
			fatal(fmt.Errorf("%v: %s", err, out))
		}
		paths = append(paths, p)
	}
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	sec := func(d time.Duration) float64 { return d.Seconds() }
	fmt.Printf("medians of %d runs; wall time includes process start; RSS = /usr/bin/time's maximum resident set size\n", runs)
	fmt.Printf("decoded = the image as Go's decoder holds it (YCbCr, 1.5 B/px for 4:2:0)\n")
	fmt.Printf("IM640, IM160: %s -define jpeg:size=2Sx2S IN -thumbnail SxS OUT; IMboth: both sizes in one command\n", imConvert)
	fmt.Printf("Go: thumbtool make (thumbnail.Make, both sizes, one decode)\n\n")
	fmt.Printf("%-27s %5s %7s | %6s %6s %6s %6s | %7s %7s | %7s %7s %7s | %6s %6s %7s\n",
		"picture", "MB", "dec MB", "IM640", "IM160", "IMboth", "Go", "Go/IMb", "Go/I640",
		"IM640MB", "IMbMB", "Go MB", "Go/dec", "IM/dec", "Go/IMb")
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			fatal(err)
		}
		decoded, _ := decodedBytes(p)
		thumb := func(size int) []string {
			return []string{imConvert, "-define", fmt.Sprintf("jpeg:size=%dx%d", 2*size, 2*size), p,
				"-thumbnail", fmt.Sprintf("%dx%d", size, size), filepath.Join(dir, fmt.Sprintf("im-%d.jpg", size))}
		}
		ms := measureAll(runs, [][]string{
			thumb(640),
			thumb(160),
			{imConvert, "-define", "jpeg:size=1280x1280", p,
				"-thumbnail", "640x640", "-write", filepath.Join(dir, "im-both-640.jpg"),
				"-thumbnail", "160x160", filepath.Join(dir, "im-both-160.jpg")},
			{self, "make", "-in", p},
		})
		im, both, goM := ms[:2], ms[2], ms[3]
		fmt.Printf("%-27s %5.1f %7.1f | %6.3f %6.3f %6.3f %6.3f | %7.2f %7.2f | %7.1f %7.1f %7.1f | %6.2f %6.2f %7.2f\n",
			filepath.Base(p), mb(st.Size()), mb(decoded),
			sec(im[0].wall), sec(im[1].wall), sec(both.wall), sec(goM.wall),
			sec(goM.wall)/sec(both.wall), sec(goM.wall)/sec(im[0].wall),
			mb(im[0].rss), mb(both.rss), mb(goM.rss),
			float64(goM.rss)/float64(decoded), float64(both.rss)/float64(decoded), float64(goM.rss)/float64(both.rss))
	}
	fmt.Println("\ntimes in seconds; goal: Go/IMb (and Go/I640) <= 2, Go/dec < 3")
}
