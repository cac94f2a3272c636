package rok

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/openstore"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// OpenStoreEndpoints is the kind rok.openstore_endpoints: it rewrites the
// OpenStore endpoints of a node's daemons.conf, environment files and
// systemd units into their v0.11 form.
type OpenStoreEndpoints struct{}

var _ steps.Kind = OpenStoreEndpoints{}

// backupSuffix names the copy of a file's content before its first rewrite.
const backupSuffix = ".rokflow.bak"

// defaultUnitFiles are the units and drop-ins an administrator may have
// given endpoint flags in. Package units (/lib/systemd/system) come with the
// new BOOT disk, so they are not rewritten unless named.
var defaultUnitFiles = []string{"/etc/systemd/system/rok*.service", "/etc/systemd/system/rok*.service.d/*.conf"}

var openStoreSchema = &steps.Schema{
	Name:    "rok.openstore_endpoints",
	Summary: "Rewrite OpenStore endpoints in daemons.conf, environment files and systemd units to the v0.11 form.",
	Description: "Reads each file on the target node and rewrites its OpenStore endpoints the way Rok v0.11 " +
		"wants them: tcp:// becomes http:// and the role is written out. Before v0.11 the option said the role: " +
		"openstore-controller (a slave connects) becomes connect = role=slave,…; openstore-master-connect " +
		"(the master connects) becomes connect = role=master,…; listen becomes listen = role=master,…; the " +
		"External Controller's bind-http becomes controller-listen = role=slave,…. The same rules apply to " +
		"command-line flags (--bind-http tcp://H:P becomes --controller-listen role=slave,http://H:P, in the " +
		"--flag value and --flag=value forms) wherever they are given: in the ExecStart= lines of systemd units " +
		"and drop-ins (unit_files), and in variables of daemon options such as ROK_DAEMON_OPTS=\"--bind-http …\" " +
		"in environment files and Environment= lines. Plain endpoint variables such as OPENSTORE_CONTROLLER " +
		"get the http:// scheme. Only those bytes change; quotes, comments, spacing and every other line are " +
		"kept. Files are replaced atomically and only when their content changes, so a second run changes " +
		"nothing. Before the first rewrite of a file its old content is saved beside it as FILE" + backupSuffix +
		" (an existing backup is kept, since it holds the oldest content). Every file is read and checked " +
		"before any is written: a value the rewriter cannot migrate safely (an unknown option holding tcp://, " +
		"a malformed endpoint, an endpoint that comes from a shell variable) fails the step with nothing " +
		"changed. With plan --discover the plan shows the unified diff. When unit files are found, " +
		"`systemctl daemon-reload` runs after the writes (daemon_reload), so that systemd uses the new " +
		"command lines; the daemons take the new forms when they are next (re)started.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"daemons_conf": {
			Type:        cty.List(cty.String),
			Default:     cty.ListVal([]cty.Value{cty.StringVal("/etc/rok/daemons.conf")}),
			Description: "INI files of daemon options ([daemon.N] sections, keys are long options without dashes) to rewrite.",
		},
		"env_files": {
			Type:    cty.List(cty.String),
			Default: cty.ListValEmpty(cty.String),
			Description: "Shell or environment files of VAR=value lines (such as /etc/default/rok) to rewrite: " +
				"endpoint variables (OPENSTORE_CONTROLLER) and variables holding daemon options (ROK_DAEMON_OPTS).",
		},
		"unit_files": {
			Type:    cty.List(cty.String),
			Default: stringList(defaultUnitFiles),
			Description: "systemd unit files and drop-ins whose ExecStart= (and other Exec…=) command lines and " +
				"Environment= lines to rewrite. Entries may be patterns (*, ? and [a-z], as in filepath.Match): " +
				"a pattern that matches no file is skipped, a path without wildcards follows missing_ok. " +
				"The default covers the local units and drop-ins of the Rok daemons; add " +
				"/lib/systemd/system/rok*.service if package units were edited.",
		},
		"daemon_reload": {
			Type:    cty.Bool,
			Default: cty.True,
			Description: "Run `systemctl daemon-reload` at the end of every run that finds a unit file, so that " +
				"systemd reads the rewritten command lines (also on a re-run that changes nothing, which " +
				"completes a run cut short between its writes and the reload).",
		},
		"backup": {
			Type:        cty.Bool,
			Default:     cty.True,
			Description: "Save a file's old content as FILE" + backupSuffix + " before its first rewrite.",
		},
		"missing_ok": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Skip files that do not exist instead of failing.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"changed": {Type: cty.List(cty.String), Description: "The files that were rewritten, in argument order (empty on a re-run)."},
		"backups": {Type: cty.List(cty.String), Description: "The backup files written by this run."},
		"changes": {Type: cty.List(cty.String), Description: "One line per rewritten value: \"FILE: line N [section] …: old -> new\"."},
	},
}

