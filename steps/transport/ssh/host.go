package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rokflow/rokflow/internal/posixsh"
	"github.com/rokflow/rokflow/internal/shscript"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/lines"
)

// host is one target reached through a Pool.
type host struct {
	pool *Pool
	s    *settings
	key  poolKey
}

var _ steps.Host = (*host)(nil)

// Name is the target's name, as the playbook knows it.
func (h *host) Name() string { return h.s.target }

// cancelWait bounds how long Exec waits for a cancelled command's session to
// close before it returns anyway.
const cancelWait = 5 * time.Second

// Exec runs cmd.Argv on the host. The remote side always goes through the
// login shell, so the command line is built with every word single-quoted:
//
//	[cd 'DIR' && ]exec [sudo -n -- ][env 'NAME=VALUE'… ]'ARGV0' 'ARGV1'…
//
// Nothing in argv, the environment or the directory is ever interpreted by
// that shell, and `exec` makes argv[0] a program looked up in PATH (not a
// shell builtin or function), as in the local transport. With cmd.Sudo or
// Config.Sudo the command runs through `sudo -n --` (never prompting for a
// password), unless the login is root already. Environment variables go
// through env(1) because OpenSSH refuses SSH "env" requests for most names;
// with Sudo they go after sudo, which resets the environment. The values
// are then visible in the host's process list while the command runs; pass
// secrets on stdin instead.
//
// cmd.Stdin, when set, is the command's standard input (otherwise it is
// empty). Output is captured and, when cmd.Output is set, delivered line by
// line as it comes, one call at a time. A non-zero exit status is reported
// in the result; a command killed by a signal reports 128+signal, and a
// program that is not found 127, as shells do. A Dir that cannot be entered
// fails the command with cd's message and status.
//
// When ctx ends the command's process group is killed and its session
// closed; Exec then returns ctx's error with what was captured. The group
// is sent SIGKILL through the session, which OpenSSH delivers to it (except
// for root logins), and by `kill -s KILL -- -PGID` in a second session: the
// command line starts by printing the shell's pid (the group's, as sshd
// starts each session's command in a new session and exec keeps the pid) on
// stderr, where Exec takes it off again before capturing anything.
func (h *host) Exec(ctx context.Context, cmd steps.Command) (steps.ExecResult, error) {
	line, err := buildCommand(cmd, h.s.sudo, h.s.user == "root")
	if err != nil {
		return steps.ExecResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return steps.ExecResult{}, err
	}
	var mu sync.Mutex
	stdout := lines.New("stdout", cmd.Output, &mu)
	stderr := lines.New("stderr", cmd.Output, &mu)
	status, err := h.run(ctx, line, runOpts{
		sudo:  (cmd.Sudo || h.s.sudo) && h.s.user != "root",
		stdin: cmd.Stdin, stdout: stdout, stderr: stderr,
	})
	stdout.Close()
	stderr.Close()
	res := steps.ExecResult{ExitStatus: status, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if err != nil && ctx.Err() != nil {
		res.ExitStatus = -1
		return res, fmt.Errorf("%s: %w", cmd.Argv[0], ctx.Err())
	}
	return res, err
}

// runOpts are the details of one run.
type runOpts struct {
	// sudo says the line runs its program through sudo, which a kill on
	// cancellation then needs too.
	sudo           bool
	stdin          []byte
	stdout, stderr io.Writer
	// noKill leaves a cancelled command to the session's closing (for
	// the kill command itself).
	noKill bool
}

// run runs one command line in a new session and returns its exit status.
func (h *host) run(ctx context.Context, line string, o runOpts) (int, error) {
	sess, release, err := h.session(ctx)
	if err != nil {
		return -1, err
	}
	defer release()
	defer sess.Close()
	pid := &pidFilter{w: o.stderr, ready: make(chan struct{})}
	sess.Stdout, sess.Stderr = o.stdout, pid
	if o.stdin != nil {
		sess.Stdin = bytes.NewReader(o.stdin)
	}
	// The shell first reports its pid, which is also the process group of
	// the command (sshd starts it in a new session, and exec keeps the
	// pid), so that cancellation can kill the group where the server does
	// not deliver signals. Start waits for the server's reply, so it too
	// runs apart, giving way to ctx.
	done := make(chan error, 1)
	var startErr error
	go func() {
		if err := sess.Start(pidReport + line); err != nil {
			startErr = err
			done <- err
			return
		}
		done <- sess.Wait()
	}()
	select {
	case err = <-done:
		pid.close()
		if startErr != nil {
			return -1, fmt.Errorf("ssh: %s: start command: %w", h.s.target, err)
		}
	case <-ctx.Done():
		h.kill(sess, pid, o, done)
		return -1, ctx.Err()
	}
	var exitErr *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr):
		return exitStatus(exitErr), nil
	case errors.As(err, &missing):
		return -1, fmt.Errorf("ssh: %s: the command ended without an exit status (the connection may have been lost)", h.s.target)
	}
	return -1, fmt.Errorf("ssh: %s: %w", h.s.target, err)
}

