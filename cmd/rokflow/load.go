package main

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/debuglog"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/plan"
)

// InputFlags are the options that give a playbook its inputs.
type InputFlags struct {
	// sep:"none": a value is one flag's whole text; HCL lists and maps
	// hold commas.
	Var     []string `help:"Set a variable: NAME=VALUE (repeatable). Lists and maps are HCL: --var 'nodes=[\"a\",\"b\"]'." short:"v" placeholder:"NAME=VALUE" sep:"none"`
	VarFile []string `help:"Read variables from a file of NAME = VALUE lines: HCL (.hcl) or a JSON object (.json) (repeatable)." name:"var-file" placeholder:"FILE" sep:"none"`
}

// loaded is a playbook with its bound inputs.
type loaded struct {
	pb     *lang.Playbook
	inputs map[string]cty.Value
	raw    *lang.InputSet
	files  map[string]*hcl.File
}

// load reads the playbook and binds its inputs: the environment first, then
// variable files in order, then --var flags, later ones winning. With
// allowMissing, required variables without a value are left unknown.
func (a *App) load(path string, in InputFlags, allowMissing bool) (*loaded, error) {
	pb, diags := lang.Load(path)
	files := make(map[string]*hcl.File, len(pb.Files))
	for name, f := range pb.Files {
		files[name] = f
	}
	if diags.HasErrors() {
		return nil, a.report(files, diags)
	}
	raw, ds := a.rawInputs(in, files)
	diags = append(diags, ds...)
	if diags.HasErrors() {
		return nil, a.report(files, diags)
	}
	vals, ds := lang.BindInputs(pb.Root, raw, allowMissing)
	diags = append(diags, ds...)
	if names := lang.UndeclaredEnv(pb.Root, raw); len(names) > 0 {
		debuglog.From(a.Ctx).Debug("ignoring environment variables for undeclared variables", "names", names)
	}
	if diags.HasErrors() {
		return nil, a.report(files, diags)
	}
	if err := a.report(files, diags); err != nil {
		return nil, err
	}
	return &loaded{pb: pb, inputs: vals, raw: raw, files: files}, nil
}

// rawInputs gathers the inputs as given, in the order later ones win:
// the environment, then variable files, then --var flags. The variable
// files join files, for diagnostics.
func (a *App) rawInputs(in InputFlags, files map[string]*hcl.File) (*lang.InputSet, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	raw := lang.NewInputSet()
	raw.AddEnv(a.Environ())
	p := hclparse.NewParser()
	for _, f := range in.VarFile {
		diags = append(diags, raw.AddFile(f, p)...)
	}
	for _, v := range in.Var {
		diags = append(diags, raw.AddFlag(v)...)
	}
	for name, f := range p.Files() {
		files[name] = f
	}
	return raw, diags
}

// plan plans a loaded playbook and reports its diagnostics.
func (a *App) plan(l *loaded, opts runtime.Options) (*plan.Plan, error) {
	opts.Inputs = l.inputs
	opts.Version = Version
	start := time.Now()
	p, diags := runtime.Plan(a.Ctx, l.pb, a.Registry, opts)
	if p != nil {
		debuglog.From(a.Ctx).Debug("planned", "playbook", l.pb.Meta.Name, "instances", len(p.Instances), "discover", opts.Discover, "elapsed", time.Since(start))
	}
	if err := a.report(l.files, diags); err != nil {
		return nil, err
	}
	return p, nil
}
