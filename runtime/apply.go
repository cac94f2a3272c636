package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
)

// ApplyOptions control a run.
type ApplyOptions struct {
	// Plan holds the inputs, the host resolver and the version, as for Plan.
	Plan Options
	// Parallelism bounds how many steps run at once (default 10).
	Parallelism int
	// Backend is where the journal lives; Session is the held run lock.
	Backend state.Backend
	Session state.Session
	Holder  state.Holder
	// PlanHash binds the run and its approvals to a playbook and inputs.
	PlanHash string
	// NewRun starts over after a finished run instead of reporting it.
	NewRun bool
	// Abandon lets NewRun begin although the last run left steps in doubt
	// or undos owed.
	Abandon bool
	// AutoApprove passes every gate that has no completion check.
	AutoApprove bool
	// Approve lists the address patterns approved up front.
	Approve []addrs.Pattern
	// Prompt asks an operator at a gate, on a terminal; it returns when
	// answered, or when ctx ends (the gate was approved from elsewhere, or
	// its timeout ended), or with ErrPromptInterrupted. Nil means no one
	// is asked: the run waits at a gate only as WaitGates or the gate's
	// timeout say, and otherwise pauses there (exit code 3).
	Prompt func(ctx context.Context, g Gate) (bool, error)
	// WaitGates, when positive, makes the run wait that long at a gate
	// for approvals from elsewhere before it pauses there.
	WaitGates time.Duration
	// Identity is who runs the apply, for the approvals it gives and for
	// gates that refuse self-approval: the state backend's user, else
	// user@host (Holder's, when empty).
	Identity string
	// Stop is closed at the first interrupt: nothing new is started.
	Stop <-chan struct{}
	Hook Hook
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Facts are what a saved plan's discovery found (plan.Facts): when a
	// read-only step finds something else at run time, the cluster moved
	// since the plan, and the step fails with the difference before
	// anything that depends on it runs.
	Facts map[string]json.RawMessage
}

// Gate is what an operator is asked at a gate.
type Gate struct {
	Addr, Target, Instructions string
	// Needed is how many approvals from distinct identities the gate
	// requires; Approvals how many it has.
	Needed, Approvals int
	// SelfAllowed: the operator's yes counts, as Self's approval. When it
	// does not, the question can only decline; approvals come from others.
	SelfAllowed bool
	Self        string
	// Deadline is when the wait ends by the gate's timeout or the apply's
	// wait bound; zero for none.
	Deadline time.Time
}

// RunStatus is how a run ended.
type RunStatus string

// The ways a run ends.
const (
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	// RunPaused: waiting at a gate, or a step is in doubt (exit code 3).
	RunPaused RunStatus = "paused"
	// RunStopped: interrupted; resume with apply.
	RunStopped RunStatus = "stopped"
	// RunAlreadyDone: the last run finished; nothing to do.
	RunAlreadyDone RunStatus = "already-done"
)

// Result is the outcome of Apply.
type Result struct {
	Run     string
	Status  RunStatus
	Counts  map[string]int
	Failed  []string
	Waiting []string // gates waiting for an approval
	// Gates describe the waiting gates, in the order of Waiting.
	Gates   []Gate
	InDoubt []string
	Blocked []string // not run because something upstream failed or was not known
}

const defaultParallelism = 10

