// Package faults is a fault layer for the AWS SDK clients of Depot's
// functions, for tests: a smithy-go middleware that, at a chosen rate and
// seed, makes a call's attempts fail as DynamoDB and S3 fail — throttling,
// server errors, a timeout or a dropped connection after the request was
// sent (so the write may have committed), and DynamoDB's
// TransactionCanceledException with TransactionConflict — and counts what
// it injected. It can also kill a function at its n-th call, before or
// after the request reaches the engine, as if its process died there.
//
// Errors are injected where the SDK meets the wire, innermost in the
// Deserialize step: a fault before sending is a response made up here with
// the status and body the service sends, which the SDK decodes into its own
// error types; a fault after sending lets the engine answer, drops the
// answer and returns the transport error the HTTP client would. The SDK's
// retryer, which wraps that step, retries what it retries on AWS; a run of
// faults that outlasts its attempts reaches the function, which must answer
// 503 service_unavailable. It is dev-only: no Lambda links it.
package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is a kind of fault.
type Kind string

// The kinds of fault.
const (
	// Throttling is DynamoDB's ThrottlingException or
	// ProvisionedThroughputExceededException (HTTP 400), S3's SlowDown
	// (503); nothing was done.
	Throttling Kind = "throttling"
	// ServerError is an HTTP 500: DynamoDB's InternalServerError, S3's
	// InternalError; nothing was done.
	ServerError Kind = "server_error"
	// TimeoutAfterSend is a request the engine received and answered, whose
	// answer never came back in time: the write may have committed.
	TimeoutAfterSend Kind = "timeout_after_send"
	// DroppedConnection is a connection reset after the request was sent:
	// the write may have committed.
	DroppedConnection Kind = "dropped_connection"
	// TransactionConflict is TransactWriteItems (or TransactGetItems)
	// cancelled with TransactionConflict: another transaction held an item.
	// The SDK does not retry it.
	TransactionConflict Kind = "transaction_conflict"
)

// Kinds are every kind, in the order reports list them.
var Kinds = []Kind{Throttling, ServerError, TimeoutAfterSend, DroppedConnection, TransactionConflict}

// Config is what to inject.
type Config struct {
	// Seed seeds the generator that decides every fault.
	Seed uint64
	// Rate is the probability that an attempt fails (0 to 1), with a kind
	// drawn uniformly among those the operation can have. The SDK retries
	// most of them.
	Rate float64
	// RunRate is the share of calls that fail on every attempt, with one
	// retryable kind: a run of faults that outlasts the SDK's retries and
	// reaches the function. Runs are spread evenly, one call in every
	// 1/RunRate from a phase the seed draws, so n calls have n×RunRate
	// runs (±1) however the other draws fall: a small workload is sure to
	// meet some.
	RunRate float64
	// Kinds, if set, are the only kinds injected.
	Kinds []Kind
}

// Injector injects faults into the clients it is installed on. It starts
// disabled; Enable turns it on. It is safe for concurrent use.
type Injector struct {
	cfg Config
	on  atomic.Bool

	mu       sync.Mutex
	rng      *rand.Rand
	counts   map[string]int // service/kind and service/kind/operation
	calls    map[string]int // calls made while enabled, by service
	attempts map[string]int // attempts made while enabled, by service
	runs     int
	runDue   float64 // RunRate accrued per call; a run falls due at 1

	kill killState
	next []planned
}

// planned is a fault FailNext asked for.
type planned struct {
	operation string
	kind      Kind
	skip      int
}

type killState struct {
	armed     bool
	at        int  // the attempt (from 1) at which the process dies
	afterSend bool // whether that attempt reaches the engine
	seen      int  // attempts since armed
	dead      bool
	point     string // the operation it died at
}

// New returns a disabled injector.
func New(cfg Config) *Injector {
	in := &Injector{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		counts: map[string]int{}, calls: map[string]int{}, attempts: map[string]int{}}
	in.runDue = in.rng.Float64() // the phase of the runs
	return in
}

