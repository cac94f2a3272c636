package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rokflow/rokflow/runtime/state"
)

// ApproveCmd approves gates of the current run.
type ApproveCmd struct {
	Path      string   `arg:"" help:"Playbook directory or .hcl file."`
	Addresses []string `arg:"" help:"Gate addresses to approve; * matches any text, so group.slaves[\"rok2.prod\"].* approves one element's gates."`
	StateFlags
}

// Run records the approvals. They need no lock, so a run waiting at the
// gate in another terminal, or on another machine sharing an etcd state,
// sees them; a paused run continues with apply.
func (c *ApproveCmd) Run(a *App) error {
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
	run, hash := last.ID, last.PlanHash
	h := holder("approve")
	for _, addr := range c.Addresses {
		rec := state.Record{Schema: state.SchemaVersion, Kind: state.KindApproval, Run: run, Addr: addr, PlanHash: hash, Holder: &h, Time: time.Now().UTC()}
		if err := b.Approve(a.Ctx, rec); err != nil {
			return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot record the approval of %s: %s", addr, err)}
		}
		fmt.Fprintf(a.Stdout, "Approved %s for run %s as %s@%s.\n", addr, run, h.User, h.Host)
	}
	return nil
}

// ResolveCmd decides a step left in doubt.
type ResolveCmd struct {
	Path    string `arg:"" help:"Playbook directory or .hcl file."`
	Address string `arg:"" help:"The step instance in doubt."`
	Done    bool   `help:"It did act: treat it as succeeded." xor:"how" required:""`
	Retry   bool   `help:"It did not act: run it again." xor:"how" required:""`
	StateFlags
}

// Run records the decision. It takes the run lock, so no run is active.
func (c *ResolveCmd) Run(a *App) error {
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
		return &exitError{code: exitFailed, msg: "no run is recorded for this playbook"}
	}
	run := r.ID
	s := r.Step(c.Address)
	if s == nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("run %s has no step %s%s", run, c.Address, inDoubtHint(r))}
	}
	if s.Status != state.InDoubt && s.Status != state.Running {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%s is not in doubt in run %s (its last status is %q)%s", c.Address, run, s.Status, inDoubtHint(r))}
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

// inDoubtHint names the steps of run r that are in doubt, for an error
// about another address.
func inDoubtHint(r *state.Run) string {
	var addrs []string
	for _, s := range r.Steps {
		if s.Status == state.InDoubt {
			addrs = append(addrs, s.Addr)
		}
	}
	if len(addrs) == 0 {
		return "; no step is in doubt"
	}
	return "; in doubt: " + strings.Join(addrs, ", ")
}

// UnlockCmd breaks a lock.
type UnlockCmd struct {
	Path string `arg:"" help:"Playbook directory or .hcl file."`
	StateFlags
	Force bool `help:"Do not ask for confirmation."`
}

// Run shows the holder, asks, and breaks the lock.
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
	if !c.Force {
		if !a.interactive() {
			return usageError("breaking a lock needs --force when there is no terminal to confirm on")
		}
		ok, err := a.confirm("Break it? A run still holding it will stop writing and acting. Type yes: ")
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

func (a *App) confirm(question string) (bool, error) {
	fmt.Fprint(a.Stdout, question)
	var answer string
	_, err := fmt.Fscanln(a.Stdin, &answer)
	return answer == "yes", err
}