// kill ends a cancelled command: SIGKILL through the session (OpenSSH
// delivers it to the command's process group, except for root logins, where
// it does not support signals), then, in a second session, kill -s KILL of
// the process group the command reported, then the session is closed. It
// returns once the session ended, or after cancelWait.
func (h *host) kill(sess *ssh.Session, pid *pidFilter, o runOpts, done <-chan error) {
	defer func() {
		go sess.Close()
		select {
		case <-done:
		case <-time.After(cancelWait):
		}
		pid.close()
	}()
	go sess.Signal(ssh.SIGKILL)
	if o.noKill {
		return
	}
	select {
	case <-pid.ready:
	case <-done:
		return
	case <-time.After(time.Second):
	}
	n := pid.get()
	if n <= 0 {
		return
	}
	argv := []string{"sh", "-c", shscript.Kill, "rokflow-kill", strconv.Itoa(n)}
	line, err := buildCommand(steps.Command{Argv: argv, Sudo: o.sudo}, false, h.s.user == "root")
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cancelWait)
	defer cancel()
	h.run(ctx, line, runOpts{sudo: o.sudo, stdout: io.Discard, stderr: io.Discard, noKill: true})
}

// pidReport prints the shell's pid on stderr, for pidFilter.
const pidReport = shscript.PIDReport

// pidFilter takes the line pidReport printed off the start of stderr and
// passes the rest on. Should something else come first (a login script
// writing to stderr), it passes everything on and the pid stays unknown.
type pidFilter struct {
	mu    sync.Mutex // a session abandoned on cancellation may still write
	w     io.Writer
	buf   []byte
	done  bool
	pid   int // valid once ready is closed
	ready chan struct{}
	once  sync.Once
}

var pidPrefix = []byte("rokflow-pid:")

