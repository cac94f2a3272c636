package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyfunc "github.com/zclconf/go-cty/cty/function"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/connect"
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

// condOf combines the enclosing condition of s with a when expression.
func (p *planner) condOf(s *scope, when hcl.Expression) cond {
	c, _ := p.condDeps(s, when)
	return c
}

// condDeps is condOf that also returns what the when expression depends on.
func (p *planner) condDeps(s *scope, when hcl.Expression) (cond, deps) {
	c := s.cond
	if when == nil || c.skip {
		return c, nil
	}
	v, ds := p.eval(s, when)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() {
		return c, v.deps
	}
	if hasSensitive(v.v) {
		p.diags = append(p.diags, sensitiveWhen(when))
		return c, v.deps
	}
	switch {
	case !v.v.IsKnown():
		if c.unknown == "" {
			c.unknown = marks.UnknownText(v.v)
		}
	default:
		b, err := convert.Convert(v.v, cty.Bool)
		b, _ = b.Unmark()
		if err != nil || b.IsNull() {
			p.diags = append(p.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid when condition",
				Detail:   "A when condition must be true or false.",
				Subject:  when.Range().Ptr(),
			})
			return c, v.deps
		}
		if b.False() {
			c.skip = true
			c.reason = "its when condition is false (" + rangeText(when.Range()) + ")"
		}
	}
	return c, v.deps
}

func rangeText(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// element is one key of a for_each collection.
type element struct {
	key   string
	value cty.Value
}

// forEach evaluates a for_each expression. It returns the elements sorted
// by key (for maps and objects) or in list order, and known=false when the
// collection is not known yet.
func (p *planner) forEach(s *scope, expr hcl.Expression) (elems []element, known bool, elemType cty.Type, v val) {
	v, ds := p.eval(s, expr)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() {
		return nil, false, cty.DynamicPseudoType, v
	}
	raw, _ := v.v.Unmark()
	sensitive := func() (elems []element, known bool, elemType cty.Type, v0 val) {
		p.diags = append(p.diags, sensitiveForEach(expr))
		return nil, false, cty.DynamicPseudoType, v
	}
	// Marks inside are found element by element below, in the one pass
	// over a collection that may hold thousands.
	if v.v.HasMark(marks.Sensitive) || (!raw.IsKnown() && marks.IsSensitive(raw)) {
		return sensitive()
	}
	ty := raw.Type()
	switch {
	case ty.IsListType() || ty.IsSetType() || ty.IsMapType():
		elemType = ty.ElementType()
	case ty.IsObjectType() || ty.IsTupleType() || ty == cty.DynamicPseudoType:
		elemType = cty.DynamicPseudoType
	default:
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid for_each collection",
			Detail:   fmt.Sprintf("for_each takes a map, an object, or a list or set of strings, not %s.", typeName(ty)),
			Subject:  expr.Range().Ptr(),
		})
		return nil, false, cty.DynamicPseudoType, v
	}
	if !raw.IsKnown() {
		return nil, false, elemType, v
	}
	if raw.IsNull() {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Null for_each collection",
			Detail:   "for_each needs a collection; use an empty list for none.",
			Subject:  expr.Range().Ptr(),
		})
		return nil, false, elemType, v
	}
	byKey := ty.IsMapType() || ty.IsObjectType()
	seen := make(map[string]bool, raw.LengthInt())
	for it := raw.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if !byKey && hasSensitive(ev) {
			// A list's or set's elements are its keys; a map's values
			// may be sensitive, each.value carries the mark on.
			return sensitive()
		}
		var key string
		if byKey {
			key = k.AsString()
		} else {
			ev, _ := ev.Unmark()
			if !ev.IsKnown() {
				return nil, false, elemType, v
			}
			if ev.Type() != cty.String || ev.IsNull() {
				p.diags = append(p.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid for_each collection",
					Detail:   "A list or set given to for_each must hold strings, which become the element keys; give a map to iterate over other values.",
					Subject:  expr.Range().Ptr(),
				})
				return nil, false, elemType, v
			}
			key = ev.AsString()
			if seen[key] {
				p.diags = append(p.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate for_each key",
					Detail:   fmt.Sprintf("The key %q appears twice in the for_each list; each element needs its own key.", key),
					Subject:  expr.Range().Ptr(),
				})
				continue
			}
		}
		seen[key] = true
		elems = append(elems, element{key: key, value: ev})
	}
	if byKey {
		sort.Slice(elems, func(i, j int) bool { return elems[i].key < elems[j].key })
	}
	return elems, true, elemType, v
}

