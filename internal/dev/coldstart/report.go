package coldstart

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Write prints the report: the references' cold starts and each
// function's (median, p90, ratio to the baseline's median, memory at
// /next, its package inits: time and heap, and the time from their end to
// /next, which is main's work plus the process's and the runtime's start),
// the goal's verdict, what share of it is the SDK's (hello+sdk), and the
// heaviest package inits.
func (r *Report) Write(w io.Writer) {
	base := r.Baseline()
	fmt.Fprintf(w, "Cold start: process start → first GET /next, median of %d runs each, interleaved (%s)\n", r.Runs, r.Platform)
	fmt.Fprintf(w, "goal: each function ≤ %.1f× %s's median and < %d ms\n\n", GoalRatio, base.Name, GoalMax.Milliseconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\tmedian\tp90\t×%s\tRSS\tpeak RSS\tpkg inits\tinit heap\tinits→/next\t\t\n", base.Name)
	row := func(res Result, verdict string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			res.Name, ms(res.Median()), ms(res.P90()), res.Ratio(base), mib(res.RSS), mib(res.PeakRSS),
			traceField(res.Trace, func(t InitTrace) string { return ms(t.Clock()) }),
			traceField(res.Trace, func(t InitTrace) string { return mib(t.Bytes()) }),
			traceField(res.Trace, func(InitTrace) string { return ms(res.AfterInits) }),
			verdict)
	}
	for _, ref := range r.References {
		row(ref, "reference")
	}
	for _, f := range r.Functions {
		verdict := "ok"
		if !f.MeetsGoal(base) {
			verdict = "OVER"
		}
		row(f, verdict)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(r.Functions) > 0 {
		r.writeSummary(w)
	}

	if pkgs := r.HeaviestInits(12); len(pkgs) > 0 {
		fmt.Fprintf(w, "\nheaviest package inits (GODEBUG=inittrace=1; per package the median over the targets that link it of its time in each one's median traced run of %d):\n", r.TraceRuns)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "package\tclock\theap\tallocs\ttargets\t")
		for _, p := range pkgs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", p.Package, ms(p.Clock), kib(p.Bytes), p.Allocs, p.Targets)
		}
		tw.Flush()
	}
}

// writeSummary prints the functions' verdict against the goal and the
// references' shares.
func (r *Report) writeSummary(w io.Writer) {
	base := r.Baseline()

	var over []Result
	slowest := r.Functions[0]
	medians := make([]time.Duration, len(r.Functions))
	for i, f := range r.Functions {
		if !f.MeetsGoal(base) {
			over = append(over, f)
		}
		if f.Median() > slowest.Median() {
			slowest = f
		}
		medians[i] = f.Median()
	}
	typical := median(medians)
	fmt.Fprintf(w, "functions: median %s = %.2f× %s's %s; slowest %s, %s = %.2f×\n",
		ms(typical), float64(typical)/float64(base.Median()), base.Name, ms(base.Median()),
		slowest.Name, ms(slowest.Median()), slowest.Ratio(base))
	for _, ref := range r.References[1:] {
		fmt.Fprintf(w, "%s: %s = %.2f× %s (%s); the functions' median is %s from it\n",
			ref.Name, ms(ref.Median()), ref.Ratio(base), base.Name, signedMS(ref.Median()-base.Median()), signedMS(typical-ref.Median()))
	}
	if len(over) == 0 {
		fmt.Fprintf(w, "goal (≤ %.1f× %s and < %d ms): ok, all %d functions\n", GoalRatio, base.Name, GoalMax.Milliseconds(), len(r.Functions))
	} else {
		// The slowest few by name; the table has the others.
		slices.SortFunc(over, func(x, y Result) int { return cmp.Compare(y.Median(), x.Median()) })
		var names []string
		for _, f := range over[:min(len(over), 5)] {
			names = append(names, fmt.Sprintf("%s %s (%.2f×)", f.Name, ms(f.Median()), f.Ratio(base)))
		}
		if len(over) > 5 {
			names = append(names, fmt.Sprintf("and %d more", len(over)-5))
		}
		fmt.Fprintf(w, "goal (≤ %.1f× %s and < %d ms): OVER, %d of %d functions: %s\n",
			GoalRatio, base.Name, GoalMax.Milliseconds(), len(over), len(r.Functions), strings.Join(names, ", "))
	}
	fmt.Fprintln(w, "network at init: none (every run reached /next with no connection to the AWS endpoints)")
}

// PackageCost is one package's init across the functions that link it.
type PackageCost struct {
	PackageInit     // Clock, Bytes, Allocs: medians over the targets
	Targets     int // how many link it (references included)
}

// HeaviestInits are the n package inits that take the longest, each the
// median over the targets (references and functions) whose traces have it.
func (r *Report) HeaviestInits(n int) []PackageCost {
	type acc struct {
		clock         []time.Duration
		bytes, allocs []int64
	}
	by := map[string]*acc{}
	for _, res := range append(slices.Clone(r.References), r.Functions...) {
		for _, p := range res.Trace {
			a := by[p.Package]
			if a == nil {
				a = &acc{}
				by[p.Package] = a
			}
			a.clock = append(a.clock, p.Clock)
			a.bytes = append(a.bytes, p.Bytes)
			a.allocs = append(a.allocs, p.Allocs)
		}
	}
	var out []PackageCost
	for _, name := range slices.Sorted(maps.Keys(by)) {
		a := by[name]
		out = append(out, PackageCost{
			PackageInit: PackageInit{Package: name, Clock: median(a.clock), Bytes: median(a.bytes), Allocs: median(a.allocs)},
			Targets:     len(a.clock),
		})
	}
	slices.SortStableFunc(out, func(x, y PackageCost) int { return cmp.Compare(y.Clock, x.Clock) })
	return out[:min(n, len(out))]
}

func traceField(t InitTrace, f func(InitTrace) string) string {
	if t == nil {
		return "-"
	}
	return f(t)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func signedMS(d time.Duration) string {
	d = d.Round(10 * time.Microsecond) // no "-0.00"
	return fmt.Sprintf("%+.2f ms", float64(d)/float64(time.Millisecond))
}
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
func kib(n int64) string { return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10)) }
