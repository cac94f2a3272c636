package runtime

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/plan"
)

// undoPlan is what the executor needs of an owing instance's undo beyond
// the plan's data: the condition bound to the instance's scope, and what
// is left to list once the whole plan is made.
type undoPlan struct {
	// base is the address of the step the instance belongs to, kept only
	// for steps whose instances an undo lists (see compiled.bases).
	base string
	// all is the address of the undo step when every instance of it is
	// owed; its instances are listed by resolveUndos.
	all string
	// reads are the addresses of the steps the condition names.
	reads []string
	// verdict evaluates the condition; nil when the undo has none.
	verdict func() undoVerdict
	decl    hcl.Range
}

// planUndo records, for an instance of st, which undo instances it owes
// (plan data) and how its condition is evaluated; and, for a step whose
// instances an undo lists, which step the instance belongs to.
func (p *planner) planUndo(s *scope, st *lang.Step, cs *cstep, inst *plan.Instance, addr, key string, local int32) {
	if p.c.bases[st] {
		p.extras[local].undo = &undoPlan{base: stepBase(addr, key)}
	}
	cu := cs.undo
	if st.Undo == nil || cu == nil {
		return
	}
	up := p.extras[local].undo
	if up == nil {
		up = &undoPlan{}
	}
	up.decl = st.Undo.DeclRange
	ob := &plan.Obligation{}
	inst.Obligation = ob
	// A group element's scope holds the group's steps; the module around
	// it holds the others.
	mod := s.prefix
	if st.Group != nil && s.outer != nil {
		mod = s.outer.prefix
	}
	base := s.prefix + "step." + st.Undo.Step
	if cu.outer {
		base = mod + "step." + st.Undo.Step
	}
	inst.Undo = base
	switch cu.mode {
	case undoOne:
		ob.UndoInstances = []string{base}
	case undoSameKey:
		ob.UndoInstances = []string{instanceAddr(base, key)}
	case undoAll:
		up.all = base
	}
	for _, r := range cu.reads {
		prefix := mod
		if r.inGroup {
			prefix = s.prefix
		}
		up.reads = append(up.reads, prefix+"step."+r.name)
	}
	if st.Undo.When != nil {
		ob.UndoWhen = p.c.sourceText(st.Undo.When)
		up.verdict = func() undoVerdict { return p.undoVerdict(s, st.Undo) }
	}
	p.extras[local].undo = up
}

// instanceAddr is the address of a for_each step's instance: base["key"],
// or base[*] for the template of an unknown collection.
func instanceAddr(base, key string) string {
	if key == "*" {
		return base + "[*]"
	}
	return base + keyAddr(key)
}

// stepBase is the address of the step an instance belongs to.
func stepBase(addr, key string) string {
	if key == "" {
		return addr
	}
	return strings.TrimSuffix(addr, instanceAddr("", key))
}

// resolveUndos lists, once every instance is planned, the instances owed
// as "every instance of the undo step" and those the conditions read.
func (p *planner) resolveUndos() {
	if len(p.c.bases) == 0 {
		return
	}
	byBase := map[string][]string{}
	for i, x := range p.extras {
		if x.undo != nil && x.undo.base != "" {
			byBase[x.undo.base] = append(byBase[x.undo.base], p.plan.Instances[i].Address)
		}
	}
	for i, x := range p.extras {
		inst := p.plan.Instances[i]
		if x.undo == nil || inst.Obligation == nil {
			continue
		}
		if x.undo.all != "" {
			inst.UndoInstances = append([]string{}, byBase[x.undo.all]...)
		}
		for _, b := range x.undo.reads {
			inst.UndoReads = append(inst.UndoReads, byBase[b]...)
		}
	}
}

// sourceText is an expression as written, on one line.
func (c *compiled) sourceText(e hcl.Expression) string {
	rng := e.Range()
	f := c.files[rng.Filename]
	if f == nil || rng.End.Byte > len(f.Bytes) || rng.Start.Byte > rng.End.Byte {
		return rangeText(rng)
	}
	return strings.Join(strings.Fields(string(rng.SliceBytes(f.Bytes))), " ")
}