func typeName(t cty.Type) string {
	if t == cty.DynamicPseudoType {
		return "a value of any type"
	}
	return t.FriendlyName()
}

// eachVal is what each evaluates to: {key, value}. Over a collection of
// strings it is a map, far cheaper to build for each of thousands of
// elements than an object; each.key and each.value read both alike.
func eachVal(key, value cty.Value) cty.Value {
	if value.Type() == cty.String {
		return cty.MapVal(map[string]cty.Value{"key": key, "value": value})
	}
	return cty.ObjectVal(map[string]cty.Value{"key": key, "value": value})
}

func keyAddr(key string) string { return addrs.Key(key) }

// planStep plans a module-level or group step and returns its value for
// references: an object {outputs} or, with for_each, a map of them.
func (p *planner) planStep(s *scope, st *lang.Step) val {
	cs := p.c.steps[st]
	base := s.prefix + "step." + st.Name
	if st.ForEach == nil {
		return p.planInstance(s, st, cs, base, "")
	}
	elems, known, elemType, fv := p.forEach(s, st.ForEach)
	outType := cty.DynamicPseudoType
	if cs.schema != nil {
		outType = cs.valueType
	}
	if !known {
		es := *s
		es.static, es.staticParent = nil, p.staticContext(s)
		ka := p.knownAfterMark(fv)
		es.each = &val{v: eachVal(cty.UnknownVal(cty.String).Mark(ka), cty.UnknownVal(elemType).Mark(ka)), deps: fv.deps}
		es.extra = s.extra.union(fv.deps)
		d := p.planInstance(&es, st, cs, base+"[*]", "*")
		return val{v: cty.UnknownVal(cty.Map(outType)).Mark(marks.KnownAfter{Addr: marks.KnownAfterOf(fv.v)}), deps: d.deps}
	}
	ivs := make([]val, len(elems))
	first := p.nextIndex()
	static, extra := p.staticContext(s), s.extra.union(fv.deps)
	p.inShares(s, len(elems), func(q *planner, i int) {
		e := elems[i]
		es := *s
		es.static, es.staticParent = nil, static
		// each is built only if the step's expressions use it.
		es.each = &val{deps: fv.deps, lazy: &lazyVal{build: func() cty.Value { return eachVal(cty.StringVal(e.key), e.value) }}}
		es.extra = extra
		ivs[i] = q.planInstance(&es, st, cs, base+keyAddr(e.key), e.key)
	})
	d := p.instancesSince(first)
	if len(elems) == 0 {
		return val{v: cty.MapValEmpty(outType), deps: d}
	}
	return lazily(d, func() cty.Value {
		vals := make(map[string]cty.Value, len(elems))
		for i, e := range elems {
			vals[e.key] = ivs[i].value()
		}
		m, err := mapOrObject(vals)
		if err != nil {
			return cty.DynamicVal
		}
		return m
	})
}

func mapOrObject(vals map[string]cty.Value) (cty.Value, error) {
	var ty cty.Type
	same := true
	for _, v := range vals {
		if ty == cty.NilType {
			ty = v.Type()
		} else if !ty.Equals(v.Type()) {
			same = false
			break
		}
	}
	if same {
		return cty.MapVal(vals), nil
	}
	return cty.ObjectVal(vals), nil
}

func stepValueType(s *steps.Schema) cty.Type {
	return cty.Map(s.OutputType())
}

