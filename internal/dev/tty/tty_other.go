//go:build !linux

package tty

import "os"

// TakeForeground does nothing on this system.
func TakeForeground(*os.File) (restore func(), err error) { return func() {}, nil }
