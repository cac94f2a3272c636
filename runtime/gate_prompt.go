package runtime

import (
	"context"
	"errors"

	"github.com/hashicorp/hcl/v2"
)

// ErrPromptInterrupted is what a Prompt returns when the operator left the
// question with an interrupt: the gate keeps waiting and the run stops as
// an interrupt stops it, neither approved nor declined.
var ErrPromptInterrupted = errors.New("the question was interrupted")

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

// interruptGates ends every active wait at the first interrupt, and every
// gate's check: waiting for a node to come back is not work an interrupt
// lets finish. The gate still waits; the run that resumes waits again.
func (e *executor) interruptGates() {
	for _, addr := range sortedKeys(e.gates) {
		g := e.gates[addr]
		if g.check != nil {
			if !g.stopped {
				g.stopped = true
				g.check()
				e.event(Event{Type: EventGateEnd, Run: e.run, Addr: addr, Status: GateInterrupted, Summary: "interrupted: the gate still waits; the run stops"})
			}
			continue
		}
		e.interruptGate(g)
	}
}
