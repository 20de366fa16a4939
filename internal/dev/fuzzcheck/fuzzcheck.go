// Package fuzzcheck is what the fuzz targets (the *_fuzz_test.go files,
// `make fuzz`) check alike: that a call's memory is bounded by its input,
// and that an error is a problem with a stable code. It is dev-only: only
// tests import it.
package fuzzcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Allocated runs f and returns the bytes and the objects allocated while
// it ran. The counts are the process's: call it where nothing else runs
// (a fuzz function, a test that is not parallel), so that they are f's.
// Each call costs two runtime.ReadMemStats, a few microseconds each.
func Allocated(f func()) (bytes, objects uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// Bound is a linear bound on what a call may allocate for an input of n
// bytes: PerByte bytes for each input byte, plus Fixed.
type Bound struct {
	PerByte, Fixed uint64
}

// Max is the bound for an input of n bytes.
func (b Bound) Max(n int) uint64 { return b.PerByte*uint64(n) + b.Fixed }

// Check runs f and fails t if it allocated more than the bound allows for
// an input of n bytes. A parser that allocates in proportion to a length
// or count its input declares, or quadratically in its input, exceeds any
// such bound for some input the fuzzer can make; one that allocates a
// small constant per input byte never does.
func (b Bound) Check(t testing.TB, what string, n int, f func()) {
	t.Helper()
	bytes, objects := Allocated(f)
	if max := b.Max(n); bytes > max {
		t.Fatalf("%s allocated %d bytes (%d objects) for %d bytes of input; the bound is %d (%d a byte + %d)",
			what, bytes, objects, n, max, b.PerByte, b.Fixed)
	}
}

// CheckWarm is Check for a call without side effects, run once before it
// is measured: what the first call builds and later ones reuse (a regular
// expression compiled on first use) is not charged to the input. What the
// regexp package keeps in a sync.Pool (a matching machine, tens of KB) may
// still be allocated again: a sync.Pool keeps what is put back per P, the
// measured call may run on another P than the warm-up did, and the race
// detector's sync.Pool drops items at random; a bound's Fixed must allow
// for one machine per expression the call matches.
func (b Bound) CheckWarm(t testing.TB, what string, n int, f func()) {
	t.Helper()
	f()
	b.Check(t, what, n, f)
}

// Codes returns the string constants declared in the named Go files
// (relative to the calling test's package directory) whose names begin
// with one of prefixes: the stable error codes a problem may carry, as the
// source declares them (e.g. inventory's Code* and httpapi's code*).
func Codes(t testing.TB, files []string, prefixes ...string) map[string]bool {
	t.Helper()
	codes := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.FromSlash(name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i >= len(vs.Values) || !hasPrefix(id.Name, prefixes) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					if v, err := strconv.Unquote(lit.Value); err == nil {
						codes[v] = true
					}
				}
			}
		}
	}
	if len(codes) == 0 {
		t.Fatalf("no constants named %v in %v", prefixes, files)
	}
	return codes
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