// Schema implements steps.Kind.
func (OpenStoreEndpoints) Schema() *steps.Schema { return openStoreSchema }

// endpointFile is one file (or, for unit_files, a pattern of files) the
// kind rewrites and the rewriter for its form.
type endpointFile struct {
	path    string
	pattern bool
	unit    bool
	rewrite func(string) (string, []openstore.Change, error)
}

// endpointFiles lists the files named by the arguments. ok is false while a
// list is unknown.
func endpointFiles(args cty.Value) (files []endpointFile, ok bool, diags hcl.Diagnostics) {
	ok = true
	add := func(name string, unit bool, rewrite func(string) (string, []openstore.Change, error)) {
		v := steps.Attr(args, name)
		if v.IsNull() {
			return
		}
		paths, lok := steps.StrList(v)
		if !lok {
			ok = false
			return
		}
		for _, p := range paths {
			if !strings.HasPrefix(p, "/") {
				diags = append(diags, steps.Errorf("Relative path", "The %s argument must hold absolute paths; %q is not.", name, p))
				continue
			}
			isPattern := unit && strings.ContainsAny(p, "*?[")
			if isPattern {
				if _, err := path.Match(p, ""); err != nil {
					diags = append(diags, steps.Errorf("Invalid path pattern", "The %s argument holds %q, which is not a valid pattern: %s. Use *, ? and [a-z].", name, p, err))
					continue
				}
			}
			files = append(files, endpointFile{path: p, pattern: isPattern, unit: unit, rewrite: rewrite})
		}
	}
	add("daemons_conf", false, openstore.RewriteConfig)
	add("env_files", false, openstore.RewriteEnv)
	add("unit_files", true, openstore.RewriteUnit)
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.path] {
			diags = append(diags, steps.Errorf("File listed twice", "%s is listed more than once.", f.path))
		}
		seen[f.path] = true
	}
	return files, ok, diags
}

// rewritten is a file read from the host and its new content.
type rewritten struct {
	path     string
	old, new string
	mode     fs.FileMode
	changes  []openstore.Change
	missing  bool
	unit     bool // from unit_files
}

// expand replaces each pattern by the files it matches on the host, in
// order, leaving out backups and files already listed.
func expand(ctx context.Context, host steps.Host, files []endpointFile) ([]endpointFile, hcl.Diagnostics) {
	var out []endpointFile
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for _, f := range files {
		if !f.pattern {
			seen[f.path] = true
		}
	}
	for _, f := range files {
		if !f.pattern {
			out = append(out, f)
			continue
		}
		matches, err := host.Glob(ctx, f.path)
		if err != nil {
			diags = append(diags, steps.Errorf("Cannot list files", "Expanding %s on %s: %s.", f.path, host.Name(), err))
			continue
		}
		for _, m := range matches {
			if strings.HasSuffix(m, backupSuffix) || seen[m] {
				continue
			}
			seen[m] = true
			out = append(out, endpointFile{path: m, unit: true, rewrite: f.rewrite})
		}
	}
	return out, diags
}

// rewriteAll reads and rewrites every file in memory; nothing is written.
func rewriteAll(ctx context.Context, host steps.Host, files []endpointFile, missingOK bool) ([]rewritten, hcl.Diagnostics) {
	files, diags := expand(ctx, host, files)
	var out []rewritten
	for _, f := range files {
		data, mode, err := host.ReadFile(ctx, f.path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if !missingOK {
					diags = append(diags, steps.Errorf("File not found", "%s does not exist on %s (set missing_ok = true to skip missing files).", f.path, host.Name()))
				}
				out = append(out, rewritten{path: f.path, missing: true})
				continue
			}
			diags = append(diags, steps.Errorf("Cannot read file", "Reading %s on %s: %s.", f.path, host.Name(), err))
			continue
		}
		text := string(data)
		newText, changes, err := f.rewrite(text)
		if err != nil {
			diags = append(diags, steps.Errorf("Cannot rewrite OpenStore endpoints",
				"%s on %s cannot be migrated safely, so nothing was changed:\n%s", f.path, host.Name(), err))
			continue
		}
		out = append(out, rewritten{path: f.path, old: text, new: newText, mode: mode, changes: changes, unit: f.unit})
	}
	return out, diags
}

