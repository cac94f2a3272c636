package modsrc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang/modsrc"
	"github.com/rokflow/rokflow/lang/modsrc/modsrctest"
)

// fixture is a repository with a module at lib/a, tagged v1, and a
// playbook directory to fetch it into.
type fixture struct {
	repo   *modsrctest.Repo
	first  string // the commit v1 points to
	dir    string // the playbook's directory
	src    modsrc.Source
	global []string
}

func newFixture(t *testing.T) *fixture {
	repo := modsrctest.NewRepo(t)
	first := repo.Commit(map[string]string{"lib/a/main.hcl": "step \"a\" {\n  uses = \"exec\"\n}\n", "README.md": "lib\n"})
	repo.Tag("v1", first)
	src, err := modsrc.Parse("git::" + repo.URL() + "//lib/a?ref=v1")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{repo: repo, first: first, dir: t.TempDir(), src: src}
}

func (f *fixture) installer(upgrade bool) *modsrc.Installer {
	return &modsrc.Installer{Ctx: context.Background(), Dir: f.dir, Arg: "pb", Upgrade: upgrade, Env: modsrctest.Env()}
}

// get resolves srcs as modules get would and writes the lock.
func (f *fixture) get(t *testing.T, upgrade bool, srcs ...modsrc.Source) ([]*modsrc.Fetched, error) {
	t.Helper()
	in := f.installer(upgrade)
	if len(srcs) == 0 {
		srcs = []modsrc.Source{f.src}
	}
	for _, s := range srcs {
		if _, err := in.Resolve(s); err != nil {
			return nil, err
		}
	}
	if _, err := in.WriteLock(true); err != nil {
		t.Fatal(err)
	}
	return in.Fetched(), nil
}

func (f *fixture) mustGet(t *testing.T, upgrade bool, want modsrc.Action) *modsrc.Fetched {
	t.Helper()
	got, err := f.get(t, upgrade)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if len(got) != 1 || got[0].Action != want {
		t.Fatalf("get did %+v, want %q", got, want)
	}
	return got[0]
}

// check resolves the source from the cache, as validate does.
func (f *fixture) check(src modsrc.Source) (string, error) {
	return modsrc.NewCache(f.dir, "pb").Resolve(src)
}

func wantError(t *testing.T, err error, summary, detail string) {
	t.Helper()
	var e *modsrc.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want %q", err, summary)
	}
	if e.Summary != summary || !strings.Contains(e.Detail, detail) {
		t.Fatalf("error = %q: %q\nwant %q containing %q", e.Summary, e.Detail, summary, detail)
	}
}

func TestGetThenCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	got := f.mustGet(t, false, modsrc.Added)
	if got.Commit != f.first || !strings.HasPrefix(got.Hash, "h1:") {
		t.Errorf("fetched %+v, want commit %s", got, f.first)
	}
	root, err := f.check(f.src)
	if err != nil {
		t.Fatalf("the cache refuses what was just fetched: %v", err)
	}
	if root != filepath.Join(f.dir, ".rokflow", "modules", modsrc.CheckoutName(f.src)) {
		t.Errorf("checkout at %s", root)
	}
	if _, err := os.Stat(filepath.Join(root, "lib", "a", "main.hcl")); err != nil {
		t.Error(err)
	}
	if info, err := os.Stat(filepath.Join(f.dir, ".rokflow")); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf(".rokflow made with %v, %v; want 0700 as the journal makes it", info.Mode(), err)
	}
	lock, err := modsrc.ReadLock(filepath.Join(f.dir, modsrc.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	e := lock.Entry(f.src.Package())
	if e == nil || e.Commit != f.first || e.Hash != got.Hash {
		t.Errorf("lock entry %+v, want %s %s", e, f.first, got.Hash)
	}

	// Again: nothing to fetch, and git is not even run.
	in := f.installer(false)
	in.Git = "rokflow-test-no-such-git"
	if _, err := in.Resolve(f.src); err != nil {
		t.Fatalf("a second get ran git: %v", err)
	}
	if fs := in.Fetched(); fs[0].Action != modsrc.UpToDate {
		t.Errorf("second get: %q", fs[0].Action)
	}
}

func TestGetTagKinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.repo.LightTag("light", f.first)
	second := f.repo.Commit(map[string]string{"lib/a/main.hcl": "# second\n"})
	byCommit, _ := modsrc.Parse("git::" + f.repo.URL() + "//lib/a?ref=" + second)
	light, _ := modsrc.Parse("git::" + f.repo.URL() + "?ref=light")
	got, err := f.get(t, false, f.src, byCommit, light)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Commit != f.first || got[1].Commit != second || got[2].Commit != f.first {
		t.Fatalf("fetched %+v", got)
	}
	for _, s := range []modsrc.Source{f.src, byCommit, light} {
		if _, err := f.check(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	// Two directories of one repository and ref share one checkout and
	// one lock entry.
	other, _ := modsrc.Parse("git::" + f.repo.URL() + "//elsewhere?ref=v1")
	if _, err := f.check(other); err != nil {
		t.Errorf("another directory of a fetched package: %v", err)
	}
}

// TestGetCommitFromOldServer fetches a commit by its hash from a server
// that will not send one it does not advertise (protocol v0).
func TestGetCommitFromOldServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hidden := f.repo.Commit(map[string]string{"x.hcl": "# x\n"})
	f.repo.Commit(map[string]string{"y.hcl": "# y\n"})
	src, _ := modsrc.Parse("git::" + f.repo.URL() + "?ref=" + hidden)
	in := f.installer(false)
	in.Env = append(modsrctest.Env(), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=protocol.version", "GIT_CONFIG_VALUE_0=0")
	if _, err := in.Resolve(src); err != nil {
		t.Fatal(err)
	}
	if got := in.Fetched()[0].Commit; got != hidden {
		t.Errorf("checked out %s, want %s", got, hidden)
	}
}

func TestGetRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.repo.Branch("develop", f.first)
	parse := func(raw string) modsrc.Source {
		s, err := modsrc.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := map[string]struct {
		src             modsrc.Source
		summary, detail string
	}{
		"branch":         {parse("git::" + f.repo.URL() + "?ref=develop"), "Unpinned git module source", "is a branch"},
		"no such tag":    {parse("git::" + f.repo.URL() + "?ref=v9"), "Git ref not found", `no tag "v9"`},
		"no such commit": {parse("git::" + f.repo.URL() + "?ref=" + strings.Repeat("1", 40)), "Git ref not found", "has no commit 1111"},
		"no repository":  {parse("git::file://" + filepath.ToSlash(t.TempDir()) + "/none.git?ref=v1"), "Cannot fetch git module", "does not appear to be a git repository"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.get(t, false, tt.src)
			wantError(t, err, tt.summary, tt.detail)
		})
	}
	if entries, _ := os.ReadDir(filepath.Join(f.dir, ".rokflow", "modules")); len(entries) != 0 {
		t.Errorf("failed fetches left %v in the cache", entries)
	}
}

func TestTampered(t *testing.T) {
	t.Parallel()
	t.Run("file edited", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.mustGet(t, false, modsrc.Added)
		root, _ := f.check(f.src)
		p := filepath.Join(root, "lib", "a", "main.hcl")
		if err := os.WriteFile(p, []byte("# edited\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := f.check(f.src)
		wantError(t, err, "Git module changed since it was fetched", `Run "rokflow modules get pb" to restore it`)
		f.mustGet(t, false, modsrc.Restored)
		if _, err := f.check(f.src); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), "edited") {
			t.Error("modules get kept the edit")
		}
	})
	t.Run("file added", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.mustGet(t, false, modsrc.Added)
		root, _ := f.check(f.src)
		os.WriteFile(filepath.Join(root, "lib", "a", "extra.hcl"), []byte("\n"), 0o644)
		_, err := f.check(f.src)
		wantError(t, err, "Git module changed since it was fetched", "not those of")
	})
	t.Run("checkout removed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.mustGet(t, false, modsrc.Added)
		root, _ := f.check(f.src)
		os.RemoveAll(root)
		_, err := f.check(f.src)
		wantError(t, err, "Git module not fetched", "validate, plan and apply never fetch")
		f.mustGet(t, false, modsrc.Added)
	})
	t.Run("checkout at another commit", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.mustGet(t, false, modsrc.Added)
		root, _ := f.check(f.src)
		os.WriteFile(filepath.Join(root, ".git", "HEAD"), []byte(strings.Repeat("2", 40)+"\n"), 0o644)
		_, err := f.check(f.src)
		wantError(t, err, "Git module at another commit", "is at commit 222222222222, but rokflow.lock.hcl pins "+f.first[:12])
		f.mustGet(t, false, modsrc.Restored)
	})
	t.Run("lock entry removed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.mustGet(t, false, modsrc.Added)
		if _, err := modsrc.WriteLock(filepath.Join(f.dir, modsrc.LockFile), &modsrc.Lock{}); err != nil {
			t.Fatal(err)
		}
		_, err := f.check(f.src)
		wantError(t, err, "Git module not locked", "rokflow.lock.hcl has no entry for it")
		os.Remove(filepath.Join(f.dir, modsrc.LockFile))
		_, err = f.check(f.src)
		wantError(t, err, "Git module not locked", "there is no rokflow.lock.hcl")
	})
	t.Run("lock hash edited", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		got := f.mustGet(t, false, modsrc.Added)
		l := &modsrc.Lock{}
		l.Set(&modsrc.LockEntry{Package: f.src.Package(), Commit: got.Commit, Hash: "h1:AAAA"})
		modsrc.WriteLock(filepath.Join(f.dir, modsrc.LockFile), l)
		_, err := f.check(f.src)
		wantError(t, err, "Git module changed since it was fetched", "rokflow.lock.hcl records h1:AAAA")
		// modules get finds the commit's files differ from the lock, and
		// says so rather than take either.
		_, err = f.get(t, false)
		wantError(t, err, "Git module hash mismatch", "records h1:AAAA")
	})
	t.Run("lock unreadable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		os.WriteFile(filepath.Join(f.dir, modsrc.LockFile), []byte("source {"), 0o644)
		_, err := f.check(f.src)
		wantError(t, err, "Cannot read rokflow.lock.hcl", "remove it and run \"rokflow modules get pb\"")
	})
}

func TestTagMoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustGet(t, false, modsrc.Added)
	second := f.repo.Commit(map[string]string{"lib/a/main.hcl": "# moved\n"})
	f.repo.Tag("v1", second)

	// The cache does not ask the repository: it is what the lock pins.
	if _, err := f.check(f.src); err != nil {
		t.Fatalf("validate after the tag moved: %v", err)
	}
	// modules get takes nothing new while the checkout is intact...
	f.mustGet(t, false, modsrc.UpToDate)
	// ...and refuses the moved tag once it has to fetch.
	root, _ := f.check(f.src)
	os.RemoveAll(root)
	_, err := f.get(t, false)
	wantError(t, err, "Git tag moved", `now points to commit `+second[:12]+`, but rokflow.lock.hcl pins `+f.first[:12])
	if !strings.Contains(err.Error(), `"rokflow modules get --upgrade pb"`) {
		t.Errorf("no --upgrade advice: %v", err)
	}
	// --upgrade takes it, and says from where.
	got := f.mustGet(t, true, modsrc.Upgraded)
	if got.Commit != second || got.Was != f.first {
		t.Errorf("upgrade: %+v", got)
	}
	if _, err := f.check(f.src); err != nil {
		t.Fatal(err)
	}
	// --upgrade asks again, and finds nothing new.
	f.mustGet(t, true, modsrc.UpToDate)
}

func TestUpgradeReplacesIntactCheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustGet(t, false, modsrc.Added)
	second := f.repo.Commit(map[string]string{"lib/a/main.hcl": "# moved\n"})
	f.repo.Tag("v1", second)
	got := f.mustGet(t, true, modsrc.Upgraded)
	root, _ := f.check(f.src)
	if b, _ := os.ReadFile(filepath.Join(root, "lib", "a", "main.hcl")); string(b) != "# moved\n" || got.Commit != second {
		t.Errorf("checkout holds %q at %s after the upgrade", b, got.Commit)
	}
}

func TestWriteLockPrunes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	second := f.repo.Commit(map[string]string{"lib/a/main.hcl": "# second\n"})
	f.repo.Tag("v2", second)
	v2, _ := modsrc.Parse("git::" + f.repo.URL() + "//lib/a?ref=v2")
	if _, err := f.get(t, false, f.src, v2); err != nil {
		t.Fatal(err)
	}
	// A one-file playbook keeps its neighbours' entries...
	in := f.installer(false)
	in.Resolve(v2)
	if _, err := in.WriteLock(false); err != nil {
		t.Fatal(err)
	}
	if l, _ := modsrc.ReadLock(filepath.Join(f.dir, modsrc.LockFile)); len(l.Entries()) != 2 {
		t.Errorf("lock without pruning holds %d entries, want 2", len(l.Entries()))
	}
	// ...a directory drops what it no longer names, checkouts too.
	if _, err := f.get(t, false, v2); err != nil {
		t.Fatal(err)
	}
	if l, _ := modsrc.ReadLock(filepath.Join(f.dir, modsrc.LockFile)); len(l.Entries()) != 1 || l.Entry(v2.Package()) == nil {
		t.Errorf("pruned lock holds %+v", l.Entries())
	}
	entries, _ := os.ReadDir(filepath.Join(f.dir, ".rokflow", "modules"))
	if len(entries) != 1 || entries[0].Name() != modsrc.CheckoutName(v2) {
		t.Errorf("cache holds %v after pruning", entries)
	}
}

// TestGitMessagesLoseCredentials: a URL git's own configuration rewrote
// to one with credentials (url.*.insteadOf) is not repeated with them.
func TestGitMessagesLoseCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := f.installer(false)
	in.Env = append(modsrctest.Env(), "GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=url.https://alice:s3cr3t@127.0.0.1:1/lib.git.insteadOf", "GIT_CONFIG_VALUE_0="+f.repo.URL())
	_, err := in.Resolve(f.src)
	if err == nil {
		t.Fatal("fetching from a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "alice") {
		t.Errorf("error repeats the credentials: %v", err)
	}
	wantError(t, err, "Cannot fetch git module", "127.0.0.1")
}
