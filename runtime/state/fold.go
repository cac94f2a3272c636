package state

import (
	"time"
)

// History is the journal read once: every run in the order it began, each
// with the latest state of its steps and obligations, and the approvals.
// Fold is the only reader of records: the executor resuming a run, state
// list and show, approve and resolve all see the journal through it, so
// they cannot disagree about what a record means.
type History struct {
	// Runs in the order they began.
	Runs []*Run
	// Approvals are every approval record, in the order Records returns
	// them (the journal's, then those given through Approve).
	Approvals []Record

	byID map[string]*Run
}

// Run is one run as the journal tells it.
type Run struct {
	// ID, Playbook and PlanHash come from the run's first record.
	ID       string
	Playbook string
	PlanHash string
	// Identity is what the run acts for and on: its playbook, its inputs
	// and, once discovered, its target. Nil for runs journaled before
	// identities were recorded.
	Identity *Identity
	Started  time.Time
	Holder   *Holder
	// By is the identity that began the run (Record.By), for gates that
	// refuse self-approval; "" for runs journaled before it was.
	By string
	// Ended is the status of the run's end record: "" while it runs or
	// after a crash; succeeded, failed, paused, stopped or aborted.
	Ended   Status
	EndedAt time.Time
	// Steps in the order their first record was written.
	Steps []*Step
	// Obligations in the order they were first owed.
	Obligations []*Obligation

	steps map[string]*Step
	owed  map[string]*Obligation
}

// Step is the latest state of one step instance in a run.
type Step struct {
	Addr    string
	Status  Status
	Attempt int
	// Handle is the external handle recorded by the latest attempt. It
	// belongs to that attempt: a step set back to pending (undone, or to
	// be done again) or failed keeps no handle, so its next attempt acts
	// anew instead of re-attaching to an old job.
	Handle  string
	Outputs []byte
	Error   string
	// Started is when the latest attempt was journaled as running (a
	// gate: as waiting); Finished when the step last reached a terminal
	// status.
	Started, Finished time.Time
	// Resolution answers the step's current episode of doubt
	// (ResolutionDone or ResolutionRetry); it is spent once the step
	// moves again.
	Resolution string
	// ResolvedBy is who gave the resolution.
	ResolvedBy *Holder
	// Redo: the step succeeded, was set back to pending (its undo ran),
	// and is to be done again.
	Redo bool
	// ResolvedDone: the step succeeded on an operator's word (resolve
	// --done), so no outputs of it were ever seen.
	ResolvedDone bool
	// Needed is how many approvals a waiting gate needs; WaitsFor says
	// what it waits for ("its check, or an approval").
	Needed   int
	WaitsFor string
}

// Obligation is an undo owed by a step that succeeded.
type Obligation struct {
	// Addr owes the undo step Undo, through its instances UndoAddrs.
	Addr, Undo string
	UndoAddrs  []string
	// Status is Owed, Held, Unmet or Settled.
	Status Status
	// Reason says why an owed undo has not run (held back, or cannot be
	// met), when a run said so.
	Reason string
}

// Identity is what a run acts for and on. A resume must match it: the
// same playbook, the same inputs, the same target.
type Identity struct {
	// Playbook is the hash of the playbook's files.
	Playbook string `json:"playbook,omitempty"`
	// Inputs is the hash of the run's input values.
	Inputs string `json:"inputs,omitempty"`
	// Values shows each input as the run received it, for a diff when a
	// resume differs; a sensitive input shows only a digest of its value.
	Values map[string]string `json:"values,omitempty"`
	// Target holds the facts that identify what the run acts on (a
	// cluster's name and members), by the address of the step that
	// discovered them. Recorded by a KindTarget record once known.
	Target map[string]string `json:"target,omitempty"`
}

// Fold reads records, as Backend.Records returns them, into a History.
func Fold(recs []Record) *History {
	h := &History{byID: map[string]*Run{}}
	for i := range recs {
		r := &recs[i]
		if r.Kind == KindApproval {
			h.Approvals = append(h.Approvals, *r)
			continue
		}
		run := h.byID[r.Run]
		if r.Kind == KindRun {
			if run != nil {
				continue // a run begins once
			}
			run = &Run{ID: r.Run, Playbook: r.Playbook, PlanHash: r.PlanHash, Started: r.Time, Holder: r.Holder, By: r.By,
				steps: map[string]*Step{}, owed: map[string]*Obligation{}}
			if r.Identity != nil {
				id := *r.Identity
				run.Identity = &id
			}
			h.Runs = append(h.Runs, run)
			h.byID[r.Run] = run
			continue
		}
		if run == nil {
			continue // a record of a run whose beginning is not here
		}
		run.add(r)
	}
	return h
}

