package server

import (
	"sort"

	"github.com/rokflow/rokflow/sim"
)

// InFlight lists the commands the nodes are running, by process id. A test
// that must stop rokflow between a command's effect and rokflow's record of
// it (a kill the journal alone cannot time) looks here for the command,
// with the node slowed by Faults.Slow so that the command waits.
func (s *Server) InFlight() []sim.Command {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	out := make([]sim.Command, 0, len(s.inFlight))
	for _, c := range s.inFlight {
		c.Argv = append([]string(nil), c.Argv...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// track records that the command with pid runs argv on node; forgetPID
// forgets it.
func (s *Server) track(pid int, node string, argv []string) {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	if s.inFlight == nil {
		s.inFlight = map[int]sim.Command{}
	}
	s.inFlight[pid] = sim.Command{PID: pid, Node: node, Argv: append([]string(nil), argv...)}
}
