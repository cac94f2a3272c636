package runtime

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/steps"
)

// compiled is the static analysis of a playbook: for each module and group,
// its items in an order that respects every reference and depends_on, and
// for each step its kind and the references of its body. It is computed once
// and shared by every walk.
type compiled struct {
	root    *lang.Module
	reg     *steps.Registry
	modules map[*lang.Module]*cmodule
	groups  map[*lang.Group]*cgroup
	steps   map[*lang.Step]*cstep
	// rules, when set, collects the literal rules of the gates moduleGates
	// lists (GateRules).
	rules map[string]GateRule
	conns map[*lang.Connection]*cconn
	// consts holds, by source range, whether each expression evaluated so
	// far is constant (refers to nothing and calls no function, as a long
	// for_each literal) and its value; walks share it.
	constMu sync.Mutex
	consts  map[hcl.Range]constEntry
	// files are the playbook's sources, by name.
	files map[string]*hcl.File
	// bases holds the steps whose instances the planner lists by step
	// (see compileUndo).
	bases map[*lang.Step]bool
	// release is the playbook's release block, nil when it has none.
	release *lang.ReleaseFacts
}

// constant returns the value of an expression that refers to nothing and
// calls no function, evaluated once for every walk.
func (c *compiled) constant(expr hcl.Expression) (cty.Value, bool) {
	rng := expr.Range()
	c.constMu.Lock()
	ce, ok := c.consts[rng]
	c.constMu.Unlock()
	if ok {
		return ce.v, ce.ok
	}
	if len(expr.Variables()) == 0 && !callsFunction(expr) {
		if v, diags := expr.Value(nil); !diags.HasErrors() {
			ce = constEntry{v: v, ok: true}
		}
	}
	c.constMu.Lock()
	if c.consts == nil {
		c.consts = map[hcl.Range]constEntry{}
	}
	c.consts[rng] = ce
	c.constMu.Unlock()
	return ce.v, ce.ok
}

type constEntry struct {
	v  cty.Value
	ok bool
}

// node is one evaluable thing of a module or group, for ordering.
type node struct {
	local *lang.Local
	item  lang.Item
	out   *lang.Output
	hook  *lang.Hook
	// release is the playbook's release block (root module only).
	release *lang.ReleaseFacts
}

func (n node) addr() string {
	switch {
	case n.hook != nil:
		return "hook." + n.hook.Name
	case n.release != nil:
		return "playbook.release"
	case n.local != nil:
		return "local." + n.local.Name
	case n.out != nil:
		return "output." + n.out.Name
	case n.item.Step != nil:
		return "step." + n.item.Step.Name
	case n.item.Group != nil:
		return "group." + n.item.Group.Name
	default:
		return "module." + n.item.Call.Name
	}
}

func (n node) rng() hcl.Range {
	switch {
	case n.hook != nil:
		return n.hook.DeclRange
	case n.release != nil:
		return n.release.DeclRange
	case n.local != nil:
		return n.local.DeclRange
	case n.out != nil:
		return n.out.DeclRange
	case n.item.Step != nil:
		return n.item.Step.DeclRange
	case n.item.Group != nil:
		return n.item.Group.DeclRange
	default:
		return n.item.Call.DeclRange
	}
}

type cmodule struct {
	order []node
}

type cgroup struct {
	order []lang.Item
	// outer lists the module-level references the group's body makes, which
	// must be evaluated before the group.
}

type cstep struct {
	kind   steps.Kind
	schema *steps.Schema
	body   *cbody
	// outType is the kind's output object type; valueType is {outputs}.
	outType, valueType cty.Type
	source             string     // file:line of the step block
	dependsOn          []lang.Ref // depends_on, parsed once
	sensitive          []cty.Path // arguments the kind declares sensitive
	refs               []lang.Ref // references of the kind body
	metaRef            []lang.Ref // references of on, when, timeout, retry, preconditions
	once               bool
	undo               *cundo
}

func compile(pb *lang.Playbook, reg *steps.Registry) (*compiled, hcl.Diagnostics) {
	c := &compiled{
		root:    pb.Root,
		reg:     reg,
		modules: map[*lang.Module]*cmodule{},
		groups:  map[*lang.Group]*cgroup{},
		steps:   map[*lang.Step]*cstep{},
		conns:   map[*lang.Connection]*cconn{},
		files:   pb.Files,
	}
	c.release = pb.Meta.ReleaseBlock()
	diags := c.compileModule(pb.Root)
	return c, diags
}