// Last returns the latest run, or nil when there is none.
func (h *History) Last() *Run {
	if len(h.Runs) == 0 {
		return nil
	}
	return h.Runs[len(h.Runs)-1]
}

// Run returns the run id, or nil.
func (h *History) Run(id string) *Run { return h.byID[id] }

// ApprovalsFor returns the approvals that count for run id: those given
// for it, and those given before any run existed.
func (h *History) ApprovalsFor(id string) []Record {
	var out []Record
	for _, a := range h.Approvals {
		if a.Run == id || a.Run == "" {
			out = append(out, a)
		}
	}
	return out
}

// Resumable reports whether an apply continues the run rather than begin
// a new one: it did not end, or it ended paused, stopped or failed.
func (r *Run) Resumable() bool {
	switch r.Ended {
	case "", Paused, Stopped, Failed:
		return true
	}
	return false
}

// Step returns the step addr of the run, or nil when it has no record.
func (r *Run) Step(addr string) *Step { return r.steps[addr] }

func (r *Run) step(addr string) *Step {
	s := r.steps[addr]
	if s == nil {
		s = &Step{Addr: addr}
		r.steps[addr] = s
		r.Steps = append(r.Steps, s)
	}
	return s
}

func (r *Run) add(rec *Record) {
	switch rec.Kind {
	case KindEnd:
		r.Ended, r.EndedAt = rec.Status, rec.Time
	case KindTarget:
		if r.Identity == nil {
			r.Identity = &Identity{}
		}
		if r.Identity.Target == nil {
			r.Identity.Target = map[string]string{}
		}
		for k, v := range rec.Facts {
			r.Identity.Target[k] = v
		}
	case KindStep:
		s := r.step(rec.Addr)
		if rec.Status == Pending && s.Status == Succeeded {
			s.Redo = true
		} else if rec.Status == Succeeded || rec.Status == Skipped {
			s.Redo = false
		}
		if rec.Attempt != s.Attempt {
			s.Handle = ""
		}
		s.Status, s.Error, s.Needed, s.WaitsFor = rec.Status, rec.Error, rec.Needed, ""
		if rec.Status == Waiting {
			s.WaitsFor = rec.Reason
		}
		if rec.Attempt > 0 {
			// A step set back to pending keeps counting its attempts.
			s.Attempt = rec.Attempt
		}
		if rec.Handle != "" {
			s.Handle = rec.Handle
		}
		switch rec.Status {
		case Pending, Failed, Cancelled:
			// The attempt is over without success: its handle names a job
			// that is finished or failed, never one to re-attach to.
			s.Handle = ""
		}
		// A resolution answers one episode of doubt: once the step moves
		// again, it is spent.
		s.Resolution, s.ResolvedBy = "", nil
		switch rec.Status {
		case Running:
			if s.Started.IsZero() || rec.Attempt > 0 {
				s.Started = rec.Time
			}
			s.Finished = time.Time{}
		case Pending:
			s.Finished = time.Time{}
		case Waiting:
			if s.Started.IsZero() || rec.Attempt > 0 {
				s.Started = rec.Time
			}
			s.Finished = time.Time{}
		default:
			s.Finished = rec.Time
		}
		s.ResolvedDone = rec.Status == Succeeded && rec.Resolution == ResolutionDone
		if rec.Status == Succeeded {
			s.Outputs = rec.Outputs
		} else {
			s.Outputs = nil
		}
	case KindResolve:
		s := r.step(rec.Addr)
		s.Resolution, s.ResolvedBy = rec.Resolution, rec.Holder
	case KindObligation:
		o := r.owed[rec.Addr]
		if o == nil {
			o = &Obligation{Addr: rec.Addr}
			r.owed[rec.Addr] = o
			r.Obligations = append(r.Obligations, o)
		}
		// The latest record wins: a step undone and done again owes its
		// undo again.
		o.Status, o.Reason = rec.Status, rec.Reason
		if rec.Undo != "" {
			o.Undo = rec.Undo
		}
		if len(rec.UndoAddrs) > 0 {
			o.UndoAddrs = rec.UndoAddrs
		}
	}
}

// Counts returns how many steps of the run are in each status.
func (r *Run) Counts() map[string]int {
	m := map[string]int{}
	for _, s := range r.Steps {
		m[string(s.Status)]++
	}
	return m
}
