package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// GateRule is what a gate requires before it passes.
type GateRule struct {
	// Needed is how many approvals from distinct identities (1 by default).
	Needed int
	// AllowSelf lets the identity running the apply approve (by default
	// only when Needed is 1).
	AllowSelf bool
	// OnTimeout is "fail" (the default) or "pause": what the gate's
	// timeout does.
	OnTimeout string
}

// gateRuleOf reads a gate's rule from its arguments (the manual kind's
// approvals, allow_self_approval, on_timeout).
func gateRuleOf(inst *plan.Instance) GateRule {
	r := GateRule{Needed: 1, OnTimeout: "fail"}
	args := inst.Arguments()
	if args == cty.NilVal || !args.Type().IsObjectType() {
		r.AllowSelf = true
		return r
	}
	args, _ = args.UnmarkDeep()
	attr := func(name string) cty.Value {
		if !args.Type().HasAttribute(name) {
			return cty.NilVal
		}
		v := args.GetAttr(name)
		if v.IsNull() || !v.IsKnown() {
			return cty.NilVal
		}
		return v
	}
	if v := attr("approvals"); v != cty.NilVal && v.Type() == cty.Number {
		if n, acc := v.AsBigFloat().Int64(); acc == 0 && n >= 1 {
			r.Needed = int(n)
		}
	}
	r.AllowSelf = r.Needed <= 1
	if v := attr("allow_self_approval"); v != cty.NilVal && v.Type() == cty.Bool {
		r.AllowSelf = v.True()
	}
	if v := attr("on_timeout"); v != cty.NilVal && v.Type() == cty.String {
		r.OnTimeout = v.AsString()
	}
	return r
}

// gateWait is a gate the run has reached that has not passed yet.
type gateWait struct {
	inst *plan.Instance
	rule GateRule
	// active: the run waits for the gate (a prompt, a timeout, --wait)
	// rather than pausing at it once nothing else runs.
	active bool
	// deadline ends an active wait; zero waits until approved, declined or
	// interrupted. ownTimeout: it is the gate's timeout (on_timeout says
	// what follows), not the apply's wait bound (which pauses).
	deadline   time.Time
	ownTimeout bool
	// check ends the gate's check, for a gate with one whose check runs:
	// approvals pass such a gate too.
	check context.CancelFunc
	// stopped: an interrupt ended the check; the gate still waits.
	stopped bool
	// prompting cancels the question being asked, if one is; asked is
	// closed once the question has returned, and printed its last word.
	prompting context.CancelFunc
	asked     chan struct{}
	// evented holds the approvals already told as gate_approval events.
	evented map[string]bool
}

// waitingRecord is the journal's record of a gate that begins to wait;
// its Reason says what for.
func waitingRecord(run string, inst *plan.Instance, attempt int) state.Record {
	rule := gateRuleOf(inst)
	what := "an approval"
	if rule.Needed > 1 {
		what = fmt.Sprintf("%d approvals from distinct people", rule.Needed)
	}
	if hasCheck(inst) {
		what = "its check, or " + what
	}
	return state.Record{Kind: state.KindStep, Run: run, Addr: inst.Address, Status: state.Waiting, Attempt: attempt, Needed: rule.Needed, Reason: what}
}

