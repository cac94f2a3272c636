package lang

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang/modsrc"
)

// LoadOptions change how LoadWith finds modules.
type LoadOptions struct {
	// Modules resolves git module sources. Nil means what "rokflow
	// modules get" fetched into .rokflow/modules beside the playbook,
	// checked against rokflow.lock.hcl (modsrc.Cache): loading never
	// fetches. "modules get" passes a modsrc.Installer, which does.
	Modules modsrc.Resolver
}

// gitSources is what the loader keeps of git module sources.
type gitSources struct {
	resolver    modsrc.Resolver // nil until the first git source
	arg         string          // the playbook as the user named it
	playbookDir string
	// roots maps the directory of every module loaded from a git
	// checkout to the checkout's root, which its relative sources may not
	// leave.
	roots map[string]string
}

// sourceDir finds the directory a module call's source names: a local
// path relative to the calling module, or a directory in the checkout of
// a git source. root is the checkout the directory lies in, "" for a
// directory of the playbook's own.
func (l *loader) sourceDir(parent *Module, call *ModuleCall) (dir, root string, diags hcl.Diagnostics) {
	src := call.Source
	switch {
	case strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../"):
		dir = filepath.Clean(filepath.Join(parent.Dir, src))
		root = l.git.roots[parent.Dir]
		if root != "" && !within(root, dir) {
			return "", "", hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Module source leaves its repository",
				Detail:   fmt.Sprintf("This module was fetched from git, and a relative source in it must name a directory of the same repository; %s leads out of it.", src),
				Subject:  call.SourceRange.Ptr(),
			}}
		}
		return dir, root, nil
	case modsrc.IsGit(src):
		return l.gitDir(call)
	}
	hint := ""
	if strings.Contains(src, "://") || strings.Contains(src, "@") || strings.HasSuffix(strings.SplitN(src, "?", 2)[0], ".git") {
		hint = " A git repository is written with a git:: prefix, a ref and the directory after //: git::https://HOST/PATH.git//DIR?ref=TAG."
	}
	return "", "", hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Unsupported module source",
		Detail:   fmt.Sprintf("Module sources are local directories, which must start with \"./\" or \"../\" (relative to %s), or git repositories (git::URL//DIR?ref=TAG).%s", l.displayName(parent.Dir), hint),
		Subject:  call.SourceRange.Ptr(),
	}}
}

func (l *loader) gitDir(call *ModuleCall) (dir, root string, diags hcl.Diagnostics) {
	src, err := modsrc.Parse(call.Source)
	if err == nil {
		if l.git.resolver == nil {
			l.git.resolver = modsrc.NewCache(l.git.playbookDir, l.git.arg)
		}
		root, err = l.git.resolver.Resolve(src)
	}
	if err != nil {
		return "", "", hcl.Diagnostics{l.gitDiag(call, err)}
	}
	return filepath.Join(root, filepath.FromSlash(src.Subdir)), root, nil
}

// gitDiag reports a git source's problem on the source attribute. The
// line of a source that holds credentials is not shown: the diagnostic
// names the place instead, so that the secret reaches no terminal or log.
func (l *loader) gitDiag(call *ModuleCall, err error) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot fetch git module", Detail: err.Error(), Subject: call.SourceRange.Ptr()}
	var e *modsrc.Error
	if errors.As(err, &e) {
		d.Summary, d.Detail = e.Summary, e.Detail
		if e.Secret {
			r := call.SourceRange
			d.Subject = nil
			d.Detail = fmt.Sprintf("On %s line %d, module %q: %s", r.Filename, r.Start.Line, call.Name, e.Detail)
		}
	}
	return d
}

// within reports whether dir is root or lies under it.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
