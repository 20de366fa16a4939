// Package coldstart measures the cold start of each function of
// template.yaml as the Lambda runtime sees it: the time from the process's
// start to its first request for an invocation (GET
// /2018-06-01/runtime/invocation/next on the Runtime API), which is when
// the function's init is over. It is `make bench`'s cold start line
// (cmd/depot-coldstart; issue 11 §6).
//
// A Harness serves a fake Runtime API on loopback that notes when /next is
// first asked for and never answers it, and a tripwire: a loopback port
// every AWS endpoint of the functions points at (AWS_ENDPOINT_URL, the job
// queues' URLs), which accepts and counts connections. A Run starts one
// binary with its environment, waits for its first /next, reads its memory
// then, kills it, and fails if it made any connection to the tripwire: a
// network call at init. The tripwire listens rather than being a closed
// port so that a call is seen even when the function ignores its failure.
// IMDS is off (AWS_EC2_METADATA_DISABLED) and the credentials are in the
// environment, as Lambda gives them, so the SDK has no other place to go.
//
// Measure builds every function (as make build does, but for this
// machine's GOARCH so that it runs here) and two references with the same
// flags: a minimal aws-lambda-go function (./hello), the goal's baseline,
// and hello with the AWS SDK's DynamoDB and S3 clients (./hellosdk), whose
// excess over hello is the SDK's own cost. It runs each of them Runs
// times, interleaved, and reports per function the median and p90 against
// hello's median, and what the package inits cost (GODEBUG=inittrace=1, in
// runs of their own).
package coldstart

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NextPath is the Runtime API's request for the next invocation.
const NextPath = "/2018-06-01/runtime/invocation/next"

// RunTimeout bounds one run: the process's start to its first /next.
const RunTimeout = 10 * time.Second

// Target is a binary to start cold, with its whole environment
// (AWS_LAMBDA_RUNTIME_API is added per run).
type Target struct {
	Name string // the function's logical id, or Hello
	Path string
	Env  []string
}

// Run is one cold start.
type Run struct {
	Pid int // the process's id (it has exited when Run returns)
	// ToNext is the time from just before the process was started to the
	// fake Runtime API's receipt of its first GET /next.
	ToNext time.Duration
	// RSS and PeakRSS are the process's resident memory (VmRSS) and its
	// peak (VmHWM) when it asked for /next, in bytes (0 off Linux).
	RSS, PeakRSS int64
	// Stderr is what the process wrote to stderr before it was killed
	// (GODEBUG=inittrace=1 writes there).
	Stderr string
}

// Harness is the fake Runtime API and the tripwire, on loopback. One run
// at a time: Run serialises them, so each /next and each connection to
// the tripwire is the running process's.
type Harness struct {
	mu      sync.Mutex // one run at a time
	api     *http.Server
	apiAddr string
	next    chan time.Time // receipts of /next; buffered, drained per run
	other   chan string    // requests for anything but /next

	trip     net.Listener
	tripMu   sync.Mutex
	tripCond *sync.Cond
	tripSeen []string // remote addresses of the connections, in order
	tripDone bool     // the accept loop has stopped
	done     chan struct{}
}

// NewHarness starts the fake Runtime API and the tripwire on two free
// loopback ports. Close stops them.
func NewHarness() (*Harness, error) {
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	trip, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	h := &Harness{
		apiAddr: apiLn.Addr().String(),
		next:    make(chan time.Time, 1),
		other:   make(chan string, 16),
		trip:    trip,
		done:    make(chan struct{}),
	}
	h.tripCond = sync.NewCond(&h.tripMu)
	h.api = &http.Server{Handler: http.HandlerFunc(h.serveAPI), ReadHeaderTimeout: RunTimeout}
	go h.api.Serve(apiLn)
	go h.acceptTrip()
	return h, nil
}

// serveAPI notes the receipt of /next and holds the request until the
// process is killed (its connection closes) or the harness closes: the
// function waits for an invocation that never comes.
func (h *Harness) serveAPI(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodGet || r.URL.Path != NextPath {
		select {
		case h.other <- r.Method + " " + r.URL.Path:
		default:
		}
		http.NotFound(w, r)
		return
	}
	select {
	case h.next <- at:
	default: // a second /next of the same run; the first is what counts
	}
	select {
	case <-r.Context().Done():
	case <-h.done:
	}
}

func (h *Harness) acceptTrip() {
	for {
		c, err := h.trip.Accept()
		if err != nil {
			h.tripMu.Lock()
			h.tripDone = true
			h.tripCond.Broadcast()
			h.tripMu.Unlock()
			return
		}
		h.tripMu.Lock()
		h.tripSeen = append(h.tripSeen, c.RemoteAddr().String())
		h.tripCond.Broadcast()
		h.tripMu.Unlock()
		c.Close()
	}
}