// planInstance plans one step instance and returns its value {outputs}
// with its own index as the dependency.
func (p *planner) planInstance(s *scope, st *lang.Step, cs *cstep, addr, key string) val {
	idx := p.nextIndex()
	local := idx - p.base
	inst := p.newInstance()
	*inst = plan.Instance{
		Address:     addr,
		Step:        st.Name,
		Kind:        st.Kind,
		Description: st.Description,
		Once:        cs.once,
		Source:      cs.source,
		Module:      s.module(),
	}
	if key != "" && s.group == nil {
		inst.Key = key
	}
	if s.group != nil {
		inst.Group, inst.Key, inst.Batch = s.group.addr, s.group.key, s.group.batch
	}
	p.plan.Instances = append(p.plan.Instances, inst)
	p.deps = append(p.deps, nil)
	p.extras = append(p.extras, instExtra{kind: cs.kind, schema: cs.schema})
	self := deps{idx}
	diagStart := len(p.diags)
	defer func() {
		if len(p.diags) > diagStart {
			p.extras[local].diags = append(hcl.Diagnostics(nil), p.diags[diagStart:]...)
		}
	}()

	outType := cty.DynamicPseudoType
	if cs.schema != nil {
		outType = cs.outType
		inst.ReadOnly = cs.schema.Effect == steps.ReadOnly
		inst.Gate = cs.schema.Gate
		inst.Effect = cs.schema.Effect.String()
		if cs.once {
			inst.Effect = steps.Once.String()
		}
	}
	unknownOut := cty.UnknownVal(outType)
	result := func(out cty.Value) val {
		return val{deps: self, lazy: &lazyVal{out: out, addr: addr}}
	}

	var d deps = s.extra
	d = d.union(p.refDeps(s, cs.dependsOn))
	// The undo step is run by the runtime when this one must be
	// compensated; it is not an ordering dependency.
	p.planUndo(s, st, cs, inst, addr, key, local)

	c, wdeps := p.condDeps(s, st.When)
	d = d.union(wdeps)
	if why := p.doneSkip(inst.ReadOnly); why != "" && !c.skip {
		c.skip, c.reason = true, why
	}
	inst.Action = plan.Run
	if inst.Gate {
		inst.Action = plan.Gate
	}
	switch {
	case c.skip:
		inst.Action = plan.Skip
		inst.Reason = c.reason
	case key == "*" || (s.group != nil && s.group.key == "*"):
		inst.Action = plan.Deferred
		inst.Reason = "one instance per element, elements " + p.deferredText(s)
	case c.unknown != "":
		inst.Action = plan.Conditional
		inst.Reason = "runs if its when condition holds, " + c.unknown
	}
	if cs.kind == nil {
		p.deps[local] = d
		return result(unknownOut)
	}
	if inst.Action == plan.Skip {
		// A skipped step is not evaluated: its arguments may well be
		// meaningless on the path not taken (a Ganeti step on appliances).
		p.deps[local] = d
		inst.Summary = "skipped"
		return result(nullOutputs(outType))
	}

	// Target.
	if st.On != nil {
		on, ds := p.eval(s, st.On)
		p.diags = append(p.diags, ds...)
		d = d.union(on.deps)
		inst.Target = p.targetText(st, on.v)
	} else if cs.schema.Target == steps.TargetHost {
		inst.Target = connect.LocalTarget
	}
	reachable := p.checkRoute(s, st, cs, inst.Target)

	// Arguments.
	ctx, ad := p.evalContext(s, cs.refs)
	d = d.union(ad)
	attrs, marked, ds := decodeAttrs(cs.body, cs.schema.Args, ctx)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() {
		p.deps[local] = d
		return result(unknownOut)
	}
	// A kind that plans from its arguments by name is spared the object,
	// which is built when the step runs or the plan is saved.
	attrPlanner, byName := cs.kind.(steps.AttrPlanner)
	byName = byName && len(cs.sensitive) == 0 && !p.opts.Discover
	var args cty.Value
	if byName {
		inst.ArgAttrs = attrs
	} else {
		args = markSensitive(cty.ObjectVal(attrs), cs.sensitive)
		inst.ArgValues = args
	}
	p.extras[local].marked = marked || len(cs.sensitive) > 0
	if p.extras[local].marked {
		var in steps.Attrs = args
		if byName {
			in = steps.AttrMap(attrs)
		}
		if taints(cs.schema, in) {
			unknownOut = plannedOutputs(cs.schema, outType, addr)
		}
	}

	// Timeout and retry. A kind that waits for a condition has a default
	// timeout, its bound when the step sets none.
	if st.Timeout != nil {
		inst.Timeout = p.durationText(s, st.Timeout, "timeout")
	} else {
		inst.Timeout = cs.schema.DefaultTimeout
	}
	if st.Connection != "" {
		p.extras[local].conn = p.connection(s, st)
	}
	if len(st.Post) > 0 {
		p.extras[local].post = func(out cty.Value) hcl.Diagnostics { return p.checkPost(s, st, addr, out) }
	}
	if st.Retry != nil {
		inst.Retry = p.retry(s, st.Retry)
	}
	for _, chk := range st.Pre {
		p.checkCondition(s, chk, "precondition", addr)
	}
	p.deps[local] = d

	if known, ok := p.opts.Known[addr]; ok {
		inst.Summary = "done"
		inst.Reason = "already ran in this run"
		return result(known)
	}

	req := steps.PlanRequest{Args: args}
	if inst.Target != "" && !strings.HasPrefix(inst.Target, "(") {
		req.Target = inst.Target
	}
	var host steps.Host
	if p.opts.Discover && p.opts.Hosts != nil && cs.schema.Target == steps.TargetHost && req.Target != "" && reachable && inst.Action != plan.Deferred {
		h, err := p.opts.Hosts(p.ctx, req.Target, p.connection(s, st))
		if err != nil {
			p.diags = append(p.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Cannot reach host during discovery",
				Detail:   fmt.Sprintf("%s: %s. The plan shows this step without discovered facts.", addr, err),
				Subject:  st.DeclRange.Ptr(),
			})
		} else {
			host = h
			req.Host = h
		}
	}
	var pr steps.PlanResponse
	if byName {
		pr = attrPlanner.PlanAttrs(p.ctx, steps.AttrMap(attrs), req)
	} else {
		pr = cs.kind.Plan(p.ctx, req)
	}
	p.diags = append(p.diags, withSubject(pr.Diagnostics, st.DeclRange)...)
	inst.Summary, inst.Command, inst.Request, inst.Diff, inst.Instructions = pr.Summary, pr.Command, pr.Request, pr.Diff, pr.Instructions

	if p.opts.Discover && inst.ReadOnly && !cs.schema.NoDiscover && inst.Action == plan.Run && args.IsWhollyKnown() && (host != nil || cs.schema.Target == steps.TargetNone) {
		out, ok := p.discover(st, cs, addr, args, req.Target, host)
		if ok {
			inst.Action = plan.Read
			if p.plan.Facts == nil {
				p.plan.Facts = map[string]json.RawMessage{}
			}
			p.plan.Facts[addr] = json.RawMessage(factText(out))
			inst.Outputs = map[string]plan.Value{}
			raw, _ := out.Unmark()
			for it := raw.ElementIterator(); it.Next(); {
				k, v := it.Element()
				inst.Outputs[k.AsString()] = PlanValue(v.WithSameMarks(out))
			}
			return result(out)
		}
	}
	return result(unknownOut)
}

