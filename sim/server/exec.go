package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/rokflow/rokflow/sim"

	"github.com/rokflow/rokflow/sim/server/sshd"
	"github.com/rokflow/rokflow/sim/shellwords"
)

// errPoweredOff is returned when a command reaches a node that is off;
// the SSH server then drops the session without an exit status.
var errPoweredOff = errors.New("the node is powered off")

// cmd is one command running on a node: its arguments after the sudo and
// env prefixes, its environment and streams. Builtins run with the
// server's lock held and set dirty when they change the state.
type cmd struct {
	s      *Server
	ctx    context.Context
	pid    int
	st     *state
	n      *node
	name   string // the program as invoked (argv[0] without a path)
	args   []string
	env    map[string]string
	cwd    string
	stdin  []byte
	stdout bytes.Buffer
	stderr bytes.Buffer
	dirty  bool
}

// builtin is a program the simulated nodes have.
type builtin struct {
	run func(c *cmd) int
	// readsStdin says whether the command reads standard input.
	readsStdin func(args []string) bool
}

// maxStdin bounds what a command may read from standard input.
const maxStdin = 64 << 20

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// errKilled is returned for a command killed by a signal or by kill(1)
// from another session; the SSH server reports exit-signal KILL.
var errKilled = sshd.ErrKilled

// Exec runs a command line on a node as its SSH server would and returns
// the exit status; stdin may be nil. It is how tests and the SSH server
// reach the nodes.
func (s *Server) Exec(nodeName, line string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return s.exec(context.Background(), nodeName, line, nil, stdin, stdout, stderr)
}

// exec is Exec with a context that kills the command and the environment
// an SSH session set. The command line may be, exactly:
//
//	[printf 'rokflow-pid:%s\n' "$$" >&2; ][cd 'DIR' && ][exec ][sudo -n -- ][env 'K=V'... ]'PROG' 'ARG'...
//
// with any POSIX quoting of the words; anything else a shell would do
// (other operators, expansions, redirections) is refused with status 127.
func (s *Server) exec(ctx context.Context, nodeName, line string, sessEnv map[string]string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pid := s.newPID(cancel)
	defer s.forgetPID(pid)
	line, report := strings.CutPrefix(line, pidReport)
	if report {
		fmt.Fprintf(stderr, "rokflow-pid:%d\n", pid)
	}
	cmds, err := shellwords.SplitList(line)
	if err != nil {
		fmt.Fprintf(stderr, "sh: 1: %s\n", err)
		return 127, nil
	}
	if len(cmds) == 0 {
		fmt.Fprintln(stderr, "rok-sim: an interactive shell is not available; run a command")
		return 127, nil
	}
	cwd := "/root"
	if len(cmds) > 2 || len(cmds) == 2 && (len(cmds[0]) != 2 || cmds[0][0].Quoted || cmds[0][0].Text != "cd") {
		fmt.Fprintln(stderr, "sh: 1: rok-sim: refusing shell syntax: only `cd DIR && COMMAND` may join two commands; quote every argument")
		return 127, nil
	}
	words := cmds[len(cmds)-1]
	if len(cmds) == 2 {
		cwd = cleanPath(cwd, cmds[0][1].Text)
		if !s.isDir(nodeName, cwd) {
			fmt.Fprintf(stderr, "sh: 1: cd: can't cd to %s\n", cmds[0][1].Text)
			return 2, nil
		}
	}
	viaExec := false
	if len(words) > 0 && !words[0].Quoted && words[0].Text == "exec" {
		words, viaExec = words[1:], true
	}
	argv := shellwords.Texts(words)
	env := map[string]string{}
	for k, v := range sessEnv {
		env[k] = v
	}
	// Assignments before the command name, written unquoted.
	for len(words) > 0 && !words[0].Quoted && isAssignment(words[0].Text) {
		k, v, _ := strings.Cut(words[0].Text, "=")
		env[k] = v
		words, argv = words[1:], argv[1:]
	}
	for len(argv) > 0 {
		var code int
		var msg string
		switch {
		case argv[0] == "sudo" || argv[0] == "/usr/bin/sudo":
			argv, code, msg = stripSudo(argv)
		case (argv[0] == "env" || argv[0] == "/usr/bin/env") && !envOnly(argv):
			argv, cwd, code, msg = stripEnv(argv, env, cwd)
		default:
			code = -1
		}
		if msg != "" {
			fmt.Fprintln(stderr, msg)
			return code, nil
		}
		if code == -1 {
			break
		}
	}
	if len(argv) == 0 {
		return 0, nil
	}
	name, b, ok := s.lookup(argv[0])
	if !ok {
		if viaExec {
			fmt.Fprintf(stderr, "sh: 1: exec: %s: not found\n", argv[0])
		} else {
			fmt.Fprintf(stderr, "sh: 1: %s: not found\n", argv[0])
		}
		return 127, nil
	}
	s.mu.Lock()
	n := s.st.node(nodeName)
	var delay sim.Duration
	// The transport's kill of a cancelled command is not delayed: it is
	// how a slow command is stopped.
	if n != nil && !(name == "sh" && len(argv) > 2 && argv[2] == tsKillScript) {
		delay = s.st.Spec.Faults.Slow[n.Name]
	}
	s.mu.Unlock()
	if n == nil {
		return 0, fmt.Errorf("no node %s", nodeName)
	}
	s.track(pid, nodeName, argv)
	if err := s.wait(ctx, delay.D()); err != nil {
		return 128 + 9, err
	}
	c := &cmd{s: s, ctx: ctx, pid: pid, name: name, args: argv[1:], env: env, cwd: cwd}
	if stdin != nil && b.readsStdin != nil && b.readsStdin(c.args) {
		data, err := io.ReadAll(io.LimitReader(stdin, maxStdin))
		if err != nil {
			return 0, err
		}
		c.stdin = data
	}
	s.mu.Lock()
	c.st = s.st
	c.n = s.st.node(nodeName)
	if !c.n.On {
		s.mu.Unlock()
		return 0, errPoweredOff
	}
	code := b.run(c)
	if c.dirty {
		s.flushEvents()
		err = s.saveLocked()
	}
	s.mu.Unlock()
	_, _ = stdout.Write(c.stdout.Bytes())
	_, _ = stderr.Write(c.stderr.Bytes())
	return code, err
}

