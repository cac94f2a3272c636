package runtime

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// complete takes the result of a finished instance.
func (e *executor) complete(r result) {
	if r.answer != nil {
		e.answered(r.addr, *r.answer)
		return
	}
	e.running--
	i, ok := e.index[r.addr]
	st := e.state(r.addr)
	st.running = false
	if !ok {
		return
	}
	inst := e.p.plan.Instances[i]
	if inst.Gate && e.checkStopped(inst, r) {
		return
	}
	if inst.Gate && e.checkEnded(inst) {
		return
	}
	if r.handle != "" {
		st.handle = r.handle
	}
	if r.wrongTarget {
		e.wrongTarget = true
	}
	if r.newTarget != "" {
		e.targetFacts[inst.Address] = r.newTarget
	}
	if r.newTarget != "" && !r.journaled {
		if err := e.journal.append(context.WithoutCancel(e.ctx), state.Record{Kind: state.KindTarget, Run: e.run, Facts: map[string]string{inst.Address: r.newTarget}}); err != nil {
			e.halt(err)
		}
	}
	if !r.diags.HasErrors() {
		delete(e.verify, inst.Address)
		delete(e.factsDue, inst.Address)
	}
	if r.journaled {
		st.startRec = nil
		if r.journalErr != nil {
			e.halt(r.journalErr)
		}
		e.settleRecord(inst, state.Succeeded, r.outputs, r.handle)
		e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Status: string(state.Succeeded), Attempt: st.attempts, Elapsed: r.elapsed})
		e.checkPassed(inst, r.outputs)
		return
	}
	diags := r.diags
	if !diags.HasErrors() {
		out := r.outputs
		if out == cty.NilVal {
			out = cty.EmptyObjectVal
		}
		if x := e.p.extras[i]; x.post != nil {
			diags = append(diags, x.post(out)...)
		}
		if !diags.HasErrors() {
			e.record(inst, state.Succeeded, "", out, r.handle)
			e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Status: string(state.Succeeded), Attempt: st.attempts, Elapsed: r.elapsed})
			e.checkPassed(inst, out)
			return
		}
	}
	if e.ctx.Err() != nil {
		// Cancelled at the second interrupt: whether it acted is unknown
		// for a once step; another is simply run again on resume. Neither
		// failed.
		if inst.Once {
			e.inDoubt(inst)
			return
		}
		e.record(inst, state.Cancelled, "cancelled by an interrupt", cty.NilVal, "")
		e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Status: string(state.Cancelled), Summary: "cancelled by an interrupt; apply again to run it"})
		return
	}
	e.fail(inst, diags)
}

// record journals a terminal transition and updates the executor's view.
func (e *executor) record(inst *plan.Instance, status state.Status, errText string, outputs cty.Value, handle string) {
	st := e.state(inst.Address)
	st.status, st.err = status, errText
	if handle != "" {
		st.handle = handle
	}
	rec := state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: status, Attempt: st.attempts, Error: errText, Handle: st.handle}
	if status == state.Succeeded && outputs != cty.NilVal {
		st.outputs = outputs
		rec.Outputs = encodeOutputs(outputs)
	}
	recs := []state.Record{rec}
	if st.startRec != nil {
		recs = []state.Record{*st.startRec, rec}
		st.startRec = nil
	}
	if err := e.journal.append(context.WithoutCancel(e.ctx), recs...); err != nil {
		e.halt(err)
	}
	e.settleRecord(inst, status, outputs, handle)
}

// settleRecord updates the executor's books once a terminal transition is
// journaled: the state, owed and settled undos, and the scheduler.
func (e *executor) settleRecord(inst *plan.Instance, status state.Status, outputs cty.Value, handle string) {
	e.progress++
	st := e.state(inst.Address)
	st.status = status
	if handle != "" {
		st.handle = handle
	}
	if status == state.Succeeded && outputs != cty.NilVal {
		st.outputs = outputs
	}
	if status == state.Succeeded && inst.Undo != "" {
		e.owe(inst)
	}
	if isDone(status) {
		e.settle(inst.Address)
	}
	if i, ok := e.index[inst.Address]; ok && isTerminal(status) && e.finished(i) {
		e.replanDue = true
	}
	if status == state.Skipped {
		e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: knownTarget(inst), Status: string(status), Summary: inst.Reason})
	}
}

func (e *executor) fail(inst *plan.Instance, diags hcl.Diagnostics) {
	text := diagText(diags)
	e.diags = append(e.diags, prefixDiags(inst.Address, diags)...)
	e.record(inst, state.Failed, text, cty.NilVal, "")
	e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Status: string(state.Failed), Error: text})
	e.elementFailed(inst, "failed")
}

// inDoubt records that whether a once step acted is unknown. Nothing
// after it runs until an operator answers: not its dependents, and not the
// later batches of its rolling group, where it counts as a failed element.
func (e *executor) inDoubt(inst *plan.Instance) {
	e.record(inst, state.InDoubt, "the process running it stopped; whether it acted is unknown", cty.NilVal, "")
	e.reportDoubt(inst)
}

// reportDoubt counts a step in doubt against its rolling group and says
// what the operator must check. Steps an earlier apply found in doubt are
// reported again by every apply until they are resolved.
func (e *executor) reportDoubt(inst *plan.Instance) {
	st := e.state(inst.Address)
	e.elementFailed(inst, "in doubt")
	e.event(Event{Type: EventInDoubt, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Handle: st.handle,
		Summary: "in doubt: " + doubtHint(inst, st.handle)})
}

// elementFailed counts a failed (or in-doubt) element against its rolling
// group's failure budget and stops the group once the budget is spent.
func (e *executor) elementFailed(inst *plan.Instance, how string) {
	if inst.Group == "" {
		return
	}
	g := e.group(inst.Group)
	elem := groupElement(inst)
	if g.failed[elem] {
		return // an element fails once, however many of its steps do
	}
	if g.failed == nil {
		g.failed = map[string]bool{}
	}
	g.failed[elem] = true
	g.failures++
	if gp := e.groupPlan(inst.Group); gp != nil && g.failures > gp.MaxFailures && !g.stopped {
		g.stopped = true
		e.event(Event{Type: EventGroupStop, Run: e.run, Group: inst.Group, Summary: fmt.Sprintf("%d element(s) failed or in doubt (the last %s), more than max_failures = %d: starting no more elements", g.failures, how, gp.MaxFailures)})
	}
}

// groupElement is the address of the rolling-group element an instance
// belongs to: group.G["key"].
func groupElement(inst *plan.Instance) string {
	if k, ok := addrs.KeyAt(inst.Address, inst.Group); ok {
		return inst.Group + addrs.Key(k)
	}
	return inst.Address
}

func diagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		t := d.Summary
		if d.Detail != "" {
			t += ": " + d.Detail
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "; ")
}

func prefixDiags(addr string, diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		c := *d
		c.Summary = addr + ": " + d.Summary
		out = append(out, &c)
	}
	return out
}
