package runtime

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyfunc "github.com/zclconf/go-cty/cty/function"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/steps"
)

// Options control a plan.
type Options struct {
	// Inputs are the root variables' values, from lang.BindInputs.
	Inputs map[string]cty.Value
	// Known holds the outputs of step instances that already ran, by
	// address; those steps plan as done and their outputs are known.
	Known map[string]cty.Value
	// Discover runs read-only steps whose arguments are known during the
	// plan, through Hosts, so later steps see their outputs.
	Discover bool
	// Hosts resolves a step's target to a host for discovery. Nil disables
	// discovery and file diffs.
	Hosts HostResolver
	// Pure makes impure functions (env, file) unknown, for validate.
	Pure bool
	// Version is rokflow's version, recorded in the plan.
	Version string
}

// HostResolver returns the host a step instance runs on, given its target
// and the evaluated connection block (null when the step names none).
type HostResolver func(ctx context.Context, target string, conn cty.Value) (steps.Host, error)

// planner holds the state of one planning walk.
type planner struct {
	ctx         context.Context
	pb          *lang.Playbook
	c           *compiled
	opts        Options
	funcs       map[string]ctyfunc.Function
	playbookVal cty.Value
	// release is what the plan knows of the cluster's release, once the
	// playbook's release block is evaluated; nil before and without one.
	release *releaseState

	plan  *plan.Plan
	deps  []deps // per instance
	diags hcl.Diagnostics
	// root is the playbook's module scope, whose connections every module
	// may use.
	root *scope
	// extras holds, per instance, what only an in-process executor needs.
	extras []instExtra
	// refCache holds each expression's parsed references, by its source
	// range (expressions are not all comparable); the same
	// expression is evaluated once per instance.
	refCache map[hcl.Range][]lang.Ref
	// consts caches what compiled.constant answered, without its lock.
	consts map[hcl.Range]constEntry

	// A planner planning a share of a group's elements beside others (see
	// planElements) numbers its instances from base up and finds earlier
	// ones in parent; its instances are renumbered when they are merged.
	base   int32
	parent *planner

	// slab is where instances are allocated from, many at a time.
	slab []plan.Instance
}

// newInstance returns a zero instance from the slab.
func (p *planner) newInstance() *plan.Instance {
	if len(p.slab) == 0 {
		p.slab = make([]plan.Instance, 256)
	}
	inst := &p.slab[0]
	p.slab = p.slab[1:]
	return inst
}

// reserve makes room for n more instances, when their number is known
// ahead, so that the per-instance slices grow once.
func (p *planner) reserve(n int) {
	p.plan.Instances = slices.Grow(p.plan.Instances, n)
	p.deps = slices.Grow(p.deps, n)
	p.extras = slices.Grow(p.extras, n)
}

// nextIndex is the index the next planned instance gets.
func (p *planner) nextIndex() int32 { return p.base + int32(len(p.plan.Instances)) }

// instance returns the instance with index i.
func (p *planner) instance(i int32) *plan.Instance {
	if i >= p.base {
		return p.plan.Instances[i-p.base]
	}
	return p.parent.instance(i)
}

// Plan plans the playbook. The plan is usable only when the diagnostics
// hold no errors.
func Plan(ctx context.Context, pb *lang.Playbook, reg *steps.Registry, opts Options) (*plan.Plan, hcl.Diagnostics) {
	c, diags := compile(pb, reg)
	if diags.HasErrors() {
		return nil, diags
	}
	p := walk(ctx, pb, c, opts, diags)
	bindFacts(p.plan)
	// A plan says what it was made from, for a plan file to be bound to
	// and to find again; the executor's re-plans need neither.
	p.plan.Hash = Hash(pb, opts.Inputs)
	p.plan.Playbook.Dir = pb.Dir
	return p.plan, p.diags
}

// planned is what one planning walk produced: the plan, and per instance
// what only an in-process executor needs beyond the plan's data. The
// executor reads a walk's result only through it.
type planned struct {
	plan *plan.Plan
	// extras holds, per instance of plan, its kind, connection, checks,
	// undo and diagnostics.
	extras []instExtra
	// diags are every diagnostic of the walk, those of instances too
	// (see globalErrors).
	diags hcl.Diagnostics
	// release is what the plan knows of the cluster's release; nil for a
	// playbook without a release block.
	release *releaseState
}

