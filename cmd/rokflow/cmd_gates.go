package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/state"
)

// ApproveCmd approves gates of the current run.
type ApproveCmd struct {
	Path      string   `arg:"" help:"Playbook directory or .hcl file."`
	Addresses []string `arg:"" help:"Gates to approve: addresses, or patterns with * (see above)."`
	StateFlags
}

// Help is the detail rokflow approve --help gives below the summary.
func (c *ApproveCmd) Help() string {
	return `An address names one gate: step.NAME, step.NAME["KEY"] for an element of a
for_each, and group.NAME["KEY"]. or module.NAME. before it inside groups and
modules. In a pattern, * matches any run of characters, none included: dots,
brackets and quotes too. Nothing else is special: [ ] " ? \ are themselves.

  step.gate                                        that gate
  step.gate[*]                                     every element of step.gate
  group.slaves["rok2.prod"].*                      every gate of that element
  group.slaves[*].module.node.step.swap_boot_disk  that gate in every element

The same patterns work with apply --approve and state show. approve checks
each one against the gates of the playbook and refuses, recording nothing,
when one matches none; [*] there stands for the elements of a for_each
that is not written as a literal. It
prints what each pattern matched, and records the pattern as given, so it
also approves elements not started yet.`
}

// Run checks that every address or pattern names a gate of the playbook,
// then records the approvals. They need no lock, so a run waiting at the
// gate in another terminal, or on another machine sharing an etcd state,
// sees them; a paused run continues with apply. Nothing is recorded when
// any of them names no gate.
func (c *ApproveCmd) Run(a *App) error {
	patterns, err := parsePatterns(c.Addresses)
	if err != nil {
		return err
	}
	pb, diags := lang.Load(c.Path)
	if diags.HasErrors() {
		return a.report(pb.Files, diags)
	}
	b, err := a.openState(c.Path, c.StateFlags)
	if err != nil {
		return err
	}
	defer b.Close()
	_, last, err := lastRun(a.Ctx, b)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	if last == nil {
		return &exitError{code: exitFailed, msg: "no run is recorded for this playbook; start one with rokflow apply"}
	}
	// The steps the run journaled spell out element keys a template
	// (group.slaves[*]…) cannot; approvals would only repeat patterns.
	var seen []string
	for _, st := range last.Steps {
		seen = append(seen, st.Addr)
	}
	matches, err := a.matchGates(pb, pb.Files, patterns, seen)
	if err != nil {
		return err
	}
	run, hash := last.ID, last.PlanHash
	h := holder("approve")
	by := identity(b, h)
	if err := c.checkSelf(a, pb, matches, last, by); err != nil {
		return err
	}
	given := approvedBy(a.Ctx, b, run, by)
	for _, m := range matches {
		addr := m.Pattern.String()
		printMatches(a.Stdout, m)
		if given[addr] {
			fmt.Fprintf(a.Stdout, "%s was already approved by %s for run %s; an identity counts once.\n", addr, by, run)
			continue
		}
		rec := state.Record{Schema: state.SchemaVersion, Kind: state.KindApproval, Run: run, Addr: addr, PlanHash: hash, Holder: &h, Time: time.Now().UTC(), By: by, How: runtime.HowApprove}
		if err := b.Approve(a.Ctx, rec); err != nil {
			return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot record the approval of %s: %s", addr, err)}
		}
		fmt.Fprintf(a.Stdout, "Approved %s for run %s as %s.\n", addr, run, by)
	}
	return nil
}

