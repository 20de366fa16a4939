// Package tty lets a dev command that runs under make (make run) be the only
// process a terminal's Ctrl-C reaches.
//
// In a terminal, Ctrl-C sends SIGINT to the whole foreground process group.
// Under `make run` that group holds make (and the shell of the recipe) as
// well as depot-local, so make dies of SIGINT and reports an error, even
// when depot-local handles the signal and exits 0. TakeForeground moves the
// calling process into a process group of its own and makes that group the
// terminal's foreground group, so Ctrl-C (and Ctrl-\) reach it alone; make
// just sees its child exit 0. The returned function gives the terminal back
// to the group that had it.
//
// It works on Linux; elsewhere it does nothing.
package tty
