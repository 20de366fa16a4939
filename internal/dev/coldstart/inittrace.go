package coldstart

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PackageInit is one package's init as GODEBUG=inittrace=1 reports it: its
// package-level variables and init functions, not main.
type PackageInit struct {
	Package string
	At      time.Duration // when it began, from the runtime's start
	Clock   time.Duration // wall time it took
	Bytes   int64         // heap allocated
	Allocs  int64         // heap allocations
}

// InitTrace is the package inits of one run, in the order they ran.
type InitTrace []PackageInit

// The runtime's line (runtime/proc.go, doInit1):
//
//	init internal/bytealg @0.008 ms, 0.001 ms clock, 0 bytes, 0 allocs
var initLine = regexp.MustCompile(`^init (\S+) @([0-9.]+) ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs$`)

// ParseInitTrace reads the inittrace lines of a process's stderr and
// ignores every other line.
func ParseInitTrace(stderr string) InitTrace {
	var out InitTrace
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		bytes, _ := strconv.ParseInt(m[4], 10, 64)
		allocs, _ := strconv.ParseInt(m[5], 10, 64)
		out = append(out, PackageInit{Package: m[1], At: millis(m[2]), Clock: millis(m[3]), Bytes: bytes, Allocs: allocs})
	}
	return out
}

func millis(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

// Clock is the time all the package inits took together.
func (t InitTrace) Clock() time.Duration {
	var d time.Duration
	for _, p := range t {
		d += p.Clock
	}
	return d
}

// Bytes is the heap all the package inits allocated together.
func (t InitTrace) Bytes() int64 {
	var n int64
	for _, p := range t {
		n += p.Bytes
	}
	return n
}

// Allocs is the number of heap allocations of all the package inits.
func (t InitTrace) Allocs() int64 {
	var n int64
	for _, p := range t {
		n += p.Allocs
	}
	return n
}

// End is when the last package init ended, from the runtime's start: main
// begins then.
func (t InitTrace) End() time.Duration {
	var end time.Duration
	for _, p := range t {
		end = max(end, p.At+p.Clock)
	}
	return end
}
