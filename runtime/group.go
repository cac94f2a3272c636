package runtime

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
)

// planGroup expands a group over its for_each collection, in rolling
// batches, and returns its value for references: a map from element key to
// an object of the element's step values.
func (p *planner) planGroup(s *scope, g *lang.Group) val {
	addr := s.prefix + "group." + g.Name
	gp := &plan.Group{Address: addr, Batch: 1, Pause: "0s"}
	p.plan.Groups = append(p.plan.Groups, gp)

	extra := s.extra.union(p.explicitDeps(s, g.DependsOn))
	c := p.condOf(s, g.When)
	if g.When != nil {
		wv, _ := p.eval(s, g.When)
		extra = extra.union(wv.deps)
	}
	if r := g.Rolling; r != nil {
		gp.Batch = p.intArg(s, r.Batch, "rolling batch", 1, 1)
		gp.MaxFailures = p.intArg(s, r.MaxFailures, "rolling max_failures", 0, 0)
		if r.Pause != nil {
			gp.Pause = p.durationText(s, r.Pause, "rolling pause")
		}
	}
	elems, known, elemType, fv := p.forEach(s, g.ForEach)
	extra = extra.union(fv.deps)
	gp.Keys = []string{}
	if !known {
		gp.Deferred = true
		gp.KnownAfter = p.knownAfterMark(fv).Addr
		es := p.groupScope(s, g, addr+"[*]", "*", 0, extra, c)
		es.group.knownAfter = p.unknownText(fv)
		ka := p.knownAfterMark(fv)
		es.each = &val{v: eachVal(cty.UnknownVal(cty.String).Mark(ka), cty.UnknownVal(elemType).Mark(ka))}
		d := p.walkGroup(es, g)
		return val{v: cty.DynamicVal.Mark(marks.KnownAfter{Addr: gp.KnownAfter}), deps: d}
	}
	first := int32(len(p.plan.Instances))
	scopes := make([]*scope, len(elems))
	for i, e := range elems {
		gp.Keys = append(gp.Keys, e.key)
		batch := i/gp.Batch + 1
		es := p.groupScope(s, g, addr+keyAddr(e.key), e.key, batch, extra, c)
		es.each = &val{v: eachVal(cty.StringVal(e.key), e.value)}
		p.walkGroup(es, g)
		scopes[i] = es
	}
	d := p.instancesSince(first)
	gp.Batches = (len(elems) + gp.Batch - 1) / gp.Batch
	if len(elems) == 0 {
		return val{v: cty.EmptyObjectVal, deps: d}
	}
	return lazily(d, func() cty.Value {
		vals := make(map[string]cty.Value, len(elems))
		for i, e := range elems {
			es := scopes[i]
			attrs := make(map[string]cty.Value, len(es.steps)+len(es.calls))
			for n, v := range es.steps {
				attrs[n] = v.value()
			}
			for n, v := range es.calls {
				attrs[n] = v.value()
			}
			vals[e.key] = cty.ObjectVal(attrs)
		}
		return cty.ObjectVal(vals)
	})
}

func (p *planner) groupScope(s *scope, g *lang.Group, prefix, key string, batch int, extra deps, c cond) *scope {
	return &scope{
		mod:    s.mod,
		prefix: prefix + ".",
		steps:  make(map[string]val, len(g.Steps)),
		calls:  make(map[string]val, len(g.Calls)),
		outer:  s,
		extra:  extra,
		cond:   c,
		group:  &groupPos{addr: s.prefix + "group." + g.Name, key: key, batch: batch},
	}
}

// walkGroup plans one element of a group and returns the instances it made.
func (p *planner) walkGroup(es *scope, g *lang.Group) deps {
	first := int32(len(p.plan.Instances))
	for _, it := range p.c.groups[g].order {
		if it.Step != nil {
			es.steps[it.Step.Name] = p.planStep(es, it.Step)
		} else {
			es.calls[it.Call.Name] = p.planCall(es, it.Call)
		}
	}
	return p.instancesSince(first)
}

// instancesSince returns every instance planned since first: planning is
// sequential, so what a group, module or for_each made is one range.
func (p *planner) instancesSince(first int32) deps {
	last := int32(len(p.plan.Instances))
	d := make(deps, 0, last-first)
	for i := first; i < last; i++ {
		d = append(d, i)
	}
	return d
}
