package sim

import "sort"

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

// InFlight lists the commands the nodes are running, by process id. A test
// that must stop rokflow between a command's effect and rokflow's record of
// it (a kill the journal alone cannot time) looks here for the command,
// with the node slowed by Faults.Slow so that the command waits.
func (s *Server) InFlight() []Command {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	out := make([]Command, 0, len(s.inFlight))
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
		s.inFlight = map[int]Command{}
	}
	s.inFlight[pid] = Command{PID: pid, Node: node, Argv: append([]string(nil), argv...)}
}
