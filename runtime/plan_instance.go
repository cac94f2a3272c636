package runtime

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// planInstance plans one step instance and returns its value {outputs}
// with its own index as the dependency. It goes in stages, each of which
// may end the instance's plan: what it is and whether it runs, its
// target, its arguments, its timeout and retry, and what its kind says
// it will do.
func (p *planner) planInstance(s *scope, st *lang.Step, cs *cstep, addr, key string) val {
	ipv := p.addInstance(s, st, cs, addr, key)
	ip := &ipv
	diagStart := len(p.diags)
	defer func() {
		if len(p.diags) > diagStart {
			p.extras[ip.local].diags = append(hcl.Diagnostics(nil), p.diags[diagStart:]...)
		}
	}()
	if out, end := p.planAction(ip); end {
		p.deps[ip.local] = ip.d
		return ip.result(out)
	}
	reachable := p.planTarget(ip)
	if !p.planArgs(ip) {
		p.deps[ip.local] = ip.d
		return ip.result(ip.unknownOut)
	}
	p.planLimits(ip)
	p.deps[ip.local] = ip.d

	if known, ok := p.opts.Known[addr]; ok {
		ip.inst.Summary = "done"
		ip.inst.Reason = "already ran in this run"
		return ip.result(known)
	}
	return ip.result(p.callKind(ip, reachable))
}

// instancePlan is one step instance while planInstance plans it: what
// its stages hand each other.
type instancePlan struct {
	s         *scope
	st        *lang.Step
	cs        *cstep
	addr, key string
	inst      *plan.Instance
	// idx is the instance's index, local its place in this planner's
	// slices.
	idx, local int32
	// d is what the instance depends on, as far as planned.
	d deps
	// outType is the type of its outputs; unknownOut their value until
	// they are known.
	outType    cty.Type
	unknownOut cty.Value
	// attrs are its arguments by name; args the same as one object, with
	// the kind's sensitive ones marked, unless the kind plans from attrs
	// (byName).
	attrs  map[string]cty.Value
	args   cty.Value
	byName bool
}

// result is the instance's value for references, its outputs out.
func (ip *instancePlan) result(out cty.Value) val {
	return val{deps: deps{ip.idx}, lazy: &lazyVal{out: out, addr: ip.addr}}
}

// addInstance appends a new instance, placed in its module and group,
// with what its kind's schema says of its effect.
func (p *planner) addInstance(s *scope, st *lang.Step, cs *cstep, addr, key string) instancePlan {
	idx := p.nextIndex()
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
	ip := instancePlan{s: s, st: st, cs: cs, addr: addr, key: key, inst: inst, idx: idx, local: idx - p.base}
	ip.outType = cty.DynamicPseudoType
	if cs.schema != nil {
		ip.outType = cs.outType
		inst.ReadOnly = cs.schema.Effect == steps.ReadOnly
		inst.Gate = cs.schema.Gate
		inst.Effect = cs.schema.Effect.String()
		if cs.once {
			inst.Effect = steps.Once.String()
		}
	}
	ip.unknownOut = cty.UnknownVal(ip.outType)
	return ip
}

// planAction sets what will happen to the instance: it runs (or waits at
// its gate), is skipped, deferred or conditional. It collects what the
// instance depends on through depends_on and its when condition, and
// plans its undo. end says the instance's plan ends here, with outputs
// out: its kind is unknown, or it is skipped and so not evaluated.
func (p *planner) planAction(ip *instancePlan) (out cty.Value, end bool) {
	s, st, cs, inst := ip.s, ip.st, ip.cs, ip.inst
	ip.d = s.extra.union(p.refDeps(s, cs.dependsOn))
	// The undo step is run by the runtime when this one must be
	// compensated; it is not an ordering dependency.
	p.planUndo(s, st, cs, inst, ip.addr, ip.key, ip.local)

	c, wdeps := p.condDeps(s, st.When)
	ip.d = ip.d.union(wdeps)
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
	case ip.key == "*" || (s.group != nil && s.group.key == "*"):
		inst.Action = plan.Deferred
		inst.Reason = "one instance per element, elements " + p.deferredText(s)
	case c.unknown != "":
		inst.Action = plan.Conditional
		inst.Reason = "runs if its when condition holds, " + c.unknown
	}
	if cs.kind == nil {
		return ip.unknownOut, true
	}
	if inst.Action == plan.Skip {
		// A skipped step is not evaluated: its arguments may well be
		// meaningless on the path not taken (a Ganeti step on appliances).
		inst.Summary = "skipped"
		return nullOutputs(ip.outType), true
	}
	return cty.NilVal, false
}

