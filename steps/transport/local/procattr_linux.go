package local

import (
	"runtime"
	"syscall"
)

// sysProcAttr starts a command in a process group of its own, which
// cancellation kills as a whole, and has the kernel SIGKILL the command
// should rokflow die first (a SIGKILLed rokflow can do nothing itself).
// A set-user-ID program such as sudo loses the parent-death signal when
// it starts; groupGuard covers it, and the command's helpers, too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// lockThread keeps the calling goroutine on its OS thread until the
// returned function is called. The parent-death signal is tied to the
// thread that started the child, not to the process (go.dev/issue/27505):
// Go ends a thread when a goroutine locked to it exits, and the child
// would be killed then, in the middle of its work. Exec holds the thread
// from before the command starts until it was waited for, so that thread
// cannot be handed to such a goroutine while the command runs.
func lockThread() (unlock func()) {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