// wait sleeps for d unless ctx ends (errKilled) or the server stops.
func (s *Server) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errKilled
	case <-s.stopping:
		return errPoweredOff
	}
}

// isDir reports whether a node path is a directory.
func (s *Server) isDir(nodeName, p string) bool {
	fi, err := os.Stat(filepath.Join(nodeRoot(s.dir, nodeName), filepath.FromSlash(p)))
	return err == nil && fi.IsDir()
}

// newPID gives a command a process id, by which kill(1) in another session
// can end it.
func (s *Server) newPID(cancel context.CancelCauseFunc) int {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	if s.pids == nil {
		s.pids = map[int]context.CancelCauseFunc{}
		s.nextPID = 4000
	}
	s.nextPID++
	s.pids[s.nextPID] = cancel
	return s.nextPID
}

func (s *Server) forgetPID(pid int) {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	delete(s.pids, pid)
	delete(s.inFlight, pid)
}

// killPID ends the command with a process id; false when there is none.
func (s *Server) killPID(pid int) bool {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	cancel, ok := s.pids[pid]
	if ok {
		cancel(errKilled)
	}
	return ok
}

func isAssignment(w string) bool {
	k, _, ok := strings.Cut(w, "=")
	return ok && envName.MatchString(k)
}

// envOnly reports whether argv is `env` with assignments and no command:
// it prints the environment.
func envOnly(argv []string) bool {
	for _, a := range argv[1:] {
		if !isAssignment(a) && a != "-i" && a != "--" {
			return false
		}
	}
	return true
}

