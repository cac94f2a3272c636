package modsrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// git runs the git program, always as an argument vector (never through
// a shell), without a terminal to prompt on.
type git struct {
	path string   // the executable
	env  []string // the environment it runs in
}

func newGit(program string, env []string) (*git, error) {
	if program == "" {
		program = "git"
	}
	p, err := exec.LookPath(program)
	if err != nil {
		return nil, &Error{Summary: "git not found", Detail: fmt.Sprintf("rokflow modules get runs git to fetch module sources, and found no %s on PATH. Install git.", program)}
	}
	// GIT_TERMINAL_PROMPT=0: a missing credential is an error, not a
	// prompt that would hang a run with no one at the terminal.
	env = append(append([]string(nil), env...), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	return &git{path: p, env: env}, nil
}

// run runs git with args in dir and returns its standard output.
func (g *git) run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, g.path, args...)
	cmd.Dir = dir
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limited{buf: &stderr, max: 8 << 10}
	// A transport helper (ssh, git-remote-https) may outlive a killed
	// git holding the pipes open; do not wait for it for long.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &gitError{args: args, stderr: redact(strings.TrimSpace(stderr.String())), err: err}
	}
	return stdout.String(), nil
}

// gitError is a git command that failed: what it printed, credentials
// removed.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := e.stderr
	if msg == "" {
		msg = e.err.Error()
	}
	// Git says why on its "fatal:" and "error:" lines; the rest may be
	// progress or hints.
	var why []string
	lines := strings.Split(msg, "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "fatal: ") || strings.HasPrefix(l, "error: ") {
			why = append(why, strings.TrimSuffix(l[len("fatal: "):], "."))
		}
	}
	if len(why) == 0 {
		why = lines[max(0, len(lines)-3):]
	}
	if len(why) > 3 {
		why = why[:3]
	}
	return fmt.Sprintf("git %s: %s", e.args[0], strings.Join(why, "; "))
}

type limited struct {
	buf *bytes.Buffer
	max int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@`)

// redact removes the user and password from every URL in s: git may name
// a URL its configuration rewrote (url.*.insteadOf) with credentials.
func redact(s string) string { return userinfo.ReplaceAllString(s, "${1}…@") }

// remoteRef is what ls-remote says of a name.
type remoteRef struct {
	tag    string // the commit a tag of that name points to (peeled)
	branch bool   // a branch of that name exists
}

// lsRemote asks the repository what the name ref is, without fetching.
func (g *git) lsRemote(ctx context.Context, dir, repo, ref string) (remoteRef, error) {
	tag, peeled, head := "refs/tags/"+ref, "refs/tags/"+ref+"^{}", "refs/heads/"+ref
	out, err := g.run(ctx, dir, "ls-remote", "--", repo, tag, peeled, head)
	if err != nil {
		return remoteRef{}, err
	}
	var r remoteRef
	direct := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		hash, name, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		switch name {
		case tag:
			direct = hash
		case peeled:
			r.tag = hash
		case head:
			r.branch = true
		}
	}
	if r.tag == "" {
		r.tag = direct // a lightweight tag points at its commit
	}
	return r, nil
}