// Endpoint is the tripwire's URL, for every AWS endpoint of a target.
func (h *Harness) Endpoint() string { return "http://" + h.trip.Addr().String() }

// syncTrip returns the connections the tripwire accepted since the
// position mark (its count when the run began). It first connects to the tripwire itself and waits until that connection is
// accepted: the kernel queues connections in order, so every connection
// made before it has been counted by then, however late the accept loop
// ran.
func (h *Harness) syncTrip(mark int) ([]string, error) {
	c, err := net.DialTimeout("tcp", h.trip.Addr().String(), RunTimeout)
	if err != nil {
		return nil, fmt.Errorf("tripwire: %w", err)
	}
	defer c.Close()
	self := c.LocalAddr().String()
	h.tripMu.Lock()
	defer h.tripMu.Unlock()
	for {
		for i := mark; i < len(h.tripSeen); i++ {
			if h.tripSeen[i] == self {
				return slices.Clone(h.tripSeen[mark:i]), nil
			}
		}
		if h.tripDone {
			return nil, errors.New("tripwire: closed")
		}
		h.tripCond.Wait()
	}
}

func (h *Harness) tripCount() int {
	h.tripMu.Lock()
	defer h.tripMu.Unlock()
	return len(h.tripSeen)
}

// Close stops the Runtime API and the tripwire.
func (h *Harness) Close() {
	close(h.done)
	h.api.Close()
	h.trip.Close()
}

// NetworkError is a run in which the process connected to the tripwire:
// it made a network call before it asked for its first invocation.
type NetworkError struct {
	Target      string
	Connections int
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s made %d connection(s) to its AWS endpoints before its first /next: a network call at init", e.Target, e.Connections)
}

// Run starts the target cold, waits for its first GET /next, reads its
// memory, kills it and waits for it to exit. It fails if the process exits
// first or takes longer than RunTimeout (the error has its output), if it
// asked the Runtime API for anything else, or if it connected to the
// tripwire (a *NetworkError).
func (h *Harness) Run(ctx context.Context, t Target) (Run, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.next: // left by an earlier run, whose process is gone
	default:
	}
	for len(h.other) > 0 {
		<-h.other
	}
	mark := h.tripCount()

	var stdout, stderr headBuffer
	stderr.max = 1 << 20 // all of an init trace
	cmd := exec.Command(t.Path)
	cmd.Env = append(append([]string(nil), t.Env...), "AWS_LAMBDA_RUNTIME_API="+h.apiAddr)
	cmd.Dir = filepath.Dir(t.Path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	exited := make(chan error, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Run{}, fmt.Errorf("%s: %w", t.Name, err)
	}
	run := Run{Pid: cmd.Process.Pid}
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	output := func() string {
		return fmt.Sprintf("\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}

	timer := time.NewTimer(RunTimeout)
	defer timer.Stop()
	select {
	case at := <-h.next:
		run.ToNext = at.Sub(start)
		run.RSS, run.PeakRSS = memory(cmd.Process.Pid)
		stop()
	case err := <-exited:
		return Run{}, fmt.Errorf("%s exited before asking for an invocation (%v)%s", t.Name, err, output())
	case <-timer.C:
		stop()
		return Run{}, fmt.Errorf("%s did not ask for an invocation within %s%s", t.Name, RunTimeout, output())
	case <-ctx.Done():
		stop()
		return Run{}, ctx.Err()
	}
	run.Stderr = stderr.String()

	conns, err := h.syncTrip(mark)
	if err != nil {
		return Run{}, err
	}
	if len(conns) > 0 {
		return run, &NetworkError{Target: t.Name, Connections: len(conns)}
	}
	if len(h.other) > 0 {
		return run, fmt.Errorf("%s asked the Runtime API for %s, which a function's init does not", t.Name, <-h.other)
	}
	return run, nil
}

// memory reads VmRSS and VmHWM of the process, in bytes (0, 0 when
// /proc cannot tell).
func memory(pid int) (rss, peak int64) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak
}

// headBuffer keeps the first max bytes written to it (default 8 KiB),
// for a process's output in an error. exec.Cmd writes from one goroutine
// per stream; String is called after the process is waited for.
type headBuffer struct {
	max       int
	b         bytes.Buffer
	truncated bool
}

func (t *headBuffer) Write(p []byte) (int, error) {
	limit := t.max
	if limit == 0 {
		limit = 8 << 10
	}
	if room := limit - t.b.Len(); room < len(p) {
		t.truncated = true
		t.b.Write(p[:max(room, 0)])
		return len(p), nil
	}
	t.b.Write(p)
	return len(p), nil
}

func (t *headBuffer) String() string {
	if t.truncated {
		return t.b.String() + "…"
	}
	return t.b.String()
}
