package runtime

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/state"
)

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

func byText(got []approval) string {
	var by []string
	for _, a := range got {
		by = append(by, a.by)
	}
	return strings.Join(by, ", ")
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
