// Package runinfo is how make run's API and engines are found from
// outside it: while it runs, depot-local writes its API's URL, the
// DynamoDB and S3 endpoints it uses and its table and bucket to run.json
// in its state directory (.local/ at the module root, or
// $DEPOT_STATE_DIR), and removes the file when it stops. depot-audit
// (make audit) and depot-load (make load) read it, so that they reach the
// very engines make run uses, embedded ones included, whose ports are
// chosen at start.
package runinfo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/depot-inventory/depot/internal/dev/localrun"
)

// File is the file's name in the state directory.
const File = "run.json"

// Info is what a running depot-local says about itself.
type Info struct {
	PID      int    `json:"pid"`
	API      string `json:"api"`      // e.g. http://127.0.0.1:3000
	DynamoDB string `json:"dynamodb"` // the endpoint URL
	S3       string `json:"s3"`       // the endpoint URL
	Table    string `json:"table"`
	Bucket   string `json:"bucket"`
	// Embedded: the engines are make run's own, which accept only the
	// local credentials (localrun.LocalAccessKeyID).
	Embedded bool `json:"embedded"`
}

// Endpoints are the DynamoDB and S3 endpoints the AWS SDK's variables
// name in this process (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3,
// else AWS_ENDPOINT_URL; localrun.UseEngines sets the first two for the
// embedded engines).
func Endpoints() (dynamoDB, s3 string) {
	of := func(service string) string {
		if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
			return v
		}
		return os.Getenv("AWS_ENDPOINT_URL")
	}
	return of("DYNAMODB"), of("S3")
}

// Write writes info to the state directory and returns the function that
// removes the file (if it is still this process's).
func Write(stateDir string, info Info) (remove func(), err error) {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(stateDir, File)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return func() {
		if cur, err := read(path); err == nil && cur.PID == info.PID {
			_ = os.Remove(path)
		}
	}, nil
}

// ErrNotRunning: no make run is running with this state directory.
var ErrNotRunning = errors.New("make run is not running (start it in another terminal)")

// Read reads what the depot-local running with the state directory wrote.
// A file left by a process that is gone is ErrNotRunning.
func Read(stateDir string) (Info, error) {
	path := filepath.Join(stateDir, File)
	info, err := read(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Info{}, fmt.Errorf("%w: no %s", ErrNotRunning, path)
	case err != nil:
		return Info{}, err
	case !alive(info.PID):
		return Info{}, fmt.Errorf("%w: %s names process %d, which has exited", ErrNotRunning, path, info.PID)
	}
	return info, nil
}

// alive reports whether the process exists (signal 0 checks, sends
// nothing).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return pid > 0 && err == nil && p.Signal(syscall.Signal(0)) == nil
}

func read(path string) (Info, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Info{}, err
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return Info{}, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// UseEngines points this process's AWS SDK at the engines info names, as
// localrun.UseEngines does for make run itself: their endpoints, a region,
// and for the embedded engines the local credentials they accept (never
// real ones).
func (i Info) UseEngines() {
	os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", i.DynamoDB)
	os.Setenv("AWS_ENDPOINT_URL_S3", i.S3)
	if os.Getenv("AWS_REGION") == "" {
		os.Setenv("AWS_REGION", "us-east-1")
	}
	if i.Embedded {
		os.Setenv("AWS_ACCESS_KEY_ID", localrun.LocalAccessKeyID)
		os.Setenv("AWS_SECRET_ACCESS_KEY", localrun.LocalSecretAccessKey)
		os.Unsetenv("AWS_SESSION_TOKEN")
		os.Unsetenv("AWS_PROFILE")
	}
}
