package runtime

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
)

// holdBack leaves an obligation owed because its condition says not yet.
func (e *executor) holdBack(o *obligation, x instExtra, reason string) {
	o.status, o.reason = state.Held, reason
	e.writeObligation(state.Record{Kind: state.KindObligation, Run: e.run, Addr: o.addr, Undo: o.undo, UndoAddrs: o.targets, Status: state.Held, Reason: reason})
	e.event(Event{Type: EventUndoHeld, Run: e.run, Addr: o.undo, Summary: fmt.Sprintf("held back, %s stays in place: %s", o.addr, reason)})
	for k := range e.owed.held {
		if h := &e.owed.held[k]; h.undo == o.undo && h.reason == reason {
			h.owing = append(h.owing, o.addr)
			return
		}
	}
	e.owed.held = append(e.owed.held, heldUndos{undo: o.undo, reason: reason, owing: []string{o.addr}, decl: x.undo.decl})
}

// reportHeld warns once per undo step and reason of what stays in place.
func (e *executor) reportHeld() {
	for _, h := range e.owed.held {
		owing := strings.Join(shortList(h.owing), ", ")
		e.diags = append(e.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Undo held back",
			Detail: fmt.Sprintf("%s succeeded and owes its undo %s, which is held back: %s. What it did stays in place. "+
				"The undo stays owed: a later run that fails runs it once its condition holds, one that succeeds runs it in its place; rokflow state show lists it.",
				owing, h.undo, strings.TrimSuffix(h.reason, ".")),
			Subject: h.decl.Ptr(),
		})
	}
	e.owed.held = nil
}

// unmet leaves an obligation owed because its undo could not be run, and
// makes that an error of the run.
func (e *executor) unmet(o *obligation, up *undoPlan, reason string) {
	status := state.Unmet
	if o.status == state.Undoing {
		// Begun: it stays undoing, for a resumed run to finish first.
		status = state.Undoing
	}
	for _, t := range o.targets {
		if e.state(t).status == state.InDoubt {
			// Begun and in doubt: the compensation is unfinished, and a
			// resumed run must finish it before anything else acts.
			status = state.Undoing
		}
	}
	o.status, o.reason = status, reason
	e.writeObligation(state.Record{Kind: state.KindObligation, Run: e.run, Addr: o.addr, Undo: o.undo, UndoAddrs: o.targets, Status: status, Reason: reason})
	e.event(Event{Type: EventUndoUnmet, Run: e.run, Addr: o.undo, Error: reason, Summary: o.addr + " owes it"})
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Owed undo not done",
		Detail: fmt.Sprintf("%s succeeded and owes its undo %s, which was not done: %s. It stays owed: put things right and resume with rokflow apply, or undo by hand; rokflow state show lists it.",
			o.addr, o.undo, strings.TrimSuffix(reason, ".")),
	}
	if up != nil {
		d.Subject = up.decl.Ptr()
	}
	e.diags = append(e.diags, d)
}

// skipReasons says why an obligation's undo instances were not run.
func skipReasons(e *executor, o *obligation) string {
	if len(o.targets) == 0 {
		return "its undo step has no instances"
	}
	var why []string
	for _, t := range o.targets {
		if i, ok := e.index[t]; ok && e.p.plan.Instances[i].Action == plan.Skip {
			why = append(why, t+" is skipped ("+e.p.plan.Instances[i].Reason+")")
		}
	}
	if len(why) == 0 {
		return "its undo instances had run already"
	}
	return strings.Join(why, "; ")
}