// deferredText says when the collection behind a template instance will
// be known.
func (p *planner) deferredText(s *scope) string {
	if s.each != nil {
		key, _ := eachField(s.each.value(), "key")
		return p.unknownText(val{v: key, deps: s.each.deps})
	}
	if s.group != nil {
		return s.group.knownAfter
	}
	return "(known after apply)"
}

// knownAfterMark is the mark for values derived from an unknown
// collection's elements.
func (p *planner) knownAfterMark(v val) marks.KnownAfter {
	t := p.unknownText(v)
	return marks.KnownAfter{Addr: strings.TrimSuffix(strings.TrimPrefix(t, "(known after "), ")")}
}

// unknownText says when an unknown value becomes known: from the mark
// it carries or, when an expression dropped the mark, from the steps it
// was derived from.
func (p *planner) unknownText(v val) string {
	if a := marks.KnownAfterOf(v.v); a != "" {
		return "(known after " + a + ")"
	}
	if len(v.deps) == 0 {
		return "(known after apply)"
	}
	var names []string
	for _, i := range v.deps {
		names = append(names, p.instance(i).Address)
		if len(names) == 3 {
			break
		}
	}
	if len(v.deps) > 3 {
		names = append(names, "…")
	}
	return "(known after " + strings.Join(names, ", ") + ")"
}

