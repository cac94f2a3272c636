//go:build linux

package main

import "golang.org/x/sys/unix"

// flushTerminalInput discards what the terminal on fd holds unread.
func flushTerminalInput(fd int) {
	_ = unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH)
}