// Enable turns injection on or off; off, the clients behave as without
// the layer (kills excepted: see KillAt).
func (in *Injector) Enable(on bool) { in.on.Store(on) }

// DynamoDB installs the layer on a DynamoDB client (lambdafn.Settings'
// DynamoDBOptions).
func (in *Injector) DynamoDB(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, in.install)
}

// S3 installs the layer on an S3 client (lambdafn.Settings' S3Options).
func (in *Injector) S3(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, in.install)
}

func (in *Injector) install(st *middleware.Stack) error {
	if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("FaultsCall", in.call), middleware.Before); err != nil {
		return err
	}
	return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("FaultsAttempt", in.attempt), middleware.After)
}

// callState is what the layer knows of one call, across its attempts.
type callState struct {
	service, operation string
	run                Kind // a kind every attempt fails with, or ""
	txItems            int  // items of a transaction, for its cancellation reasons
	attempts           int  // attempts so far while enabled
}

// fault is one injected failure: its kind, and a draw that picks among
// the forms it takes (which throttling code, which item conflicted).
type fault struct {
	kind Kind
	pick int
}

type callKey struct{}

// call decides, once per call (outside the retry loop), whether the call
// is a run of faults.
func (in *Injector) call(ctx context.Context, input middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	c := &callState{service: awsmiddleware.GetServiceID(ctx), operation: awsmiddleware.GetOperationName(ctx)}
	switch p := input.Parameters.(type) {
	case *dynamodb.TransactWriteItemsInput:
		c.txItems = len(p.TransactItems)
	case *dynamodb.TransactGetItemsInput:
		c.txItems = len(p.TransactItems)
	}
	if in.on.Load() {
		in.mu.Lock()
		if retryable := in.allowed(Throttling, ServerError, TimeoutAfterSend, DroppedConnection); len(retryable) > 0 && in.cfg.RunRate > 0 {
			if in.runDue += in.cfg.RunRate; in.runDue >= 1 {
				in.runDue--
				c.run = retryable[in.rng.IntN(len(retryable))]
			}
		}
		in.mu.Unlock()
	}
	return next.HandleInitialize(context.WithValue(ctx, callKey{}, c), input)
}

// attempt fails one attempt, or lets it through.
func (in *Injector) attempt(ctx context.Context, input middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	c, _ := ctx.Value(callKey{}).(*callState)
	req, ok := input.Request.(*smithyhttp.Request)
	if c == nil || !ok {
		return next.HandleDeserialize(ctx, input)
	}
	if c.service == "" { // S3 names itself after the Initialize step
		c.service, c.operation = awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	}
	if die, afterSend := in.killPoint(c); die {
		return in.die(ctx, input, next, afterSend)
	}
	f, ok := in.planned(c)
	if !ok && !in.on.Load() {
		return next.HandleDeserialize(ctx, input)
	}
	if !ok {
		f = in.decide(c)
	}
	switch f.kind {
	case "":
		return next.HandleDeserialize(ctx, input)
	case TimeoutAfterSend, DroppedConnection:
		out, md, err := next.HandleDeserialize(ctx, input)
		if err != nil {
			return out, md, err // the engine's own failure stands
		}
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		return middleware.DeserializeOutput{}, md, &smithyhttp.RequestSendError{Err: transportError(req, f.kind)}
	}
	return middleware.DeserializeOutput{RawResponse: errorResponse(c, f)}, middleware.Metadata{}, nil
}

// decide draws the fault of one attempt (kind "" for none) and counts it.
func (in *Injector) decide(c *callState) fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.attempts[c.service]++
	if c.attempts++; c.attempts == 1 {
		in.calls[c.service]++
		if c.run != "" {
			in.runs++
		}
	}
	f := fault{kind: c.run, pick: in.rng.IntN(1 << 30)}
	if f.kind == "" {
		if in.rng.Float64() >= in.cfg.Rate {
			return fault{}
		}
		kinds := in.allowed(Throttling, ServerError, TimeoutAfterSend, DroppedConnection)
		if c.txItems > 0 {
			kinds = append(kinds, in.allowed(TransactionConflict)...)
		}
		if len(kinds) == 0 {
			return fault{}
		}
		f.kind = kinds[in.rng.IntN(len(kinds))]
	}
	in.counts[c.service+"/"+string(f.kind)]++
	in.counts[c.service+"/"+string(f.kind)+"/"+c.operation]++
	return f
}