// walk plans a compiled playbook.
func walk(ctx context.Context, pb *lang.Playbook, c *compiled, opts Options, diags hcl.Diagnostics) *planned {
	p := &planner{
		ctx:      ctx,
		pb:       pb,
		c:        c,
		opts:     opts,
		funcs:    lang.Functions(pb.Dir, opts.Pure),
		diags:    diags,
		refCache: map[hcl.Range][]lang.Ref{},
		consts:   map[hcl.Range]constEntry{},
	}
	meta := pb.Meta
	if meta == nil {
		meta = &lang.Meta{}
	}
	p.playbookVal = cty.ObjectVal(map[string]cty.Value{
		"name": cty.StringVal(meta.Name),
		"from": cty.StringVal(meta.From),
		"to":   cty.StringVal(meta.To),
	})
	p.plan = &plan.Plan{
		FormatVersion: jsondoc.Plan.Version.String(),
		Rokflow:       opts.Version,
		Playbook: plan.Playbook{
			Name: meta.Name, From: meta.From, To: meta.To, Description: meta.Description,
			Path: pb.DisplayDir,
		},
		Discovered: opts.Discover,
		Variables:  map[string]plan.Value{},
		Outputs:    map[string]plan.Value{},
		// Empty, not null, in JSON: the plan schema says arrays.
		Instances: []*plan.Instance{},
		Args:      encodeArgs,
		Groups:    []*plan.Group{},
	}
	p.diags = append(p.diags, checkMeta(pb.Meta, opts.Version)...)
	root := newModuleScope(pb.Root, "")
	p.root = root
	for _, name := range sortedKeys(pb.Root.Variables) {
		v, ok := opts.Inputs[name]
		if !ok {
			v = cty.UnknownVal(pb.Root.Variables[name].Type)
		}
		root.vars[name] = val{v: v}
		p.plan.Variables[name] = PlanValue(v)
	}
	outs := p.walkModule(root)
	for name, o := range outs {
		p.plan.Outputs[name] = PlanValue(o.v)
	}
	p.finish()
	lang.HideSensitive(p.diags)
	return &planned{plan: p.plan, extras: p.extras, diags: p.diags, release: p.release}
}

// walkModule evaluates a module instance's nodes in order and returns its
// outputs.
func (p *planner) walkModule(s *scope) map[string]val {
	outs := map[string]val{}
	// Connections refer only to the module's variables (see compile), so
	// they are evaluated once per module instance, before its steps.
	if len(s.mod.Connections) > 0 {
		s.conns = make(map[string]cty.Value, len(s.mod.Connections))
		for _, name := range sortedKeys(s.mod.Connections) {
			s.conns[name] = p.evalConnection(s, s.mod.Connections[name])
		}
	}
	for _, n := range p.c.modules[s.mod].order {
		switch {
		case n.local != nil:
			v, ds := p.eval(s, n.local.Expr)
			p.diags = append(p.diags, ds...)
			s.locals[n.local.Name] = v
		case n.release != nil:
			p.evalRelease(s, n.release)
		case n.hook != nil:
			if s.hooks == nil {
				s.hooks = map[string]val{}
			}
			s.hooks[n.hook.Name] = p.planHook(s, n.hook)
		case n.out != nil:
			v, ds := p.eval(s, n.out.Expr)
			p.diags = append(p.diags, ds...)
			if n.out.Sensitive {
				v.v = v.v.Mark(marks.Sensitive)
			}
			outs[n.out.Name] = v
		case n.item.Step != nil:
			s.steps[n.item.Step.Name] = p.planStep(s, n.item.Step)
		case n.item.Group != nil:
			s.groups[n.item.Group.Name] = p.planGroup(s, n.item.Group)
		default:
			s.calls[n.item.Call.Name] = p.planCall(s, n.item.Call)
		}
	}
	return outs
}