// Apply runs the playbook: it plans, runs every instance whose
// dependencies succeeded and whose arguments are known, journals every
// transition before dependents start, re-plans when outputs make new
// values known (a group over discovered nodes), and resumes an unfinished
// run from the journal. The diagnostics explain a failed run.
func Apply(ctx context.Context, pb *lang.Playbook, reg *steps.Registry, opts ApplyOptions) (*Result, hcl.Diagnostics) {
	c, diags := compile(pb, reg)
	if diags.HasErrors() {
		return nil, diags
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = defaultParallelism
	}
	if opts.Hook == nil {
		opts.Hook = NopHook{}
	}
	opts.Hook = logHook(ctx, opts.Hook)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &executor{
		ctx:     ctx,
		pb:      pb,
		c:       c,
		opts:    opts,
		states:  map[string]*instState{},
		done:    make(chan result),
		groups:  map[string]*groupState{},
		journal: &journal{s: opts.Session, now: opts.Now},
		redo:    map[string]bool{},
		// What this apply acts for; a run it resumes must be the same.
		identity:    Identify(pb, opts.Plan.Inputs),
		targetFacts: map[string]string{},
		factsDue:    map[string]bool{},
		verify:      map[string]bool{},
	}
	if diags := e.load(); diags.HasErrors() {
		return nil, diags
	}
	if e.alreadyDone && len(e.verify) > 0 {
		e.replan()
		if diags := e.verifyTarget(); diags.HasErrors() {
			return nil, diags
		}
	}
	if e.alreadyDone {
		return &Result{Run: e.run, Status: RunAlreadyDone}, nil
	}
	return e.loop()
}

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

// load reads the journal through state.Fold: the run to continue, each
// instance's last transition, approvals, resolutions and owed undos. A new
// run begins when there is none to continue; a run to continue must be
// the same run: same playbook, same inputs (its identity).
func (e *executor) load() hcl.Diagnostics {
	recs, err := e.opts.Backend.Records(e.ctx)
	if err != nil {
		return journalDiags("Cannot read the journal", err)
	}
	h := state.Fold(recs)
	e.gates, e.approvalKeys = map[string]*gateWait{}, map[string]bool{}
	e.resolutions = map[string]string{}
	last := h.Last()
	if last != nil && last.Ended == state.Succeeded && !e.opts.NewRun && e.c.release != nil {
		// With release facts the cluster, not the journal, says what is
		// left: a finished run leaves nothing in flight, so a new run reads
		// the cluster again and does what its release calls for (nothing,
		// when it is at to). Another playbook of a chain begins so too.
		e.opts.NewRun = true
	}
	if last != nil && last.Ended == state.Succeeded && !e.opts.NewRun {
		// Finished: nothing to do, if it is the same run. With another
		// playbook or other inputs, or on another system, "nothing to do"
		// would be a lie.
		if diff := identityDiff(last.Identity, e.identity); len(diff) > 0 {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "The last run finished with another playbook or other inputs",
				Detail: fmt.Sprintf("Run %s finished; it was made with:\n%s\nTo run the playbook with these, start a new run with apply --new-run.",
					last.ID, strings.Join(diff, "\n")),
			}}
		}
		e.run, e.alreadyDone = last.ID, true
		if last.Identity != nil {
			for addr, id := range last.Identity.Target {
				e.targetFacts[addr] = id
				e.verify[addr] = true
			}
		}
		return nil
	}
	if last != nil && e.opts.NewRun && !e.opts.Abandon {
		if left := leftBehind(last); len(left) > 0 {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "The last run left work behind",
				Detail: fmt.Sprintf("Run %s is not settled:\n%s\nA new run would leave these behind, unreported. Resume that run to settle them "+
					"(apply, after rokflow resolve for a step in doubt), or settle them by hand and apply with --new-run --abandon.", last.ID, strings.Join(left, "\n")),
			}}
		}
	}
	resume := last != nil && last.Resumable() && !e.opts.NewRun
	if resume {
		if diags := e.sameRun(last); diags.HasErrors() {
			return diags
		}
		e.run = last.ID
		e.target = last.Identity
	} else {
		e.run = newRunID(e.opts.Now())
		if err := e.journal.append(e.ctx, state.Record{Kind: state.KindRun, Run: e.run, PlanHash: e.opts.PlanHash, Playbook: e.pb.Meta.Name, Holder: &e.opts.Holder, Identity: e.identity, By: e.self()}); err != nil {
			return journalDiags("Cannot write the journal", err)
		}
		e.event(Event{Type: EventRunStart, Run: e.run})
	}
	e.loadApprovals(h.ApprovalsFor(e.run))
	if !resume {
		return nil
	}
	for _, s := range last.Steps {
		st := e.state(s.Addr)
		st.status, st.attempts, st.err, st.recovered, st.handle = s.Status, s.Attempt, s.Error, true, s.Handle
		if s.Redo {
			e.redo[s.Addr] = true
		}
		if s.Resolution != "" {
			e.resolutions[s.Addr] = s.Resolution
		}
		if s.Status == state.Succeeded {
			var lost bool
			st.outputs, lost = decodeOutputs(s.Outputs)
			if lost {
				st.outputsLost = "its outputs were sensitive, and sensitive values are never journaled"
				st.reread = true
			}
			if s.ResolvedDone {
				st.outputsLost = resolvedWithoutOutputs
			}
		}
		// What failed is tried again: the operator resumed after healing
		// it. (A failure is a known outcome; only a crash leaves doubt.)
		// A gate that was waiting asks again.
		if s.Status == state.Failed || s.Status == state.Cancelled || s.Status == state.Waiting {
			st.status = state.Pending
		}
	}
	for _, o := range last.Obligations {
		e.noteObligation(state.Record{Kind: state.KindObligation, Addr: o.Addr, Undo: o.Undo, UndoAddrs: o.UndoAddrs, Status: o.Status, Reason: o.Reason})
	}
	if last.Identity != nil {
		for addr, id := range last.Identity.Target {
			e.targetFacts[addr] = id
			// Read the target's identity again before anything acts: the
			// run may be resumed against another cluster.
			if st := e.state(addr); st.status == state.Succeeded {
				e.verify[addr] = true
			}
		}
	}
	e.event(Event{Type: EventRunStart, Run: e.run, Summary: "resuming"})
	return nil
}

