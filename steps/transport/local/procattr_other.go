//go:build !linux

package local

import "syscall"

// sysProcAttr starts a command in a process group of its own, which
// cancellation kills as a whole. There is no parent-death signal outside
// Linux; groupGuard kills the group should rokflow die.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// lockThread does nothing: without a parent-death signal, which thread
// starts a command does not matter.
func lockThread() (unlock func()) { return func() {} }