// FailNext makes the attempt after the next skip attempts of operation
// (a DynamoDB or S3 operation name, such as "TransactWriteItems"; "" for
// any) fail with kind, enabled or not. Calls add up: each is one more
// fault, in order.
func (in *Injector) FailNext(operation string, kind Kind, skip int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.next = append(in.next, planned{operation: operation, kind: kind, skip: skip})
}

// ClearNext drops the faults FailNext planned that have not happened.
func (in *Injector) ClearNext() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.next = nil
}

// planned returns the fault FailNext planned for this attempt, if any.
func (in *Injector) planned(c *callState) (fault, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.next) == 0 {
		return fault{}, false
	}
	p := &in.next[0]
	if p.operation != "" && p.operation != c.operation {
		return fault{}, false
	}
	if p.skip > 0 {
		p.skip--
		return fault{}, false
	}
	f := fault{kind: p.kind, pick: in.rng.IntN(1 << 30)}
	in.next = in.next[1:]
	in.counts[c.service+"/"+string(f.kind)]++
	in.counts[c.service+"/"+string(f.kind)+"/"+c.operation]++
	return f, true
}

// allowed is those of kinds the configuration allows.
func (in *Injector) allowed(kinds ...Kind) []Kind {
	if len(in.cfg.Kinds) == 0 {
		return kinds
	}
	var out []Kind
	for _, k := range kinds {
		if slices.Contains(in.cfg.Kinds, k) {
			out = append(out, k)
		}
	}
	return out
}

// transportError is what net/http returns when the answer to req never
// comes: a timeout awaiting it, or a reset connection.
func transportError(req *smithyhttp.Request, kind Kind) error {
	var err error = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	if kind == TimeoutAfterSend {
		err = timeoutError{}
	}
	return &url.Error{Op: methodName(req.Method), URL: req.URL.String(), Err: err}
}

func methodName(m string) string {
	if m == "" {
		return "Get"
	}
	return m[:1] + strings.ToLower(m[1:])
}

// timeoutError is net/http's error for a response that did not come in
// time (http.Client.Timeout).
type timeoutError struct{}

