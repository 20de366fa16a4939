//go:build linux

package tty_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/depot-inventory/depot/internal/dev/tty"
)

// helperEnv makes the test binary act as a program under test (TestMain).
const helperEnv = "DEPOT_TTY_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "take":
		takeAndWait(true)
	case "stay": // the control: does not take the foreground
		takeAndWait(false)
	case "probe":
		restore, err := tty.TakeForeground(os.Stdin)
		fg, _ := unix.IoctlGetInt(0, unix.TIOCGPGRP)
		fmt.Printf("ready own-group=%v foreground=%v err=%v\n", unix.Getpgrp() == unix.Getpid(), fg == unix.Getpid(), err)
		restore()
	case "check":
		fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
		fmt.Printf("foreground-is-mine=%v err=%v\n", err == nil && fg == unix.Getpgrp(), err)
	}
	os.Exit(0)
}

// takeAndWait is a program like depot-local: it takes the foreground (if
// take), says so, waits for Ctrl-C, gives the foreground back and exits 0.
func takeAndWait(take bool) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	if take {
		restore, err := tty.TakeForeground(os.Stdin)
		if err != nil {
			fmt.Println("take failed:", err)
			os.Exit(1)
		}
		defer restore()
	}
	fg, _ := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	fmt.Printf("ready own-group=%v foreground=%v\n", unix.Getpgrp() == unix.Getpid(), fg == unix.Getpid())
	select {
	case <-sig:
		fmt.Println("got SIGINT")
	case <-time.After(20 * time.Second):
		fmt.Println("no SIGINT")
	}
}

// TestCtrlCReachesOnlyTheTaker runs, in a new session on a pseudo-terminal,
// a shell (standing for make: same process group as its child) that traps
// SIGINT, runs the helper that takes the foreground, then a checker in the
// shell's group. Ctrl-Z typed on the terminal must not stop the helper (it
// says so), Ctrl-C must reach the helper and not the shell, and afterwards
// the shell's group has the terminal back.
func TestCtrlCReachesOnlyTheTaker(t *testing.T) {
	out := runOnPTY(t, `trap 'echo parent-got-SIGINT' INT; "$0"; echo "helper-exit=$?"; DEPOT_TTY_TEST_HELPER=check "$0"`, "take", true)
	for _, want := range []string{"ready own-group=true foreground=true", "Ctrl-Z cannot suspend", "got SIGINT", "helper-exit=0", "foreground-is-mine=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "parent-got-SIGINT") {
		t.Errorf("Ctrl-C reached the parent's process group:\n%s", out)
	}
}

// TestCtrlCReachesTheWholeGroupWithoutIt is the control: without
// TakeForeground the same Ctrl-C reaches the parent too (the failure the
// test above would catch).
func TestCtrlCReachesTheWholeGroupWithoutIt(t *testing.T) {
	out := runOnPTY(t, `trap 'echo parent-got-SIGINT' INT; "$0"; echo "helper-exit=$?"`, "stay", true)
	if !strings.Contains(out, "got SIGINT") || !strings.Contains(out, "parent-got-SIGINT") {
		t.Errorf("want both the helper and its parent to get SIGINT:\n%s", out)
	}
}

// TestBackgroundLeavesTerminalAlone: a process started in the background
// (not in the terminal's foreground group) must not take the terminal.
func TestBackgroundLeavesTerminalAlone(t *testing.T) {
	// set -m: the shell gives its background job its own group, not the
	// foreground.
	out := runOnPTY(t, `set -m; "$0" & wait; echo "helper-exit=$?"`, "probe", false)
	if !strings.Contains(out, "ready own-group=true foreground=false err=<nil>") {
		t.Errorf("a background process changed the foreground:\n%s", out)
	}
}

// TestNotATerminal: with stdin not a terminal nothing changes.
func TestNotATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	pgrp := unix.Getpgrp()
	restore, err := tty.TakeForeground(r)
	if err != nil {
		t.Fatal(err)
	}
	restore()
	if unix.Getpgrp() != pgrp {
		t.Fatal("the process group changed with a pipe for stdin")
	}
}

// runOnPTY runs `bash -c script <this test binary>` as a session leader on
// a new pseudo-terminal with helperEnv=mode, types Ctrl-C once the helper
// says "ready" (if ctrlC; in mode take, Ctrl-Z first and Ctrl-C once the
// helper says it caught it), and returns everything the terminal showed.
func runOnPTY(t *testing.T, script, mode string, ctrlC bool) string {
	t.Helper()
	master, slave, err := tty.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	cmd := exec.Command("bash", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var b strings.Builder
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(master)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				if err := <-done; err != nil {
					t.Errorf("bash: %v", err)
				}
				return b.String()
			}
			b.WriteString(l + "\n")
			// Ctrl-Z first where the helper catches it (and says so),
			// then Ctrl-C.
			var key string
			switch {
			case ctrlC && strings.HasPrefix(l, "ready") && mode == "take":
				key = "\x1a"
			case ctrlC && (strings.HasPrefix(l, "ready") || strings.Contains(l, "Ctrl-Z cannot suspend")):
				key = "\x03"
			}
			if key != "" {
				if _, err := io.WriteString(master, key); err != nil {
					t.Fatal(err)
				}
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("not done within 30 s:\n%s", b.String())
		}
	}
}