// discover runs a read-only step during the plan.
func (p *planner) discover(st *lang.Step, cs *cstep, addr string, args cty.Value, target string, host steps.Host) (cty.Value, bool) {
	taint := newStepTaint(cs.schema, args)
	raw, _ := args.UnmarkDeep()
	resp := cs.kind.Run(p.ctx, steps.RunRequest{Args: raw, Target: target, Host: host, Sensitive: taint.sensitive()})
	taint.diags(resp.Diagnostics)
	if resp.Diagnostics.HasErrors() {
		for _, d := range resp.Diagnostics {
			d.Severity = hcl.DiagWarning
			d.Summary = "Discovery failed: " + d.Summary
			if d.Subject == nil {
				d.Subject = st.DeclRange.Ptr()
			}
		}
		p.diags = append(p.diags, resp.Diagnostics...)
		return cty.NilVal, false
	}
	out := resp.Outputs
	if out == cty.NilVal || !out.Type().IsObjectType() {
		return cty.NilVal, false
	}
	if conv, err := convert.Convert(out, cs.outType); err == nil {
		out = conv
	}
	return taint.outputs(out), true
}

func withSubject(diags hcl.Diagnostics, rng hcl.Range) hcl.Diagnostics {
	for _, d := range diags {
		if d.Subject == nil {
			d.Subject = rng.Ptr()
		}
	}
	return diags
}

func modulePrefix(prefix string) string {
	// The module part of an address prefix: everything up to the last
	// "module.NAME.".
	i := strings.LastIndex(prefix, "module.")
	if i < 0 {
		return ""
	}
	rest := prefix[i+len("module."):]
	j := strings.IndexByte(rest, '.')
	if j < 0 {
		return prefix
	}
	return prefix[:i+len("module.")+j+1]
}

func (p *planner) targetText(st *lang.Step, on cty.Value) string {
	if on.HasMark(marks.Sensitive) {
		p.diags = append(p.diags, sensitiveTarget(st.On))
		return marks.Masked
	}
	if !on.IsKnown() {
		return marks.UnknownText(on)
	}
	on, _ = on.Unmark()
	s, err := convert.Convert(on, cty.String)
	if err != nil || s.IsNull() || s.AsString() == "" {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid target",
			Detail:   "The on argument takes a host name as a non-empty string.",
			Subject:  st.On.Range().Ptr(),
		})
		return ""
	}
	return s.AsString()
}

// durationText evaluates a duration argument ("90s", "10m").
func (p *planner) durationText(s *scope, expr hcl.Expression, what string) string {
	v, ds := p.eval(s, expr)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() || v.v.IsNull() {
		return ""
	}
	if !v.v.IsKnown() {
		return marks.UnknownText(v.v)
	}
	raw, _ := v.v.Unmark()
	str, err := convert.Convert(raw, cty.String)
	if err == nil {
		if _, perr := time.ParseDuration(str.AsString()); perr == nil {
			return str.AsString()
		}
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + what,
		Detail:   fmt.Sprintf("The %s must be a duration such as \"90s\", \"10m\" or \"1h30m\".", what),
		Subject:  expr.Range().Ptr(),
	})
	return ""
}

