package usecase

import (
	"context"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// workerRetries bounds how many times a worker's run tries a read again
// that failed for a reason a retry may cure (inventory.KindUnavailable: a
// dependency throttling or failing past the SDK's own retries), waiting
// workerRetryWait, then twice that, and so on.
const (
	workerRetries   = 5
	workerRetryWait = 500 * time.Millisecond
)

// transient runs read, and runs it again while it fails with a
// KindUnavailable error, workerRetries times at most and not past stopBy:
// a worker that makes thousands of calls between two checkpoints keeps
// its progress through a passing throttle rather than failing the
// delivery and starting again from the last checkpoint (after
// MaxJobAttempts of those, the job fails for good).
func transient[T any](ctx context.Context, s *Service, stopBy time.Time, read func() (T, error)) (T, error) {
	wait := workerRetryWait
	for retry := 0; ; retry++ {
		v, err := read()
		if err == nil || retry == workerRetries || inventory.KindOf(err) != inventory.KindUnavailable || s.now().Add(wait).After(stopBy) {
			return v, err
		}
		if err := s.wait(ctx, wait); err != nil {
			return v, err
		}
		wait *= 2
	}
}
