package modsrc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Installer resolves git sources by fetching them into the cache: the
// Resolver "rokflow modules get" loads a playbook with. Each package is
// fetched once however many module calls use it; the lock is written
// afterwards by WriteLock, once the whole playbook loaded.
type Installer struct {
	// Ctx bounds every git command; cancelling it kills them.
	Ctx context.Context
	// Dir is the playbook's directory (PlaybookDir), absolute.
	Dir string
	// Arg is the playbook as the user named it, for the commands errors
	// suggest.
	Arg string
	// Upgrade asks every tag again and accepts one that moved.
	Upgrade bool
	// Git is the git program ("git" when empty) and Env the environment
	// it runs in.
	Git string
	Env []string

	git    *git
	old    *Lock
	oldErr error
	read   bool
	done   map[string]*Fetched
	order  []*Fetched
}

// Fetched says what modules get did for one package.
type Fetched struct {
	Source Source // the first source that named the package
	Commit string
	Hash   string
	// Dir is the checkout, relative to the playbook's directory.
	Dir    string
	Action Action
	// Was is the commit the lock pinned before, for Upgraded.
	Was string
	err error
}

// Action is what modules get did for a package.
type Action string

// The actions, as the command prints them.
const (
	UpToDate Action = "up to date"
	Added    Action = "fetched"
	Restored Action = "restored"
	Upgraded Action = "upgraded"
)

// Resolve implements Resolver.
func (in *Installer) Resolve(src Source) (string, error) {
	pkg := src.Package()
	root := filepath.Join(in.Dir, filepath.FromSlash(CacheDir), CheckoutName(src))
	if f, ok := in.done[pkg]; ok {
		return root, f.err
	}
	if in.done == nil {
		in.done = map[string]*Fetched{}
	}
	f := &Fetched{Source: src, Dir: path.Join(CacheDir, CheckoutName(src))}
	f.err = in.install(src, root, f)
	in.done[pkg] = f
	if f.err == nil {
		in.order = append(in.order, f)
	}
	return root, f.err
}

// Fetched lists the packages resolved, in the order the playbook named
// them.
func (in *Installer) Fetched() []*Fetched { return in.order }

func (in *Installer) lock() (*Lock, error) {
	if !in.read {
		in.old, in.oldErr = ReadLock(filepath.Join(in.Dir, LockFile))
		in.read = true
	}
	return in.old, in.oldErr
}

