package server

import (
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/server/rapi"
)

// TestJobsRecord checks the jobs a harness reads after a crash: each with
// its opcodes' summaries, what they act on, where a migration went (the
// allocator's choice included) and when the RAPI received it.
func TestJobsRecord(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 1})
	if got := s.Jobs(); len(got) != 0 {
		t.Fatalf("a new cluster has jobs: %+v", got)
	}
	c := newRAPITest(t, s)
	var guest, home string
	for _, i := range s.Status().Instances {
		if i.Kind == instGuest {
			guest, home = i.Name, i.PNode
			break
		}
	}
	before := time.Now().Add(-time.Second)
	code, _ := c.do("PUT", "/2/instances/"+guest+"/migrate", map[string]any{"mode": "live"}, "ok")
	if code != 200 {
		t.Fatalf("migrate: HTTP %d", code)
	}
	var j sim.Job
	eventually(t, "the migration ends", func() bool {
		jobs := s.Jobs()
		if len(jobs) != 1 {
			return false
		}
		j = jobs[0]
		return j.Final()
	})
	if j.Status != rapi.JobSuccess || len(j.Summary) != 1 || j.Summary[0] != "INSTANCE_MIGRATE("+guest+")" || j.Received.Before(before) || j.Received.After(time.Now()) {
		t.Fatalf("job %+v", j)
	}
	if op := j.Ops[0]; op.ID != "OP_INSTANCE_MIGRATE" || op.Instance != guest || op.TargetNode == "" || op.TargetNode == home {
		t.Errorf("opcode %+v: want a migration of %s away from %s, its target filled in", op, guest, home)
	}
}
