// Package modsrctest makes local git repositories for tests of git module
// sources: bare repositories in a test's temporary directory, reached by
// file:// URLs, so that no test needs a network.
package modsrctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Env is the environment git runs in for tests: no user or system
// configuration, a fixed author, so that what a test makes does not
// depend on the machine.
func Env() []string {
	env := []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_AUTHOR_NAME=rokflow test", "GIT_AUTHOR_EMAIL=test@rokflow.invalid",
		"GIT_COMMITTER_NAME=rokflow test", "GIT_COMMITTER_EMAIL=test@rokflow.invalid",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return env
}

// Repo is a bare repository and the work tree commits are made in.
type Repo struct {
	t    testing.TB
	Bare string // the bare repository's directory
	work string
}

// NewRepo makes an empty bare repository in a new temporary directory,
// skipping the test when git is not installed.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed; git module sources are tested with local repositories made by git")
	}
	dir := t.TempDir()
	r := &Repo{t: t, Bare: filepath.Join(dir, "lib.git"), work: filepath.Join(dir, "work")}
	r.Git(dir, "init", "--quiet", "--bare", r.Bare)
	if err := os.Mkdir(r.work, 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

// inBare runs git on the bare repository with the work tree beside it:
// commits and tags go straight into the repository, with no push (which
// costs a transport process each).
func (r *Repo) inBare(args ...string) string {
	r.t.Helper()
	return r.Git(r.work, append([]string{"--git-dir=" + r.Bare, "--work-tree=" + r.work}, args...)...)
}

// URL is the repository's file:// URL.
func (r *Repo) URL() string { return "file://" + filepath.ToSlash(r.Bare) }

// Git runs git in dir and returns its trimmed output, failing the test
// when it fails.
func (r *Repo) Git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (path → contents; "" removes the file) into the
// work tree, commits them to the repository's current branch and returns
// the commit's hash.
func (r *Repo) Commit(files map[string]string) string {
	r.t.Helper()
	for name, text := range files {
		p := filepath.Join(r.work, filepath.FromSlash(name))
		if text == "" {
			if err := os.Remove(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.inBare("add", "--all")
	r.inBare("commit", "--quiet", "--allow-empty", "-m", "change")
	return r.inBare("rev-parse", "HEAD")
}

// Tag points the annotated tag name at commit in the repository, moving
// it if it exists.
func (r *Repo) Tag(name, commit string) {
	r.t.Helper()
	r.inBare("tag", "--force", "-a", "-m", name, name, commit)
}

// LightTag points the lightweight tag name at commit.
func (r *Repo) LightTag(name, commit string) {
	r.t.Helper()
	r.inBare("tag", "--force", name, commit)
}

// Branch points the branch name at commit.
func (r *Repo) Branch(name, commit string) {
	r.t.Helper()
	r.inBare("branch", "--force", name, commit)
}
