package runtime

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"
	"sync"

	"github.com/hashicorp/hcl/v2"
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
	gp := &plan.Group{Address: addr, Batch: 1, Pause: "0s", PauseAfter: plan.DurationOf("0s")}
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
			gp.Pause, gp.PauseAfter = p.duration(s, r.Pause, "rolling pause")
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
	first := p.nextIndex()
	for _, e := range elems {
		gp.Keys = append(gp.Keys, e.key)
	}
	scopes := p.planElements(s, g, addr, elems, gp.Batch, extra, c)
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
	first := p.nextIndex()
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
	last := p.nextIndex()
	d := make(deps, 0, last-first)
	for i := first; i < last; i++ {
		d = append(d, i)
	}
	return d
}

// Planning a group's elements side by side: below minShare elements per
// planner it is not worth it; shares number their instances from
// shareBase, shareSpan apart, until they are merged.
const (
	minShare  = 16
	maxShares = 16
	shareBase = int32(1) << 30
	shareSpan = int32(1) << 26
	// maxReservePerElement bounds the room made ahead for each element.
	maxReservePerElement = 64
)

// planElements plans the elements of a group and returns their scopes.
func (p *planner) planElements(s *scope, g *lang.Group, addr string, elems []element, batchSize int, extra deps, c cond) []*scope {
	scopes := make([]*scope, len(elems))
	p.inShares(s, len(elems), func(q *planner, i int) {
		e := elems[i]
		es := q.groupScope(s, g, addr+keyAddr(e.key), e.key, i/batchSize+1, extra, c)
		es.each = &val{v: eachVal(cty.StringVal(e.key), e.value)}
		es.cond = q.upgradesCond(es, g.Upgrades, es.cond)
		q.walkGroup(es, g)
		scopes[i] = es
	})
	return scopes
}

// inShares calls one for each of n elements of a collection (the elements
// of a group or of a step's for_each) in scope s, in order. With many
// elements and more than one CPU, shares of consecutive elements are
// planned side by side, each by its own planner, and merged in order: the
// plan is the one planning element after element makes. Elements do not
// see each other, and what they read of s is not changed while they are
// planned.
func (p *planner) inShares(s *scope, n int, one func(q *planner, i int)) {
	shares := min(goruntime.GOMAXPROCS(0), n/minShare, maxShares)
	// Discovery reaches hosts one at a time; a share is never split again.
	if shares < 2 || p.parent != nil || p.opts.Discover {
		for i := range n {
			one(p, i)
		}
		return
	}
	// Build what the shares read of the enclosing scope before they start.
	p.staticContext(s)
	s.module()
	qs := make([]*planner, shares)
	panics := make([]*SharePanic, shares)
	var wg sync.WaitGroup
	for w := range shares {
		lo, hi := w*n/shares, (w+1)*n/shares
		q := p.share(int32(w))
		qs[w] = q
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					panics[w] = &SharePanic{Value: r, Stack: debug.Stack()}
				}
			}()
			for i := lo; i < hi; i++ {
				one(q, i)
				if i == lo {
					// Elements are mostly alike: make room for the others,
					// within reason should the first be unusually large.
					q.reserve(min(len(q.plan.Instances), maxReservePerElement) * (hi - lo - 1))
				}
			}
		})
	}
	wg.Wait()
	for _, r := range panics {
		if r != nil {
			panic(r)
		}
	}
	total := 0
	for _, q := range qs {
		total += len(q.plan.Instances)
	}
	p.reserve(total)
	for _, q := range qs {
		p.merge(q)
	}
}

// share returns a planner for share w of a group's elements.
func (p *planner) share(w int32) *planner {
	return &planner{
		ctx:         p.ctx,
		pb:          p.pb,
		c:           p.c,
		opts:        p.opts,
		funcs:       p.funcs,
		playbookVal: p.playbookVal,
		release:     p.release,
		plan:        &plan.Plan{},
		root:        p.root,
		refCache:    map[hcl.Range][]lang.Ref{},
		consts:      map[hcl.Range]constEntry{},
		base:        shareBase + w*shareSpan,
		parent:      p,
	}
}

// merge appends what share q planned, renumbering its instances to follow
// p's. Dependencies on instances planned before the share keep their
// numbers; a renumbered index is below shareBase, so a dependency list
// that several of q's instances hold is renumbered once.
func (p *planner) merge(q *planner) {
	offset := p.nextIndex()
	for _, d := range q.deps {
		for k, j := range d {
			if j >= q.base {
				d[k] = offset + (j - q.base)
			}
		}
	}
	p.plan.Instances = append(p.plan.Instances, q.plan.Instances...)
	p.plan.Groups = append(p.plan.Groups, q.plan.Groups...)
	p.deps = append(p.deps, q.deps...)
	p.extras = append(p.extras, q.extras...)
	p.diags = append(p.diags, q.diags...)
}

// SharePanic carries a panic from a planning share to the goroutine that
// started the shares, with the stack where it happened.
type SharePanic struct {
	Value any
	Stack []byte
}

func (p *SharePanic) Error() string { return fmt.Sprint(p.Value) }

// PanicStack is the stack of the goroutine that panicked.
func (p *SharePanic) PanicStack() []byte { return p.Stack }