// startGate handles a gate the scheduler reached: it passes at once when
// approved already (in the journal, --approve, --auto-approve); else a gate
// with a check runs its check (reported false), and one without waits,
// asks, or pauses the run.
func (e *executor) startGate(inst *plan.Instance) bool {
	if e.approvalsStale {
		e.refreshApprovals()
	}
	g := &gateWait{inst: inst, rule: gateRuleOf(inst), evented: map[string]bool{}}
	st := e.state(inst.Address)
	check := hasCheck(inst)
	begin := func() {
		// A gate with a check that runs begins as any step does (launch).
		st.attempts++
		e.progress++
		if inst.Group != "" && inst.Batch > 0 {
			e.announceBatch(inst)
		}
		e.event(Event{Type: EventStepStart, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Group: inst.Group, Batch: inst.Batch, Attempt: st.attempts, Summary: inst.Summary, Instructions: inst.Instructions})
	}
	if !check {
		begin()
	}
	for _, p := range e.opts.Approve {
		if p.Match(inst.Address) {
			e.approveAsSelf(g, HowApproveFlag)
			break
		}
	}
	if e.opts.AutoApprove && !check {
		e.approveAsSelf(g, HowAutoApprove)
	}
	if check {
		// The check completes it; approvals do too, when given before the
		// check runs.
		if len(e.counted(g)) < g.rule.Needed {
			return false
		}
		begin()
	}
	e.gates[inst.Address] = g
	if e.checkGate(g) {
		return true
	}
	st.waiting = true
	// The journal says the gate waits, so state show can tell an operator
	// in another terminal (or after the run paused) what it waits for.
	if err := e.journal.append(context.WithoutCancel(e.ctx), waitingRecord(e.run, inst, st.attempts)); err != nil {
		e.halt(err)
		return true
	}
	if e.opts.Prompt != nil || inst.TimeoutAfter.Given() || e.opts.WaitGates > 0 {
		g.active = true
		if d, ok := inst.TimeoutAfter.Known(); ok {
			g.deadline, g.ownTimeout = e.opts.Now().Add(d), true
		} else if e.opts.WaitGates > 0 {
			g.deadline = e.opts.Now().Add(e.opts.WaitGates)
		}
		e.armGateTimer()
	}
	e.event(Event{Type: EventGateWait, Run: e.run, Addr: inst.Address, Target: inst.Target, Summary: inst.Instructions, Instructions: inst.Instructions,
		Approvals: len(e.counted(g)), Needed: g.rule.Needed, Deadline: g.deadline})
	if e.opts.Prompt != nil {
		e.ask(g)
	}
	return true
}

// checkGate tells the approvals of g not told yet, and passes g when it
// has enough. It reports whether g passed.
func (e *executor) checkGate(g *gateWait) bool {
	got := e.counted(g)
	if len(got) >= g.rule.Needed {
		// The question ends before the approvals are told, so that they
		// are not printed after it.
		e.endQuestion(g)
	}
	for i, a := range got {
		if g.evented[a.by] {
			continue
		}
		g.evented[a.by] = true
		e.event(Event{Type: EventGateApproval, Run: e.run, Addr: g.inst.Address, By: a.by, How: a.how, Approvals: i + 1, Needed: g.rule.Needed, Time: e.opts.Now()})
	}
	if len(got) < g.rule.Needed {
		return false
	}
	e.passGate(g, got)
	return true
}

// passGate completes g with the approvals that passed it.
func (e *executor) passGate(g *gateWait, got []approval) {
	delete(e.gates, g.inst.Address)
	e.endQuestion(g)
	if g.check != nil {
		g.check() // its result is ignored (checkEnded)
	}
	st := e.state(g.inst.Address)
	st.waiting = false
	last := got[len(got)-1]
	e.record(g.inst, state.Succeeded, "", gateOutputs(got), "")
	e.event(Event{Type: EventGateEnd, Run: e.run, Addr: g.inst.Address, Status: GateApproved, By: byText(got), How: last.how,
		Approvals: len(got), Needed: g.rule.Needed, Summary: "approved by " + byText(got) + "; the run continues"})
}

func gateOutputs(got []approval) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"approved_by": cty.StringVal(byText(got)),
		"approved_at": cty.StringVal(got[len(got)-1].at.UTC().Format(time.RFC3339)),
	})
}

// gatesActive reports whether the run waits at a gate (rather than pause).
func (e *executor) gatesActive() bool {
	for _, g := range e.gates {
		if g.active {
			return true
		}
	}
	return false
}

