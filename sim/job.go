package sim

import "time"

// Job is a Ganeti job as the simulator's own record holds it: what a test
// harness reads, after a crash, to tell whether a step left in doubt
// submitted its job (the RAPI shows the same, with more ceremony).
type Job struct {
	ID     int    `json:"id"`
	Status string `json:"status"`
	// Summary is Ganeti's summary of each opcode: INSTANCE_MIGRATE(vm1-1.gnt.sim).
	Summary []string `json:"summary"`
	// Received is when the RAPI took the job.
	Received time.Time `json:"received"`
	Ops      []JobOp   `json:"ops"`
}

// JobOp is one opcode of a job.
type JobOp struct {
	// ID is the opcode, OP_INSTANCE_MIGRATE.
	ID string `json:"id"`
	// Instance and Node are what it acts on; TargetNode is where a
	// migration goes (filled in by the allocator when the job ran).
	Instance   string `json:"instance,omitempty"`
	Node       string `json:"node,omitempty"`
	TargetNode string `json:"target_node,omitempty"`
}

// Final reports whether the job has ended: succeeded, failed or canceled.
func (j Job) Final() bool {
	return j.Status == "success" || j.Status == "error" || j.Status == "canceled"
}

// Command is a command a node has taken and not yet answered: waiting out
// a slow node's delay, or running.
type Command struct {
	// PID is the process id the simulator gave it.
	PID int `json:"pid"`
	// Node is the member or Ganeti host it runs on.
	Node string `json:"node"`
	// Argv is the program and its arguments, after sudo and env.
	Argv []string `json:"argv"`
}
