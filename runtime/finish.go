package runtime

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/runtime/state"
)

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
