package coldstart_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/coldstart"
	"github.com/depot-inventory/depot/internal/dev/invoke"
	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../../.."

func checkLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip(invoke.ErrNotLinux)
	}
}

// build builds the packages (invoke.Function Dirs) into a temporary
// directory, as Measure does.
func build(t *testing.T, fns ...invoke.Function) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bins, err := invoke.Build(ctx, repoRoot, t.TempDir(), fns...)
	if err != nil {
		t.Fatal(err)
	}
	return bins
}

func harness(t *testing.T) *coldstart.Harness {
	t.Helper()
	h, err := coldstart.NewHarness()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// TestMeasureHello measures the baseline alone, as make bench does with
// every function beside it: each run reaches /next and is killed after,
// the memory at /next and the package inits are read, and the report has
// the baseline's line and no verdict on functions it did not measure.
func TestMeasureHello(t *testing.T) {
	checkLinux(t)
	hello := coldstart.References()[0]
	bins := build(t, hello)
	h := harness(t)
	env, err := coldstart.Env(nil, hello, bins[hello.LogicalID], h.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	target := coldstart.Target{Name: hello.LogicalID, Path: bins[hello.LogicalID], Env: env}

	run, err := h.Run(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if run.ToNext <= 0 || run.RSS <= 0 || run.PeakRSS < run.RSS {
		t.Errorf("run = %+v, want a time to /next and the memory at /next", run)
	}
	if !gone(run.Pid) {
		t.Errorf("process %d still exists after its run", run.Pid)
	}

	var progress bytes.Buffer
	rep, err := coldstart.MeasureTargets(context.Background(), h, []coldstart.Target{target}, nil,
		coldstart.Options{Runs: 3, TraceRuns: 1, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	base := rep.Baseline()
	if len(rep.References) != 1 || len(rep.Functions) != 0 || base.Name != coldstart.Hello || len(base.Runs) != 3 {
		t.Fatalf("report = %+v, want hello alone with 3 runs", rep)
	}
	for _, d := range base.Runs {
		if d <= 0 {
			t.Errorf("runs = %v, want each a positive time", base.Runs)
		}
	}
	if base.Ratio(base) != 1 || base.Median() < slices.Min(base.Runs) || base.P90() != slices.Max(base.Runs) {
		t.Errorf("median %v, p90 %v, ratio %v of runs %v", base.Median(), base.P90(), base.Ratio(base), base.Runs)
	}
	// The runtime's client links net/http, whose init the trace shows.
	if !slices.ContainsFunc(base.Trace, func(p coldstart.PackageInit) bool { return p.Package == "net/http" }) {
		t.Errorf("hello's init trace has no net/http: %v", base.Trace)
	}
	if base.AfterInits <= 0 {
		t.Errorf("AfterInits = %v, want the time from the last init to /next", base.AfterInits)
	}

	var out bytes.Buffer
	rep.Write(&out)
	for _, want := range []string{"hello", "reference", "goal: each function ≤ 1.5× hello's median and < 30 ms", "heaviest package inits"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "OVER") {
		t.Errorf("report has a verdict without functions:\n%s", out.String())
	}
}

// TestRunFailures: a process that makes a network call at init is a
// *NetworkError, one that exits before /next an error with its stderr; the
// same binary that does neither passes.
func TestRunFailures(t *testing.T) {
	checkLinux(t)
	initnet := invoke.Function{Function: samtemplate.Function{LogicalID: "initnet"}, Dir: "internal/dev/coldstart/testdata/initnet"}
	bin := build(t, initnet)["initnet"]
	h := harness(t)
	env, err := coldstart.Env(nil, initnet, bin, h.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	target := func(mode string) coldstart.Target {
		return coldstart.Target{Name: "initnet-" + mode, Path: bin, Env: append(slices.Clone(env), "INITNET="+mode)}
	}
	ctx := context.Background()

	if _, err := h.Run(ctx, target("none")); err != nil {
		t.Errorf("no network call, no exit: %v", err)
	}

	run, err := h.Run(ctx, target("dial"))
	var netErr *coldstart.NetworkError
	if !errors.As(err, &netErr) || netErr.Connections < 1 || netErr.Target != "initnet-dial" {
		t.Errorf("a request to AWS_ENDPOINT_URL at init: err = %v, want a NetworkError", err)
	}
	if run.Pid == 0 || !gone(run.Pid) {
		t.Errorf("process %d still exists after its run", run.Pid)
	}

	// The tripwire's count starts again with each run.
	if _, err := h.Run(ctx, target("none")); err != nil {
		t.Errorf("after a run with a network call: %v", err)
	}

	_, err = h.Run(ctx, target("exit"))
	if err == nil || !strings.Contains(err.Error(), "exited before asking for an invocation") || !strings.Contains(err.Error(), "failing init on purpose") {
		t.Errorf("an init that exits: err = %v, want one that says so with the stderr", err)
	}
}

// TestEveryFunctionInitIsOffline starts every function of template.yaml
// cold once, with the environment make bench gives it (every AWS endpoint
// and job queue at the tripwire, IMDS off, credentials in the
// environment): each must reach /next without a connection, so its init
// makes no network call (issue 11 §6: nothing slow at init).
func TestEveryFunctionInitIsOffline(t *testing.T) {
	checkLinux(t)
	if testing.Short() {
		t.Skip("builds every function")
	}
	proj, err := invoke.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := proj.Functions()
	if err != nil {
		t.Fatal(err)
	}
	bins := build(t, fns...)
	h := harness(t)
	for _, f := range fns {
		env, err := coldstart.Env(proj, f, bins[f.LogicalID], h.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Run(context.Background(), coldstart.Target{Name: f.LogicalID, Path: bins[f.LogicalID], Env: env}); err != nil {
			t.Errorf("%s: %v", f.LogicalID, err)
		}
	}
}

// TestEnv: a target's environment points every AWS endpoint and job queue
// at the tripwire, whatever this process's are, with dummy credentials,
// IMDS off and no shared config files; the template's variables are kept.
func TestEnv(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://192.0.2.1:8000")
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://192.0.2.1:9324")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREAL")
	proj, err := invoke.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := proj.Function("RequestExport")
	if err != nil {
		t.Fatal(err)
	}
	const endpoint = "http://127.0.0.1:1"
	bootstrap := filepath.Join(t.TempDir(), "request-export", "bootstrap")
	env, err := coldstart.Env(proj, fn, bootstrap, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range env {
		name, v, _ := strings.Cut(kv, "=")
		if _, dup := got[name]; dup {
			t.Errorf("%s is set twice", name)
		}
		got[name] = v
		if strings.HasPrefix(name, "AWS_ENDPOINT_URL") && name != "AWS_ENDPOINT_URL" {
			t.Errorf("%s=%s: only AWS_ENDPOINT_URL may be set", name, v)
		}
	}
	want := map[string]string{
		"AWS_ENDPOINT_URL":          endpoint,
		"AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ACCESS_KEY_ID":         "AKIDCOLDSTART",
		"EXPORT_QUEUE_URL":          endpoint + "/000000000000/depot-jobs",
		"TABLE_NAME":                invoke.DefaultTable,
		"AWS_LAMBDA_FUNCTION_NAME":  "RequestExport",
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %q, want %q", name, got[name], v)
		}
	}
	if got["AWS_CONFIG_FILE"] == "" || got["AWS_SHARED_CREDENTIALS_FILE"] == "" || got["AWS_REGION"] == "" {
		t.Errorf("want AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and AWS_REGION set: %v", env)
	}
}

// TestParseInitTrace reads the runtime's inittrace lines among others.
func TestParseInitTrace(t *testing.T) {
	stderr := `init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
some log line
init github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas @1.2 ms, 0.61 ms clock, 586696 bytes, 3151 allocs
init main @2.5 ms, 12 ms clock, 1024 bytes, 3 allocs
init broken @x ms, 1 ms clock, 0 bytes, 0 allocs
`
	tr := coldstart.ParseInitTrace(stderr)
	want := coldstart.InitTrace{
		{Package: "internal/bytealg", At: 8 * time.Microsecond},
		{Package: "github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas", At: 1200 * time.Microsecond, Clock: 610 * time.Microsecond, Bytes: 586696, Allocs: 3151},
		{Package: "main", At: 2500 * time.Microsecond, Clock: 12 * time.Millisecond, Bytes: 1024, Allocs: 3},
	}
	if !slices.Equal(tr, want) {
		t.Fatalf("trace = %+v\nwant %+v", tr, want)
	}
	if tr.Clock() != 12610*time.Microsecond || tr.Bytes() != 587720 || tr.Allocs() != 3154 || tr.End() != 14500*time.Microsecond {
		t.Errorf("clock %v, bytes %d, allocs %d, end %v", tr.Clock(), tr.Bytes(), tr.Allocs(), tr.End())
	}
}

// TestGoal: the verdict is the median against the baseline's median
// (≤ 1.5×) and the absolute bound (< 30 ms); p90 is the nearest rank.
func TestGoal(t *testing.T) {
	ms := func(v ...float64) []time.Duration {
		var out []time.Duration
		for _, f := range v {
			out = append(out, time.Duration(f*float64(time.Millisecond)))
		}
		return out
	}
	base := coldstart.Result{Name: "hello", Runs: ms(2, 1, 9, 2, 3)} // median 2
	cases := []struct {
		runs []time.Duration
		ok   bool
	}{
		{ms(3, 3, 50), true},         // 1.5×, an outlier apart
		{ms(3.1, 3.1, 1), false},     // 1.55×
		{ms(2, 2.5, 2.5, 3.5), true}, // even count: median 2.5
	}
	for _, c := range cases {
		r := coldstart.Result{Runs: c.runs}
		if got := r.MeetsGoal(base); got != c.ok {
			t.Errorf("runs %v (median %v, %.2f×): MeetsGoal = %v, want %v", c.runs, r.Median(), r.Ratio(base), got, c.ok)
		}
	}
	slow := coldstart.Result{Runs: ms(30, 30, 30)}
	slowBase := coldstart.Result{Runs: ms(25)}
	if slow.MeetsGoal(slowBase) {
		t.Errorf("30 ms meets the goal at 1.2× a 25 ms baseline; want < 30 ms too")
	}
	if p := (coldstart.Result{Runs: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)}).P90(); p != 9*time.Millisecond {
		t.Errorf("p90 of 1..10 ms = %v, want 9ms", p)
	}
}

// TestReportVerdict: each function's line has its verdict, and the summary
// names those over the goal and the functions' distance to hello+sdk.
func TestReportVerdict(t *testing.T) {
	runs := func(d time.Duration) []time.Duration { return []time.Duration{d, d, d} }
	rep := &coldstart.Report{
		Runs: 3, Platform: "test",
		References: []coldstart.Result{
			{Name: coldstart.Hello, Runs: runs(2 * time.Millisecond)},
			{Name: coldstart.HelloSDK, Runs: runs(3 * time.Millisecond)},
		},
		Functions: []coldstart.Result{
			{Name: "Fast", Runs: runs(2800 * time.Microsecond)},
			{Name: "Slow", Runs: runs(3200 * time.Microsecond)},
		},
	}
	var out bytes.Buffer
	rep.Write(&out)
	lines := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	if !strings.HasSuffix(lines["Fast"], " ok") || !strings.HasSuffix(lines["Slow"], " OVER") {
		t.Errorf("verdicts:\n%s\n%s", lines["Fast"], lines["Slow"])
	}
	for _, want := range []string{
		"functions: median 3.00 ms = 1.50× hello's 2.00 ms; slowest Slow, 3.20 ms = 1.60×",
		"hello+sdk: 3.00 ms = 1.50× hello (+1.00 ms); the functions' median is +0.00 ms from it",
		"goal (≤ 1.5× hello and < 30 ms): OVER, 1 of 2 functions: Slow 3.20 ms (1.60×)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
