package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// instState is what the executor knows of one instance.
type instState struct {
	status   state.Status
	attempts int
	handle   string
	outputs  cty.Value // known outputs after success; NilVal otherwise
	err      string
	waiting  bool // a gate waiting for approval
	running  bool
	blocked  string
	// recovered marks a state read from the journal of an earlier process.
	recovered bool
	// startRec is the start of a step that is not once, journaled with its
	// end.
	startRec *state.Record
	// outputsLost says why a step that succeeded has no outputs, or not
	// all, this run can use (resolved as done by an operator, or sensitive
	// and so not journaled); "" when it has them.
	outputsLost string
	// reread: the outputs were lost only for want of a journal; a
	// read-only step is simply run again.
	reread bool
}

type groupState struct {
	failures int
	// failed holds the elements counted in failures.
	failed  map[string]bool
	stopped bool
	// batchDone[b] is when batch b finished, for the pause before b+1.
	batchDone map[int]time.Time
	// announced is the batch whose start was last reported: a batch
	// starts once, however many of its instances launch.
	announced int
}

type result struct {
	// journaled: the worker already wrote the step's success (or failed
	// to, journalErr).
	journaled  bool
	journalErr error
	addr       string
	outputs    cty.Value
	diags      hcl.Diagnostics
	handle     string
	elapsed    time.Duration
	// answer ends a question asked at a gate.
	answer *promptAnswer
	// newTarget is the identity a step read for the first time in this
	// run; wrongTarget says it differs from the one the run recorded.
	newTarget   string
	wrongTarget bool
}

type executor struct {
	ctx  context.Context
	pb   *lang.Playbook
	c    *compiled
	opts ApplyOptions

	run      string
	identity *state.Identity
	// target is the identity the resumed run recorded, whose Target facts
	// re-read discovery must find again.
	target *state.Identity
	// targetFacts are the identities of the run's target found so far, by
	// the address of the step that read them; verify holds the steps that
	// must read them again, on resume, before anything else acts.
	targetFacts map[string]string
	verify      map[string]bool
	// factsDue are the read-only steps whose facts a saved plan bound and
	// that have not read them again yet: until they have, nothing that
	// changes anything starts.
	factsDue map[string]bool
	// refused holds why the cluster is not on the playbook's path, once a
	// plan found so; the run then acts no more. releaseSeen is the
	// release status last reported.
	refused     *hcl.Diagnostic
	releaseSeen string
	// doubtHalt: an undo of a compensation a crash cut short is in
	// doubt; the run acts no more until it is resolved.
	doubtHalt bool
	// wrongTarget: a re-read identity differs; the run acts no more.
	wrongTarget bool
	alreadyDone bool
	// approvals are those recorded for the run, approvalKeys their
	// keys; approvalsStale: some came while no gate waited, and are read
	// again when one does. gates are the gates reached that have not
	// passed; approvalCh notifies of new approvals.
	approvals      []approval
	approvalKeys   map[string]bool
	approvalsStale bool
	gates          map[string]*gateWait
	approvalCh     <-chan struct{}
	gateTimer      *time.Timer
	resolutions    map[string]string
	owed           obligations

	p     *planned // the current plan (replan)
	sc    *sched
	index map[string]int
	// afterChange marks, per instance of the current plan, whether a
	// change precedes it (afterChanges).
	afterChange []bool
	states      map[string]*instState
	groups      map[string]*groupState
	running     int
	done        chan result
	journal     *journal
	diags       hcl.Diagnostics
	stopped     bool
	lost        bool
	// journalErr is the first journal write that failed (see halt).
	journalErr error
	wake       *time.Timer
	wakeAt     time.Time
	// replanDue: a finished instance's outputs are awaited by a dependent
	// whose values are not known yet.
	replanDue bool
	// progress counts transitions (starts and terminal states): the
	// progress guard of replanHelps.
	progress int
	// redo holds steps done, undone and to be done again: everything after
	// them waits for them, even what follows only transitively.
	redo map[string]bool
}

func (e *executor) state(addr string) *instState {
	st := e.states[addr]
	if st == nil {
		st = &instState{status: state.Pending}
		e.states[addr] = st
	}
	return st
}

// halt stops a run whose journal write failed: with the lock lost, or
// with the records' fate unknown, nothing more may act or be written
// (state.Session.Append).
func (e *executor) halt(err error) {
	if e.journalErr == nil {
		e.journalErr = err
	}
	e.lost = true
}

// lostDiag says why a run stopped writing: its lock was lost, or a
// journal write failed.
func (e *executor) lostDiag() *hcl.Diagnostic {
	if e.journalErr == nil || errors.Is(e.journalErr, state.ErrLockLost) {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Lost the run lock", Detail: "Another process broke or took the lock; this run stopped writing and acting. Check rokflow state show before resuming."}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write the journal", Detail: "This run stopped acting, since what it does could no longer be recorded: " + e.journalErr.Error() + ". Check rokflow state show before resuming."}
}

func journalDiags(summary string, err error) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: err.Error()}}
}