// leftBehind lists what a run leaves unsettled: steps in doubt, and undos
// owed (held back or unmet included).
func leftBehind(r *state.Run) []string {
	var out []string
	for _, s := range r.Steps {
		switch s.Status {
		case state.InDoubt:
			out = append(out, "  "+s.Addr+" is in doubt")
		case state.Running:
			out = append(out, "  "+s.Addr+" was running when the run stopped (in doubt if it runs once)")
		}
	}
	for _, o := range r.Obligations {
		if o.Status != state.Settled {
			undo := o.Undo
			if len(o.UndoAddrs) == 1 {
				undo = o.UndoAddrs[0]
			}
			line := fmt.Sprintf("  %s owes its undo %s (%s)", o.Addr, undo, o.Status)
			if o.Reason != "" {
				line += ": " + o.Reason
			}
			out = append(out, line)
		}
	}
	return out
}

// rereadLost sets back to pending the read-only steps of a resumed run
// whose outputs were not journaled (sensitive): running a discovery again
// is safe, and gives its dependents real values. It reports whether it
// set any back.
func (e *executor) rereadLost() bool {
	again := false
	for _, inst := range e.p.plan.Instances {
		st := e.state(inst.Address)
		if st.reread && st.status == state.Succeeded && inst.ReadOnly {
			st.status, st.outputs, st.outputsLost, st.reread = state.Pending, cty.NilVal, "", false
			again = true
		}
	}
	return again
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

func newRunID(t time.Time) string { return t.UTC().Format("20060102T150405.000Z") }

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

// start begins one instance: a skip, a failure found while planning, a
// crash to recover from, a gate, or a run.
func (e *executor) start(i int, inst *plan.Instance) {
	st := e.state(inst.Address)
	x := e.p.extras[i]
	if inst.Action == plan.Skip {
		e.record(inst, state.Skipped, "", cty.NilVal, "")
		return
	}
	if errs := errorsOnly(x.diags); len(errs) > 0 {
		e.fail(inst, errs)
		return
	}
	switch e.resumeAction(inst) {
	case actDone:
		e.resolvedDone(inst)
		return
	case actHold:
		if st.status != state.InDoubt {
			e.inDoubt(inst) // else reported when the run began
		}
		return
	}
	if inst.Gate && e.startGate(inst) {
		return
	}
	e.launch(inst, x)
}

func hasCheck(inst *plan.Instance) bool {
	args := inst.Arguments()
	if args == cty.NilVal || !args.Type().IsObjectType() || !args.Type().HasAttribute("check") {
		return false
	}
	v := args.GetAttr("check")
	return !v.IsNull()
}

func errorsOnly(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// launch runs an instance in its own goroutine.
func (e *executor) launch(inst *plan.Instance, x instExtra) {
	st := e.state(inst.Address)
	// A handle belongs to one attempt: only an attempt that a crash cut
	// short re-attaches to the job it started; any other attempt (after a
	// failure, an undo, a retry resolution) acts anew.
	if !(st.recovered && st.status == state.Running) {
		st.handle = ""
	}
	st.status, st.recovered = state.Running, false
	st.running = true
	st.attempts++
	e.running++
	e.progress++
	if inst.Group != "" && inst.Batch > 0 {
		e.announceBatch(inst)
	}
	// A once step's intent is durable before it acts. Other steps may run
	// again after a crash, so their start is journaled together with their
	// end, in one write, still before any dependent starts. A gate whose
	// check runs is journaled as waiting, as any waiting gate is
	// (startGate): state show tells what it waits for.
	rec := state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: state.Running, Attempt: st.attempts, Handle: st.handle, Time: e.opts.Now()}
	if inst.Gate {
		rec = waitingRecord(e.run, inst, st.attempts)
		rec.Time = e.opts.Now()
	}
	if inst.Once || inst.Gate {
		if err := e.journal.append(context.WithoutCancel(e.ctx), rec); err != nil {
			st.running = false
			e.running--
			e.halt(err)
			e.fail(inst, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot write the journal", Detail: err.Error()}})
			return
		}
	} else {
		st.startRec = &rec
	}
	e.event(Event{Type: EventStepStart, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Group: inst.Group, Batch: inst.Batch, Attempt: st.attempts, Summary: inst.Summary, Instructions: gateText(inst)})
	handle, attempts, startRec := st.handle, st.attempts, st.startRec
	wantTarget, hadTarget := e.targetFacts[inst.Address]
	// Only what a step reads before any change identifies the system: a
	// node's own view after the run changed things describes the run's
	// doing (and the node may be down when the run resumes).
	identifies := hadTarget || !e.afterChange[e.index[inst.Address]]
	base := e.checkContext(inst)
	go func() {
		start := time.Now()
		var r result
		{
			r = e.runStepIn(base, inst, x, handle, attempts)
			if idf, ok := x.kind.(steps.Identifier); ok && identifies && !r.diags.HasErrors() {
				if got, ok := idf.Identity(r.outputs); ok {
					switch {
					case !hadTarget:
						r.newTarget = got
					case got != wantTarget:
						r.wrongTarget = true
						r.diags = append(r.diags, wrongSystem(e.run, inst.Address, wantTarget, got, "The run acts no more and compensates nothing here."))
					}
				}
			}
			if want, ok := e.opts.Facts[inst.Address]; ok && inst.ReadOnly && !r.diags.HasErrors() {
				if want, got := canonicalFact(want), factText(r.outputs); got != want {
					r.diags = append(r.diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "The cluster changed since the plan",
						Detail:   "What this step finds differs from what the saved plan was made with:\n" + factDiff(want, got) + "\nMake a new plan and review it.",
					})
				}
			}
			if x.post == nil && !r.diags.HasErrors() && e.ctx.Err() == nil {
				// The common case is journaled here, by the worker, so that
				// concurrent steps share the journal's group commit and the
				// scheduler only keeps books.
				if r.outputs == cty.NilVal {
					r.outputs = cty.EmptyObjectVal
				}
				if r.handle == "" {
					r.handle = handle
				}
				end := state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: state.Succeeded, Attempt: attempts, Handle: r.handle, Outputs: encodeOutputs(r.outputs)}
				var recs []state.Record
				if startRec != nil {
					recs = []state.Record{*startRec, end}
				} else {
					recs = []state.Record{end}
				}
				if r.newTarget != "" {
					// With the success, in one write: a crash between the
					// two would lose the identity to verify on resume.
					recs = append(recs, state.Record{Kind: state.KindTarget, Run: e.run, Facts: map[string]string{inst.Address: r.newTarget}})
				}
				r.journalErr = e.journal.append(context.WithoutCancel(e.ctx), recs...)
				r.journaled = true
			}
		}
		r.addr = inst.Address
		r.elapsed = time.Since(start)
		e.done <- r
	}()
}

