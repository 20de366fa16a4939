package coldstart

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/dev/invoke"
	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

// The cold start goal (issue 11 §6): each function's median at most
// GoalRatio times hello's, and below GoalMax.
const (
	GoalRatio = 1.5
	GoalMax   = 30 * time.Millisecond
)

// The reference binaries, built with the functions' flags: Hello is the
// baseline of the goal, aws-lambda-go and nothing else; HelloSDK is hello
// with the AWS SDK's part of every function's wiring (the default config,
// a DynamoDB and an S3 client), whose difference from hello is the SDK's
// own cost.
const (
	Hello    = "hello"
	HelloSDK = "hello+sdk"
)

// References are the reference binaries, as functions for invoke.Build and
// invoke.ProcessEnv (no variables of their own), Hello first.
func References() []invoke.Function {
	return []invoke.Function{
		{Function: samtemplate.Function{LogicalID: Hello}, Dir: "internal/dev/coldstart/hello"},
		{Function: samtemplate.Function{LogicalID: HelloSDK}, Dir: "internal/dev/coldstart/hellosdk"},
	}
}

// Env is a target's whole environment: the function's variables from the
// template of p (invoke.Project.Environment: the local table and bucket
// names, the job queues' URLs at endpoint; none when p is nil), Lambda's reserved variables
// (invoke.ProcessEnv), and, in place of any AWS setting of this process,
// dummy credentials (in the environment, as Lambda gives them), every AWS
// endpoint at endpoint, IMDS off and no shared config or credentials file.
// So nothing a function could reach at init lies off loopback.
func Env(p *invoke.Project, f invoke.Function, bootstrap, endpoint string) ([]string, error) {
	var fnEnv map[string]string
	if p != nil {
		names := invoke.Names{Table: invoke.DefaultTable, Bucket: invoke.DefaultBucket, Queue: endpoint + "/000000000000/depot-jobs"}
		var err error
		if fnEnv, err = p.Environment(f, names, nil); err != nil {
			return nil, err
		}
	}
	none := filepath.Join(filepath.Dir(bootstrap), "no-such-aws-file")
	ours := map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDCOLDSTART",
		"AWS_SECRET_ACCESS_KEY":       "coldstart",
		"AWS_SESSION_TOKEN":           "coldstart",
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
	}
	var env []string
	for _, kv := range invoke.ProcessEnv(f, fnEnv, bootstrap) {
		name, _, _ := strings.Cut(kv, "=")
		if _, set := ours[name]; set || strings.HasPrefix(name, "AWS_ENDPOINT_URL") {
			continue // this process's, or ProcessEnv's SQS endpoint for the queue URL
		}
		env = append(env, kv)
	}
	for _, name := range slices.Sorted(maps.Keys(ours)) {
		env = append(env, name+"="+ours[name])
	}
	return env, nil
}

// Options say what Measure builds and how often it runs each target.
type Options struct {
	Root      string   // the repository root (holds template.yaml)
	Out       string   // where to build: <Out>/<dir>/bootstrap
	Runs      int      // timed runs of each target (at least 1)
	TraceRuns int      // runs of each target with GODEBUG=inittrace=1 (0: none)
	Functions []string // logical ids to measure (nil: every function; the references always)
	Progress  io.Writer
}

// Result is the cold starts of one target.
type Result struct {
	Name string
	Runs []time.Duration // ToNext of each timed run, in order
	// RSS and PeakRSS are the medians over the timed runs of VmRSS and
	// VmHWM at the first /next.
	RSS, PeakRSS int64
	// Trace is the package inits of the traced run whose inits took the
	// median time (nil without traced runs).
	Trace InitTrace
	// AfterInits is the median over the traced runs of the time to /next
	// less the end of the last package init: main's work, with the
	// process's and the runtime's start, which precede the first init.
	AfterInits time.Duration
}

// Median is the median of the runs.
func (r Result) Median() time.Duration { return median(r.Runs) }

// P90 is the 90th percentile of the runs (nearest rank).
func (r Result) P90() time.Duration {
	s := slices.Sorted(slices.Values(r.Runs))
	if len(s) == 0 {
		return 0
	}
	i := (len(s)*9 + 9) / 10 // ceil(0.9 n)
	return s[i-1]
}

// Ratio is the median over base's median.
func (r Result) Ratio(base Result) float64 {
	if base.Median() <= 0 {
		return 0
	}
	return float64(r.Median()) / float64(base.Median())
}

// MeetsGoal reports whether the median is at most GoalRatio times base's
// and below GoalMax.
func (r Result) MeetsGoal(base Result) bool {
	return r.Ratio(base) <= GoalRatio && r.Median() < GoalMax
}