// stripSudo removes `sudo [-n] [-E] [-H] [-u root] [--]`; everyone is root
// on a simulated node.
func stripSudo(argv []string) ([]string, int, string) {
	i := 1
	for ; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			return argv[i+1:], 0, ""
		case a == "-n" || a == "-E" || a == "-H" || a == "-S" || a == "--non-interactive" || a == "--preserve-env":
		case a == "-u" && i+1 < len(argv):
			if u := argv[i+1]; u != "root" && u != "#0" {
				return nil, 1, fmt.Sprintf("sudo: unknown user %s\nsudo: error initializing audit plugin sudoers_audit", u)
			}
			i++
		case strings.HasPrefix(a, "-"):
			return nil, 1, fmt.Sprintf("sudo: invalid option -- '%s'\nusage: sudo -h | -K | -k | -V", strings.TrimLeft(a, "-"))
		default:
			return argv[i:], 0, ""
		}
	}
	return nil, 1, "usage: sudo -h | -K | -k | -V\nusage: sudo [-n] [--] command"
}

// stripEnv removes `env [-i] [-u NAME] [-C DIR] [--] NAME=VALUE...`,
// recording the assignments.
func stripEnv(argv []string, env map[string]string, cwd string) ([]string, string, int, string) {
	i := 1
	for ; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			i++
			goto assignments
		case a == "-i" || a == "--ignore-environment":
			clear(env)
		case a == "-u" && i+1 < len(argv):
			delete(env, argv[i+1])
			i++
		case strings.HasPrefix(a, "--unset="):
			delete(env, strings.TrimPrefix(a, "--unset="))
		case a == "-C" && i+1 < len(argv):
			cwd = cleanPath("/", argv[i+1])
			i++
		case strings.HasPrefix(a, "--chdir="):
			cwd = cleanPath("/", strings.TrimPrefix(a, "--chdir="))
		case strings.HasPrefix(a, "-") && a != "-":
			return nil, cwd, 125, fmt.Sprintf("env: invalid option -- '%s'\nTry 'env --help' for more information.", strings.TrimLeft(a, "-"))
		default:
			goto assignments
		}
	}
assignments:
	for ; i < len(argv) && isAssignment(argv[i]); i++ {
		k, v, _ := strings.Cut(argv[i], "=")
		env[k] = v
	}
	return argv[i:], cwd, 0, ""
}

// binDirs are where the simulated programs live.
var binDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/local/sbin"}

// lookup finds the builtin for a program name or path.
func (s *Server) lookup(prog string) (string, builtin, bool) {
	name := prog
	if strings.Contains(prog, "/") {
		dir, base := path.Split(prog)
		if !containsDir(binDirs, path.Clean(dir)) {
			return "", builtin{}, false
		}
		name = base
	}
	if b, ok := builtins[name]; ok {
		return name, b, true
	}
	if strings.HasPrefix(name, upgradeScriptPrefix) {
		return name, builtin{run: (*cmd).upgradeScript}, true
	}
	return "", builtin{}, false
}

func containsDir(dirs []string, d string) bool {
	for _, x := range dirs {
		if x == d {
			return true
		}
	}
	return false
}

// builtins are the programs of the simulated nodes; filled in init-free
// by the files that define them (see builtinTable).
var builtins = builtinTable()

func builtinTable() map[string]builtin {
	t := map[string]builtin{}
	for name, b := range fileBuiltins() {
		t[name] = b
	}
	for name, b := range systemBuiltins() {
		t[name] = b
	}
	for name, b := range rokBuiltins() {
		t[name] = b
	}
	return t
}

// cleanPath resolves p against cwd into a clean absolute path.
func cleanPath(cwd, p string) string {
	if !path.IsAbs(p) {
		p = path.Join(cwd, p)
	}
	return path.Clean(p)
}

// real returns where a node path lives on disk. Paths are cleaned
// absolute paths, so they cannot leave the node's root.
func (c *cmd) real(p string) string {
	return filepath.Join(nodeRoot(c.s.dir, c.n.Name), filepath.FromSlash(cleanPath(c.cwd, p)))
}

// vpath is p as the node sees it (clean and absolute).
func (c *cmd) vpath(p string) string { return cleanPath(c.cwd, p) }

func (c *cmd) errf(format string, args ...any) {
	fmt.Fprintf(&c.stderr, format, args...)
	if !strings.HasSuffix(format, "\n") {
		c.stderr.WriteByte('\n')
	}
}

func (c *cmd) outf(format string, args ...any) { fmt.Fprintf(&c.stdout, format, args...) }

// usage prints a program's usage error and returns 2 (or code).
func (c *cmd) usage(msg string) int {
	c.errf("%s: %s", c.name, msg)
	return 2
}
