package rok

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/openstore"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// OpenStoreEndpoints is the kind rok.openstore_endpoints: it rewrites the
// OpenStore endpoints of a node's daemons.conf and environment files into
// their v0.11 form.
type OpenStoreEndpoints struct{}

var _ steps.Kind = OpenStoreEndpoints{}

// backupSuffix names the copy of a file's content before its first rewrite.
const backupSuffix = ".rokflow.bak"

var openStoreSchema = &steps.Schema{
	Name:    "rok.openstore_endpoints",
	Summary: "Rewrite OpenStore endpoints in daemons.conf and environment files to the v0.11 form.",
	Description: "Reads each file on the target node and rewrites its OpenStore endpoints the way Rok v0.11 " +
		"wants them: tcp:// becomes http://, the role is written out (role=slave,… or role=master,…), " +
		"openstore-controller becomes connect and the External Controller's bind-http becomes " +
		"controller-listen with the slave role; in environment files, variables such as " +
		"OPENSTORE_CONTROLLER get the http:// scheme. Only those values change; comments, spacing and " +
		"every other line are kept byte for byte. Files are replaced atomically and only when their " +
		"content changes, so a second run changes nothing. Before the first rewrite of a file its old " +
		"content is saved beside it as FILE" + backupSuffix + " (an existing backup is kept, since it " +
		"holds the oldest content). Every file is read and checked before any is written: a value the " +
		"rewriter cannot migrate safely (an unknown option holding tcp://, a malformed endpoint) fails " +
		"the step with nothing changed. With plan --discover the plan shows the unified diff.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"daemons_conf": {
			Type:        cty.List(cty.String),
			Default:     cty.ListVal([]cty.Value{cty.StringVal("/etc/rok/daemons.conf")}),
			Description: "INI files of daemon options ([daemon.N] sections, keys are long options without dashes) to rewrite.",
		},
		"env_files": {
			Type:        cty.List(cty.String),
			Default:     cty.ListValEmpty(cty.String),
			Description: "Shell or environment files of VAR=value lines (such as /etc/default/rok) whose OpenStore endpoint variables to rewrite.",
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
		"changes": {Type: cty.List(cty.String), Description: "One line per rewritten value: \"FILE: line N [section]: old -> new\"."},
	},
}

// Schema implements steps.Kind.
func (OpenStoreEndpoints) Schema() *steps.Schema { return openStoreSchema }

// endpointFile is one file the kind rewrites and the rewriter for its form.
type endpointFile struct {
	path    string
	rewrite func(string) (string, []openstore.Change, error)
}

// endpointFiles lists the files named by the arguments. ok is false while a
// list is unknown.
func endpointFiles(args cty.Value) (files []endpointFile, ok bool, diags hcl.Diagnostics) {
	ok = true
	add := func(name string, rewrite func(string) (string, []openstore.Change, error)) {
		v := attr(args, name)
		if v.IsNull() {
			return
		}
		paths, lok := strList(v)
		if !lok {
			ok = false
			return
		}
		for _, p := range paths {
			if !strings.HasPrefix(p, "/") {
				diags = append(diags, errorf("Relative path", "The %s argument must hold absolute paths; %q is not.", name, p))
				continue
			}
			files = append(files, endpointFile{path: p, rewrite: rewrite})
		}
	}
	add("daemons_conf", openstore.RewriteConfig)
	add("env_files", openstore.RewriteEnv)
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.path] {
			diags = append(diags, errorf("File listed twice", "%s is listed more than once.", f.path))
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
}

// rewriteAll reads and rewrites every file in memory; nothing is written.
func rewriteAll(ctx context.Context, host steps.Host, files []endpointFile, missingOK bool) ([]rewritten, hcl.Diagnostics) {
	var out []rewritten
	var diags hcl.Diagnostics
	for _, f := range files {
		data, mode, err := host.ReadFile(ctx, f.path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if !missingOK {
					diags = append(diags, errorf("File not found", "%s does not exist on %s (set missing_ok = true to skip missing files).", f.path, host.Name()))
				}
				out = append(out, rewritten{path: f.path, missing: true})
				continue
			}
			diags = append(diags, errorf("Cannot read file", "Reading %s on %s: %s.", f.path, host.Name(), err))
			continue
		}
		text := string(data)
		newText, changes, err := f.rewrite(text)
		if err != nil {
			diags = append(diags, errorf("Cannot rewrite OpenStore endpoints",
				"%s on %s cannot be migrated safely, so nothing was changed:\n%s", f.path, host.Name(), err))
			continue
		}
		out = append(out, rewritten{path: f.path, old: text, new: newText, mode: mode, changes: changes})
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
	missingOK, _ := boolean(attr(req.Args, "missing_ok"), false)
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
		if n == 0 {
			resp.Summary = "OpenStore endpoints already in the v0.11 form in " + strings.Join(paths, ", ")
		} else {
			resp.Summary = fmt.Sprintf("rewrite OpenStore endpoints to the v0.11 form in %d of %d files", n, len(files))
		}
	}
	return resp
}

// Run implements steps.Kind.
func (OpenStoreEndpoints) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	files, ok, diags := endpointFiles(req.Args)
	if !ok {
		diags = append(diags, errorf("File list not known", "Kind %s needs known file lists.", openStoreSchema.Name))
	}
	if req.Host == nil {
		diags = append(diags, errorf("No host to run on", "Kind %s edits files on the host named by `on`, but the step has no host.", openStoreSchema.Name))
	}
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	backup, _ := boolean(attr(req.Args, "backup"), true)
	missingOK, _ := boolean(attr(req.Args, "missing_ok"), false)
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
				return steps.RunResponse{Diagnostics: append(diags, errorf("Cannot back up file",
					"Saving %s to %s on %s failed, so it was not rewritten: %s.", r.path, b, req.Host.Name(), err))}
			}
			if wrote {
				backups = append(backups, b)
			}
		}
		if err := req.Host.WriteFile(ctx, r.path, []byte(r.new), r.mode); err != nil {
			return steps.RunResponse{Diagnostics: append(diags, errorf("Cannot write file",
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