// runStep runs an instance's kind with its timeout and retry policy.
func (e *executor) runStep(inst *plan.Instance, x instExtra, handle string, stepAttempt int) result {
	return e.runStepIn(e.ctx, inst, x, handle, stepAttempt)
}

// runStepIn is runStep under base, which ends with the run's context or
// sooner (a gate's check, when approvals pass the gate).
func (e *executor) runStepIn(base context.Context, inst *plan.Instance, x instExtra, handle string, stepAttempt int) result {
	var host steps.Host
	if x.schema.Target == steps.TargetHost {
		if e.opts.Plan.Hosts == nil {
			return result{diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No transport", Detail: "This run cannot reach hosts."}}}
		}
		conn := x.conn
		if conn == cty.NilVal {
			conn = cty.NullVal(cty.DynamicPseudoType)
		}
		host = &lazyHost{ctx: e.ctx, target: inst.Target, conn: conn, resolve: e.opts.Plan.Hosts}
	}
	attempts, delay, maxDelay := 1, 5*time.Second, time.Minute
	if inst.Retry != nil && !inst.Once {
		attempts = max(inst.Retry.Attempts, 1)
		if d, err := time.ParseDuration(inst.Retry.Delay); err == nil {
			delay = d
		}
		if d, err := time.ParseDuration(inst.Retry.MaxDelay); err == nil {
			maxDelay = d
		}
	}
	// Most steps' arguments carry no marks (the planner says which do);
	// unmarking walks them all. The taint keeps what the marks said.
	args, taint := inst.Arguments(), (*stepTaint)(nil)
	if x.marked {
		taint = newStepTaint(x.schema, args)
		args, _ = args.UnmarkDeep()
	}
	var last result
	for attempt := 1; attempt <= attempts; attempt++ {
		ctx := base
		var cancel context.CancelFunc = func() {}
		if inst.Timeout != "" {
			if d, err := time.ParseDuration(inst.Timeout); err == nil {
				ctx, cancel = context.WithTimeout(ctx, d)
			}
		}
		req := steps.RunRequest{
			Args:      args,
			Target:    inst.Target,
			Host:      host,
			Handle:    handle,
			Sensitive: taint.sensitive(),
			Output: func(stream, line string) {
				if line, ok := taint.line(line); ok {
					e.event(Event{Type: EventStepOutput, Run: e.run, Addr: inst.Address, Stream: stream, Line: line})
				}
			},
			RecordHandle: func(h string) error {
				handle = h
				return e.journal.append(context.WithoutCancel(e.ctx), state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: state.Running, Attempt: stepAttempt, Handle: h})
			},
		}
		resp := x.kind.Run(ctx, req)
		resp.Outputs = taint.outputs(resp.Outputs)
		taint.diags(resp.Diagnostics)
		if ev, ok := taint.withheldEvent(); ok {
			ev.Run, ev.Addr, ev.Attempt = e.run, inst.Address, attempt
			e.event(ev)
		}
		if ctx.Err() == context.DeadlineExceeded && !resp.Diagnostics.HasErrors() {
			resp.Diagnostics = append(resp.Diagnostics, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step timed out", Detail: "It ran longer than its timeout of " + inst.Timeout + "."})
		}
		cancel()
		last = result{outputs: resp.Outputs, diags: resp.Diagnostics, handle: handle}
		if !resp.Diagnostics.HasErrors() || base.Err() != nil || attempt == attempts {
			break
		}
		e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Status: "retrying", Attempt: attempt, Error: diagText(resp.Diagnostics)})
		select {
		case <-time.After(delay):
		case <-base.Done():
		}
		delay = min(delay*2, maxDelay)
	}
	return last
}

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
		e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: knownTarget(inst.Target), Status: string(status), Summary: inst.Reason})
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

