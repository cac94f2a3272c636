package runtime

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

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
