package runtime

import "time"

// Hook receives the executor's events. The engine never prints; views
// implement Hook to show progress to people or as JSON lines. Event is
// called from the executor's goroutines, one call at a time.
type Hook interface {
	Event(Event)
}

// EventType names what happened.
type EventType string

// The events of a run.
const (
	EventRunStart   EventType = "run_start"
	EventStepStart  EventType = "step_start"
	EventStepOutput EventType = "step_output"
	EventStepEnd    EventType = "step_end"
	EventGateWait   EventType = "gate_wait"
	// EventGateApproval: one approval of a waiting gate was recorded (By,
	// How, Approvals of Needed).
	EventGateApproval EventType = "gate_approval"
	// EventGateEnd: a gate stopped waiting. Status is approved, declined,
	// timed_out or interrupted; Summary says what the run does next.
	EventGateEnd    EventType = "gate_end"
	EventBatchStart EventType = "batch_start"
	EventGroupStop  EventType = "group_stop"
	EventUndoStart  EventType = "undo_start"
	EventStopping   EventType = "stopping"
	EventInDoubt    EventType = "in_doubt"
	EventRunEnd     EventType = "run_end"

	// EventOutputWithheld ends an attempt whose output lines were
	// withheld because the step received a sensitive value.
	EventOutputWithheld EventType = "output_withheld"
	// EventUndoHeld: an owed undo's condition holds it back; it stays owed.
	EventUndoHeld EventType = "undo_held"
	// EventUndoUnmet: an owed undo could not be run, or failed.
	EventUndoUnmet EventType = "undo_unmet"
	// EventRelease: the cluster's release became known and was checked
	// against the playbook's path. Status is upgrade, nothing_to_do or
	// refused; Summary says the path ("0.10.2 → 0.11.0, 3 of 3 nodes to
	// upgrade").
	EventRelease EventType = "release"
)

// Event is one thing that happened during a run. Fields that do not apply
// are empty. Nothing in an event is sensitive: the lines of a step that
// received a sensitive value are withheld (an output_withheld event
// counts them in Lines), other lines and errors have the secrets among
// the step's arguments replaced (taint.go).
type Event struct {
	Time    time.Time `json:"time"`
	Type    EventType `json:"type"`
	Run     string    `json:"run,omitempty"`
	Addr    string    `json:"address,omitempty"`
	Kind    string    `json:"kind,omitempty"`
	Target  string    `json:"target,omitempty"`
	Group   string    `json:"group,omitempty"`
	Batch   int       `json:"batch,omitempty"`
	Status  string    `json:"status,omitempty"`
	Attempt int       `json:"attempt,omitempty"`
	Stream  string    `json:"stream,omitempty"`
	Line    string    `json:"line,omitempty"`
	Lines   int       `json:"lines,omitempty"`
	Summary string    `json:"summary,omitempty"`
	Error   string    `json:"error,omitempty"`
	// Handle is the external handle (a job id) of a step in doubt.
	Handle  string        `json:"handle,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	// Counts summarises a run at its end: instances per status.
	Counts map[string]int `json:"counts,omitempty"`

	// Batches is, on batch_start, how many batches the rolling group has;
	// Nodes the elements (usually nodes) of the batch that starts.
	Batches int      `json:"batches,omitempty"`
	Nodes   []string `json:"nodes,omitempty"`

	// Gates: a gate's instructions (gate_wait), who approved it and how
	// (gate_approval, gate_end), the approvals it has and needs, and when
	// it stops waiting.
	Instructions string    `json:"instructions,omitempty"`
	By           string    `json:"by,omitempty"`
	How          string    `json:"how,omitempty"`
	Approvals    int       `json:"approvals,omitempty"`
	Needed       int       `json:"needed,omitempty"`
	Deadline     time.Time `json:"deadline,omitzero"`
}

// The ways a gate is approved (Event.How).
const (
	HowPrompt      = "prompt"       // the operator answered yes at apply's prompt
	HowAutoApprove = "auto-approve" // apply --auto-approve
	HowApproveFlag = "approve-flag" // apply --approve PATTERN
	HowApprove     = "approve"      // rokflow approve, from any terminal
	HowCheck       = "check"        // the gate's automated check passed
)

// The ends of a gate wait (Event.Status of gate_end).
const (
	GateApproved    = "approved"
	GateDeclined    = "declined"
	GateTimedOut    = "timed_out"
	GateInterrupted = "interrupted"
)

// NopHook discards events.
type NopHook struct{}

// Event does nothing.
func (NopHook) Event(Event) {}

var _ Hook = NopHook{}
