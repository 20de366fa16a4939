//go:build !linux

package invoke

import "os/exec"

// The emulator runs on Linux only (Start refuses elsewhere).

func setProcessGroup(*exec.Cmd) {}

func terminate(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
