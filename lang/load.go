package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/rokflow/rokflow/lang/modsrc"
)

// Load reads the playbook at path — a directory of .hcl and .hcl.json files,
// or a single such file — decodes it and loads its child modules. The
// returned playbook is usable for rendering diagnostics even when the
// diagnostics hold errors, but must not be planned then. Git module
// sources are read from what "rokflow modules get" fetched; Load never
// fetches (see LoadWith).
func Load(path string) (*Playbook, hcl.Diagnostics) {
	return LoadWith(path, LoadOptions{})
}

// LoadWith is Load with options.
func LoadWith(path string, opts LoadOptions) (*Playbook, hcl.Diagnostics) {
	l := &loader{parser: hclparse.NewParser(), loading: map[string]bool{}, relative: !filepath.IsAbs(path),
		git: gitSources{resolver: opts.Modules, arg: path, roots: map[string]string{}}}
	pb := &Playbook{Files: l.parser.Files()}
	abs, err := filepath.Abs(path)
	if err != nil {
		return pb, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read playbook", Detail: err.Error()}}
	}
	info, err := os.Stat(abs)
	if err != nil {
		return pb, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read playbook",
			Detail:   fmt.Sprintf("%s. Give the path of a playbook directory or of one .hcl file.", cleanErr(err)),
		}}
	}
	var files []string
	if info.IsDir() {
		pb.Dir = abs
		files, err = playbookFiles(abs)
		if err != nil {
			return pb, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read playbook", Detail: cleanErr(err)}}
		}
		if len(files) == 0 {
			return pb, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "No playbook files",
				Detail:   fmt.Sprintf("The directory %s holds no .hcl or .hcl.json files.", path),
			}}
		}
	} else {
		pb.Dir = filepath.Dir(abs)
		if d := notPlaybookFile(path); d != nil {
			return pb, hcl.Diagnostics{d}
		}
		files = []string{abs}
	}
	// The directory, not the file: a single-file playbook whose module calls
	// "./" includes itself too.
	pb.DisplayDir = filepath.ToSlash(l.displayName(pb.Dir))
	l.loading[pb.Dir] = true
	l.git.playbookDir = pb.Dir
	root, diags := l.loadModule(pb.Dir, files, nil, pb)
	pb.Root = root
	pb.Files = l.parser.Files()
	if pb.Meta == nil && !diags.HasErrors() {
		pb.Meta = &Meta{Name: filepath.Base(pb.Dir)}
	}
	return pb, diags
}

// notPlaybookFile refuses a file given as a playbook whose name says it is
// something else: a playbook is a directory of .hcl and .hcl.json files,
// or one such file, and reading a README or a binary as HCL would only
// bury the mistake under dozens of syntax errors.
func notPlaybookFile(path string) *hcl.Diagnostic {
	base := filepath.Base(path)
	var detail string
	switch {
	case strings.HasSuffix(base, ".vars.hcl") || strings.HasSuffix(base, ".vars.hcl.json"):
		detail = fmt.Sprintf("%s is a variable file, which gives a playbook its inputs: pass it with --var-file, and name the playbook's directory or .hcl file.", path)
	case strings.HasSuffix(base, TestFileSuffix):
		detail = fmt.Sprintf("%s is a playbook test file: run it with rokflow test and the playbook's directory.", path)
	case base == modsrc.LockFile:
		detail = fmt.Sprintf("%s is the lock file of git module sources, not playbook code: name the playbook's directory.", path)
	case strings.HasSuffix(base, ".hcl") || strings.HasSuffix(base, ".hcl.json"):
		return nil
	default:
		detail = fmt.Sprintf("%s is not a playbook file. A playbook is a directory of .hcl and .hcl.json files, or one such file.", path)
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not a playbook", Detail: detail}
}

func cleanErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Sprintf("%s: %s", pe.Path, pe.Err)
	}
	return err.Error()
}

// TestFileSuffix names a playbook test file (rokflow test): a test beside
// the playbook's files is not playbook code.
const TestFileSuffix = ".rftest.hcl"

// playbookFiles lists the .hcl and .hcl.json files of dir, sorted, leaving
// out variable files (*.vars.hcl), which are inputs, and the lock file of
// git module sources (rokflow.lock.hcl) and test files (*.rftest.hcl),
// which are not playbook code.
func playbookFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".vars.hcl") || strings.HasSuffix(n, ".vars.hcl.json") || n == modsrc.LockFile || strings.HasSuffix(n, TestFileSuffix) {
			continue
		}
		if strings.HasSuffix(n, ".hcl") || strings.HasSuffix(n, ".hcl.json") {
			files = append(files, filepath.Join(dir, n))
		}
	}
	sort.Strings(files)
	return files, nil
}

type loader struct {
	parser  *hclparse.Parser
	loading map[string]bool // module directories on the current load path
	// relative is set when the playbook was named by a relative path; file
	// names then stay relative to the working directory, as the user wrote
	// them, so that diagnostics and plans do not depend on where the
	// checkout lives.
	relative bool
	git      gitSources
}

// parseFile parses one file by its suffix, named for display as the user
// named the playbook: relative to the working directory or absolute.
func (l *loader) parseFile(path string) (*hcl.File, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read file", Detail: cleanErr(err)}}
	}
	name := l.displayName(path)
	if d := checkShape(src, name); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	if strings.HasSuffix(path, ".json") {
		return l.parser.ParseJSON(src, name)
	}
	return l.parser.ParseHCL(src, name)
}

func (l *loader) displayName(path string) string {
	if !l.relative {
		return path
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil {
			return rel
		}
	}
	return path
}

