package dynamo

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	smithymw "github.com/aws/smithy-go/middleware"
)

// CallCounter counts the DynamoDB API calls made on behalf of one request,
// by operation name (GetItem, Query, TransactWriteItems, ...).
type CallCounter struct {
	mu      sync.Mutex
	counts  map[string]int
	elapsed time.Duration
}

type counterKey struct{}

// WithCallCounter returns a context whose DynamoDB calls are counted in the
// returned counter.
func WithCallCounter(ctx context.Context) (context.Context, *CallCounter) {
	c := &CallCounter{counts: map[string]int{}}
	return context.WithValue(ctx, counterKey{}, c), c
}

// Attrs returns the counts as log attributes, one per operation.
func (c *CallCounter) Attrs() []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	attrs := make([]any, 0, len(c.counts))
	for op, n := range c.counts {
		attrs = append(attrs, slog.Int(op, n))
	}
	return attrs
}

// Elapsed returns the wall time spent in DynamoDB calls so far, retries
// and backoff included.
func (c *CallCounter) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.elapsed
}

// Total returns the number of calls so far.
func (c *CallCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// CountCalls is an SDK API option that counts every operation in the
// request's CallCounter, if it has one. Retries of one call count once.
func CountCalls(stack *smithymw.Stack) error {
	return stack.Initialize.Add(smithymw.InitializeMiddlewareFunc("DepotCallCounter",
		func(ctx context.Context, in smithymw.InitializeInput, next smithymw.InitializeHandler) (smithymw.InitializeOutput, smithymw.Metadata, error) {
			c, ok := ctx.Value(counterKey{}).(*CallCounter)
			if !ok {
				return next.HandleInitialize(ctx, in)
			}
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			c.mu.Lock()
			c.counts[middleware.GetOperationName(ctx)]++
			c.elapsed += time.Since(start)
			c.mu.Unlock()
			return out, md, err
		}), smithymw.After)
}
