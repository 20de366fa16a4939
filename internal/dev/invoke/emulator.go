package invoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// InvokePath is the RIE's Invoke API, as Lambda's (function name fixed).
const InvokePath = "/2015-03-31/functions/function/invocations"

// Config says how to start the emulator for one function.
type Config struct {
	RIE       string   // the aws-lambda-rie binary
	Bootstrap string   // the function's bootstrap
	Env       []string // the emulator's whole environment (ProcessEnv); the function gets all of it
	// Timeout is the function's timeout, which the emulator enforces from
	// AWS_LAMBDA_FUNCTION_TIMEOUT in Env; Invoke gives up a while after it.
	Timeout time.Duration
	// Logs receives the emulator's output, the function's own stdout and
	// stderr included. Nil discards it.
	Logs io.Writer
	// LogLevel is the emulator's own log level (default warn; its START,
	// END and REPORT lines are always written).
	LogLevel string
}

// Emulator is a running RIE with one function.
type Emulator struct {
	// URL is the Invoke API endpoint on loopback.
	URL string

	cmd      *exec.Cmd
	logs     io.Writer
	timeout  time.Duration
	done     chan struct{} // closed when the emulator has exited
	waitErr  error
	stopOnce sync.Once
}

// startAttempts bounds the retries when a picked port was taken before the
// emulator bound it.
const startAttempts = 3

// Start starts the emulator on two free loopback ports (its Invoke API and
// the Runtime API it serves the function) and waits until it accepts
// connections. The function itself starts on the first invocation, as in
// Lambda. Stop must be called.
func Start(ctx context.Context, cfg Config) (*Emulator, error) {
	if runtime.GOOS != "linux" {
		return nil, ErrNotLinux
	}
	var err error
	for range startAttempts {
		var e *Emulator
		if e, err = start(ctx, cfg); err == nil {
			return e, nil
		}
		if !errors.Is(err, errExited) {
			return nil, err
		}
	}
	return nil, err
}

var errExited = errors.New("the emulator exited before accepting connections")

func start(ctx context.Context, cfg Config) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	invokeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	runtimeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	level := cfg.LogLevel
	if level == "" {
		level = "warn"
	}
	var logs io.Writer = io.Discard
	if cfg.Logs != nil {
		logs = &shutdownFilter{w: cfg.Logs}
	}

	// Always pass both addresses: by default the RIE binds its Invoke API
	// on all interfaces (0.0.0.0:8080) and its Runtime API on the fixed
	// 127.0.0.1:9001. --log-level also keeps it from reading LOG_LEVEL, which
	// is the function's variable. The bootstrap goes last: the RIE takes
	// every argument it does not know, --help included, as the command.
	cmd := exec.Command(cfg.RIE,
		"--log-level", level,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = cfg.Env
	cmd.Stdout = logs
	cmd.Stderr = logs
	// Own process group, so that Stop can reach the function's process too
	// and a terminal's Ctrl-C reaches only the caller, which stops it.
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.RIE, err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout * time.Second
	}
	e := &Emulator{
		URL:     "http://" + invokeAddr + InvokePath,
		cmd:     cmd,
		logs:    logs,
		timeout: timeout,
		done:    make(chan struct{}),
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.done)
	}()

	ready := time.NewTimer(10 * time.Second)
	defer ready.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.DialTimeout("tcp", invokeAddr, time.Second)
		if err == nil {
			conn.Close()
			return e, nil
		}
		select {
		case <-e.done:
			e.Stop()
			return nil, fmt.Errorf("%w (%v); its output has the reason", errExited, e.waitErr)
		case <-ready.C:
			e.Stop()
			return nil, fmt.Errorf("the emulator did not listen on %s within 10s", invokeAddr)
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a loopback port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// maxResponse is above Lambda's 6 MB limit on synchronous responses.
const maxResponse = 8 << 20

// Invoke sends the event and returns the function's response payload. When
// the function fails, the error is a *FunctionError and the payload is
// what the emulator answered (Lambda's error JSON, or its timeout message).
// Invoke gives up twice the function's timeout and ten seconds after it
// started (init and invocation each have the timeout).
func (e *Emulator) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*e.timeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("read the response: %w", err)
	}
	return payload, classify(resp.StatusCode, payload)
}

// FunctionError is a failed invocation: the function returned an error or
// panicked (Type and Message from Lambda's error JSON), timed out
// (Sandbox.Timedout) or its process exited without answering
// (Runtime.ExitError, e.g. an init failure).
type FunctionError struct {
	Type    string
	Message string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// classify reads the emulator's answer. It answers 200 to a function error
// too, with no X-Amz-Function-Error header (unlike Lambda): the error is
// told by the payload, Lambda's {"errorMessage","errorType"} object. A
// timeout is a 200 with the plain text "Task timed out after N.00 seconds",
// and a runtime that exits (init failure, crash) an empty 502.
func classify(status int, payload []byte) error {
	switch {
	case status == http.StatusOK:
		if bytes.HasPrefix(payload, []byte("Task timed out after")) {
			return &FunctionError{Type: "Sandbox.Timedout", Message: string(payload)}
		}
		var lambdaErr struct {
			Type       *string          `json:"errorType"`
			Message    *string          `json:"errorMessage"`
			StatusCode *json.RawMessage `json:"statusCode"`
		}
		if json.Unmarshal(payload, &lambdaErr) == nil && lambdaErr.Type != nil && lambdaErr.Message != nil && lambdaErr.StatusCode == nil {
			return &FunctionError{Type: *lambdaErr.Type, Message: *lambdaErr.Message}
		}
		return nil
	case status == http.StatusBadGateway:
		msg := "the function's process exited without answering (an init failure or a crash); its output has the reason"
		if len(payload) > 0 {
			msg += ": " + string(payload)
		}
		return &FunctionError{Type: "Runtime.ExitError", Message: msg}
	default:
		return fmt.Errorf("the emulator answered HTTP %d: %s", status, payload)
	}
}

// Stop stops the emulator: SIGTERM, on which it kills the function and
// exits, or, if it has not exited within five seconds, SIGKILL to it and to
// the function.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		select {
		case <-e.done:
		default:
			_ = terminate(e.cmd)
			select {
			case <-e.done:
			case <-time.After(5 * time.Second):
				kill(e.cmd)
				<-e.done
			}
		}
		if f, ok := e.logs.(*shutdownFilter); ok {
			f.flush()
		}
	})
}

// shutdownFilter passes the emulator's output on line by line, but for the
// warning it logs whenever it is stopped. exec.Cmd calls Write from one
// goroutine at a time, as Stdout and Stderr are the same writer.
type shutdownFilter struct {
	w       io.Writer
	partial []byte
}

var shutdownNoise = []byte("(rapid) Reset initiated: SandboxTerminated")

func (f *shutdownFilter) Write(p []byte) (int, error) {
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.partial[:i+1]
		if !bytes.Contains(line, shutdownNoise) {
			if _, err := f.w.Write(line); err != nil {
				return len(p), err
			}
		}
		f.partial = f.partial[i+1:]
	}
}

// flush writes an unterminated last line; only once the emulator has exited.
func (f *shutdownFilter) flush() {
	if len(f.partial) > 0 {
		_, _ = f.w.Write(append(f.partial, '\n'))
		f.partial = nil
	}
}

// Exited is closed once the emulator process has exited.
func (e *Emulator) Exited() <-chan struct{} { return e.done }