func (timeoutError) Error() string {
	return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
}
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// errorResponse is the service's answer to a failed attempt, as it sends it.
func errorResponse(c *callState, f fault) *smithyhttp.Response {
	kind := f.kind
	h := http.Header{"X-Amzn-Requestid": {"FAULTS" + strconv.Itoa(f.pick)}}
	var status int
	var body string
	if c.service == "S3" {
		h.Set("Content-Type", "application/xml")
		code, msg := "InternalError", "We encountered an internal error. Please try again."
		status = http.StatusInternalServerError
		if kind == Throttling {
			code, msg, status = "SlowDown", "Please reduce your request rate.", http.StatusServiceUnavailable
		}
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>%s</Code><Message>%s</Message><RequestId>FAULTS</RequestId><HostId>faults</HostId></Error>`, code, msg)
	} else {
		h.Set("Content-Type", "application/x-amz-json-1.0")
		const ns = "com.amazonaws.dynamodb.v20120810#"
		switch kind {
		case Throttling:
			status = http.StatusBadRequest
			code := "ThrottlingException"
			if f.pick%2 == 0 {
				code = "ProvisionedThroughputExceededException"
			}
			body = fmt.Sprintf(`{"__type":"%s%s","message":"The level of configured provisioned throughput for the table was exceeded."}`, ns, code)
		case ServerError:
			status = http.StatusInternalServerError
			body = `{"__type":"` + ns + `InternalServerError","message":"Internal server error"}`
		case TransactionConflict:
			status = http.StatusBadRequest
			n := max(c.txItems, 1)
			reasons, codes := make([]string, n), make([]string, n)
			conflict := f.pick % n
			for i := range reasons {
				reasons[i], codes[i] = `{"Code":"None"}`, "None"
			}
			reasons[conflict] = `{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}`
			codes[conflict] = "TransactionConflict"
			body = fmt.Sprintf(`{"__type":"%sTransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [%s]","CancellationReasons":[%s]}`,
				ns, strings.Join(codes, ", "), strings.Join(reasons, ","))
		}
	}
	return &smithyhttp.Response{Response: &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader([]byte(body))), ContentLength: int64(len(body)),
	}}
}

// ErrKilled is the error of every call a killed process makes.
var ErrKilled = errors.New("faults: the process was killed here")

// KillAt arms a kill: the process dies at the at-th attempt from now (1 is
// the next), after sending it when afterSend (the engine acts on it, the
// answer is lost) or before; that attempt and every later one fail with
// ErrKilled, which the SDK does not retry, so nothing after that point
// reaches the engines. KillAt(0, false) disarms it (a new process).
// Kills work whether or not the injector is enabled.
func (in *Injector) KillAt(at int, afterSend bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.kill = killState{armed: at > 0, at: at, afterSend: afterSend}
}

// Killed reports whether an armed kill happened, and at which operation.
func (in *Injector) Killed() (bool, string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.kill.dead, in.kill.point
}

// killPoint reports whether this attempt dies, and if it reaches the engine.
func (in *Injector) killPoint(c *callState) (die, afterSend bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	k := &in.kill
	if !k.armed {
		return false, false
	}
	if k.dead {
		return true, false
	}
	if k.seen++; k.seen < k.at {
		return false, false
	}
	k.dead, k.point = true, c.service+"."+c.operation
	return true, k.afterSend
}

func (in *Injector) die(ctx context.Context, input middleware.DeserializeInput, next middleware.DeserializeHandler, afterSend bool) (middleware.DeserializeOutput, middleware.Metadata, error) {
	if afterSend {
		out, md, err := next.HandleDeserialize(ctx, input)
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil && err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		return middleware.DeserializeOutput{}, md, &smithy.CanceledError{Err: ErrKilled}
	}
	return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithy.CanceledError{Err: ErrKilled}
}

// Report is what an injector did while enabled.
type Report struct {
	Calls    map[string]int // by service
	Attempts map[string]int // by service
	Runs     int            // calls that failed on every attempt
	Injected map[string]int // by "service/kind" and "service/kind/operation"
}

// Report returns the counts so far.
func (in *Injector) Report() Report {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := Report{Calls: map[string]int{}, Attempts: map[string]int{}, Runs: in.runs, Injected: map[string]int{}}
	for k, v := range in.calls {
		r.Calls[k] = v
	}
	for k, v := range in.attempts {
		r.Attempts[k] = v
	}
	for k, v := range in.counts {
		r.Injected[k] = v
	}
	return r
}

// Total is the number of faults injected into a service, of every kind.
func (r Report) Total(service string) int {
	n := 0
	for _, k := range Kinds {
		n += r.Injected[service+"/"+string(k)]
	}
	return n
}

// String is the report as a few lines: per service, calls, attempts, and
// faults by kind.
func (r Report) String() string {
	var services []string
	for s := range r.Attempts {
		services = append(services, s)
	}
	sort.Strings(services)
	var b strings.Builder
	for _, s := range services {
		fmt.Fprintf(&b, "%s: %d calls, %d attempts, %d faults (%.1f%% of attempts):", s, r.Calls[s], r.Attempts[s],
			r.Total(s), 100*float64(r.Total(s))/float64(max(r.Attempts[s], 1)))
		for _, k := range Kinds {
			if n := r.Injected[s+"/"+string(k)]; n > 0 {
				fmt.Fprintf(&b, " %s %d", k, n)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "runs outlasting the SDK's retries: %d", r.Runs)
	return b.String()
}
