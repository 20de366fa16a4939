//go:build unix

package localrun

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive advisory lock (flock) on path, created if
// need be, held until the returned Closer is closed or the process ends
// (also by kill -9): two processes appending to the same data logs would
// interleave their records.
func lockFile(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errors.New("another depot-local is using it (stop it first, or give this one another DEPOT_STATE_DIR)")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
