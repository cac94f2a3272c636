package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion of the journal records; a newer rokflow reads older ones.
// A record whose version is higher than this one was written by a newer
// rokflow: Records refuses it rather than misread it.
const SchemaVersion = 1

// Status is the state a Record reports: a step instance's status, an
// obligation's ("owed", "held", "unmet", "settled") or a run's end
// ("succeeded", "failed", "aborted", "paused").
type Status string

// The statuses of a step instance.
const (
	Pending   Status = "pending"
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	InDoubt   Status = "in_doubt"
	Cancelled Status = "cancelled"
	// Waiting: a gate waits for its approvals or its check. A run that
	// ends (paused, interrupted) while it waits leaves it waiting; the
	// run that resumes asks again.
	Waiting Status = "waiting"
)

// The statuses of an obligation record: an undo is owed until it is
// settled. A failed run that could not settle it says why in Reason: Held
// (its condition held it back) or Unmet (it could not be run, or failed);
// both stay owed.
const (
	Owed    Status = "owed"
	Held    Status = "held"
	Unmet   Status = "unmet"
	Settled Status = "settled"
	// Undoing: a failed run began to run the undo (its condition held);
	// a crash now leaves a compensation to finish before anything acts.
	Undoing Status = "undoing"
)

// The statuses of an end record besides Succeeded and Failed.
const (
	Aborted Status = "aborted"
	Paused  Status = "paused"
	Stopped Status = "stopped"
)

// The kinds of Record.
const (
	// KindRun marks the beginning of a run: Run, PlanHash, Holder, Playbook.
	KindRun = "run"
	// KindStep is a transition of the step instance Addr: Status, Attempt,
	// Handle, Outputs, Error.
	KindStep = "step"
	// KindApproval approves the gate Addr: Holder says who, PlanHash for
	// which plan.
	KindApproval = "approval"
	// KindResolve resolves the in-doubt step Addr: Resolution, Holder.
	KindResolve = "resolve"
	// KindObligation records an undo owed for step Addr: Undo is the undo
	// step's address, UndoAddrs the instances of it owed, Status is Owed,
	// Held, Unmet or Settled, Reason says why it is held or unmet.
	KindObligation = "obligation"
	// KindEnd marks the end of a run: Status is Succeeded, Failed, Aborted,
	// Paused or Stopped.
	KindEnd = "end"
	// KindTarget records facts that identify what the run acts on (Facts,
	// keyed by the address of the step that discovered them), once known.
	KindTarget = "target"
)

// The resolutions of an in-doubt step (Record.Resolution).
const (
	// ResolutionDone says the step did its work: treat it as succeeded.
	ResolutionDone = "done"
	// ResolutionRetry says the step did not do its work: run it again.
	ResolutionRetry = "retry"
)