// resumeAction is how a step goes on that a crash may have cut short.
type resumeAction int

const (
	// actRun: run it; an attempt a crash cut short re-attaches to its
	// handle (launch decides), any other acts anew.
	actRun resumeAction = iota
	// actDone: an operator resolved it as done.
	actDone
	// actHold: it is in doubt until an operator answers.
	actHold
)

// resumeAction decides, in one place for steps and undos alike, how a step
// found running or in doubt after a crash goes on: a once step without a
// handle to re-attach to is in doubt until resolved; a --retry answer is a
// new attempt, acting anew.
func (e *executor) resumeAction(inst *plan.Instance) resumeAction {
	st := e.state(inst.Address)
	if !inst.Once || !st.recovered || (st.status != state.Running && st.status != state.InDoubt) {
		return actRun
	}
	switch e.resolutions[inst.Address] {
	case state.ResolutionDone:
		return actDone
	case state.ResolutionRetry:
		st.handle = ""
		return actRun
	}
	if st.status == state.InDoubt || st.handle == "" {
		return actHold
	}
	return actRun
}

// doubtHint says what an operator checks to answer a step in doubt: the
// external job it started, else the host it ran on, else what it does.
func doubtHint(inst *plan.Instance, handle string) string {
	what := inst.Kind
	if inst.Summary != "" {
		what = inst.Summary
	}
	switch {
	case handle != "":
		return fmt.Sprintf("check whether %s (%s) completed", handle, what)
	case inst.Target != "" && inst.Target != "local":
		return fmt.Sprintf("check on %s whether it acted (%s)", inst.Target, what)
	default:
		return fmt.Sprintf("check whether it acted (%s)", what)
	}
}

