package runtime

import (
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// undoVerdict is what an undo's condition says when a failed run would
// run the undo.
type undoVerdict struct {
	run bool
	// reason says why the undo is held back.
	reason string
}

// undoVerdict evaluates an undo's condition in the owing instance's scope.
// Only a condition known to be true lets the undo run: one that is false,
// unknown or wrong holds it back, and says why.
func (p *planner) undoVerdict(s *scope, u *lang.Undo) undoVerdict {
	v, diags := p.eval(s, u.When)
	if diags.HasErrors() {
		return undoVerdict{reason: "its when condition (" + rangeText(u.When.Range()) + ") cannot be evaluated: " + diagText(diags)}
	}
	raw, _ := v.v.UnmarkDeep()
	if !raw.IsKnown() {
		return undoVerdict{reason: "its when condition (" + rangeText(u.When.Range()) + ") is not known yet " + marks.UnknownText(v.v)}
	}
	b, err := convert.Convert(raw, cty.Bool)
	if err != nil || b.IsNull() {
		return undoVerdict{reason: "its when condition (" + rangeText(u.When.Range()) + ") is not true or false"}
	}
	if b.True() {
		return undoVerdict{run: true}
	}
	return undoVerdict{reason: p.undoReason(s, u)}
}

// undoReason is the author's reason for holding an undo back, or a
// sentence naming the condition.
func (p *planner) undoReason(s *scope, u *lang.Undo) string {
	plain := "its when condition (" + rangeText(u.When.Range()) + ") is false"
	if u.Reason == nil {
		return plain
	}
	v, diags := p.eval(s, u.Reason)
	if diags.HasErrors() || !v.v.IsWhollyKnown() || v.v.IsNull() {
		return plain
	}
	if marks.IsSensitive(v.v) {
		return plain + " (its reason is sensitive)"
	}
	raw, _ := v.v.UnmarkDeep()
	str, err := convert.Convert(raw, cty.String)
	if err != nil {
		return plain
	}
	return strings.TrimSpace(str.AsString())
}

// conditionReads is what one compensation read again for undo
// conditions: each read-only step once, and each plan made aside with
// what was read.
type conditionReads struct {
	out    map[string]cty.Value
	failed map[string]string
	asides map[string]*planned
}

// read runs a read-only instance again, once per compensation.
func (e *executor) read(cr *conditionReads, addr string) (cty.Value, string) {
	if v, ok := cr.out[addr]; ok {
		return v, ""
	}
	if why, ok := cr.failed[addr]; ok {
		return cty.NilVal, why
	}
	j := e.index[addr]
	if !e.known(j) {
		cr.failed[addr] = "its condition reads " + addr + ", which cannot run yet"
		return cty.NilVal, cr.failed[addr]
	}
	r := e.runStep(e.p.plan.Instances[j], e.p.extras[j], "", e.state(addr).attempts)
	if r.diags.HasErrors() {
		cr.failed[addr] = "its condition reads " + addr + ", which failed: " + diagText(r.diags)
		return cty.NilVal, cr.failed[addr]
	}
	if r.outputs == cty.NilVal {
		r.outputs = cty.EmptyObjectVal
	}
	cr.out[addr] = r.outputs
	return r.outputs, ""
}

// undoVerdict evaluates an owing instance's undo condition with the values
// known now. The read-only steps the condition names are read again
// first: what they found earlier in the run may no longer be so.
func (e *executor) undoVerdict(inst *plan.Instance, x instExtra) undoVerdict {
	cr := e.owed.reads
	if cr == nil {
		cr = &conditionReads{out: map[string]cty.Value{}, failed: map[string]string{}, asides: map[string]*planned{}}
		e.owed.reads = cr
	}
	var fresh []string
	for _, addr := range inst.Obligation.UndoReads {
		if j, ok := e.index[addr]; !ok || !e.p.plan.Instances[j].ReadOnly {
			continue
		}
		if _, why := e.read(cr, addr); why != "" {
			return undoVerdict{reason: why}
		}
		fresh = append(fresh, addr)
	}
	if len(fresh) == 0 {
		return x.undo.verdict()
	}
	// Plan again, aside, with what was just read: the condition sees it
	// through locals and module inputs as well.
	key := strings.Join(fresh, "\x00")
	p := cr.asides[key]
	if p == nil {
		known := make(map[string]cty.Value, len(e.states)+len(fresh))
		for addr, st := range e.states {
			if st.status == state.Succeeded && st.outputs != cty.NilVal {
				known[addr] = st.outputs
			}
		}
		for _, addr := range fresh {
			known[addr] = cr.out[addr]
		}
		opts := e.opts.Plan
		opts.Known = known
		p = walk(e.ctx, e.pb, e.c, opts, nil)
		cr.asides[key] = p
	}
	for k, in := range p.plan.Instances {
		if in.Address == inst.Address && p.extras[k].undo != nil && p.extras[k].undo.verdict != nil {
			return p.extras[k].undo.verdict()
		}
	}
	return undoVerdict{reason: "with what was read again, " + inst.Address + " is no longer in the plan"}
}