// Record is one journal entry. Which fields are set depends on Kind (see
// the Kind constants). The backend assigns Seq; it fills Schema and Time
// when they are zero.
type Record struct {
	// Schema is the record's SchemaVersion.
	Schema int `json:"v"`
	// Seq is assigned by the backend, strictly increasing from 1 in the
	// journal. Approvals given through Backend.Approve are kept outside the
	// journal and carry Seq 0.
	Seq uint64 `json:"seq"`
	// Time is when the record was made.
	Time time.Time `json:"time"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Run identifies the run the record belongs to.
	Run string `json:"run"`
	// Addr is a step instance's address.
	Addr string `json:"addr,omitempty"`
	// Status is a step's, an obligation's or a run's status.
	Status Status `json:"status,omitempty"`
	// Attempt counts a step's attempts from 1.
	Attempt int `json:"attempt,omitempty"`
	// Handle is an external handle, e.g. a Ganeti job id.
	Handle string `json:"handle,omitempty"`
	// Outputs are a step's outputs, already masked by the caller.
	Outputs json.RawMessage `json:"outputs,omitempty"`
	// Error is why a step failed.
	Error string `json:"error,omitempty"`
	// PlanHash binds a run or an approval to a plan.
	PlanHash string `json:"plan_hash,omitempty"`
	// Playbook names the playbook of a run.
	Playbook string `json:"playbook,omitempty"`
	// Holder is who began a run, approved a gate or resolved a step.
	Holder *Holder `json:"holder,omitempty"`
	// Resolution is ResolutionDone or ResolutionRetry.
	Resolution string `json:"resolution,omitempty"`
	// Undo is the address of the undo step an obligation owes.
	Undo string `json:"undo,omitempty"`
	// Identity is what a run acts for: its playbook and inputs (KindRun).
	Identity *Identity `json:"identity,omitempty"`
	// Facts identify a run's target (KindTarget).
	Facts map[string]string `json:"facts,omitempty"`
	// UndoAddrs are the undo step's instances an obligation owes; records
	// written before they were listed have only Undo.
	UndoAddrs []string `json:"undo_addrs,omitempty"`
	// Reason says why an obligation is held back or unmet, or what a
	// waiting gate waits for.
	Reason string `json:"reason,omitempty"`
	// By is the identity an approval counts for (KindApproval): the state
	// backend's user when it authenticates one, else user@host. Two
	// approvals by one identity count once.
	By string `json:"by,omitempty"`
	// How says how an approval was given: "approve" (rokflow approve),
	// "prompt", "auto-approve", "approve-flag" (apply --approve).
	How string `json:"how,omitempty"`
	// Needed is how many approvals from distinct identities a waiting
	// gate needs (KindStep, Status Waiting).
	Needed int `json:"needed,omitempty"`
}

// Holder says who holds (or held) the run lock, or who gave an approval.
type Holder struct {
	// ID identifies the holder; Lock fills a random one when it is empty.
	ID string `json:"id,omitempty"`
	// User and Host are the operator's login name and machine; Lock fills
	// Host when it is empty.
	User string `json:"user,omitempty"`
	Host string `json:"host,omitempty"`
	// PID is the rokflow process; Lock fills it when it is zero.
	PID int `json:"pid,omitempty"`
	// Since is when the lock was taken; Lock fills it when it is zero.
	Since time.Time `json:"since,omitzero"`
	// Operation says what the holder is doing, e.g. "apply playbooks/rok-v0.11".
	Operation string `json:"operation,omitempty"`
}

// String renders the holder for people: "user@host pid N since T (operation)".
func (h Holder) String() string {
	var b strings.Builder
	switch {
	case h.User != "" && h.Host != "":
		b.WriteString(h.User + "@" + h.Host)
	case h.User != "":
		b.WriteString(h.User)
	case h.Host != "":
		b.WriteString(h.Host)
	case h.ID != "":
		b.WriteString("holder " + h.ID)
	default:
		b.WriteString("an unknown holder")
	}
	if h.PID != 0 {
		fmt.Fprintf(&b, " pid %d", h.PID)
	}
	if !h.Since.IsZero() {
		b.WriteString(" since " + h.Since.Format(time.RFC3339))
	}
	if h.Operation != "" {
		b.WriteString(" (" + h.Operation + ")")
	}
	return b.String()
}

// Backend is where a playbook's journal lives.
type Backend interface {
	// Lock takes the run lock, or fails at once with *LockedError naming
	// the current holder.
	Lock(ctx context.Context, h Holder) (Session, error)
	// Records returns every record in order: the journal in Seq order, then
	// the approvals given through Approve in the order they were given. It
	// needs no lock.
	Records(ctx context.Context) ([]Record, error)
	// Holder returns the current lock holder, or nil.
	Holder(ctx context.Context) (*Holder, error)
	// BreakLock removes the lock whatever its holder (rokflow unlock),
	// returning who held it, or nil when nobody did. A broken session gets
	// ErrLockLost from then on. The file backend refuses to break a lock
	// whose holder is another live process (ErrHolderAlive): stop that
	// process instead; its lock dies with it.
	BreakLock(ctx context.Context) (*Holder, error)
	// Approve records an approval without the run lock, so it can be given
	// from another terminal or machine while a run waits at a gate;
	// approvals are read back by Records (Kind "approval", Seq 0).
	Approve(ctx context.Context, r Record) error
	// WatchApprovals returns a channel that receives a value soon (well
	// within a second) after an approval is recorded, from this process or
	// another, until ctx ends; then it is closed. Notifications coalesce:
	// on one, read Records again. The first comes at once, so an approval
	// given before the watch began is not missed.
	WatchApprovals(ctx context.Context) (<-chan struct{}, error)
	// Identity is the user the backend authenticates as (etcd: the user
	// name, or the client certificate's common name), or "" when it
	// authenticates nobody (files, memory). Approvals are counted by it.
	Identity() string
	// Close releases the backend, and any lock still held through it.
	Close() error
	// String returns the URL, with any password removed.
	String() string
}

// Session is a held lock and the right to write.
type Session interface {
	// Append makes the records durable, in order, before it returns. It
	// assigns Seq, and writes Seq, Schema and Time back into recs. Every
	// write is fenced on the lock: a session that lost its lock gets
	// ErrLockLost and writes nothing, ever. Concurrent Appends are
	// group-committed (one fsync / one transaction for many callers).
	//
	// Invalid records (an unknown Kind, no Run, Outputs that are not JSON)
	// are refused before anything is written. Any other error leaves the
	// records' fate unknown (they may be durable): stop writing, and read
	// Records to learn what the journal holds. ctx ends an Append early
	// only while its records wait for the writer; once taken, Append waits
	// for the outcome, which the backend bounds (one fsync; for etcd, the
	// write landing or the lease ending). The etcd backend takes at most
	// 100 records in one Append.
	Append(ctx context.Context, recs ...Record) error
	// Lost is closed when the session no longer holds the lock: lease
	// expired, broken by unlock, a fenced write refused, or Unlock.
	Lost() <-chan struct{}
	// Unlock releases the lock. Later Appends fail with ErrLockLost.
	// Unlocking twice, or unlocking a lost lock, returns nil.
	Unlock(ctx context.Context) error
}

// ErrLockLost is returned by Append when the session no longer holds the
// run lock. The run must stop at once: another run may hold the lock now.
var ErrLockLost = errors.New("state: the run lock was lost; this run must stop")

// ErrHolderAlive is wrapped by the file backend's BreakLock when the lock
// is held by a live process: stop that process instead (its lock dies with
// it).
var ErrHolderAlive = errors.New("the lock holder is alive")

// LockedError is returned by Lock when another holder has the lock.
type LockedError struct {
	// Holder is the current holder, as far as the backend knows it.
	Holder Holder
}

// Error names the holder: "locked by user@host pid N since T (operation)".
func (e *LockedError) Error() string {
	return "state is locked by " + e.Holder.String()
}

// CorruptError reports a journal that cannot be trusted: a damaged record
// that is not a torn tail, a sequence gap, or a record that is not valid.
// rokflow does not repair it: a person must look.
type CorruptError struct {
	// Where is the journal: a file path, or an etcd key.
	Where string
	// Line is the 1-based line of a file journal, 0 otherwise.
	Line int
	// Reason says what is wrong.
	Reason string
}

// Error says where the journal is damaged and how.
func (e *CorruptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("corrupt journal %s line %d: %s", e.Where, e.Line, e.Reason)
	}
	return fmt.Sprintf("corrupt journal %s: %s", e.Where, e.Reason)
}

// SchemaError reports a record written by a newer rokflow.
type SchemaError struct {
	// Seq is the record's sequence number (0 for an approval).
	Seq uint64
	// Version is the record's schema version.
	Version int
}

// Error names the record and says to use a newer rokflow.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("journal record %d has schema version %d; this rokflow reads versions up to %d: use a newer rokflow", e.Seq, e.Version, SchemaVersion)
}