// resolvedWithoutOutputs is why a step resolved done has no outputs.
const resolvedWithoutOutputs = "it was resolved as done, so rokflow never saw its outputs"

// resolvedDone takes an operator's word that a step in doubt acted. Its
// outputs were never seen; steps that need them cannot run, and say why.
func (e *executor) resolvedDone(inst *plan.Instance) {
	st := e.state(inst.Address)
	st.status = state.Succeeded
	st.outputsLost = resolvedWithoutOutputs
	rec := state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: state.Succeeded, Attempt: st.attempts, Handle: st.handle, Resolution: state.ResolutionDone}
	if err := e.journal.append(context.WithoutCancel(e.ctx), rec); err != nil {
		e.halt(err)
	}
	e.settleRecord(inst, state.Succeeded, cty.NilVal, "")
	e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Status: string(state.Succeeded), Summary: "resolved as done by the operator"})
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

// finish settles owed undos after a failure, journals the end of the run
// and sums it up.
func (e *executor) finish() (*Result, hcl.Diagnostics) {
	if e.ctx.Err() != nil || e.stopRequested() {
		e.stopped = true
	}
	res := &Result{Run: e.run, Counts: map[string]int{}}
	for _, inst := range e.p.plan.Instances {
		st := e.state(inst.Address)
		switch {
		case st.waiting:
			res.Waiting = append(res.Waiting, inst.Address)
			if g := e.gates[inst.Address]; g != nil {
				res.Gates = append(res.Gates, e.gateOf(g))
			} else {
				res.Gates = append(res.Gates, Gate{Addr: inst.Address, Target: inst.Target, Needed: 1, SelfAllowed: true})
			}
			res.Counts["waiting"]++
		case st.status == state.Failed:
			res.Failed = append(res.Failed, inst.Address)
			res.Counts[string(st.status)]++
		case st.status == state.InDoubt:
			res.InDoubt = append(res.InDoubt, inst.Address)
			res.Counts[string(st.status)]++
		case isTerminal(st.status):
			res.Counts[string(st.status)]++
		default:
			res.Blocked = append(res.Blocked, inst.Address)
			res.Counts["not run"]++
		}
	}
	lostReported := e.lost
	switch {
	case e.refused != nil:
		// Nothing changed: the facts are read before anything else.
		res.Status = RunFailed
		e.diags = append(e.diags, e.refused)
	case e.lost:
		res.Status = RunFailed
		e.diags = append(e.diags, e.lostDiag())
	case len(res.Failed) > 0:
		res.Status = RunFailed
	case e.stopped:
		res.Status = RunStopped
	case len(res.Waiting) > 0 || len(res.InDoubt) > 0:
		res.Status = RunPaused
	case len(res.Blocked) > 0:
		res.Status = RunFailed
		e.diags = append(e.diags, e.blockedDiags(res.Blocked)...)
	default:
		res.Status = RunSucceeded
	}
	switch {
	case res.Status != RunFailed || e.lost || e.refused != nil:
	case e.ctx.Err() != nil:
		e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Undos not run", Detail: "The run was cancelled: the undos it owes stay owed, and run when a resumed run fails."})
	case e.wrongTarget:
		e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Undos not run", Detail: "The system found is not the one this run acted on: the undos it owes are left owed, for the system they belong to."})
	case e.doubtHalt:
		e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Undos not run", Detail: "A compensation a crash cut short is unfinished: until it is, no other undo runs either. Resolve what it reports, then apply again."})
	case len(e.verify) > 0:
		e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Undos not run", Detail: "The run could not confirm it acts on the system it was started on: the undos it owes are left owed."})
	default:
		e.compensate()
		if e.lost && !lostReported {
			e.diags = append(e.diags, e.lostDiag())
		}
	}
	if !e.lost {
		_ = e.journal.append(context.WithoutCancel(e.ctx), state.Record{Kind: state.KindEnd, Run: e.run, Status: state.Status(res.Status)})
	}
	e.event(Event{Type: EventRunEnd, Run: e.run, Status: string(res.Status), Counts: res.Counts})
	return res, e.diags
}