// planCall evaluates a module call's inputs and walks the child module.
func (p *planner) planCall(s *scope, call *lang.ModuleCall) val {
	child := newModuleScope(call.Module, s.prefix+"module."+call.Name+".")
	child.extra = s.extra.union(p.explicitDeps(s, call.DependsOn))
	child.cond = p.upgradesCond(s, call.Upgrades, p.condOf(s, call.When))
	child.group = s.group
	child.fills, child.caller = call.Hooks, s
	for _, name := range sortedKeys(call.Module.Variables) {
		v := call.Module.Variables[name]
		if child.cond.skip {
			// Nothing in a skipped module is evaluated; its inputs may not
			// make sense on the path not taken.
			child.vars[name] = val{v: cty.UnknownVal(v.Type)}
			continue
		}
		in, ok := call.Inputs[name]
		if !ok {
			child.vars[name] = val{v: lang.FinishVariable(v, v.Default)}
			continue
		}
		got, ds := p.eval(s, in.Expr)
		p.diags = append(p.diags, ds...)
		if ds.HasErrors() {
			got.v = cty.UnknownVal(v.Type)
		}
		if v.TypeDefaults != nil && got.v.IsWhollyKnown() {
			got.v = v.TypeDefaults.Apply(got.v)
		}
		conv, err := convert.Convert(got.v, v.Type)
		if err != nil {
			p.diags = append(p.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for module argument",
				Detail:   fmt.Sprintf("The module's variable %q needs %s: %s.", name, typeName(v.Type), err),
				Subject:  in.Expr.Range().Ptr(),
			})
			conv = cty.UnknownVal(v.Type)
		}
		conv = lang.FinishVariable(v, conv)
		p.diags = append(p.diags, lang.ValidateVariable(v, conv, p.funcs)...)
		child.vars[name] = val{v: conv, deps: got.deps}
	}
	first := p.nextIndex()
	outs := p.walkModule(child)
	attrs := make(map[string]cty.Value, len(outs))
	// Depending on a module means depending on every step in it, and on
	// what its outputs carry from its inputs (an output that passes an
	// input through depends on whatever the input did).
	d := p.instancesSince(first)
	for name, o := range outs {
		attrs[name] = o.value()
		d = d.union(o.deps)
	}
	return val{v: cty.ObjectVal(attrs), deps: d}
}

// planHook plans a module's extension point: after what its depends_on
// names, the caller's hook block (if the call has one), planned in the
// caller's scope as one element of a group would be. The hook's value
// stands for all of it, for the module's items that depend on it.
func (p *planner) planHook(s *scope, h *lang.Hook) val {
	d := s.extra.union(p.explicitDeps(s, h.DependsOn))
	fill := s.fills[h.Name]
	if fill == nil || s.caller == nil {
		return val{v: cty.EmptyObjectVal, deps: d}
	}
	fs := &scope{
		mod:    s.caller.mod,
		prefix: s.prefix + "hook." + h.Name + ".",
		steps:  make(map[string]val, len(fill.Steps)),
		calls:  make(map[string]val, len(fill.Calls)),
		outer:  s.caller,
		extra:  d,
		cond:   s.cond,
		group:  s.group,
	}
	return val{v: cty.EmptyObjectVal, deps: d.union(p.walkGroup(fs, fill))}
}

// explicitDeps resolves depends_on references to the instances they name.
func (p *planner) explicitDeps(s *scope, trs []hcl.Traversal) deps {
	refs, _ := lang.DependsOnRefs(trs)
	return p.refDeps(s, refs)
}

// refDeps returns the instances that references name.
func (p *planner) refDeps(s *scope, refs []lang.Ref) deps {
	var d deps
	for _, r := range refs {
		if v, ok := s.lookup(r.Kind, r.Name); ok {
			d = d.union(v.deps)
		}
	}
	return d
}

// finish turns instance dependency indices into addresses, and lists the
// instances undos owe.
func (p *planner) finish() {
	p.resolveUndos()
	for i, inst := range p.plan.Instances {
		d := p.deps[i]
		inst.DependsOn = make([]string, 0, len(d))
		for _, j := range d {
			if int(j) != i {
				inst.DependsOn = append(inst.DependsOn, p.plan.Instances[j].Address)
			}
		}
	}
}
