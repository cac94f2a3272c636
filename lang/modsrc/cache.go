package modsrc

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rokflow/rokflow/internal/posixsh"
)

// Where a playbook's git modules and their lock live, beside the
// playbook. The cache is a directory of its own inside the state
// directory (.rokflow), apart from the journal's files there
// (journal.jsonl, approvals.jsonl, lock, holder.json) and the
// simulator's (sim/).
const (
	LockFile = "rokflow.lock.hcl"
	CacheDir = ".rokflow/modules"
)

// Error is a problem with a git module source, worded for the person
// holding the playbook; the loader reports it on the source attribute.
type Error struct {
	Summary string
	Detail  string
	// Secret is set when the source itself holds a secret (credentials in
	// its URL), so the line it is on should not be shown.
	Secret bool
}

func (e *Error) Error() string { return e.Summary + ": " + e.Detail }

// Resolver finds the checkout a git module source lies in.
type Resolver interface {
	// Resolve returns the absolute directory of the checkout of src's
	// repository at its ref (the subdirectory is not joined), or an
	// error, an *Error when it is src's or the user's to fix.
	Resolve(src Source) (string, error)
}

// PlaybookDir is the directory a playbook path stands for: the path
// itself, or the directory of a one-file playbook. Its lock and cache
// are there.
func PlaybookDir(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		return abs, nil
	}
	return filepath.Dir(abs), nil
}

// CheckoutName is the directory in the cache that holds pkg's checkout:
// readable (the repository's name and the ref) and unique (a hash of the
// whole package address).
func CheckoutName(s Source) string {
	sum := sha256.Sum256([]byte(s.Package()))
	repo := strings.TrimSuffix(s.Repo, "/")
	if i := strings.LastIndexAny(repo, "/:"); i >= 0 {
		repo = repo[i+1:]
	}
	repo = strings.TrimSuffix(repo, ".git")
	ref := s.Ref
	if s.IsCommit() {
		ref = ref[:12]
	}
	return safeName(repo, "repo") + "-" + safeName(ref, "ref") + "-" + hex.EncodeToString(sum[:5])
}

func safeName(s, empty string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		return empty
	}
	return out
}

// Cache resolves git sources from what "rokflow modules get" fetched,
// checked against the lock file; it never fetches. The loader uses it
// unless told otherwise.
type Cache struct {
	dir  string // the playbook's directory, absolute
	hint string // the command that fixes what is missing

	lock     *Lock
	lockErr  error
	lockRead bool
	checked  map[string]error // by package
}

// NewCache returns the cache of the playbook in dir; arg is the playbook
// as the user named it, for the command its errors tell them to run.
func NewCache(dir, arg string) *Cache {
	return &Cache{dir: dir, hint: GetCommand(arg, false), checked: map[string]error{}}
}

// GetCommand is the command line that fetches a playbook's modules.
func GetCommand(arg string, upgrade bool) string {
	cmd := "rokflow modules get"
	if upgrade {
		cmd += " --upgrade"
	}
	if arg != "" && arg != "." {
		cmd += " " + posixsh.Word(arg)
	}
	return cmd
}

// Resolve implements Resolver: the checkout must be there, at the commit
// the lock pins, holding the files it held when fetched.
func (c *Cache) Resolve(src Source) (string, error) {
	pkg := src.Package()
	root := filepath.Join(c.dir, filepath.FromSlash(CacheDir), CheckoutName(src))
	if err, ok := c.checked[pkg]; ok {
		return root, err
	}
	err := c.verify(src, root)
	c.checked[pkg] = err
	return root, err
}

func (c *Cache) verify(src Source, root string) error {
	if !c.lockRead {
		c.lock, c.lockErr = ReadLock(filepath.Join(c.dir, LockFile))
		c.lockRead = true
	}
	if c.lockErr != nil {
		return lockError(c.lockErr, c.hint)
	}
	pkg := src.Package()
	rel := path.Join(CacheDir, CheckoutName(src))
	entry := c.lock.Entry(pkg)
	if entry == nil {
		where := LockFile + " has no entry for it"
		if !c.lock.Exists {
			where = "there is no " + LockFile + " beside the playbook"
		}
		return &Error{
			Summary: "Git module not locked",
			Detail:  fmt.Sprintf("%s is not pinned: %s. Run %q to fetch it and record its commit and content hash.", pkg, where, c.hint),
		}
	}
	head, err := checkoutHead(root)
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{
			Summary: "Git module not fetched",
			Detail:  fmt.Sprintf("%s is locked at commit %s but not fetched into %s; validate, plan and apply never fetch. Run %q.", pkg, short(entry.Commit), rel, c.hint),
		}
	}
	if err != nil {
		return &Error{Summary: "Cannot read git module", Detail: fmt.Sprintf("%s: %s. Run %q to fetch it again.", rel, err, c.hint)}
	}
	if head != entry.Commit {
		return &Error{
			Summary: "Git module at another commit",
			Detail:  fmt.Sprintf("The checkout of %s in %s is at commit %s, but %s pins %s. Run %q to check out the locked commit.", pkg, rel, short(head), LockFile, short(entry.Commit), c.hint),
		}
	}
	sum, err := HashTree(root)
	if err != nil {
		return &Error{Summary: "Cannot read git module", Detail: fmt.Sprintf("%s. Run %q to fetch it again.", err, c.hint)}
	}
	if sum != entry.Hash {
		return &Error{
			Summary: "Git module changed since it was fetched",
			Detail: fmt.Sprintf("The files in %s are not those of %s at commit %s: their hash is %s, %s records %s. "+
				"Change a module in its own repository, not in the cache. Run %q to restore it (it discards the changes).",
				rel, pkg, short(entry.Commit), sum, LockFile, entry.Hash, c.hint),
		}
	}
	return nil
}

func lockError(err error, hint string) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Summary: "Cannot read " + LockFile, Detail: fmt.Sprintf("%s. Fix the file, or remove it and run %q to write it again.", err, hint)}
}

// checkoutHead reads the commit a checkout is at from its .git/HEAD,
// which a detached checkout holds as a bare hash, without running git.
func checkoutHead(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, ".git", "HEAD"))
	if err != nil {
		return "", err
	}
	head := strings.TrimSpace(string(b))
	if !isFullHash(head) {
		return "", fmt.Errorf("its HEAD is %q, not a detached commit", strings.TrimPrefix(head, "ref: "))
	}
	return head, nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
