package runtime

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/steps"
)

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
