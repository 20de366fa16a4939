// Package callstats counts, per request, the calls Depot makes to the
// services below it, the attempts they throttled and the IAM actions those
// calls need. The request's log line reports them (its metrics among
// them), and the integration suite checks every function's template policy
// against the actions it was seen to use.
package callstats

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithymw "github.com/aws/smithy-go/middleware"
)

// Stats are the calls made on behalf of one request.
type Stats struct {
	mu      sync.Mutex
	calls   map[string]int // by "Service.Operation", e.g. "DynamoDB.GetItem"; retries of one call count once
	actions map[string]bool
	elapsed map[string]time.Duration // by service
	// throttles are the attempts a service throttled, by service: each
	// retried one, and the last.
	throttles map[string]int
}

type key struct{}

// With returns a context whose calls are counted in the returned Stats.
func With(ctx context.Context) (context.Context, *Stats) {
	s := &Stats{calls: map[string]int{}, actions: map[string]bool{}, elapsed: map[string]time.Duration{},
		throttles: map[string]int{}}
	return context.WithValue(ctx, key{}, s), s
}

func from(ctx context.Context) *Stats {
	s, _ := ctx.Value(key{}).(*Stats)
	return s
}

// Call records one call of a service's operation that took d and needed
// the IAM actions (e.g. "dynamodb:PutItem"). Without Stats in ctx it does
// nothing.
func Call(ctx context.Context, service, operation string, d time.Duration, actions ...string) {
	s := from(ctx)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[service+"."+operation]++
	s.elapsed[service] += d
	for _, a := range actions {
		s.actions[a] = true
	}
}

// Action records an IAM action used without a call, such as signing a
// presigned URL (the URL works only if the signer's role may do what it
// asks).
func Action(ctx context.Context, actions ...string) {
	if s := from(ctx); s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, a := range actions {
			s.actions[a] = true
		}
	}
}

// Throttled records n attempts that service throttled without the SDK
// seeing an error it counts as throttling (a DynamoDB transaction
// cancelled for throttling, say). Without Stats in ctx it does nothing.
func Throttled(ctx context.Context, service string, n int) {
	if s := from(ctx); s != nil && n > 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.throttles[service] += n
	}
}

// Throttles returns the attempts service throttled.
func (s *Stats) Throttles(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttles[service]
}

// Calls returns the number of calls of each operation of service, by
// operation name.
func (s *Stats) Calls(service string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, n := range s.calls {
		if op, ok := cutService(k, service); ok {
			out[op] += n
		}
	}
	return out
}

// Total returns the number of calls made to service.
func (s *Stats) Total(service string) int {
	n := 0
	for _, c := range s.Calls(service) {
		n += c
	}
	return n
}

// Elapsed returns the wall time spent in calls to service, retries and
// backoff included.
func (s *Stats) Elapsed(service string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.elapsed[service]
}

// Actions returns the IAM actions used, sorted.
func (s *Stats) Actions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.actions))
}

func cutService(k, service string) (string, bool) {
	if len(k) > len(service) && k[:len(service)] == service && k[len(service)] == '.' {
		return k[len(service)+1:], true
	}
	return "", false
}

// SDKCalls returns an AWS SDK API option that records every call of the
// client in the request's Stats as a call of service, with the grants
// grants says the call needs (from the operation's name and input). Retries
// of one call count once; each attempt the service throttled, as the SDK's
// retryer tells throttling (retry.DefaultThrottles: ThrottlingException,
// ProvisionedThroughputExceededException, RequestLimitExceeded, ...),
// counts in Throttles, retried or not.
func SDKCalls(service string, grants func(operation string, input any) []string) func(*smithymw.Stack) error {
	return func(stack *smithymw.Stack) error {
		return stack.Initialize.Add(smithymw.InitializeMiddlewareFunc("DepotCallStats",
			func(ctx context.Context, in smithymw.InitializeInput, next smithymw.InitializeHandler) (smithymw.InitializeOutput, smithymw.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				op := awsmw.GetOperationName(ctx)
				Call(ctx, service, op, time.Since(start), grants(op, in.Parameters)...)
				Throttled(ctx, service, throttledAttempts(md))
				return out, md, err
			}), smithymw.After)
	}
}

// isThrottle tells the errors the SDK's retryer treats as throttling.
var isThrottle = retry.IsErrorThrottles(retry.DefaultThrottles)

// throttledAttempts counts the attempts of a call (the retryer's record of
// them in the call's metadata) that failed with throttling.
func throttledAttempts(md smithymw.Metadata) int {
	results, ok := retry.GetAttemptResults(md)
	if !ok {
		return 0
	}
	n := 0
	for _, r := range results.Results {
		if r.Err != nil && isThrottle.IsErrorThrottle(r.Err) == aws.TrueTernary {
			n++
		}
	}
	return n
}