// gateDeadlines ends the waits whose deadline passed: by the gate's own
// timeout, as its on_timeout says (fail, or pause); by the apply's wait
// bound, with a pause. It sets the timer for the next deadline.
func (e *executor) gateDeadlines() {
	now := e.opts.Now()
	for _, addr := range sortedKeys(e.gates) {
		g := e.gates[addr]
		if !g.active || g.deadline.IsZero() {
			continue
		}
		if g.deadline.After(now) {
			continue
		}
		g.active = false
		e.endQuestion(g)
		got := len(e.counted(g))
		if g.ownTimeout && g.rule.OnTimeout != "pause" {
			delete(e.gates, addr)
			e.state(addr).waiting = false
			e.event(Event{Type: EventGateEnd, Run: e.run, Addr: addr, Status: GateTimedOut, Approvals: got, Needed: g.rule.Needed, Summary: "not approved within its timeout of " + g.inst.Timeout + "; the run fails"})
			e.fail(g.inst, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Gate timed out",
				Detail: fmt.Sprintf("%s had %d of the %d approval(s) it needs when its timeout of %s ended, and its on_timeout is \"fail\". Apply again to wait at it again.", addr, got, g.rule.Needed, g.inst.Timeout)}})
			continue
		}
		why := "its timeout of " + g.inst.Timeout
		if !g.ownTimeout {
			why = fmt.Sprintf("the wait of %s", e.opts.WaitGates)
		}
		e.event(Event{Type: EventGateEnd, Run: e.run, Addr: addr, Status: GateTimedOut, Approvals: got, Needed: g.rule.Needed, Summary: "not approved within " + why + "; the run pauses"})
	}
	e.armGateTimer()
}

// armGateTimer sets the gates' timer for the earliest deadline of the
// gates the run waits at. It is not the loop's wake timer: a gate that
// passes must not keep the run waiting for its deadline.
func (e *executor) armGateTimer() {
	if e.gateTimer != nil {
		e.gateTimer.Stop()
		e.gateTimer = nil
	}
	var first time.Time
	for _, g := range e.gates {
		if g.active && !g.deadline.IsZero() && (first.IsZero() || g.deadline.Before(first)) {
			first = g.deadline
		}
	}
	if !first.IsZero() {
		e.gateTimer = time.NewTimer(max(first.Sub(e.opts.Now()), 0))
	}
}

// gateTimerC is the gates' timer's channel, nil when none is set.
func (e *executor) gateTimerC() <-chan time.Time {
	if e.gateTimer == nil {
		return nil
	}
	return e.gateTimer.C
}

// checkPassed tells of a gate its automated check completed.
func (e *executor) checkPassed(inst *plan.Instance, out cty.Value) {
	if !inst.Gate {
		return
	}
	by := "check"
	if out != cty.NilVal && out.Type().IsObjectType() && out.Type().HasAttribute("approved_by") {
		if v := out.GetAttr("approved_by"); v.IsKnown() && !v.IsNull() && v.Type() == cty.String && !v.IsMarked() {
			by = v.AsString()
		}
	}
	rule := gateRuleOf(inst)
	e.event(Event{Type: EventGateApproval, Run: e.run, Addr: inst.Address, By: by, How: HowCheck, Approvals: rule.Needed, Needed: rule.Needed})
	e.event(Event{Type: EventGateEnd, Run: e.run, Addr: inst.Address, Status: GateApproved, By: by, How: HowCheck, Summary: "completed by its check; the run continues"})
}

// checkContext is the context a step runs in: for a gate with a check, one
// that approvals end, the gate passing without it (passGate); the run's
// otherwise.
func (e *executor) checkContext(inst *plan.Instance) context.Context {
	if !inst.Gate || !hasCheck(inst) {
		return e.ctx
	}
	ctx, cancel := context.WithCancel(e.ctx)
	e.gates[inst.Address] = &gateWait{inst: inst, rule: gateRuleOf(inst), evented: map[string]bool{}, check: cancel}
	return ctx
}

// checkStopped takes the end of a gate's check that an interrupt cut
// short (interruptGates): the gate still waits, as the journal says since
// it began. A check that passed as it was stopped passes the gate.
func (e *executor) checkStopped(inst *plan.Instance, r result) bool {
	g := e.gates[inst.Address]
	if g == nil || !g.stopped || !r.diags.HasErrors() {
		return false
	}
	delete(e.gates, inst.Address)
	st := e.state(inst.Address)
	st.status, st.waiting = state.Waiting, true
	return true
}

// checkEnded takes the end of a gate's check: it reports whether approvals
// passed the gate meanwhile, so that the check's result, cut short, is
// ignored.
func (e *executor) checkEnded(inst *plan.Instance) bool {
	if g := e.gates[inst.Address]; g != nil && g.check != nil {
		g.check()
		delete(e.gates, inst.Address)
		return false
	}
	return e.state(inst.Address).status == state.Succeeded
}
