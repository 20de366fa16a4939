//go:build !unix

package localrun

import (
	"io"
	"os"
)

// lockFile opens path without locking it: on this system two depot-local
// processes must not be given the same data directory.
func lockFile(path string) (io.Closer, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
