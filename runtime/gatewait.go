package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// ErrPromptInterrupted is what a Prompt returns when the operator left the
// question with an interrupt: the gate keeps waiting and the run stops as
// an interrupt stops it, neither approved nor declined.
var ErrPromptInterrupted = errors.New("the question was interrupted")

// approval is one approval of a gate, or of a pattern of gates.
type approval struct {
	// pattern is the address or pattern approved.
	pattern string
	// by is the identity it counts for; how is one of the How constants.
	by, how  string
	at       time.Time
	planHash string
}

func (a approval) key() string {
	return a.pattern + "\x00" + a.by + "\x00" + a.how + "\x00" + a.at.UTC().Format(time.RFC3339Nano)
}

// approvalOf reads an approval record. Records written before approvals
// named their identity count for the holder's user@host.
func approvalOf(r state.Record) approval {
	a := approval{pattern: r.Addr, by: r.By, how: r.How, at: r.Time, planHash: r.PlanHash}
	if a.by == "" && r.Holder != nil {
		a.by = holderIdentity(*r.Holder)
	}
	if a.how == "" {
		a.how = HowApprove
	}
	return a
}

// holderIdentity is user@host, or whichever of them is known.
func holderIdentity(h state.Holder) string {
	switch {
	case h.User != "" && h.Host != "":
		return h.User + "@" + h.Host
	case h.User != "":
		return h.User
	default:
		return h.Host
	}
}

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
	// prompting cancels the question being asked, if one is; asked is
	// closed once the question has returned, and printed its last word.
	prompting context.CancelFunc
	asked     chan struct{}
	// evented holds the approvals already told as gate_approval events.
	evented map[string]bool
}

// self is the identity running the apply.
func (e *executor) self() string {
	if e.opts.Identity != "" {
		return e.opts.Identity
	}
	return holderIdentity(e.opts.Holder)
}

// loadApprovals takes the approvals recorded for the run; it reports the
// approvals it did not have.
func (e *executor) loadApprovals(recs []state.Record) int {
	n := 0
	for _, r := range recs {
		a := approvalOf(r)
		if e.approvalKeys[a.key()] {
			continue
		}
		e.approvalKeys[a.key()] = true
		e.approvals = append(e.approvals, a)
		n++
	}
	return n
}

// refreshApprovals reads the approvals again (one came, from this process
// or another) and passes the gates they complete.
func (e *executor) refreshApprovals() {
	e.approvalsStale = false
	recs, err := e.opts.Backend.Records(e.ctx)
	if err != nil {
		e.approvalsStale = true
		return
	}
	if e.loadApprovals(state.Fold(recs).ApprovalsFor(e.run)) == 0 {
		return
	}
	for _, addr := range sortedKeys(e.gates) {
		if g := e.gates[addr]; g != nil {
			e.checkGate(g)
		}
	}
}

// counted returns the approvals that count for g, one per identity, in
// the order they were given: those for its address or a pattern covering
// it, for this plan, by anyone but the apply's own identity when the gate
// refuses self-approval. Recorded patterns were checked when given; they
// match as they matched then.
func (e *executor) counted(g *gateWait) []approval {
	var out []approval
	for _, a := range e.approvals {
		if a.planHash != "" && e.opts.PlanHash != "" && a.planHash != e.opts.PlanHash {
			continue
		}
		if a.pattern != g.inst.Address && !addrs.Compile(a.pattern).Match(g.inst.Address) {
			continue
		}
		if !g.rule.AllowSelf && a.by == e.self() {
			continue
		}
		if slices.ContainsFunc(out, func(b approval) bool { return b.by == a.by }) {
			continue
		}
		out = append(out, a)
	}
	return out
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
	if e.opts.Prompt != nil || inst.Timeout != "" || e.opts.WaitGates > 0 {
		g.active = true
		if d, err := time.ParseDuration(inst.Timeout); err == nil && inst.Timeout != "" {
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

// approveAsSelf records an approval by the apply's own identity (the
// prompt, --approve, --auto-approve), unless the gate refuses them: then
// it says so, once.
func (e *executor) approveAsSelf(g *gateWait, how string) {
	if !g.rule.AllowSelf {
		e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Self-approval refused",
			Detail: fmt.Sprintf("%s needs %d approval(s) from identities other than the one running this apply (%s), so %s does not pass it; approve it with rokflow approve as another user.", g.inst.Address, g.rule.Needed, e.self(), howText(how))})
		return
	}
	e.writeApproval(g.inst.Address, approval{pattern: g.inst.Address, by: e.self(), how: how, at: e.opts.Now(), planHash: e.opts.PlanHash})
}

func howText(how string) string {
	switch how {
	case HowAutoApprove:
		return "--auto-approve"
	case HowApproveFlag:
		return "--approve"
	case HowPrompt:
		return "an answer at the prompt"
	}
	return how
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

func byText(got []approval) string {
	var by []string
	for _, a := range got {
		by = append(by, a.by)
	}
	return strings.Join(by, ", ")
}

func gateOutputs(got []approval) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"approved_by": cty.StringVal(byText(got)),
		"approved_at": cty.StringVal(got[len(got)-1].at.UTC().Format(time.RFC3339)),
	})
}