func (f *pidFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return f.w.Write(p)
	}
	f.buf = append(f.buf, p...)
	line, rest, complete := bytes.Cut(f.buf, []byte("\n"))
	if !complete && len(f.buf) < 64 && (bytes.HasPrefix(pidPrefix, f.buf) || bytes.HasPrefix(f.buf, pidPrefix)) {
		return len(p), nil // maybe the report: wait for the rest of the line
	}
	if digits, ok := bytes.CutPrefix(line, pidPrefix); ok && complete {
		if n, err := strconv.Atoi(string(digits)); err == nil {
			f.pid = n
		}
	} else {
		rest = f.buf
	}
	f.buf = nil
	f.finish()
	if len(rest) > 0 {
		if _, err := f.w.Write(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (f *pidFilter) finish() {
	f.done = true
	f.once.Do(func() { close(f.ready) })
}

// close passes on what was held back, once the session's output is done.
func (f *pidFilter) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	if len(f.buf) > 0 {
		f.w.Write(f.buf)
		f.buf = nil
	}
	f.finish()
}

func (f *pidFilter) get() int {
	select {
	case <-f.ready:
		return f.pid
	default:
		return 0
	}
}

// sessionRetry bounds how long a session refused for want of a free slot is
// retried. OpenSSH frees a session's slot a moment after the session closed,
// so a new session can be refused although fewer than MaxSessions are open.
const sessionRetry = 10 * time.Second

// session opens a session on the host's connection. When the connection
// turns out to be dead (the session cannot even be opened, so nothing ran),
// it is dropped and dialled again.
func (h *host) session(ctx context.Context) (*ssh.Session, func(), error) {
	var lastErr error
	start := time.Now()
	backoff := time.Millisecond
	for lost := 0; lost < 3; {
		c, err := h.pool.conn(ctx, h)
		if err != nil {
			return nil, nil, err
		}
		select {
		case c.sessions <- struct{}{}:
		case <-c.done:
			lost++
			lastErr = c.err
			continue
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		sess, abandoned, err := newSession(ctx, c)
		if err == nil {
			return sess, func() { <-c.sessions }, nil
		}
		if abandoned {
			return nil, nil, err // the slot is freed once the open completes
		}
		<-c.sessions
		var refused *ssh.OpenChannelError
		if !errors.As(err, &refused) {
			c.kill(fmt.Errorf("open session: %w", err))
			lost++
			lastErr = err
			continue
		}
		if refused.Reason != ssh.ConnectionFailed && refused.Reason != ssh.ResourceShortage || time.Since(start) > sessionRetry {
			return nil, nil, fmt.Errorf("ssh: %s: the server refused a session: %w", h.s.target, err)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
	return nil, nil, fmt.Errorf("ssh: %s: connection lost: %w", h.s.target, lastErr)
}

// newSession opens a session, giving up when ctx ends (a connection that
// went silent may not answer for a while). It then reports the attempt
// abandoned: a session opened after all is closed and its slot freed.
func newSession(ctx context.Context, c *conn) (*ssh.Session, bool, error) {
	type opened struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := c.client.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, false, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.s != nil {
				o.s.Close()
			}
			<-c.sessions
		}()
		return nil, true, ctx.Err()
	}
}

// exitStatus is the command's exit status, 128+n for signal n.
func exitStatus(e *ssh.ExitError) int {
	st := e.ExitStatus()
	if sig := e.Signal(); sig != "" && st == 128 {
		// x/crypto knows the common signals; these are the others.
		st += map[string]int{"USR1": 10, "USR2": 12, "BUS": 7, "TRAP": 5, "SYS": 31, "XCPU": 24, "XFSZ": 25}[strings.TrimPrefix(sig, "SIG")]
	}
	return st
}

// buildCommand returns the remote command line for cmd. sudo is Config.Sudo;
// root says the login is root already, and sudo is then left out.
func buildCommand(cmd steps.Command, sudo, root bool) (string, error) {
	if len(cmd.Argv) == 0 || cmd.Argv[0] == "" {
		return "", errors.New("exec: empty command")
	}
	prog := cmd.Argv[0]
	if strings.HasPrefix(prog, "-") || strings.Contains(prog, "=") {
		// exec, sudo and env would read it as an option or an assignment.
		return "", fmt.Errorf("exec: program name %q begins with '-' or contains '='", prog)
	}
	for i, a := range cmd.Argv {
		if strings.IndexByte(a, 0) >= 0 {
			return "", fmt.Errorf("exec: %s: argument %d contains a NUL byte", prog, i)
		}
	}
	if strings.IndexByte(cmd.Dir, 0) >= 0 {
		return "", fmt.Errorf("exec: %s: directory contains a NUL byte", prog)
	}
	names := make([]string, 0, len(cmd.Env))
	for n, v := range cmd.Env {
		if n == "" || strings.ContainsAny(n, "=\x00") || strings.HasPrefix(n, "-") {
			return "", fmt.Errorf("exec: %s: invalid environment variable name %q", prog, n)
		}
		if strings.IndexByte(v, 0) >= 0 {
			// The value is not shown: it may be a secret.
			return "", fmt.Errorf("exec: %s: environment variable %s contains a NUL byte", prog, n)
		}
		names = append(names, n)
	}
	sort.Strings(names)

	var b strings.Builder
	if cmd.Dir != "" {
		b.WriteString("cd ")
		b.WriteString(posixsh.Quote(cmd.Dir))
		b.WriteString(" && ")
	}
	b.WriteString("exec ")
	if (cmd.Sudo || sudo) && !root {
		b.WriteString("sudo -n -- ")
	}
	if len(names) > 0 {
		b.WriteString("env ")
		for _, n := range names {
			b.WriteString(posixsh.Quote(n + "=" + cmd.Env[n]))
			b.WriteByte(' ')
		}
	}
	for i, a := range cmd.Argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(posixsh.Quote(a))
	}
	return b.String(), nil
}
