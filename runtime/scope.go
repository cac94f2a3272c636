package runtime

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
)

// deps is a set of step instance indices, kept small and sorted.
type deps []int32

func (d deps) union(o deps) deps {
	if len(o) == 0 {
		return d
	}
	if len(d) == 0 {
		return o
	}
	if d[len(d)-1] < o[0] {
		out := make(deps, 0, len(d)+len(o))
		return append(append(out, d...), o...)
	}
	out := make(deps, 0, len(d)+len(o))
	i, j := 0, 0
	for i < len(d) && j < len(o) {
		switch {
		case d[i] < o[j]:
			out = append(out, d[i])
			i++
		case d[i] > o[j]:
			out = append(out, o[j])
			j++
		default:
			out = append(out, d[i])
			i++
			j++
		}
	}
	out = append(out, d[i:]...)
	return append(out, o[j:]...)
}

// val is an evaluated value and the step instances it was derived from.
type val struct {
	v    cty.Value
	deps deps
}

// cond is the state of the when conditions enclosing a scope.
type cond struct {
	skip    bool   // a known false condition
	unknown string // non-empty: known only after this
	reason  string
}

// scope is where an expression is evaluated: a module instance, or one
// element of a group (or of a step's for_each) inside one.
type scope struct {
	mod    *lang.Module
	prefix string // address prefix of the scope's items: "", "module.a.", `group.g["k"].`

	vars   map[string]val
	locals map[string]val
	steps  map[string]val
	groups map[string]val
	calls  map[string]val
	// outer is the module scope of a group element, where names not found
	// in the element are looked up.
	outer *scope

	each  *val // each as an object {key, value}
	extra deps // depends_on and for_each dependencies of enclosing blocks
	cond  cond

	group *groupPos
}

// groupPos places a group element's instances in the plan.
type groupPos struct {
	addr  string
	key   string
	batch int
	// knownAfter says when a template element's collection becomes known.
	knownAfter string
}

func newModuleScope(m *lang.Module, prefix string) *scope {
	return &scope{
		mod:    m,
		prefix: prefix,
		vars:   map[string]val{},
		locals: map[string]val{},
		steps:  map[string]val{},
		groups: map[string]val{},
		calls:  map[string]val{},
	}
}

func (s *scope) lookup(kind lang.RefKind, name string) (val, bool) {
	for sc := s; sc != nil; sc = sc.outer {
		var m map[string]val
		switch kind {
		case lang.RefVar:
			m = sc.vars
		case lang.RefLocal:
			m = sc.locals
		case lang.RefStep:
			m = sc.steps
		case lang.RefGroup:
			m = sc.groups
		case lang.RefModule:
			m = sc.calls
		}
		if v, ok := m[name]; ok {
			return v, true
		}
	}
	return val{}, false
}

// evalContext builds a context holding only what refs refer to, and the
// union of their dependencies.
func (p *planner) evalContext(s *scope, refs []lang.Ref) (*hcl.EvalContext, deps) {
	var d deps
	roots := map[string]map[string]cty.Value{}
	put := func(root, name string, v cty.Value) {
		m := roots[root]
		if m == nil {
			m = map[string]cty.Value{}
			roots[root] = m
		}
		m[name] = v
	}
	vars := map[string]cty.Value{}
	for _, r := range refs {
		switch r.Kind {
		case lang.RefVar, lang.RefLocal, lang.RefStep, lang.RefGroup, lang.RefModule:
			v, ok := s.lookup(r.Kind, r.Name)
			if !ok {
				// Not evaluated (an error upstream); leave it unknown.
				v = val{v: cty.DynamicVal}
			}
			put(rootName(r.Kind), r.Name, v.v)
			d = d.union(v.deps)
		case lang.RefEach:
			if s.each != nil {
				vars["each"] = s.each.v
				d = d.union(s.each.deps)
			} else {
				vars["each"] = cty.DynamicVal
			}
		case lang.RefPlaybook:
			vars["playbook"] = p.playbookVal
		}
	}
	for root, m := range roots {
		vars[root] = cty.ObjectVal(m)
	}
	return &hcl.EvalContext{Variables: vars, Functions: p.funcs}, d
}

func rootName(k lang.RefKind) string {
	switch k {
	case lang.RefVar:
		return "var"
	case lang.RefLocal:
		return "local"
	case lang.RefStep:
		return "step"
	case lang.RefGroup:
		return "group"
	case lang.RefModule:
		return "module"
	}
	return ""
}

// eval evaluates one expression in s. A nil expression is a null value.
func (p *planner) eval(s *scope, expr hcl.Expression) (val, hcl.Diagnostics) {
	if expr == nil {
		return val{v: cty.NullVal(cty.DynamicPseudoType)}, nil
	}
	rng := expr.Range()
	refs, ok := p.refCache[rng]
	if !ok || rng.Filename == "" {
		var diags hcl.Diagnostics
		refs, diags = lang.References(expr)
		if diags.HasErrors() {
			return val{v: cty.DynamicVal}, diags
		}
		p.refCache[rng] = refs
	}
	var diags hcl.Diagnostics
	ctx, d := p.evalContext(s, refs)
	v, ds := expr.Value(ctx)
	return val{v: v, deps: d}, append(diags, ds...)
}
