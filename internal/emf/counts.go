package emf

import (
	"context"
	"sync"
)

// Counts are the values of a line's count metrics, added up while its
// work runs by code that has only the context (a port the worker wraps).
type Counts struct {
	mu sync.Mutex
	n  map[string]int64
}

type countsKey struct{}

// WithCounts returns a context whose Add calls count into the returned
// Counts.
func WithCounts(ctx context.Context) (context.Context, *Counts) {
	c := &Counts{n: map[string]int64{}}
	return context.WithValue(ctx, countsKey{}, c), c
}

// Add adds n to the metric in ctx's Counts; without Counts it does nothing.
func Add(ctx context.Context, metric string, n int64) {
	if c, ok := ctx.Value(countsKey{}).(*Counts); ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n[metric] += n
	}
}

// Get returns the metric's count.
func (c *Counts) Get(metric string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[metric]
}