func (in *Installer) install(src Source, root string, f *Fetched) error {
	hint := GetCommand(in.Arg, false)
	old, err := in.lock()
	if err != nil {
		return lockError(err, hint)
	}
	pkg := src.Package()
	locked := old.Entry(pkg)
	if locked != nil && !in.Upgrade && in.intact(root, locked) {
		f.Commit, f.Hash, f.Action = locked.Commit, locked.Hash, UpToDate
		return nil
	}
	if in.git == nil {
		if in.git, err = newGit(in.Git, in.Env); err != nil {
			return err
		}
	}
	cache := filepath.Join(in.Dir, filepath.FromSlash(CacheDir))
	// The state directory is made as the journal makes it, readable by
	// its owner only; the cache in it holds nothing secret.
	if err := os.MkdirAll(filepath.Dir(cache), 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	commit, err := in.resolveRef(src, cache, locked)
	if err != nil {
		return err
	}
	if locked != nil && locked.Commit == commit && in.intact(root, locked) {
		f.Commit, f.Hash, f.Action = commit, locked.Hash, UpToDate // asked again with --upgrade
		return nil
	}
	tmp, err := os.MkdirTemp(cache, ".fetch-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := in.checkout(src, commit, tmp); err != nil {
		return err
	}
	sum, err := HashTree(tmp)
	if err != nil {
		return &Error{Summary: "Cannot use git module", Detail: fmt.Sprintf("%s at commit %s: %s.", pkg, short(commit), err)}
	}
	if locked != nil && locked.Commit == commit && locked.Hash != sum {
		// The same commit with other files: the lock was edited, or git
		// checks out differently here (a filter, line-ending rewriting).
		return &Error{
			Summary: "Git module hash mismatch",
			Detail: fmt.Sprintf("Commit %s of %s checks out as files with hash %s, but %s records %s. "+
				"Find out why before trusting either; to record the hash found here, remove the entry from %s and run %q.",
				short(commit), pkg, sum, LockFile, locked.Hash, LockFile, hint),
		}
	}
	_, statErr := os.Lstat(root)
	if err := replaceDir(tmp, root); err != nil {
		return err
	}
	f.Commit, f.Hash = commit, sum
	switch {
	case locked == nil:
		f.Action = Added
	case locked.Commit != commit:
		f.Action, f.Was = Upgraded, locked.Commit
	case statErr != nil:
		f.Action = Added
	default:
		f.Action = Restored // the checkout was there, but changed or elsewhere
	}
	return nil
}

// intact reports whether the checkout is at the locked commit with the
// locked files.
func (in *Installer) intact(root string, e *LockEntry) bool {
	head, err := checkoutHead(root)
	if err != nil || head != e.Commit {
		return false
	}
	sum, err := HashTree(root)
	return err == nil && sum == e.Hash
}

// resolveRef finds the commit src's ref names: the ref itself for a
// commit hash, else the commit of the tag, which must not have moved from
// the locked one unless Upgrade says to take it.
func (in *Installer) resolveRef(src Source, dir string, locked *LockEntry) (string, error) {
	if src.IsCommit() {
		return src.Ref, nil
	}
	r, err := in.git.lsRemote(in.Ctx, dir, src.Repo, src.Ref)
	if err != nil {
		return "", fetchError(src, err)
	}
	switch {
	case r.tag == "" && r.branch:
		return "", &Error{
			Summary: "Unpinned git module source",
			Detail: fmt.Sprintf("%q is a branch of %s, and a branch moves with every commit. "+
				"Pin a tag (git tag) or the commit's full hash in ?ref=.", src.Ref, src.Repo),
		}
	case r.tag == "":
		return "", &Error{Summary: "Git ref not found", Detail: fmt.Sprintf("%s has no tag %q. Check the ?ref= of the source (git ls-remote --tags %s).", src.Repo, src.Ref, src.Repo)}
	case !isFullHash(r.tag):
		return "", &Error{Summary: "Git ref not found", Detail: fmt.Sprintf("%s answered %q for the tag %q, which is not a commit hash.", src.Repo, r.tag, src.Ref)}
	}
	if locked != nil && locked.Commit != r.tag && !in.Upgrade {
		return "", &Error{
			Summary: "Git tag moved",
			Detail: fmt.Sprintf("The tag %s of %s now points to commit %s, but %s pins %s. "+
				"A tag that moves may be a re-cut release or a tampered repository: compare the two commits, then run %q to take the new one, or pin the old commit's full hash in ?ref=.",
				src.Ref, src.Repo, short(r.tag), LockFile, short(locked.Commit), GetCommand(in.Arg, true)),
		}
	}
	return r.tag, nil
}

// checkout fetches commit (with the tag src names, when it names one)
// into a new repository at dir and checks it out, detached.
func (in *Installer) checkout(src Source, commit, dir string) error {
	ctx, g := in.Ctx, in.git
	if _, err := g.run(ctx, dir, "init", "--quiet"); err != nil {
		return err
	}
	want := commit
	if !src.IsCommit() {
		want = "refs/tags/" + src.Ref
	}
	if _, err := g.run(ctx, dir, "fetch", "--quiet", "--no-tags", "--depth=1", "--", src.Repo, want); err != nil {
		if !src.IsCommit() {
			return fetchError(src, err)
		}
		// A server that refuses to send a commit by its hash (protocol v0
		// without uploadpack.allowReachableSHA1InWant): fetch everything
		// and look for it.
		if _, err2 := g.run(ctx, dir, "fetch", "--quiet", "--no-tags", "--", src.Repo, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"); err2 != nil {
			return fetchError(src, err)
		}
	}
	// The tag may have moved since ls-remote; check what came.
	got, err := g.run(ctx, dir, "rev-parse", "--verify", "--quiet", commit+"^{commit}")
	if err != nil || strings.TrimSpace(got) != commit {
		if !src.IsCommit() {
			return &Error{Summary: "Git tag moved", Detail: fmt.Sprintf("The tag %s of %s changed while it was fetched; run %q again.", src.Ref, src.Repo, GetCommand(in.Arg, in.Upgrade))}
		}
		return &Error{Summary: "Git ref not found", Detail: fmt.Sprintf("%s has no commit %s. Check the ?ref= of the source.", src.Repo, src.Ref)}
	}
	// core.autocrlf=false: the files must be the commit's bytes on every
	// machine, or their hash would differ from the lock's.
	if _, err := g.run(ctx, dir, "-c", "core.autocrlf=false", "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit); err != nil {
		return fetchError(src, err)
	}
	return nil
}

func fetchError(src Source, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Summary: "Cannot fetch git module", Detail: fmt.Sprintf("%s: %s.", src.Package(), strings.TrimSuffix(err.Error(), "."))}
}

// replaceDir puts the checkout at tmp in root's place. The old one is
// moved aside first, so that root never holds half of either.
func replaceDir(tmp, root string) error {
	old := ""
	if _, err := os.Lstat(root); err == nil {
		old = tmp + ".old"
		if err := os.Rename(root, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, root); err != nil {
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// WriteLock records every package resolved. With prune, the lock holds
// those only and the cache loses every other checkout; without, entries
// for packages this playbook did not name are kept (a one-file playbook
// shares its directory's lock with its neighbours). It reports whether the
// lock file changed.
func (in *Installer) WriteLock(prune bool) (bool, error) {
	old, err := in.lock()
	if err != nil {
		return false, err
	}
	next := &Lock{}
	if !prune {
		for _, e := range old.Entries() {
			next.Set(e)
		}
	}
	keep := map[string]bool{}
	for _, f := range in.order {
		next.Set(&LockEntry{Package: f.Source.Package(), Commit: f.Commit, Hash: f.Hash})
		keep[path.Base(f.Dir)] = true
	}
	if len(next.entries) == 0 && !old.Exists {
		return false, nil
	}
	changed, err := WriteLock(filepath.Join(in.Dir, LockFile), next)
	if err != nil || !prune {
		return changed, err
	}
	cache := filepath.Join(in.Dir, filepath.FromSlash(CacheDir))
	entries, err := os.ReadDir(cache)
	if err != nil {
		return changed, nil // nothing fetched, nothing to prune
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(cache, e.Name())); err != nil {
				return changed, err
			}
		}
	}
	return changed, nil
}
