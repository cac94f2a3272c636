package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/lines"
)

// defaultWaitDelay bounds how long Exec waits for output pipes after the
// process group was killed, in case a descendant escaped the group and holds
// them.
const defaultWaitDelay = 5 * time.Second

// Exec runs cmd.Argv directly (never through a shell). cmd.Env is added to
// the environment of rokflow itself; cmd.Stdin, when set, is the command's
// standard input (otherwise /dev/null). Output is captured and, when
// cmd.Output is set, delivered line by line as it comes, one call at a time.
//
// With cmd.Sudo the command runs as `sudo -n -- ARGV` (never prompting for a
// password); its environment is then passed through `env NAME=VALUE…`, since
// sudo resets the environment. Those values are then visible in the host's
// process list while the command runs; pass secrets on stdin instead.
//
// The command runs in its own process group, and the whole group is killed
// when ctx ends; Exec then returns ctx's error with what was captured. The
// group is also killed should rokflow die while the command runs, even by
// SIGKILL (see groupGuard; on Linux the kernel also kills the command's own
// process). A non-zero exit status is reported in the result; a command
// killed by a signal reports 128+signal, as shells do.
func (h *Host) Exec(ctx context.Context, cmd steps.Command) (steps.ExecResult, error) {
	argv := BuildArgv(cmd)
	if len(argv) == 0 || argv[0] == "" {
		return steps.ExecResult{}, errors.New("exec: empty command")
	}
	if err := ctx.Err(); err != nil {
		return steps.ExecResult{}, err
	}
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Dir = cmd.Dir
	if len(cmd.Env) > 0 && !cmd.Sudo {
		c.Env = append(os.Environ(), envList(cmd.Env)...)
	}
	if cmd.Stdin != nil {
		c.Stdin = bytes.NewReader(cmd.Stdin)
	}
	var mu sync.Mutex
	stdout := lines.New("stdout", cmd.Output, &mu)
	stderr := lines.New("stderr", cmd.Output, &mu)
	c.Stdout, c.Stderr = stdout, stderr
	c.SysProcAttr = sysProcAttr()
	c.Cancel = func() error {
		// The negative pid names the group: helpers the command started die
		// with it instead of outliving the step.
		return syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
	c.WaitDelay = h.WaitDelay
	if c.WaitDelay <= 0 {
		c.WaitDelay = defaultWaitDelay
	}

	// The thread that starts the command stays this goroutine's until the
	// command was waited for (lockThread says why); the group is guarded
	// meanwhile against rokflow's death.
	unlock := lockThread()
	// Nothing the command prints is passed on before its group is
	// guarded: whoever acts on its output (and may kill rokflow) acts on a
	// command the watcher already knows. The writers wait on mu.
	mu.Lock()
	err := c.Start()
	if err == nil {
		pgid := c.Process.Pid
		guard.add(pgid)
		mu.Unlock()
		err = c.Wait()
		guard.remove(pgid)
	} else {
		mu.Unlock()
	}
	unlock()
	stdout.Close()
	stderr.Close()
	res := steps.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if err != nil && ctx.Err() != nil {
		res.ExitStatus = -1
		return res, fmt.Errorf("%s: %w", argv[0], ctx.Err())
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exitErr):
		res.ExitStatus = exitStatus(exitErr)
		return res, nil
	default:
		return res, err
	}
}

// BuildArgv returns the argv Exec runs for cmd: cmd.Argv, prefixed with
// `sudo -n --` (and `env NAME=VALUE…` when cmd.Env is set) when cmd.Sudo.
// Environment names are sorted so the argv is stable.
func BuildArgv(cmd steps.Command) []string {
	if !cmd.Sudo {
		return cmd.Argv
	}
	argv := []string{"sudo", "-n", "--"}
	if len(cmd.Env) > 0 {
		argv = append(argv, "env")
		argv = append(argv, envList(cmd.Env)...)
	}
	return append(argv, cmd.Argv...)
}

func envList(env map[string]string) []string {
	names := make([]string, 0, len(env))
	for n := range env {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, n+"="+env[n])
	}
	return out
}

func exitStatus(e *exec.ExitError) int {
	if ws, ok := e.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return e.ExitCode()
}