func (c *compiled) compileModule(m *lang.Module) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(m.Connections) {
		diags = append(diags, c.compileConnection(m.Connections[name])...)
	}
	cm := &cmodule{}
	c.modules[m] = cm

	var nodes []node
	for _, name := range sortedKeys(m.Locals) {
		nodes = append(nodes, node{local: m.Locals[name]})
	}
	for _, it := range m.Order {
		nodes = append(nodes, node{item: it})
	}
	for _, name := range sortedKeys(m.Outputs) {
		nodes = append(nodes, node{out: m.Outputs[name]})
	}
	for _, name := range sortedKeys(m.Hooks) {
		nodes = append(nodes, node{hook: m.Hooks[name]})
	}
	if m == c.root && c.release != nil {
		nodes = append(nodes, node{release: c.release})
	}
	index := map[string]int{}
	for i, n := range nodes {
		index[n.addr()] = i
	}
	edges := make([][]int, len(nodes))
	for i, n := range nodes {
		refs, ds := c.nodeRefs(m, n)
		diags = append(diags, ds...)
		for _, r := range refs {
			target, ds := resolveModuleRef(m, r, n)
			diags = append(diags, ds...)
			if target == "" {
				continue
			}
			if j, ok := index[target]; ok && !slices.Contains(edges[i], j) {
				edges[i] = append(edges[i], j)
			}
		}
	}
	if m == c.root && c.release != nil {
		diags = append(diags, c.releaseFirst(nodes, edges, index["playbook.release"])...)
	}
	order, cycle := topoSort(len(nodes), edges)
	if cycle != nil {
		diags = append(diags, cycleDiag(cycle, func(i int) string { return nodes[i].addr() }, nodes[cycle[0]].rng()))
		return diags
	}
	for _, i := range order {
		cm.order = append(cm.order, nodes[i])
	}
	diags = append(diags, c.compileCalls(m.Order)...)
	return diags
}

// compileCalls compiles the modules that items call, in groups and in
// the hook blocks of calls too.
func (c *compiled) compileCalls(items []lang.Item) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, it := range items {
		switch {
		case it.Call != nil:
			if it.Call.Module != nil {
				diags = append(diags, c.compileModule(it.Call.Module)...)
			}
			for _, name := range sortedKeys(it.Call.Hooks) {
				diags = append(diags, c.compileCalls(it.Call.Hooks[name].Order)...)
			}
		case it.Group != nil:
			diags = append(diags, c.compileCalls(it.Group.Order)...)
		}
	}
	return diags
}

func (c *compiled) compileStep(m *lang.Module, s *lang.Step) ([]lang.Ref, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cs := &cstep{once: s.Once, source: rangeText(s.DeclRange)}
	c.steps[s] = cs
	kind, ok := c.reg.Lookup(s.Kind)
	if !ok {
		if s.Kind != "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown step kind",
				Detail:   fmt.Sprintf("There is no step kind %q.%s Run \"rokflow steps\" to list the kinds.", s.Kind, didYouMean(s.Kind, c.reg.Names())),
				Subject:  s.KindRange.Ptr(),
			})
		}
	} else {
		cs.kind = kind
		cs.schema = kind.Schema()
		cs.outType = cs.schema.OutputType()
		cs.valueType = stepValueType(cs.schema)
		cs.sensitive = cs.schema.Args.SensitivePaths()
		spec := cs.schema.Args.DecoderSpec()
		var ds hcl.Diagnostics
		cs.body, ds = compileBody(s.Config, cs.schema.Args, s.DeclRange)
		diags = append(diags, ds...)
		if cs.schema.Gate {
			diags = append(diags, c.gateArgs(s)...)
		}
		cs.once = s.Once || cs.schema.Effect == steps.Once
		if s.OnceSet && !s.Once && cs.schema.Effect == steps.Once {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Step kind is always once",
				Detail:   fmt.Sprintf("Kind %q must never run twice unattended, so once = false cannot apply; remove the once argument.", s.Kind),
				Subject:  s.DeclRange.Ptr(),
			})
		}
		if s.On != nil && cs.schema.Target == steps.TargetNone {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Step kind has no target host",
				Detail:   fmt.Sprintf("Kind %q talks to a service named in its arguments, not to a host; remove the on argument.", s.Kind),
				Subject:  s.On.Range().Ptr(),
			})
		}
		for _, tr := range hcldec.Variables(s.Config, spec) {
			r, ds := lang.ParseRef(tr)
			diags = append(diags, ds...)
			if !ds.HasErrors() {
				cs.refs = append(cs.refs, r)
			}
		}
	}
	if s.Connection != "" {
		if m.Connections[s.Connection] == nil && c.root.Connections[s.Connection] == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown connection",
				Detail:   fmt.Sprintf("No connection block named %q is declared in this module or the playbook.%s", s.Connection, didYouMean(s.Connection, append(sortedKeys(m.Connections), sortedKeys(c.root.Connections)...))),
				Subject:  s.ConnRange.Ptr(),
			})
		}
		if cs.schema != nil && cs.schema.Target == steps.TargetNone {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Step kind has no target host",
				Detail:   fmt.Sprintf("Kind %q talks to a service named in its arguments, not to a host; remove the connection argument.", s.Kind),
				Subject:  s.ConnRange.Ptr(),
			})
		}
	}
	for _, e := range stepMetaExprs(s) {
		rs, ds := lang.References(e)
		diags = append(diags, ds...)
		cs.metaRef = append(cs.metaRef, rs...)
	}
	for _, chk := range s.Post {
		// self is allowed only here; other references still order the step.
		for _, e := range []hcl.Expression{chk.Condition, chk.ErrorMessage} {
			rs, ds := lang.References(e)
			diags = append(diags, ds...)
			for _, r := range rs {
				if r.Kind != lang.RefSelf {
					cs.metaRef = append(cs.metaRef, r)
				}
			}
		}
	}
	for _, r := range append(append([]lang.Ref(nil), cs.refs...), cs.metaRef...) {
		if r.Kind == lang.RefSelf {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid self reference",
				Detail:   "self refers to the step's own outputs and may be used only in a postcondition.",
				Subject:  r.Range.Ptr(),
			})
		}
	}
	refs := append(append([]lang.Ref(nil), cs.refs...), cs.metaRef...)
	rs, ds := lang.References(s.ForEach)
	diags = append(diags, ds...)
	for _, r := range rs {
		if r.Kind == lang.RefEach {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "each in for_each",
				Detail:   "A for_each expression cannot refer to each; it defines it.",
				Subject:  r.Range.Ptr(),
			})
		}
	}
	refs = append(refs, rs...)
	rs, ds = lang.DependsOnRefs(s.DependsOn)
	diags = append(diags, ds...)
	cs.dependsOn = rs
	refs = append(refs, rs...)
	// The undo step runs only to compensate, so it orders nothing.
	diags = append(diags, c.compileUndo(m, s, cs)...)
	return refs, diags
}

