package file

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Replace is the `file.replace` kind: `sed -i 's/OLD/NEW/g'` over a list of
// paths and globs, made idempotent, atomic and reviewable.
type Replace struct{}

var _ steps.Kind = (*Replace)(nil)

// NewReplace returns the file.replace kind.
func NewReplace() *Replace { return &Replace{} }

var replaceSchema = &steps.Schema{
	Name:    "file.replace",
	Summary: "Replace text in the files matching paths or globs, atomically, with a backup.",
	Description: "Replaces every occurrence of `pattern` with `replacement` in each file matching `paths` " +
		"(literal text unless `regex = true`; `sed -i 's/tcp:/http:/g'` is pattern = \"tcp:\", " +
		"replacement = \"http:\"). Files are replaced atomically, keeping their mode and owner; before a " +
		"file's first change its original is kept in PATH" + BackupSuffix + ". The step is idempotent and " +
		"checks it: an edit that would change a file again on a second run (the replacement contains the " +
		"pattern) is refused. Binary files are skipped with a warning. With a host to read from, the plan " +
		"shows a unified diff of every file that will change.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"paths": {
			Type:     cty.List(cty.String),
			Required: true,
			Description: "Files to edit, each a path or a glob such as /usr/bin/*kvm* (filepath.Match syntax). " +
				"Backups (*" + BackupSuffix + ") are never matched.",
		},
		"pattern": {
			Type:        cty.String,
			Required:    true,
			Description: "The text to find: literal, or a Go (RE2) regular expression when regex = true.",
		},
		"regex": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Treat pattern as a regular expression; replacement may then use $1 or ${name}.",
		},
		"replacement": {
			Type:        cty.String,
			Required:    true,
			Description: "The text that replaces each match (may be empty to delete matches).",
		},
		"backup": {
			Type:        cty.Bool,
			Default:     cty.True,
			Description: "Keep the original of each changed file in PATH" + BackupSuffix + " (written once, before the first change).",
		},
		"must_match": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Fail when an entry of paths matches no file, instead of skipping it.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"changed": {Type: cty.List(cty.String), Description: "The files this run changed, in order."},
		"files":   {Type: cty.List(cty.String), Description: "Every file the paths matched, in order."},
	},
}

// Schema describes the file.replace kind.
func (*Replace) Schema() *steps.Schema { return replaceSchema }

// Plan describes the replacement; with a host, it reads the files and
// shows the diff of each one that will change.
func (*Replace) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	ed, diags := newEdit(req.Args)
	what := fmt.Sprintf("replace %s with %s", steps.Quoted(req.Args.GetAttr("pattern")), steps.Quoted(req.Args.GetAttr("replacement")))
	if v, ok := steps.KnownValue(req.Args.GetAttr("regex")); ok && v.True() {
		what = "replace regex " + strings.TrimPrefix(what, "replace ")
	}
	paths := req.Args.GetAttr("paths")
	if req.Host == nil || ed == nil || !paths.IsWhollyKnown() {
		return steps.PlanResponse{
			Summary:     what + " in " + strings.Join(steps.DisplayArgv(paths), ", "),
			Diagnostics: diags,
		}
	}
	changes, files, more := ed.changes(ctx, req.Host, rawStrings(paths))
	diags = append(diags, more...)
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(diff(c.path, c.old, c.new, ed.masked))
	}
	summary := fmt.Sprintf("%s in %d of %d files", what, len(changes), len(files))
	if len(changes) == 0 {
		summary = fmt.Sprintf("no change: %s (%d files up to date)", what, len(files))
	}
	return steps.PlanResponse{Summary: summary, Diff: b.String(), Diagnostics: diags}
}

// Run edits the files. Every file is read and checked before any is
// written, so a refused edit leaves all files as they were.
func (*Replace) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	ed, diags := newEdit(req.Args)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if req.Host == nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("No host to edit files on",
			"file.replace edits files on a host, but none was given; set `on` to a host the playbook declares.")}}
	}
	changes, files, more := ed.changes(ctx, req.Host, rawStrings(req.Args.GetAttr("paths")))
	diags = append(diags, more...)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	keep := rawValue(req.Args.GetAttr("backup")).True()
	var changed []string
	for _, c := range changes {
		if keep {
			if err := backup(ctx, req.Host, c.path, c.old, c.mode); err != nil {
				diags = append(diags, steps.Error("Cannot back up file",
					fmt.Sprintf("Writing the backup %s failed: %s. Make its directory writable, or set backup = false.", c.path+BackupSuffix, err)))
				break
			}
		}
		if err := req.Host.WriteFile(ctx, c.path, c.new, c.mode); err != nil {
			diags = append(diags, steps.Error("Cannot write file",
				fmt.Sprintf("Replacing %s failed: %s. The file is unchanged; check permissions and free space on %s.", c.path, err, req.Host.Name())))
			break
		}
		changed = append(changed, c.path)
	}
	return steps.RunResponse{
		Outputs: cty.ObjectVal(map[string]cty.Value{
			"changed": stringList(changed),
			"files":   stringList(files),
		}),
		Diagnostics: diags,
	}
}