// replan plans again with every known output, and indexes the plan.
func (e *executor) replan() {
	known := make(map[string]cty.Value, len(e.states))
	for addr, st := range e.states {
		if st.status == state.Succeeded && st.outputs != cty.NilVal {
			known[addr] = st.outputs
		}
	}
	opts := e.opts.Plan
	opts.Known = known
	e.p = walk(e.ctx, e.pb, e.c, opts, nil)
	e.index = make(map[string]int, len(e.p.plan.Instances))
	for i, inst := range e.p.plan.Instances {
		e.index[inst.Address] = i
	}
	e.afterChange = afterChanges(e.p.plan, e.index)
	e.buildSched()
	if r := e.p.release; r != nil && r.known && r.plan.Status != e.releaseSeen {
		e.releaseSeen = r.plan.Status
		if r.refused {
			e.refused = r.diag
		}
		e.event(Event{Type: EventRelease, Run: e.run, Status: r.plan.Status, Summary: r.plan.Text()})
	}
}

func (e *executor) loop() (*Result, hcl.Diagnostics) {
	defer e.watchApprovals()()
	e.replan()
	if errs := globalErrors(e.p); errs.HasErrors() {
		return nil, errs
	}
	if e.rereadLost() {
		e.replan()
	}
	if diags := e.verifyTarget(); diags.HasErrors() {
		return nil, diags
	}
	for _, inst := range e.p.plan.Instances {
		if e.state(inst.Address).status == state.InDoubt && e.resolutions[inst.Address] == "" {
			e.reportDoubt(inst)
		}
	}
	e.finishCompensation()
	// The facts a saved plan bound are read again, and found the same,
	// before anything changes.
	for addr := range e.opts.Facts {
		if _, ok := e.index[addr]; ok && !isDone(e.state(addr).status) {
			e.factsDue[addr] = true
		}
	}
	for {
		e.schedule()
		for e.replanDue {
			e.replanDue = false
			e.replan()
			e.schedule()
		}
		if e.running == 0 && (e.wake == nil || e.stopped || e.lost) && (!e.gatesActive() || e.stopped || e.lost) {
			// Nothing runs and no timer is due: either a new plan makes
			// more instances ready, or the run is over.
			if e.stopped || e.lost || e.ctx.Err() != nil || !e.replanHelps() {
				break
			}
			continue
		}
		var wake <-chan time.Time
		if e.wake != nil {
			wake = e.wake.C
		}
		select {
		case r := <-e.done:
			e.complete(r)
		case _, ok := <-e.approvalCh:
			e.approvalsChanged(ok)
		case <-e.stopCh():
			e.stopped = true
			e.interruptGates()
			if e.ctx.Err() == nil { // cancelled already: nothing waits
				e.event(Event{Type: EventStopping, Run: e.run, Summary: "interrupted: starting nothing new; waiting for running steps"})
			}
		case <-e.lostCh():
			e.lost = true
		case <-wake:
			e.wake = nil
		case <-e.gateTimerC():
			e.gateTimer = nil
			e.gateDeadlines()
		case <-e.cancelCh():
			// Cancelled (a second interrupt, SIGTERM): running steps end
			// with the context; nothing waits for a pause.
			e.stopped = true
			e.interruptGates()
		}
	}
	return e.finish()
}

func (e *executor) stopCh() <-chan struct{} {
	if e.stopped {
		return nil
	}
	return e.opts.Stop
}

func (e *executor) cancelCh() <-chan struct{} {
	if e.stopped {
		return nil
	}
	return e.ctx.Done()
}

func (e *executor) lostCh() <-chan struct{} {
	if e.lost || e.opts.Session == nil {
		return nil
	}
	return e.opts.Session.Lost()
}

// globalErrors returns planning errors not tied to one instance: those
// stop the run before it starts.
func globalErrors(p *planned) hcl.Diagnostics {
	owned := map[*hcl.Diagnostic]bool{}
	for _, x := range p.extras {
		for _, d := range x.diags {
			owned[d] = true
		}
	}
	var out hcl.Diagnostics
	for _, d := range p.diags {
		if !owned[d] {
			out = append(out, d)
		}
	}
	return out
}

// replanHelps re-plans when nothing runs and some instance waits for
// values, and schedules what the new plan made ready.
//
// It is the run's progress guard: a new plan helps only when something
// moved (an instance started or reached a new state), so a run whose
// values can never become known (outputs an operator's resolution never
// produced) ends, and says why, instead of planning again forever.
func (e *executor) replanHelps() bool {
	if e.sc.unknown == 0 {
		return false
	}
	before := e.progress
	e.replan()
	e.schedule()
	return e.progress != before || e.running > 0 || e.wake != nil
}

func isTerminal(s state.Status) bool {
	switch s {
	case state.Succeeded, state.Skipped, state.Failed, state.InDoubt, state.Cancelled:
		return true
	}
	return false
}

func isDone(s state.Status) bool { return s == state.Succeeded || s == state.Skipped }

// wakeIn asks the loop to wake after d, or sooner if it already waits
// for an earlier instant (rolling pauses of several groups).
func (e *executor) wakeIn(d time.Duration) {
	at := e.opts.Now().Add(d)
	if e.wake != nil {
		if !at.Before(e.wakeAt) {
			return
		}
		e.wake.Stop()
	}
	e.wake, e.wakeAt = time.NewTimer(d), at
}

func (e *executor) group(addr string) *groupState {
	g := e.groups[addr]
	if g == nil {
		g = &groupState{batchDone: map[int]time.Time{}}
		e.groups[addr] = g
	}
	return g
}

func (e *executor) groupPlan(addr string) *plan.Group {
	for _, g := range e.p.plan.Groups {
		if g.Address == addr {
			return g
		}
	}
	return nil
}

func (e *executor) event(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.opts.Now()
	}
	e.opts.Hook.Event(ev)
}
