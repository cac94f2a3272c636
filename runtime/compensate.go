package runtime

import (
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// obligation is an undo owed by a step instance that succeeded: the
// instances of its undo step that reverse it. It is owed until they have
// all run (or are not wanted: their when is false); a failed run that
// cannot settle it leaves it held (its condition said not yet) or unmet
// (it could not run, or failed), and says why. It is never dropped.
type obligation struct {
	addr    string // the owing instance
	undo    string // the undo step
	targets []string
	status  state.Status
	reason  string
}

// obligations are a run's owed undos in the order they were owed, with,
// for each undo instance, the obligations it settles. This file is their
// one owner: owing, settling, and honouring them when a run fails.
type obligations struct {
	list     []*obligation
	byAddr   map[string]*obligation
	byTarget map[string][]*obligation
	// compensating is set while a failed run honours its obligations;
	// undone collects those settled by an undo that ran meanwhile, reads
	// what their conditions read again, and held those held back, by undo
	// step and reason, to be reported once.
	compensating bool
	undone       []*obligation
	reads        *conditionReads
	held         []heldUndos
}

// heldUndos are the obligations one undo step is held back for, for one
// reason.
type heldUndos struct {
	undo, reason string
	owing        []string
	decl         hcl.Range
}

// noteObligation takes an obligation record, from the journal or just
// written. The latest record of a step wins: a step undone and done again
// owes its undo again.
func (e *executor) noteObligation(r state.Record) {
	ob := &e.owed
	if ob.byAddr == nil {
		ob.byAddr = map[string]*obligation{}
		ob.byTarget = map[string][]*obligation{}
	}
	o := ob.byAddr[r.Addr]
	if o == nil {
		o = &obligation{addr: r.Addr}
		ob.byAddr[r.Addr] = o
		ob.list = append(ob.list, o)
	}
	o.status, o.reason = r.Status, r.Reason
	if r.Undo != "" {
		o.undo = r.Undo
	}
	targets := r.UndoAddrs
	if len(targets) == 0 && r.Status == state.Owed && r.Undo != "" {
		// A record from before instances were listed names one.
		targets = []string{r.Undo}
	}
	if len(targets) > 0 {
		e.retarget(o, targets)
	}
}

// retarget sets the undo instances an obligation owes.
func (e *executor) retarget(o *obligation, targets []string) {
	if slices.Equal(o.targets, targets) {
		return
	}
	o.targets = slices.Clone(targets)
	for _, t := range o.targets {
		if !slices.Contains(e.owed.byTarget[t], o) {
			e.owed.byTarget[t] = append(e.owed.byTarget[t], o)
		}
	}
}

// owe records that inst, which just succeeded, owes its undo instances as
// the plan resolved them.
func (e *executor) owe(inst *plan.Instance) {
	rec := state.Record{Kind: state.KindObligation, Run: e.run, Addr: inst.Address, Undo: inst.Undo, Status: state.Owed}
	if inst.Obligation != nil {
		rec.UndoAddrs = inst.UndoInstances
	}
	e.noteObligation(rec)
	e.writeObligation(rec)
}

// settle settles the obligations an undo instance that just finished
// completes: those whose every undo instance is done.
//
// While a failed run compensates, an undo that ran means both halves are
// to be done again: the "do again" marks (pending records of the owing
// step and of the undo instances) are journaled in the same write as the
// settlement, so that no crash can leave an obligation settled while the
// upgrade would go on with its first half undone. The executor's own view
// is set back only once compensation is over (redoUndone).
func (e *executor) settle(addr string) {
	var done []*obligation
	for _, o := range e.owed.byTarget[addr] {
		if o.status != state.Settled && e.targetsDone(o) {
			done = append(done, o)
		}
	}
	if len(done) == 0 {
		return
	}
	undone := e.owed.compensating && e.state(addr).status == state.Succeeded
	e.settleAll(done, "", undone)
}

// settleAll settles obligations in one journal write, with the marks that
// have what they undid done again when undone.
func (e *executor) settleAll(done []*obligation, reason string, undone bool) {
	var recs []state.Record
	seen := map[string]bool{}
	for _, o := range done {
		recs = append(recs, state.Record{Kind: state.KindObligation, Run: e.run, Addr: o.addr, Undo: o.undo, UndoAddrs: o.targets, Status: state.Settled, Reason: reason})
		if !undone {
			continue
		}
		for _, a := range append([]string{o.addr}, o.targets...) {
			if !seen[a] && e.state(a).status == state.Succeeded {
				seen[a] = true
				recs = append(recs, state.Record{Kind: state.KindStep, Run: e.run, Addr: a, Status: state.Pending})
			}
		}
	}
	if err := e.journal.append(context.WithoutCancel(e.ctx), recs...); err != nil {
		e.halt(err)
		return
	}
	for _, o := range done {
		o.status, o.reason = state.Settled, reason
		if undone {
			e.owed.undone = append(e.owed.undone, o)
		}
	}
}

func (e *executor) settleObligation(o *obligation, reason string) {
	e.settleAll([]*obligation{o}, reason, false)
}

// anyTargetSucceeded reports whether an undo instance of o ran.
func (e *executor) anyTargetSucceeded(o *obligation) bool {
	for _, t := range o.targets {
		if e.state(t).status == state.Succeeded {
			return true
		}
	}
	return false
}

// targetsDone reports whether an obligation's undo instances have all run,
// or are not wanted (planned to be skipped).
func (e *executor) targetsDone(o *obligation) bool {
	for _, t := range o.targets {
		if !isDone(e.state(t).status) && !e.planSkips(t) {
			return false
		}
	}
	return true
}

func (e *executor) planSkips(addr string) bool {
	i, ok := e.index[addr]
	return ok && e.p.plan.Instances[i].Action == plan.Skip
}

func (e *executor) writeObligation(rec state.Record) {
	if err := e.journal.append(context.WithoutCancel(e.ctx), rec); err != nil {
		e.halt(err)
	}
}

// compensate honours the owed undos once the run failed, newest first:
// each is run, held back by its condition, or reported as unmet. What was
// undone is done again, each half in its place, by a resumed run.
func (e *executor) compensate() {
	e.owed.compensating = true
	for k := len(e.owed.list) - 1; k >= 0 && !e.lost; k-- {
		if o := e.owed.list[k]; o.status != state.Settled {
			e.honour(o)
		}
	}
	e.owed.compensating = false
	e.owed.reads = nil
	e.reportHeld()
	e.redoUndone()
}

// finishCompensation ends, before anything else acts, a compensation that
// a crash cut short: an obligation journaled as undoing and not settled
// (the failed run began its undo and died). Going on instead would carry on the
// upgrade with the first half undone (the master no longer pinned). The
// undo is honoured as a failed run would (run, held back, or reported),
// and what was undone is done again, each half in its place.
func (e *executor) finishCompensation() {
	var cut []*obligation
	for _, o := range e.owed.list {
		if o.status == state.Undoing {
			cut = append(cut, o)
		}
	}
	if len(cut) == 0 {
		return
	}
	e.owed.compensating = true
	for k := len(cut) - 1; k >= 0; k-- {
		e.event(Event{Type: EventUndoStart, Run: e.run, Addr: cut[k].addr, Summary: "finishing the compensation a crash cut short"})
		e.honour(cut[k])
		if cut[k].status != state.Settled {
			// The compensation is still unfinished (its undo failed, is
			// in doubt, or cannot run): whether the first half is in
			// effect is unknown, so nothing acts until it is finished.
			e.doubtHalt = true
		}
	}
	e.owed.compensating = false
	e.owed.reads = nil
	e.reportHeld()
	e.redoUndone()
	e.replan()
}

// honour runs an obligation's undo instances, unless its condition holds
// it back; what cannot be done is reported, journaled and left owed.
func (e *executor) honour(o *obligation) {
	if e.lost {
		return // nothing may act once the journal cannot record it
	}
	i, ok := e.index[o.addr]
	if !ok {
		e.unmet(o, nil, "the step that owes it is not in this run's plan")
		return
	}
	inst, x := e.p.plan.Instances[i], e.p.extras[i]
	if inst.Obligation == nil {
		e.unmet(o, nil, "the step that owes it has no undo in this run's plan")
		return
	}
	// The plan knows the undo instances best now: a collection unknown
	// when the undo was owed may be known since.
	e.retarget(o, inst.UndoInstances)
	if e.targetsDone(o) {
		if o.status == state.Undoing && e.anyTargetSucceeded(o) {
			// Its undo ran before a crash cut the compensation short:
			// what it undid is to be done again.
			e.settleAll([]*obligation{o}, "", true)
			return
		}
		e.settleObligation(o, "its undo was not needed: "+skipReasons(e, o))
		return
	}
	// An undo already begun is finished whatever its condition says now:
	// its first half may be undone in part.
	if x.undo != nil && x.undo.verdict != nil && o.status != state.Undoing {
		if v := e.undoVerdict(inst, x); !v.run {
			e.holdBack(o, x, v.reason)
			return
		}
	}
	var problems []string
	for _, t := range o.targets {
		if p := e.runUndo(o, t); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		e.unmet(o, x.undo, strings.Join(problems, "; "))
		return
	}
	if o.status != state.Settled && e.targetsDone(o) {
		e.settleObligation(o, "its undo was not needed: "+skipReasons(e, o))
	}
}

// runUndo runs one undo instance and returns what went wrong, if anything.
func (e *executor) runUndo(o *obligation, addr string) string {
	if isDone(e.state(addr).status) || e.planSkips(addr) {
		return ""
	}
	j, ok := e.index[addr]
	if !ok {
		return addr + " is not in this run's plan"
	}
	inst := e.p.plan.Instances[j]
	if !e.known(j) {
		why := inst.Reason
		if why == "" {
			why = "its target or arguments depend on steps that have not run"
		}
		return addr + " cannot run yet: " + why
	}
	if errs := errorsOnly(e.p.extras[j].diags); len(errs) > 0 {
		return addr + " cannot run: " + diagText(errs)
	}
	if inst.Gate {
		g := &gateWait{inst: inst, rule: gateRuleOf(inst), evented: map[string]bool{}}
		if got := e.counted(g); len(got) >= g.rule.Needed {
			e.record(inst, state.Succeeded, "", gateOutputs(got), "")
			return ""
		}
		return addr + " is a gate: approve it (rokflow approve), then apply again"
	}
	st := e.state(addr)
	// An undo is a step like any other: one that a crash cut short is in
	// doubt unless it can re-attach to its job, and only an operator's
	// answer lets it run again.
	switch e.resumeAction(inst) {
	case actDone:
		e.resolvedDone(inst)
		return ""
	case actHold:
		if st.status != state.InDoubt {
			e.inDoubt(inst) // else reported when the run began
		}
		return addr + " is in doubt: check whether it acted, then run rokflow resolve " + addr + " --done or --retry and apply again"
	}
	reattach := st.recovered && st.status == state.Running
	// Durable before the undo acts: a crash from here on leaves a
	// compensation that a resumed run finishes first (finishCompensation).
	if o.status != state.Undoing {
		o.status = state.Undoing
		e.writeObligation(state.Record{Kind: state.KindObligation, Run: e.run, Addr: o.addr, Undo: o.undo, UndoAddrs: o.targets, Status: state.Undoing})
		if e.lost {
			return addr + " was not run: the journal cannot record it"
		}
	}
	e.event(Event{Type: EventUndoStart, Run: e.run, Addr: addr, Summary: "compensating " + o.addr})
	if !reattach {
		st.status = state.Pending
	}
	e.launch(inst, e.p.extras[j])
	if st.running {
		e.complete(<-e.done)
	}
	if !isDone(st.status) {
		return addr + " failed: " + st.err
	}
	return ""
}

// redoUndone sets back, once compensation is over, both halves of what
// was undone in the executor's view (settleAll journaled the marks): a
// resumed run pins again before the upgrade goes on, and restores at the
// end.
func (e *executor) redoUndone() {
	for _, o := range e.owed.undone {
		for _, addr := range append([]string{o.addr}, o.targets...) {
			if e.state(addr).status == state.Succeeded {
				e.state(addr).status = state.Pending
				e.redo[addr] = true
			}
		}
	}
	e.owed.undone = nil
}