func stepMetaExprs(s *lang.Step) []hcl.Expression {
	es := []hcl.Expression{s.On, s.When, s.Timeout}
	if s.Retry != nil {
		es = append(es, s.Retry.Attempts, s.Retry.Delay, s.Retry.MaxDelay)
	}
	for _, chk := range s.Pre {
		es = append(es, chk.Condition, chk.ErrorMessage)
	}
	return es
}

func (c *compiled) compileGroup(m *lang.Module, g *lang.Group) ([]lang.Ref, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cg := &cgroup{}
	c.groups[g] = cg
	var outer []lang.Ref
	rs, ds := lang.References(g.ForEach)
	diags = append(diags, ds...)
	outer = append(outer, rs...)
	for _, e := range []hcl.Expression{g.When, g.Upgrades, rollingExpr(g, 0), rollingExpr(g, 1), rollingExpr(g, 2)} {
		rs, ds := lang.References(e)
		diags = append(diags, ds...)
		outer = append(outer, rs...)
	}
	rs, ds = lang.DependsOnRefs(g.DependsOn)
	diags = append(diags, ds...)
	outer = append(outer, rs...)
	diags = append(diags, c.needRelease(g.Upgrades)...)

	index := map[string]int{}
	for i, it := range g.Order {
		index[node{item: it}.addr()] = i
	}
	edges := make([][]int, len(g.Order))
	for i, it := range g.Order {
		var refs []lang.Ref
		if it.Step != nil {
			refs, ds = c.compileStep(m, it.Step)
		} else {
			refs, ds = c.callRefs(m, it.Call)
		}
		diags = append(diags, ds...)
		for _, r := range refs {
			key := ""
			switch r.Kind {
			case lang.RefStep:
				if g.Steps[r.Name] != nil {
					key = "step." + r.Name
				}
			case lang.RefModule:
				if g.Calls[r.Name] != nil {
					key = "module." + r.Name
				}
			}
			if j, ok := index[key]; ok {
				if !slices.Contains(edges[i], j) {
					edges[i] = append(edges[i], j)
				}
				continue
			}
			outer = append(outer, r)
		}
	}
	order, cycle := topoSort(len(g.Order), edges)
	if cycle != nil {
		diags = append(diags, cycleDiag(cycle, func(i int) string {
			return "group." + g.Name + "." + node{item: g.Order[i]}.addr()
		}, node{item: g.Order[cycle[0]]}.rng()))
		return outer, diags
	}
	for _, i := range order {
		cg.order = append(cg.order, g.Order[i])
	}
	return outer, diags
}

// needRelease refuses upgrades in a playbook without release facts: there
// would be nothing to tell whether the node is already upgraded.
func (c *compiled) needRelease(upgrades hcl.Expression) hcl.Diagnostics {
	if upgrades == nil || c.release != nil {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "upgrades without release facts",
		Detail:   "upgrades skips a node already at the playbook's to, which the playbook block's release block tells: add one, such as release { nodes = step.members.outputs.releases }.",
		Subject:  upgrades.Range().Ptr(),
	}}
}

func rollingExpr(g *lang.Group, i int) hcl.Expression {
	if g.Rolling == nil {
		return nil
	}
	return [...]hcl.Expression{g.Rolling.Batch, g.Rolling.MaxFailures, g.Rolling.Pause}[i]
}