func median[T int64 | time.Duration](v []T) T {
	s := slices.Sorted(slices.Values(v))
	switch n := len(s); {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	default:
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// Report is what Measure found.
type Report struct {
	Runs       int
	TraceRuns  int
	Platform   string   // GOOS/GOARCH, CPUs
	References []Result // the reference binaries, the baseline first
	Functions  []Result // by logical id
}

// Baseline is the result of the first reference, which the goal is
// relative to.
func (r *Report) Baseline() Result { return r.References[0] }

// Measure builds the references and the functions, starts each of them
// cold opts.Runs times (round by round, in a new random order each round,
// after one untimed run each that loads the binaries into the page cache),
// then opts.TraceRuns times with GODEBUG=inittrace=1. A target that fails
// a run (exits, hangs, makes a network call at init) fails the measure.
func Measure(ctx context.Context, opts Options) (*Report, error) {
	if runtime.GOOS != "linux" {
		return nil, invoke.ErrNotLinux
	}
	proj, err := invoke.Load(opts.Root)
	if err != nil {
		return nil, err
	}
	fns, err := selectFunctions(proj, opts.Functions)
	if err != nil {
		return nil, err
	}
	refs := References()
	start := time.Now()
	bins, err := invoke.Build(ctx, opts.Root, opts.Out, append(slices.Clone(refs), fns...)...)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progressOf(opts), "coldstart: built %d references and %d functions for %s/%s in %s\n",
		len(refs), len(fns), runtime.GOOS, runtime.GOARCH, time.Since(start).Round(100*time.Millisecond))

	h, err := NewHarness()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	targets := func(fns []invoke.Function) ([]Target, error) {
		var out []Target
		for _, f := range fns {
			env, err := Env(proj, f, bins[f.LogicalID], h.Endpoint())
			if err != nil {
				return nil, err
			}
			out = append(out, Target{Name: f.LogicalID, Path: bins[f.LogicalID], Env: env})
		}
		return out, nil
	}
	refTargets, err := targets(refs)
	if err != nil {
		return nil, err
	}
	fnTargets, err := targets(fns)
	if err != nil {
		return nil, err
	}
	return MeasureTargets(ctx, h, refTargets, fnTargets, opts)
}

func progressOf(opts Options) io.Writer {
	if opts.Progress == nil {
		return io.Discard
	}
	return opts.Progress
}

// MeasureTargets is Measure on targets already built, on the harness their
// environments point at (Env): the references (the first is the baseline)
// and the functions.
func MeasureTargets(ctx context.Context, h *Harness, refs, fns []Target, opts Options) (*Report, error) {
	if len(refs) == 0 {
		return nil, errors.New("coldstart: no baseline")
	}
	progress := progressOf(opts)
	opts.Runs = max(opts.Runs, 1)
	targets := append(slices.Clone(refs), fns...)
	for _, t := range targets { // warm-up, and the network check before any timing
		if _, err := h.Run(ctx, t); err != nil {
			return nil, err
		}
	}
	type tracedRun struct {
		trace  InitTrace
		toNext time.Duration
	}
	type acc struct {
		runs         []time.Duration
		rss, peakRSS []int64
		traces       []tracedRun
	}
	accs := make([]acc, len(targets))
	fmt.Fprintf(progress, "coldstart: %d targets, %d timed rounds, then %d with GODEBUG=inittrace=1, each in a new random order\n",
		len(targets), opts.Runs, opts.TraceRuns)
	for round := range opts.Runs + opts.TraceRuns {
		traced := round >= opts.Runs
		for _, i := range rand.Perm(len(targets)) {
			t := targets[i]
			if traced {
				t.Env = append(slices.Clip(t.Env), "GODEBUG=inittrace=1")
			}
			run, err := h.Run(ctx, t)
			if err != nil {
				return nil, err
			}
			a := &accs[i]
			if traced {
				tr := ParseInitTrace(run.Stderr)
				if len(tr) == 0 {
					return nil, fmt.Errorf("%s: GODEBUG=inittrace=1 printed no init lines; stderr: %.500s", t.Name, run.Stderr)
				}
				a.traces = append(a.traces, tracedRun{tr, run.ToNext})
				continue
			}
			a.runs = append(a.runs, run.ToNext)
			a.rss = append(a.rss, run.RSS)
			a.peakRSS = append(a.peakRSS, run.PeakRSS)
		}
	}

	rep := &Report{
		Runs: opts.Runs, TraceRuns: opts.TraceRuns,
		Platform: fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
	}
	for i, t := range targets {
		a := accs[i]
		r := Result{Name: t.Name, Runs: a.runs, RSS: median(a.rss), PeakRSS: median(a.peakRSS)}
		if len(a.traces) > 0 {
			slices.SortFunc(a.traces, func(x, y tracedRun) int { return cmp.Compare(x.trace.Clock(), y.trace.Clock()) })
			r.Trace = a.traces[(len(a.traces)-1)/2].trace
			after := make([]time.Duration, len(a.traces))
			for j, tr := range a.traces {
				after[j] = tr.toNext - tr.trace.End()
			}
			r.AfterInits = median(after)
		}
		if i < len(refs) {
			rep.References = append(rep.References, r)
		} else {
			rep.Functions = append(rep.Functions, r)
		}
	}
	slices.SortFunc(rep.Functions, func(x, y Result) int { return strings.Compare(x.Name, y.Name) })
	return rep, nil
}

func selectFunctions(p *invoke.Project, ids []string) ([]invoke.Function, error) {
	if len(ids) == 0 {
		return p.Functions()
	}
	var out []invoke.Function
	for _, id := range ids {
		f, err := p.Function(id)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