// writeApproval records an approval given through this apply.
func (e *executor) writeApproval(addr string, a approval) {
	h := e.opts.Holder
	rec := state.Record{Kind: state.KindApproval, Run: e.run, Addr: addr, PlanHash: e.opts.PlanHash, Holder: &h, Time: a.at, By: a.by, How: a.how}
	if err := e.opts.Backend.Approve(e.ctx, rec); err != nil {
		e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Cannot record the approval", Detail: err.Error()})
	}
	if !e.approvalKeys[a.key()] {
		e.approvalKeys[a.key()] = true
		e.approvals = append(e.approvals, a)
	}
}

// promptAnswer is how a question at a gate ended.
type promptAnswer struct {
	ok  bool
	err error
}

// gateOf describes a waiting gate to the caller of Apply.
func (e *executor) gateOf(g *gateWait) Gate {
	return Gate{Addr: g.inst.Address, Target: g.inst.Target, Instructions: g.inst.Instructions, Needed: g.rule.Needed,
		Approvals: len(e.counted(g)), SelfAllowed: g.rule.AllowSelf, Self: e.self(), Deadline: g.deadline}
}

// ask puts the gate's question to the operator, in its own goroutine: an
// approval from elsewhere, the gate's timeout or an interrupt end it.
func (e *executor) ask(g *gateWait) {
	ctx, cancel := context.WithCancel(e.ctx)
	g.prompting, g.asked = cancel, make(chan struct{})
	asked := g.asked
	e.running++
	q := e.gateOf(g)
	go func() {
		ok, err := e.opts.Prompt(ctx, q)
		cancel()
		close(asked)
		e.done <- result{addr: q.Addr, answer: &promptAnswer{ok: ok, err: err}}
	}()
}

// answered takes the end of a question.
func (e *executor) answered(addr string, ans promptAnswer) {
	e.running--
	g := e.gates[addr]
	if g == nil || g.prompting == nil {
		return // passed, timed out or interrupted meanwhile
	}
	g.prompting = nil
	switch {
	case ans.err != nil && (errors.Is(ans.err, ErrPromptInterrupted) || e.stopRequested() || e.ctx.Err() != nil):
		e.interruptGate(g)
	case ans.err != nil:
		// No one can answer here (stdin closed): the gate waits on for
		// approvals from elsewhere while it has a deadline, else the run
		// pauses at it.
		g.active = !g.deadline.IsZero()
	case ans.ok && g.rule.AllowSelf:
		e.writeApproval(addr, approval{pattern: addr, by: e.self(), how: HowPrompt, at: e.opts.Now(), planHash: e.opts.PlanHash})
		e.checkGate(g)
	case ans.ok:
		// A prompt that cannot count its operator's yes waits for others.
	default:
		e.declineGate(g)
	}
}

// endQuestion ends the question asked at g, if one is, and waits until it
// has returned, so that what follows is told after it. (Its answer comes
// to the loop later, and is then ignored.)
func (e *executor) endQuestion(g *gateWait) {
	if g.prompting == nil {
		return
	}
	g.prompting()
	<-g.asked
	g.prompting = nil
}

// declineGate fails a gate its operator answered no to.
func (e *executor) declineGate(g *gateWait) {
	delete(e.gates, g.inst.Address)
	e.state(g.inst.Address).waiting = false
	e.event(Event{Type: EventGateEnd, Run: e.run, Addr: g.inst.Address, Status: GateDeclined, By: e.self(), How: HowPrompt, Summary: "declined by " + e.self() + "; the run fails"})
	e.fail(g.inst, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Gate declined",
		Detail: "The operator (" + e.self() + ") answered no at " + g.inst.Address + ", so the run fails here and nothing that depends on it runs. Apply again to be asked again."}})
}

// interruptGate leaves g waiting: the run stops as an interrupt stops it.
func (e *executor) interruptGate(g *gateWait) {
	if !g.active {
		return
	}
	g.active = false
	e.endQuestion(g)
	e.event(Event{Type: EventGateEnd, Run: e.run, Addr: g.inst.Address, Status: GateInterrupted, Summary: "interrupted: the gate still waits; the run stops"})
}

// interruptGates ends every active wait at the first interrupt.
func (e *executor) interruptGates() {
	for _, addr := range sortedKeys(e.gates) {
		e.interruptGate(e.gates[addr])
	}
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

// watchApprovals opens the backend's watch of approvals for the run's
// life; without one, waiting gates see only what was there.
func (e *executor) watchApprovals() (stop func()) {
	if e.opts.Backend == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	ch, err := e.opts.Backend.WatchApprovals(ctx)
	if err != nil {
		cancel()
		e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Cannot watch for approvals",
			Detail: "Approvals given while this run waits at a gate are not seen until apply runs again: " + err.Error()})
		return func() {}
	}
	e.approvalCh = ch
	return cancel
}

// approvalsChanged takes a notification of the approvals' watch.
func (e *executor) approvalsChanged(ok bool) {
	if !ok {
		e.approvalCh = nil
	}
	if len(e.gates) == 0 {
		e.approvalsStale = true
		return
	}
	e.refreshApprovals()
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
