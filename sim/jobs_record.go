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
func (j Job) Final() bool { return final(j.Status) }

// Jobs returns every Ganeti job the simulator received, in id order; none
// on platform appliance.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.Ganeti
	if g == nil {
		return nil
	}
	out := make([]Job, 0, len(g.Jobs))
	for _, j := range g.Jobs {
		r := Job{ID: j.ID, Status: j.Status, Summary: append([]string(nil), j.Summary...)}
		if len(j.ReceivedTS) == 2 {
			r.Received = time.Unix(j.ReceivedTS[0], j.ReceivedTS[1]*1000)
		}
		for _, op := range j.Ops {
			r.Ops = append(r.Ops, JobOp{ID: opStr(op, "OP_ID"), Instance: opStr(op, "instance_name"),
				Node: opStr(op, "node_name"), TargetNode: opStr(op, "target_node")})
		}
		out = append(out, r)
	}
	return out
}
