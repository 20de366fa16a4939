package memstore

import (
	"context"
	"slices"
	"sync"
)

// Queue is an in-memory usecase.Queue that keeps what was sent, in order.
type Queue struct {
	mu   sync.Mutex
	sent []string
	// Fail, when set, is returned by Send (the message is not kept).
	Fail error
}

// Send keeps the job id, or fails with Fail.
func (q *Queue) Send(_ context.Context, jobID string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Fail != nil {
		return q.Fail
	}
	q.sent = append(q.sent, jobID)
	return nil
}

// Sent returns the job ids sent so far, in order.
func (q *Queue) Sent() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.sent)
}