// planTarget evaluates the host the instance runs on and says whether a
// route to it is known.
func (p *planner) planTarget(ip *instancePlan) (reachable bool) {
	s, st, cs, inst := ip.s, ip.st, ip.cs, ip.inst
	if st.On != nil {
		on, ds := p.eval(s, st.On)
		p.diags = append(p.diags, ds...)
		ip.d = ip.d.union(on.deps)
		inst.Target, inst.TargetUnknown = p.target(st, on.v)
	} else if cs.schema.Target == steps.TargetHost {
		inst.Target = connect.LocalTarget
	}
	return p.checkRoute(s, st, cs, inst.Target)
}

// planArgs evaluates the instance's arguments; false when they have
// errors.
func (p *planner) planArgs(ip *instancePlan) bool {
	s, cs, inst := ip.s, ip.cs, ip.inst
	ctx, ad := p.evalContext(s, cs.refs)
	ip.d = ip.d.union(ad)
	attrs, marked, ds := decodeAttrs(cs.body, cs.schema.Args, ctx)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() {
		return false
	}
	ip.attrs = attrs
	// A kind that plans from its arguments by name is spared the object,
	// which is built when the step runs or the plan is saved.
	_, byName := cs.kind.(steps.AttrPlanner)
	ip.byName = byName && len(cs.sensitive) == 0 && !p.opts.Discover
	if ip.byName {
		inst.ArgAttrs = attrs
	} else {
		ip.args = markSensitive(cty.ObjectVal(attrs), cs.sensitive)
		inst.ArgValues = ip.args
	}
	x := &p.extras[ip.local]
	x.marked = marked || len(cs.sensitive) > 0
	if x.marked {
		var in steps.Attrs = ip.args
		if ip.byName {
			in = steps.AttrMap(attrs)
		}
		if taints(cs.schema, in) {
			ip.unknownOut = plannedOutputs(cs.schema, ip.outType, ip.addr)
		}
	}
	return true
}

// planLimits evaluates the instance's timeout and retry, its connection,
// its postconditions (checked when it ran) and its preconditions.
func (p *planner) planLimits(ip *instancePlan) {
	s, st, cs, inst := ip.s, ip.st, ip.cs, ip.inst
	// A kind that waits for a condition has a default timeout, its bound
	// when the step sets none.
	if st.Timeout != nil {
		inst.Timeout, inst.TimeoutAfter = p.duration(s, st.Timeout, "timeout")
	} else {
		inst.Timeout, inst.TimeoutAfter = cs.schema.DefaultTimeout, plan.DurationOf(cs.schema.DefaultTimeout)
	}
	if st.Connection != "" {
		p.extras[ip.local].conn = p.connection(s, st)
	}
	if len(st.Post) > 0 {
		addr := ip.addr
		p.extras[ip.local].post = func(out cty.Value) hcl.Diagnostics { return p.checkPost(s, st, addr, out) }
	}
	if st.Retry != nil {
		inst.Retry = p.retry(s, st.Retry)
	}
	for _, chk := range st.Pre {
		p.checkCondition(s, chk, "precondition", ip.addr)
	}
}

// callKind asks the instance's kind what it will do, and runs a
// read-only step during a plan --discover. It returns the instance's
// outputs: read, or not known before it runs.
func (p *planner) callKind(ip *instancePlan, reachable bool) cty.Value {
	s, st, cs, inst, addr := ip.s, ip.st, ip.cs, ip.inst, ip.addr
	req := steps.PlanRequest{Args: ip.args}
	if inst.Target != "" && !inst.TargetUnknown {
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
	if ip.byName {
		pr = cs.kind.(steps.AttrPlanner).PlanAttrs(p.ctx, steps.AttrMap(ip.attrs), req)
	} else {
		pr = cs.kind.Plan(p.ctx, req)
	}
	p.diags = append(p.diags, withSubject(pr.Diagnostics, st.DeclRange)...)
	inst.Summary, inst.Command, inst.Request, inst.Diff, inst.Instructions = pr.Summary, pr.Command, pr.Request, pr.Diff, pr.Instructions

	if p.opts.Discover && inst.ReadOnly && !cs.schema.NoDiscover && inst.Action == plan.Run && ip.args.IsWhollyKnown() && (host != nil || cs.schema.Target == steps.TargetNone) {
		out, ok := p.discover(st, cs, addr, ip.args, req.Target, host)
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
			return out
		}
	}
	return ip.unknownOut
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
