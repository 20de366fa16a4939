//go:build linux

package tty

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// TakeForeground makes the calling process the foreground of the terminal
// on f (normally os.Stdin) in a process group of its own, and returns the
// function that gives the foreground back to the group that had it (call it
// before exiting; it is safe to call more than once). It changes nothing,
// and returns a no-op, when f is not a terminal, is not this process's
// controlling terminal, or this process is not in its foreground (started
// in the background, say), or cannot leave its group (it is a session
// leader). The error says why the change failed half-way; the process is
// then back in its group.
//
// It ignores SIGTTOU for the rest of the process's life: a background group
// that sets the foreground (here, the new group before it is the foreground)
// or, under `stty tostop`, writes to the terminal (here, after giving the
// foreground back) would otherwise be stopped.
//
// While it holds the foreground it catches SIGTSTP (Ctrl-Z) and says so on
// stderr: Ctrl-Z would stop this process alone, and the shell, waiting for
// make, would neither get the terminal back nor be able to resume it.
// Ctrl-C is the way out.
func TakeForeground(f *os.File) (restore func(), err error) {
	noop := func() {}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return noop, nil // not a terminal
	}
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil {
		return noop, nil // not our controlling terminal
	}
	pid, pgrp := unix.Getpid(), unix.Getpgrp()
	if fg != pgrp {
		return noop, nil // in the background: leave the terminal alone
	}
	if pgrp == pid {
		return noop, nil // already alone in its group (a shell's job)
	}
	if sid, err := unix.Getsid(0); err != nil || sid == pid {
		return noop, nil // a session leader cannot change its group
	}

	signal.Ignore(syscall.SIGTTOU)
	if err := unix.Setpgid(0, 0); err != nil {
		return noop, err
	}
	tstp := make(chan os.Signal, 1)
	signal.Notify(tstp, syscall.SIGTSTP)
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pid); err != nil {
		signal.Stop(tstp)
		return noop, errors.Join(err, unix.Setpgid(0, pgrp))
	}
	stopNotes := make(chan struct{})
	go func() {
		for {
			select {
			case <-tstp:
				fmt.Fprintln(os.Stderr, "\n(Ctrl-Z cannot suspend this under make; Ctrl-C stops it)")
			case <-stopNotes:
				return
			}
		}
	}()
	done := false
	return func() {
		if done {
			return
		}
		done = true
		signal.Stop(tstp)
		close(stopNotes)
		// Only if the terminal is still ours: a shell's job control may
		// have moved it meanwhile.
		if cur, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil && cur == pid {
			_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, fg)
		}
	}, nil
}