// blockedDiags explains steps that never ran because values they need
// never became known: by the step whose outputs are missing and why, where
// that is known.
func (e *executor) blockedDiags(blocked []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	byCause := map[string][]string{}
	var causes, rest []string
	for _, addr := range blocked {
		cause := ""
		if i, ok := e.index[addr]; ok {
			for _, d := range e.p.plan.Instances[i].DependsOn {
				if e.state(d).outputsLost != "" {
					cause = d
					break
				}
			}
		}
		if cause == "" {
			rest = append(rest, addr)
			continue
		}
		if byCause[cause] == nil {
			causes = append(causes, cause)
		}
		byCause[cause] = append(byCause[cause], addr)
	}
	for _, c := range causes {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Outputs of " + c + " are not known",
			Detail: fmt.Sprintf("%s succeeded but %s. These steps need its outputs and cannot run: %s. "+
				"If it is safe to run it again, start a new run of the playbook (apply --new-run) once the cluster is as the playbook expects; otherwise finish these steps by hand.",
				c, e.state(c).outputsLost, strings.Join(shortList(byCause[c]), ", ")),
		})
	}
	if len(rest) > 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Steps could not run", Detail: "Values these steps need never became known: " + strings.Join(shortList(rest), ", ") + "."})
	}
	return diags
}

func shortList(s []string) []string {
	if len(s) <= 5 {
		return s
	}
	return append(append([]string(nil), s[:5]...), fmt.Sprintf("… %d more", len(s)-5))
}

func (e *executor) event(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.opts.Now()
	}
	e.opts.Hook.Event(ev)
}
