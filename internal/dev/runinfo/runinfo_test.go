package runinfo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// What make run writes is what make audit and make load read, while it
// runs; its removal leaves nothing, and a file left by a process that is
// gone is "not running", not engines to dial.
func TestWriteReadRemove(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("nothing written: %v", err)
	}
	info := Info{PID: os.Getpid(), API: "http://127.0.0.1:3000", DynamoDB: "http://127.0.0.1:1", S3: "http://127.0.0.1:2",
		Table: "t", Bucket: "b", Embedded: true}
	remove, err := Write(dir, info)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Read(dir); err != nil || got != info {
		t.Fatalf("read %+v, %v; want %+v", got, err, info)
	}
	remove()
	if _, err := os.Stat(filepath.Join(dir, File)); !os.IsNotExist(err) {
		t.Errorf("after remove: %v", err)
	}

	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true(1)")
	}
	info.PID = gone.Process.Pid
	if _, err := Write(dir, info); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); !errors.Is(err, ErrNotRunning) {
		t.Errorf("a file of a process that exited: %v", err)
	}
}

// Locate: make run's engines, table and bucket when it runs and no other
// engines are named; the named engines otherwise.
func TestLocate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, err := Locate(dir, "", "", getenv); !errors.Is(err, ErrNotRunning) {
		t.Errorf("neither make run nor engines: %v", err)
	}
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2")
	if _, err := Write(dir, Info{PID: os.Getpid(), DynamoDB: "http://127.0.0.1:1", S3: "http://127.0.0.1:2", Table: "run-t", Bucket: "run-b"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		env           map[string]string
		table, bucket string
		wantT, wantB  string
		run           bool
	}{
		{"make run's", nil, "", "", "run-t", "run-b", true},
		{"make run's, the same engines named", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:1"}, "", "", "run-t", "run-b", true},
		{"make run's, another table, no bucket", nil, "x", "-", "x", "", true},
		{"other engines", map[string]string{"AWS_ENDPOINT_URL": "http://moto"}, "", "", LocalTable, LocalBucket, false},
		{"other engines, named table", map[string]string{"AWS_ENDPOINT_URL": "http://moto", "TABLE_NAME": "env-t"}, "", "", "env-t", LocalBucket, false},
	} {
		env = c.env
		if c.env["AWS_ENDPOINT_URL"] != "" {
			t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
			t.Setenv("AWS_ENDPOINT_URL_S3", "")
			t.Setenv("AWS_ENDPOINT_URL", c.env["AWS_ENDPOINT_URL"])
		}
		got, err := Locate(dir, c.table, c.bucket, getenv)
		if err != nil || got.Table != c.wantT || got.Bucket != c.wantB || (got.run != nil) != c.run {
			t.Errorf("%s: %+v, %v; want table %s, bucket %q, make run's %v", c.name, got, err, c.wantT, c.wantB, c.run)
		}
	}
}