// checkSelf refuses, recording nothing, to approve as the identity that
// runs the apply a gate that refuses self-approval (approvals > 1, or
// allow_self_approval = false), when the gate's rule is written as
// literals; the run itself does not count such an approval in any case.
func (c *ApproveCmd) checkSelf(a *App, pb *lang.Playbook, matches []runtime.GateMatch, last *state.Run, by string) error {
	runner := last.By
	if runner == "" && last.Holder != nil {
		runner = identity(nopIdentity{}, *last.Holder)
	}
	if runner != by {
		return nil
	}
	rules, diags := runtime.GateRules(pb, a.Registry)
	if diags.HasErrors() {
		return a.report(pb.Files, diags)
	}
	for _, m := range matches {
		for _, g := range m.Gates {
			if r, ok := runtime.RuleOf(rules, g); ok && !r.AllowSelf {
				return &exitError{code: exitFailed, msg: fmt.Sprintf("%s refuses self-approval (it needs %d approval(s) from identities other than the one running the apply, %s): ask someone else to approve it; nothing was recorded", g, r.Needed, by)}
			}
		}
	}
	return nil
}

// approvedBy lists the addresses and patterns identity by already
// approved for run.
func approvedBy(ctx context.Context, b state.Backend, run, by string) map[string]bool {
	out := map[string]bool{}
	recs, err := b.Records(ctx)
	if err != nil {
		return out
	}
	for _, r := range state.Fold(recs).ApprovalsFor(run) {
		who := r.By
		if who == "" && r.Holder != nil {
			who = identity(nopIdentity{}, *r.Holder)
		}
		if who == by {
			out[r.Addr] = true
		}
	}
	return out
}

// nopIdentity is a backend's lack of an identity, for records that
// predate identities: their holder's user@host stands for it.
type nopIdentity struct{ state.Backend }

func (nopIdentity) Identity() string { return "" }

// ResolveCmd decides a step left in doubt.
type ResolveCmd struct {
	Path    string `arg:"" help:"Playbook directory or .hcl file."`
	Address string `arg:"" help:"The step instance in doubt."`
	Done    bool   `help:"It did act: treat it as succeeded." xor:"how" required:""`
	Retry   bool   `help:"It did not act: run it again." xor:"how" required:""`
	StateFlags
}

// Run records the decision. It takes the run lock, so no run is active.
// It refuses, recording nothing, an address that is not one step
// instance of the last run left in doubt, and says which are.
func (c *ResolveCmd) Run(a *App) error {
	if strings.Contains(c.Address, "*") {
		return usageError("resolve decides one step instance at a time: give the address of a step in doubt, not the pattern %s", c.Address)
	}
	if _, err := addrs.ParsePattern(c.Address); err != nil {
		return usageError("%s", err)
	}
	b, err := a.openState(c.Path, c.StateFlags)
	if err != nil {
		return err
	}
	defer b.Close()
	_, r, err := lastRun(a.Ctx, b)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	if r == nil {
		return &exitError{code: exitFailed, msg: "no run is recorded for this playbook, so no step is in doubt"}
	}
	run := r.ID
	s := r.Step(c.Address)
	if s == nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("no step %s in run %s (the last run of this playbook).%s%s", c.Address, run, nearestStep(r, c.Address), inDoubtHint(r))}
	}
	if s.Status != state.InDoubt && s.Status != state.Running {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%s is not in doubt in run %s (its last status is %q).%s", c.Address, run, s.Status, inDoubtHint(r))}
	}
	h := holder("resolve")
	sess, err := b.Lock(a.Ctx, h)
	if err != nil {
		var le *state.LockedError
		if errors.As(err, &le) {
			return &exitError{code: exitFailed, msg: le.Error() + "; resolve once that run has stopped"}
		}
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	defer sess.Unlock(a.Ctx)
	how := "retry"
	if c.Done {
		how = "done"
	}
	rec := state.Record{Schema: state.SchemaVersion, Kind: state.KindResolve, Run: run, Addr: c.Address, Resolution: how, Holder: &h, Time: time.Now().UTC()}
	if err := sess.Append(a.Ctx, rec); err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	fmt.Fprintf(a.Stdout, "Resolved %s as %s; run apply to continue.\n", c.Address, how)
	return nil
}