func (p *planner) intArg(s *scope, expr hcl.Expression, what string, def, minimum int) int {
	if expr == nil {
		return def
	}
	v, ds := p.eval(s, expr)
	p.diags = append(p.diags, ds...)
	raw, _ := v.v.Unmark()
	if ds.HasErrors() || !raw.IsKnown() || raw.IsNull() {
		return def
	}
	n, err := convert.Convert(raw, cty.Number)
	if err == nil {
		bf := n.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact && i >= int64(minimum) && i <= 1<<30 {
			return int(i)
		}
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + what,
		Detail:   fmt.Sprintf("The %s must be a whole number of at least %d.", what, minimum),
		Subject:  expr.Range().Ptr(),
	})
	return def
}

func (p *planner) retry(s *scope, r *lang.Retry) *plan.Retry {
	out := &plan.Retry{Attempts: p.intArg(s, r.Attempts, "retry attempts", 1, 1), Delay: "5s", MaxDelay: "1m"}
	if r.Delay != nil {
		out.Delay = p.durationText(s, r.Delay, "retry delay")
	}
	if r.MaxDelay != nil {
		out.MaxDelay = p.durationText(s, r.MaxDelay, "retry max_delay")
	}
	return out
}

// checkCondition evaluates a precondition when it can; a known false one
// is an error in the plan, since the run would stop there.
func (p *planner) checkCondition(s *scope, chk *lang.Check, what, addr string) {
	v, ds := p.eval(s, chk.Condition)
	p.diags = append(p.diags, ds...)
	raw, _ := v.v.Unmark()
	if ds.HasErrors() || !raw.IsKnown() || raw.IsNull() {
		return
	}
	b, err := convert.Convert(raw, cty.Bool)
	if err != nil {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + what,
			Detail:   "A condition must be true or false.",
			Subject:  chk.Condition.Range().Ptr(),
		})
		return
	}
	if b.True() {
		return
	}
	msg := "the condition is false"
	if m, ds := p.eval(s, chk.ErrorMessage); !ds.HasErrors() && m.v.IsKnown() && !m.v.IsMarked() && m.v.Type() == cty.String && !m.v.IsNull() {
		msg = m.v.AsString()
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  strings.ToUpper(what[:1]) + what[1:] + " failed",
		Detail:   fmt.Sprintf("%s: %s", addr, msg),
		Subject:  chk.Condition.Range().Ptr(),
	})
}

// nullOutputs is the outputs of a skipped step: every attribute null, so
// that step.NAME.outputs.x is null rather than an error.
func nullOutputs(t cty.Type) cty.Value {
	if !t.IsObjectType() {
		return cty.NullVal(t)
	}
	attrs := make(map[string]cty.Value, len(t.AttributeTypes()))
	for n, at := range t.AttributeTypes() {
		attrs[n] = cty.NullVal(at)
	}
	return cty.ObjectVal(attrs)
}

// stepValue is what step.NAME evaluates to: {outputs = …}. It is a map of
// one element rather than an object because building an object type for
// every one of thousands of instances costs more than the plan itself;
// attribute syntax works on both.
func stepValue(out cty.Value) cty.Value {
	return cty.MapVal(map[string]cty.Value{"outputs": out})
}

// markSensitive marks the arguments a kind declares sensitive.
func markSensitive(args cty.Value, paths []cty.Path) cty.Value {
	if len(paths) == 0 {
		return args
	}
	pvm := make([]cty.PathValueMarks, 0, len(paths))
	for _, path := range paths {
		pvm = append(pvm, cty.PathValueMarks{Path: path, Marks: cty.NewValueMarks(marks.Sensitive)})
	}
	unmarked, existing := args.UnmarkDeepWithPaths()
	marked, err := cty.Transform(unmarked, func(path cty.Path, v cty.Value) (cty.Value, error) {
		for _, pm := range pvm {
			if path.Equals(pm.Path) {
				return v.Mark(marks.Sensitive), nil
			}
		}
		return v, nil
	})
	if err != nil {
		return args
	}
	m, others := marked.UnmarkDeepWithPaths()
	return m.MarkWithPaths(append(existing, others...))
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
