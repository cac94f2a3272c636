package server

import (
	"time"

	"github.com/rokflow/rokflow/sim"
)

// Jobs returns every Ganeti job the simulator received, in id order; none
// on platform appliance.
func (s *Server) Jobs() []sim.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.Ganeti
	if g == nil {
		return nil
	}
	out := make([]sim.Job, 0, len(g.Jobs))
	for _, j := range g.Jobs {
		r := sim.Job{ID: j.ID, Status: j.Status, Summary: append([]string(nil), j.Summary...)}
		if len(j.ReceivedTS) == 2 {
			r.Received = time.Unix(j.ReceivedTS[0], j.ReceivedTS[1]*1000)
		}
		for _, op := range j.Ops {
			r.Ops = append(r.Ops, sim.JobOp{ID: opStr(op, "OP_ID"), Instance: opStr(op, "instance_name"),
				Node: opStr(op, "node_name"), TargetNode: opStr(op, "target_node")})
		}
		out = append(out, r)
	}
	return out
}