// edit is a validated replacement.
type edit struct {
	pattern, replacement string
	re                   *regexp.Regexp
	mustMatch            bool
	masked               bool // pattern or replacement is sensitive: show no contents
}

// newEdit validates the arguments; it returns nil while any of them is
// unknown or invalid.
func newEdit(args cty.Value) (*edit, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	pv, rv := args.GetAttr("pattern"), args.GetAttr("replacement")
	p, pok := steps.KnownValue(pv)
	r, rok := steps.KnownValue(rv)
	isRegex, xok := steps.KnownValue(args.GetAttr("regex"))
	mustMatch, mok := steps.KnownValue(args.GetAttr("must_match"))
	if pok && p.AsString() == "" {
		diags = append(diags, steps.Error("Empty pattern", "pattern must hold the text to find; an empty pattern matches everywhere."))
	}
	if pv.IsKnown() && pv.IsNull() || rv.IsKnown() && rv.IsNull() {
		diags = append(diags, steps.Error("Null pattern or replacement", "pattern and replacement must both be strings; use \"\" to delete matches."))
	}
	var re *regexp.Regexp
	if pok && xok && isRegex.True() {
		var err error
		if re, err = regexp.Compile(p.AsString()); err != nil {
			detail := "pattern is not a valid regular expression (Go RE2 syntax)"
			if !pv.HasMark(marks.Sensitive) {
				detail += ": " + err.Error()
			}
			diags = append(diags, steps.Error("Invalid regular expression", detail+". Fix it, or set regex = false to match the text literally."))
		}
	}
	paths := args.GetAttr("paths")
	if l, ok := steps.KnownValue(paths); ok {
		for it := l.ElementIterator(); it.Next(); {
			if _, ev := it.Element(); ev.IsKnown() && ev.IsNull() {
				diags = append(diags, steps.Error("Null element in paths", "Every element of paths must be a path or a glob."))
			}
		}
	}
	if diags.HasErrors() || !pok || !rok || !xok || !mok || !paths.IsWhollyKnown() {
		return nil, diags
	}
	return &edit{
		pattern:     p.AsString(),
		replacement: r.AsString(),
		re:          re,
		mustMatch:   mustMatch.True(),
		masked:      pv.HasMark(marks.Sensitive) || rv.HasMark(marks.Sensitive),
	}, diags
}

func (e *edit) apply(s []byte) []byte {
	if e.re != nil {
		return e.re.ReplaceAll(s, []byte(e.replacement))
	}
	return bytes.ReplaceAll(s, []byte(e.pattern), []byte(e.replacement))
}

// change is one file's edit.
type change struct {
	path     string
	old, new []byte
	mode     fs.FileMode
}

// changes expands globs, reads every matched file and computes its edit. It
// returns the files that will change and every matched file.
func (e *edit) changes(ctx context.Context, host steps.Host, patterns []string) ([]change, []string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var files []string
	seen := map[string]bool{}
	for _, pat := range patterns {
		matches, err := host.Glob(ctx, pat)
		if err != nil {
			diags = append(diags, steps.Error("Invalid path pattern",
				fmt.Sprintf("Expanding %q on %s failed: %s. Use filepath.Match syntax: *, ? and [a-z].", pat, host.Name(), err)))
			continue
		}
		n := 0
		for _, m := range matches {
			if strings.HasSuffix(m, BackupSuffix) || seen[m] {
				continue
			}
			seen[m] = true
			files = append(files, m)
			n++
		}
		if n == 0 && e.mustMatch {
			diags = append(diags, steps.Error("No file matches path",
				fmt.Sprintf("%q matches no file on %s, and must_match is set. Fix the path, or set must_match = false to skip it.", pat, host.Name())))
		}
	}
	var changes []change
	for _, f := range files {
		old, mode, err := host.ReadFile(ctx, f)
		if err != nil {
			diags = append(diags, steps.Error("Cannot read file",
				fmt.Sprintf("Reading %s on %s failed: %s. Check that it is a readable regular file, or leave it out of paths.", f, host.Name(), err)))
			continue
		}
		new := e.apply(old)
		if bytes.Equal(old, new) {
			continue
		}
		if isBinary(old) {
			diags = append(diags, steps.Warning("Binary file skipped",
				fmt.Sprintf("%s matches the pattern but looks binary (it holds NUL bytes); it was left as it is. Narrow paths to leave it out.", f)))
			continue
		}
		if again := e.apply(new); !bytes.Equal(again, new) {
			diags = append(diags, steps.Error("Replacement is not idempotent",
				fmt.Sprintf("After the replacement, %s would still match the pattern, so every run would change it again. "+
					"Make the pattern not match the replacement (for example anchor it, or match the old form exactly).", f)))
			continue
		}
		changes = append(changes, change{path: f, old: old, new: new, mode: mode})
	}
	return changes, files, diags
}

// rawStrings returns the elements of a known list of strings, unmarked.
func rawStrings(v cty.Value) []string {
	var out []string
	for it := rawValue(v).ElementIterator(); it.Next(); {
		_, ev := it.Element()
		out = append(out, ev.AsString())
	}
	return out
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}