func (l *loader) loadModule(dir string, files []string, path []string, pb *Playbook) (*Module, hcl.Diagnostics) {
	m := newModule(dir, path)
	var diags hcl.Diagnostics
	for _, f := range files {
		file, fd := l.parseFile(f)
		diags = append(diags, fd...)
		if file == nil || file.Body == nil {
			continue
		}
		diags = append(diags, decodeFile(file.Body, m, pb)...)
	}
	diags = append(diags, l.loadCalls(m, pb)...)
	return m, diags
}

func (l *loader) loadCalls(m *Module, pb *Playbook) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var items func([]Item)
	items = func(its []Item) {
		for _, it := range its {
			switch {
			case it.Call != nil:
				diags = append(diags, l.loadCall(m, it.Call, pb)...)
				// A hook block's calls are written in m, so their sources
				// are relative to m.
				for _, name := range keys(it.Call.Hooks) {
					items(it.Call.Hooks[name].Order)
				}
			case it.Group != nil:
				items(it.Group.Order)
			}
		}
	}
	items(m.Order)
	return diags
}

func (l *loader) loadCall(parent *Module, call *ModuleCall, pb *Playbook) hcl.Diagnostics {
	if call.Source == "" {
		return nil // a missing or invalid source was reported when decoding
	}
	dir, root, diags := l.sourceDir(parent, call)
	if diags.HasErrors() {
		return diags
	}
	if l.loading[dir] {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Module calls itself",
			Detail:   fmt.Sprintf("The module at %s is already being loaded higher up this chain of calls; a module cannot include itself.", l.displayName(dir)),
			Subject:  call.SourceRange.Ptr(),
		}}
	}
	files, err := playbookFiles(dir)
	if err != nil || len(files) == 0 {
		detail := fmt.Sprintf("No .hcl files found in %s.", l.displayName(dir))
		if err != nil {
			detail = fmt.Sprintf("Cannot read module directory: %s.", cleanErr(err))
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Module not found", Detail: detail, Subject: call.SourceRange.Ptr()}}
	}
	l.loading[dir] = true
	defer delete(l.loading, dir)
	if root != "" {
		l.git.roots[dir] = root
	}
	path := append(append([]string(nil), parent.Path...), call.Name)
	child, diags := l.loadModule(dir, files, path, nil)
	call.Module = child
	diags = append(diags, checkCallInputs(call)...)
	diags = append(diags, checkCallHooks(call)...)
	return diags
}

func newModule(dir string, path []string) *Module {
	return &Module{
		Path:        path,
		Dir:         dir,
		Variables:   map[string]*Variable{},
		Locals:      map[string]*Local{},
		Connections: map[string]*Connection{},
		Steps:       map[string]*Step{},
		Groups:      map[string]*Group{},
		Calls:       map[string]*ModuleCall{},
		Outputs:     map[string]*Output{},
		Hooks:       map[string]*Hook{},
	}
}

// checkCallHooks reports hook blocks naming no hook of the module.
func checkCallHooks(call *ModuleCall) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range keys(call.Hooks) {
		if _, ok := call.Module.Hooks[name]; !ok {
			detail := fmt.Sprintf("The module %q declares no hook named %q.", call.Source, name)
			if len(call.Module.Hooks) == 0 {
				detail = fmt.Sprintf("The module %q declares no hooks: it has no place for steps of the caller's.", call.Source)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown hook",
				Detail:   detail + didYouMean(name, keys(call.Module.Hooks)),
				Subject:  call.Hooks[name].DeclRange.Ptr(),
			})
		}
	}
	return diags
}

// checkCallInputs reports inputs the module does not declare and required
// variables the call leaves out.
func checkCallInputs(call *ModuleCall) hcl.Diagnostics {
	var diags hcl.Diagnostics
	m := call.Module
	names := make([]string, 0, len(call.Inputs))
	for n := range call.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := m.Variables[n]; !ok {
			attr := call.Inputs[n]
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument",
				Detail:   fmt.Sprintf("The module %q declares no variable named %q.%s", call.Source, n, didYouMean(n, keys(m.Variables))),
				Subject:  attr.NameRange.Ptr(),
			})
		}
	}
	vnames := keys(m.Variables)
	for _, n := range vnames {
		v := m.Variables[n]
		if _, ok := call.Inputs[n]; !ok && v.Required() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("The module %q needs a value for its variable %q; add %s = … to this module block.", call.Source, n, n),
				Subject:  call.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Limits that keep the HCL parser, which recurses on nesting, from
// overflowing the stack on hostile input: real playbook files are a few
// kilobytes and nest a handful of levels.
const (
	maxFileSize = 512 << 10
	maxNesting  = 256
)

// checkShape refuses files too large or too deeply nested to be a
// playbook, before the parser sees them.
func checkShape(src []byte, name string) *hcl.Diagnostic {
	if len(src) > maxFileSize {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "File too large",
			Detail:   fmt.Sprintf("%s is %d bytes; playbook and variable files may be at most %d. Split it into several files or modules.", name, len(src), maxFileSize),
		}
	}
	depth, run := 0, 0
	for i, b := range src {
		switch b {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		}
		if b == '!' || b == '-' || b == '+' || b == '*' {
			run++
		} else if b != ' ' && b != '\t' && !(b >= '0' && b <= '9') {
			run = 0
		}
		if depth > maxNesting || run > maxNesting {
			line := 1 + strings.Count(string(src[:i]), "\n")
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Expression too deeply nested",
				Detail:   fmt.Sprintf("%s nests more than %d levels around line %d; simplify the expression.", name, maxNesting, line),
			}
		}
	}
	return nil
}
