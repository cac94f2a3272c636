package main

import (
	"fmt"
	"os"
	"path"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/modsrc"
)

// ModulesCmd manages module sources that are git repositories.
type ModulesCmd struct {
	Get ModulesGetCmd `cmd:"" help:"Fetch the playbook's git module sources into .rokflow/modules and pin them in rokflow.lock.hcl."`
}

// ModulesGetCmd fetches git module sources, the one command that does:
// validate, plan and apply only read what it fetched.
type ModulesGetCmd struct {
	Path    string `arg:"" optional:"" default:"." help:"Playbook directory, or one .hcl file; the current directory when none."`
	Upgrade bool   `help:"Ask each repository for its tags again and take a tag that moved from the locked commit."`
}

// Run fetches what the playbook's modules need, then writes the lock.
func (c *ModulesGetCmd) Run(a *App) error {
	dir, err := modsrc.PlaybookDir(c.Path)
	if err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot read playbook: %s", cleanPathErr(err))}
	}
	in := &modsrc.Installer{Ctx: a.Ctx, Dir: dir, Arg: c.Path, Upgrade: c.Upgrade, Env: a.Environ()}
	pb, diags := lang.LoadWith(c.Path, lang.LoadOptions{Modules: in})
	for _, f := range in.Fetched() {
		fmt.Fprintf(a.Stdout, "%s: %s\n", f.Source.Package(), fetchedText(pb.DisplayDir, f))
	}
	lockName := path.Join(pb.DisplayDir, modsrc.LockFile)
	if err := a.report(pb.Files, diags); err != nil {
		// A playbook that did not load may name fewer sources than it
		// does: the lock stays as it was rather than lose their entries.
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%s left as it was; fix the errors above and run modules get again", lockName)}
	}
	info, err := os.Stat(c.Path)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	// A directory's lock is its own, so it holds what the playbook names
	// and no more; one file shares its directory's lock with the others.
	changed, err := in.WriteLock(info.IsDir())
	if err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot write %s: %s", lockName, err)}
	}
	n := len(in.Fetched())
	switch {
	case n == 0 && !changed:
		fmt.Fprintf(a.Stdout, "%s names no git module sources; nothing to fetch.\n", pb.Meta.Name)
	case changed:
		fmt.Fprintf(a.Stdout, "Wrote %s: %s pinned.\n", lockName, repositories(n))
	default:
		fmt.Fprintf(a.Stdout, "%s is up to date: %s pinned.\n", lockName, repositories(n))
	}
	return nil
}

func fetchedText(display string, f *modsrc.Fetched) string {
	at := f.Commit
	if len(at) > 12 {
		at = at[:12]
	}
	switch f.Action {
	case modsrc.UpToDate:
		return "up to date at " + at
	case modsrc.Upgraded:
		return fmt.Sprintf("upgraded from %s to %s (the tag moved)", f.Was[:12], at)
	case modsrc.Restored:
		return fmt.Sprintf("restored %s (the checkout had changed)", at)
	default:
		return fmt.Sprintf("fetched %s into %s", at, path.Join(display, f.Dir))
	}
}

func repositories(n int) string {
	if n == 1 {
		return "1 repository"
	}
	return fmt.Sprintf("%d repositories", n)
}

func cleanPathErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Sprintf("%s: %s", pe.Path, pe.Err)
	}
	return err.Error()
}
