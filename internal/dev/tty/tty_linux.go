//go:build linux

package tty

import (
	"errors"
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
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pid); err != nil {
		return noop, errors.Join(err, unix.Setpgid(0, pgrp))
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		// Only if the terminal is still ours: a shell's job control may
		// have moved it meanwhile.
		if cur, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil && cur == pid {
			_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, fg)
		}
	}, nil
}