// Plan implements steps.Kind.
func (OpenStoreEndpoints) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	files, ok, diags := endpointFiles(req.Args)
	resp := steps.PlanResponse{Diagnostics: diags}
	if !ok {
		resp.Summary = "rewrite OpenStore endpoints to the v0.11 form in files " + afterRun
		return resp
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	resp.Summary = "rewrite OpenStore endpoints to the v0.11 form in " + strings.Join(paths, ", ")
	if req.Host == nil || diags.HasErrors() {
		return resp
	}
	missingOK, _ := steps.Bool(steps.Attr(req.Args, "missing_ok"), false)
	results, rdiags := rewriteAll(ctx, req.Host, files, missingOK)
	// What the host shows now may change before apply, so findings are
	// warnings here; the run fails on them if they still hold.
	for _, d := range rdiags {
		d.Severity = hcl.DiagWarning
		resp.Diagnostics = append(resp.Diagnostics, d)
	}
	var diff strings.Builder
	n := 0
	for _, r := range results {
		if d := unifiedDiff(r.path, r.old, r.new); d != "" {
			diff.WriteString(d)
			n++
		}
	}
	resp.Diff = diff.String()
	if len(rdiags) == 0 {
		read := 0
		for _, r := range results {
			if !r.missing {
				read++
			}
		}
		if n == 0 {
			resp.Summary = "OpenStore endpoints already in the v0.11 form in " + strings.Join(paths, ", ")
		} else {
			resp.Summary = fmt.Sprintf("rewrite OpenStore endpoints to the v0.11 form in %d of %d files", n, read)
		}
	}
	return resp
}

// Run implements steps.Kind.
func (OpenStoreEndpoints) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	files, ok, diags := endpointFiles(req.Args)
	if !ok {
		diags = append(diags, steps.Errorf("File list not known", "Kind %s needs known file lists.", openStoreSchema.Name))
	}
	if req.Host == nil {
		diags = append(diags, steps.Errorf("No host to run on", "Kind %s edits files on the host named by `on`, but the step has no host.", openStoreSchema.Name))
	}
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	backup, _ := steps.Bool(steps.Attr(req.Args, "backup"), true)
	missingOK, _ := steps.Bool(steps.Attr(req.Args, "missing_ok"), false)
	results, rdiags := rewriteAll(ctx, req.Host, files, missingOK)
	diags = append(diags, rdiags...)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	var changed, backups, changes []string
	for _, r := range results {
		if r.missing || r.old == r.new {
			continue
		}
		if backup {
			b, wrote, err := writeBackup(ctx, req.Host, r)
			if err != nil {
				return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot back up file",
					"Saving %s to %s on %s failed, so it was not rewritten: %s.", r.path, b, req.Host.Name(), err))}
			}
			if wrote {
				backups = append(backups, b)
			}
		}
		if err := req.Host.WriteFile(ctx, r.path, []byte(r.new), r.mode); err != nil {
			return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot write file",
				"Writing %s on %s failed: %s. Files rewritten before it: %s.", r.path, req.Host.Name(), err, listOrNone(changed)))}
		}
		changed = append(changed, r.path)
		for _, c := range r.changes {
			line := r.path + ": " + c.String()
			changes = append(changes, line)
			if req.Output != nil {
				req.Output("stdout", line)
			}
		}
	}
	if reload, _ := steps.Bool(steps.Attr(req.Args, "daemon_reload"), true); reload && slices.ContainsFunc(results, func(r rewritten) bool { return r.unit && !r.missing }) {
		argv := []string{"systemctl", "daemon-reload"}
		if _, rdiags := (invocation{kind: openStoreSchema.Name, argv: argv, shown: argv}).run(ctx, req); rdiags.HasErrors() {
			for _, d := range rdiags {
				d.Detail += fmt.Sprintf("\nThe files were rewritten (%s), but systemd still has the old unit command lines; a re-run reloads again.", listOrNone(changed))
			}
			return steps.RunResponse{Diagnostics: append(diags, rdiags...)}
		}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"changed": stringList(changed),
		"backups": stringList(backups),
		"changes": stringList(changes),
	}), Diagnostics: diags}
}

// writeBackup saves r's old content unless a backup already exists.
func writeBackup(ctx context.Context, host steps.Host, r rewritten) (path string, wrote bool, err error) {
	path = r.path + backupSuffix
	_, _, err = host.ReadFile(ctx, path)
	switch {
	case err == nil:
		return path, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return path, false, err
	}
	return path, true, host.WriteFile(ctx, path, []byte(r.old), r.mode)
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
