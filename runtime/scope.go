package runtime

import (
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
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
// The values of steps and groups are built on first use (lazy): in a large
// plan most of them are never referred to, and building thousands of
// objects nobody reads costs more than planning the steps.
type val struct {
	v    cty.Value
	deps deps
	lazy *lazyVal
}

// lazyVal is a value computed the first time it is needed, possibly by
// planners working on a group's elements side by side.
type lazyVal struct {
	once  sync.Once
	build func() cty.Value
	// A step instance's value is built from out, marked as known after
	// addr when it is unknown, without a closure per instance.
	out  cty.Value
	addr string
	v    cty.Value
}

// value returns the value, building it if it is lazy.
func (v val) value() cty.Value {
	l := v.lazy
	if l == nil {
		return v.v
	}
	l.once.Do(func() {
		if l.build != nil {
			l.v = l.build()
		} else {
			out := l.out
			if !out.IsKnown() {
				out = out.Mark(marks.KnownAfter{Addr: l.addr})
			}
			l.v = stepValue(out)
		}
		l.build, l.out = nil, cty.NilVal
	})
	return l.v
}

// lazily returns a val whose value is built by build when first needed.
func lazily(d deps, build func() cty.Value) val {
	return val{deps: d, lazy: &lazyVal{build: build}}
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
	// hooks holds a module scope's planned hooks: their value carries the
	// instances a hook stands for (its depends_on and its fill).
	hooks map[string]val
	// fills are the hook blocks of the call that made this module scope,
	// planned in caller's scope at the hooks' places.
	fills  map[string]*lang.Group
	caller *scope
	// outer is the module scope of a group element, where names not found
	// in the element are looked up.
	outer *scope
	// conns holds a module scope's evaluated connection blocks.
	conns map[string]cty.Value

	each  *val // each as an object {key, value}
	extra deps // depends_on and for_each dependencies of enclosing blocks
	cond  cond

	group *groupPos
	// mod path text ("module.a.module.b"), computed once per scope.
	modText *string
	// static is the context of var, each and playbook; see staticContext.
	static *hcl.EvalContext
	// staticParent is set on the copy of a module scope made for one
	// element of a step's for_each: the module's static context.
	staticParent *hcl.EvalContext
}

// module returns the module path of the scope's instances.
func (s *scope) module() string {
	if s.modText == nil {
		t := strings.TrimSuffix(modulePrefix(s.prefix), ".")
		s.modText = &t
	}
	return *s.modText
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
		case lang.RefHook:
			m = sc.hooks
		}
		if v, ok := m[name]; ok {
			return v, true
		}
	}
	return val{}, false
}

// evalContext builds a context for expressions making refs, and the union
// of their dependencies. var, each and playbook come from the scope's
// static context, built once per scope; locals, steps, groups and module
// calls, which change as the walk goes on, go into a child context holding
// only what refs name. An expression that refers to nothing that changes
// shares the static context.
func (p *planner) evalContext(s *scope, refs []lang.Ref) (*hcl.EvalContext, deps) {
	var d deps
	var roots map[string]map[string]cty.Value
	for _, r := range refs {
		switch r.Kind {
		case lang.RefVar, lang.RefHook:
			if v, ok := s.lookup(r.Kind, r.Name); ok {
				d = d.union(v.deps)
			}
		case lang.RefEach:
			if s.each != nil {
				d = d.union(s.each.deps)
			}
		case lang.RefLocal, lang.RefStep, lang.RefGroup, lang.RefModule:
			v, ok := s.lookup(r.Kind, r.Name)
			if !ok {
				// Not evaluated (an error upstream); leave it unknown.
				v = val{v: cty.DynamicVal}
			}
			if roots == nil {
				roots = make(map[string]map[string]cty.Value, 2)
			}
			root := rootName(r.Kind)
			m := roots[root]
			if m == nil {
				m = make(map[string]cty.Value, 2)
				roots[root] = m
			}
			m[r.Name] = v.value()
			d = d.union(v.deps)
		}
	}
	static := p.staticFor(s, refs)
	if roots == nil {
		return static, d
	}
	ctx := static.NewChild()
	ctx.Variables = make(map[string]cty.Value, len(roots))
	for root, m := range roots {
		ctx.Variables[root] = cty.ObjectVal(m)
	}
	return ctx, d
}

// staticFor returns the static context expressions making refs need: an
// element's own context, which is built for each element, only when they
// refer to each.
func (p *planner) staticFor(s *scope, refs []lang.Ref) *hcl.EvalContext {
	if s.each != nil && s.static == nil {
		needEach := false
		for _, r := range refs {
			if r.Kind == lang.RefEach {
				needEach = true
				break
			}
		}
		if !needEach {
			switch {
			case s.staticParent != nil:
				return s.staticParent
			case s.outer != nil:
				return p.staticContext(s.outer)
			}
		}
	}
	return p.staticContext(s)
}

// staticContext returns the context of the values that do not change
// while a scope is walked: var and playbook (from the module scope), and
// each (from an element scope).
func (p *planner) staticContext(s *scope) *hcl.EvalContext {
	if s.static != nil {
		return s.static
	}
	var parent *hcl.EvalContext
	switch {
	case s.staticParent != nil:
		parent = s.staticParent
	case s.outer != nil:
		parent = p.staticContext(s.outer)
	}
	if parent != nil {
		if s.each == nil {
			s.static = parent
			return parent
		}
		ctx := parent.NewChild()
		ctx.Variables = map[string]cty.Value{"each": s.each.value()}
		s.static = ctx
		return ctx
	}
	vs := make(map[string]cty.Value, len(s.vars))
	for n, v := range s.vars {
		vs[n] = v.v
	}
	vars := map[string]cty.Value{"var": cty.ObjectVal(vs), "playbook": p.playbookVal}
	if s.each != nil {
		vars["each"] = s.each.value()
	}
	s.static = &hcl.EvalContext{Variables: vars, Functions: p.funcs}
	return s.static
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
	if rng.Filename != "" {
		ce, ok := p.consts[rng]
		if !ok {
			ce.v, ce.ok = p.c.constant(expr)
			p.consts[rng] = ce
		}
		if ce.ok {
			return val{v: ce.v}, nil
		}
	}
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
	if v, ok := eachAttr(expr, ctx); ok {
		return val{v: v, deps: d}, nil
	}
	v, ds := expr.Value(ctx)
	return val{v: v, deps: d}, append(diags, ds...)
}