// inDoubtHint names the steps of run r that resolve can decide, for an
// error about another address: those in doubt, and once steps its
// rokflow stopped in the middle of, which the next apply finds in doubt.
func inDoubtHint(r *state.Run) string {
	var doubt []string
	for _, s := range r.Steps {
		switch s.Status {
		case state.InDoubt:
			doubt = append(doubt, s.Addr)
		case state.Running:
			doubt = append(doubt, s.Addr+" (cut short while running)")
		}
	}
	if len(doubt) == 0 {
		return " No step of it is in doubt, so there is nothing to resolve."
	}
	return " Steps in doubt are: " + strings.Join(doubt, ", ") + "."
}

// nearestStep suggests the step of run r that resolve can decide whose
// address is nearest addr.
func nearestStep(r *state.Run, addr string) string {
	var names []string
	for _, s := range r.Steps {
		if s.Status == state.InDoubt || s.Status == state.Running {
			names = append(names, s.Addr)
		}
	}
	if n := nearest(addr, names); n != "" {
		return fmt.Sprintf(" Did you mean %s?", n)
	}
	return ""
}

// UnlockCmd breaks a lock.
type UnlockCmd struct {
	Path string `arg:"" help:"Playbook directory or .hcl file."`
	StateFlags
	Force bool `help:"Do not ask for confirmation; a holder that looks alive is still warned about, on stderr."`
}

// Run shows the holder, warns when it looks alive, asks, and breaks the
// lock. The file backend refuses to break a live holder's lock; an etcd
// lock's holder may run on another machine, so unlock says whether its
// lease is being kept alive before it breaks it.
func (c *UnlockCmd) Run(a *App) error {
	b, err := a.openState(c.Path, c.StateFlags)
	if err != nil {
		return err
	}
	defer b.Close()
	h, err := b.Holder(a.Ctx)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	if h == nil {
		fmt.Fprintln(a.Stdout, "The lock is free.")
		return nil
	}
	fmt.Fprintf(a.Stdout, "Locked by %s@%s pid %d since %s (%s).\n", h.User, h.Host, h.PID, h.Since.Local().Format(time.RFC3339), h.Operation)
	question := "Break it? A run still holding it will stop writing and acting. [y/n]: "
	switch l, err := state.HolderLease(a.Ctx, b); {
	case err != nil:
		fmt.Fprintf(a.Stderr, "rokflow: warning: cannot tell whether the holder is alive: %s\n", err)
	case l != nil && l.KeptAlive():
		fmt.Fprintf(a.Stderr, "rokflow: warning: the holder looks alive: its etcd lease %s is being kept alive (%s of %s left).\n"+
			"  It has held the lock since %s, on host %s, pid %d (%s).\n"+
			"  Breaking the lock stops that run: it can write nothing more to the journal and starts nothing more,\n"+
			"  and a step it is running may be left in doubt. Stop that process on %s instead if you can.\n",
			l.ID, l.Remaining, l.TTL, h.Since.Local().Format(time.RFC3339), h.Host, h.PID, h.Operation, h.Host)
		question = "Break the lock of a holder that looks alive? [y/n]: "
	case l != nil:
		fmt.Fprintf(a.Stdout, "Its etcd lease %s has not been renewed for %s: the holder looks gone, and the lease ends by itself in %s.\n", l.ID, (l.TTL - l.Remaining).Round(time.Second), l.Remaining)
	}
	if !c.Force {
		if !a.interactive() {
			return usageError("breaking a lock needs --force when there is no terminal to confirm on")
		}
		ok, err := a.confirm(a.Ctx, question)
		if err != nil || !ok {
			return &exitError{code: exitFailed, msg: "the lock was left in place"}
		}
	}
	if _, err := b.BreakLock(a.Ctx); err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	fmt.Fprintln(a.Stdout, "The lock is broken.")
	return nil
}

// confirm asks a yes/no question on the terminal: y or yes confirms.
func (a *App) confirm(ctx context.Context, question string) (bool, error) {
	defer a.suspendStatus()()
	a.beginQuestion()
	fmt.Fprint(a.Stdout, question)
	ok, err := a.yesNo(ctx, "Please answer yes or no: ")
	if err != nil {
		fmt.Fprintln(a.Stdout)
	}
	return ok, err
}
