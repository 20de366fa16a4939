//go:build linux

package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/devtest"
	"github.com/depot-inventory/depot/internal/dev/tty"
)

// TestMakeRunCtrlC runs `make -s run` as a person does, in a terminal (a
// pseudo-terminal that is make's controlling terminal, make leading its own
// session as a login shell's job would), waits for the banner, types Ctrl-Z
// (which depot-local catches and explains, rather than stop alone while make
// waits), then Ctrl-C, and checks that make exits 0 without "Error" or
// "Interrupt": the terminal
// sends SIGINT to its foreground process group, which must be depot-local's
// alone. It also checks make run says it is building before it builds.
// BIN points make at a fresh directory, so this is a first build of
// bin/depot-local (with the module and build caches as they are).
func TestMakeRunCtrlC(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	master, slave, err := tty.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	dir := t.TempDir()
	port := freePort(t)
	cmd := exec.Command("make", "-s", "run", "BIN="+filepath.Join(dir, "bin"))
	cmd.Dir = "../.."
	cmd.Env = append(cleanEnv(), "PORT="+strconv.Itoa(port), "DEPOT_STATE_DIR="+filepath.Join(dir, "state"), "MAKEFLAGS=", "MAKELEVEL=")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	// make leads the session; depot-local has a process group of its own.
	t.Cleanup(func() { killSession(cmd.Process.Pid) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	lines := devtest.Lines(master)
	var out strings.Builder
	var sent time.Time
	deadline := time.After(5 * time.Minute) // a cold build included
	for lines != nil {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			out.WriteString(l + "\n")
			switch {
			case strings.Contains(l, "Ctrl-C stops."):
				// Ctrl-Z first: it must not leave the terminal to a
				// stopped depot-local and a waiting make.
				if _, err := io.WriteString(master, "\x1a"); err != nil {
					t.Fatal(err)
				}
			case strings.Contains(l, "Ctrl-Z cannot suspend") && sent.IsZero():
				if _, err := io.WriteString(master, "\x03"); err != nil {
					t.Fatal(err)
				}
				sent = time.Now()
			}
		case <-deadline:
			t.Fatalf("make run: no banner, or still running 5 min on:\n%s", out.String())
		}
	}
	var exitErr error
	select {
	case exitErr = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("make still running after the terminal closed:\n%s", out.String())
	}
	got := out.String()
	if sent.IsZero() {
		t.Fatalf("make run exited (%v) before its banner, or said nothing on Ctrl-Z:\n%s", exitErr, got)
	}
	t.Logf("stopped %s after Ctrl-C", time.Since(sent).Round(time.Millisecond))
	if exitErr != nil {
		t.Errorf("make run after Ctrl-C: %v, want exit status 0:\n%s", exitErr, got)
	}
	for _, bad := range []string{"Error", "Interrupt"} {
		if strings.Contains(got, bad) {
			t.Errorf("output has %q:\n%s", bad, got)
		}
	}
	building := strings.Index(got, "make run: building")
	if building < 0 || building > strings.Index(got, "Depot local runtime") || !strings.Contains(got, "first build") {
		t.Errorf("make run did not say it was building (a first build: and that it takes a while) before the banner:\n%s", got)
	}
	if !strings.Contains(got, `"msg":"stopped"`) {
		t.Errorf("depot-local did not log its clean stop:\n%s", got)
	}
}

// killSession kills every process of session sid (after a failure; once
// make has exited 0 there is none).
func killSession(sid int) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...
		i := strings.LastIndexByte(string(data), ')')
		fields := strings.Fields(string(data[i+1:]))
		if len(fields) < 4 || fields[3] != strconv.Itoa(sid) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
