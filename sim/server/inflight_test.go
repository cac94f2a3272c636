package server

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"

	"github.com/rokflow/rokflow/sim/shellwords"
)

// TestInFlight lists a command while its slow node holds it, with the
// program and arguments left once sudo is stripped, and forgets it when it
// is answered.
func TestInFlight(t *testing.T) {
	s := newSim(t, sim.Spec{Nodes: 2, Faults: sim.Faults{Slow: map[string]sim.Duration{"rok2.sim": sim.Duration(300 * time.Millisecond)}}})
	line := pidReport + "exec " + shellwords.Join([]string{"sudo", "-n", "--", "rok-config", "get", "cluster.name"})
	type answer struct {
		code int
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		code, err := s.Exec("rok2.sim", line, nil, io.Discard, io.Discard)
		done <- answer{code, err}
	}()
	eventually(t, "the command to be in flight", func() bool {
		for _, c := range s.InFlight() {
			if c.Node == "rok2.sim" && slices.Equal(c.Argv, []string{"rok-config", "get", "cluster.name"}) && c.PID > 0 {
				return true
			}
		}
		return false
	})
	if a := <-done; a.code != 0 || a.err != nil {
		t.Fatalf("rok-config get exited %d (%v)", a.code, a.err)
	}
	if left := s.InFlight(); len(left) != 0 {
		t.Errorf("answered commands still in flight: %+v", left)
	}
}
