package runtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/addrs"
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

func newRunID(t time.Time) string { return t.UTC().Format("20060102T150405.000Z") }
