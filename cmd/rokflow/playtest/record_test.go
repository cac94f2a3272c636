package playtest

import (
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// TestActed decides steps in doubt from the simulator's record.
func TestActed(t *testing.T) {
	before := sim.Status{Counters: map[string]sim.NodeCount{"rok2.sim": {"upgrade-node": {Runs: 1, OK: 1}}}}
	st := sim.Status{Counters: map[string]sim.NodeCount{
		"rok1.sim": {"upgrade-cluster": {Runs: 1, OK: 1}, "upgrade-node": {Runs: 1}},
		"rok2.sim": {"upgrade-node": {Runs: 2, OK: 1}},
	}}
	intent := time.Now()
	migrate := func(id int, at time.Time, status, inst, to string) sim.Job {
		return sim.Job{ID: id, Status: status, Received: at, Summary: []string{"INSTANCE_MIGRATE(" + inst + ")"},
			Ops: []sim.JobOp{{ID: "OP_INSTANCE_MIGRATE", Instance: inst, TargetNode: to}}}
	}
	jobs := []sim.Job{
		migrate(1, intent.Add(-time.Second), "success", "vm1", "h2"), // an earlier attempt's
		migrate(2, intent.Add(time.Millisecond), "success", "vm2", "h3"),
		migrate(3, intent.Add(2*time.Millisecond), "error", "vm3", "h1"),
	}
	for _, tc := range []struct {
		name  string
		d     Doubt
		acted bool
		job   int
	}{
		{"a once-command that ran", Doubt{Kind: "rok.upgrade_cluster", Target: "rok1.sim"}, true, 0},
		{"one that was refused", Doubt{Kind: "rok.upgrade_node", Target: "rok1.sim"}, false, 0},
		{"one that ran before the run", Doubt{Kind: "rok.upgrade_node", Target: "rok2.sim"}, false, 0},
		{"one never run", Doubt{Kind: "rok.enable_etcd_auth", Target: "rok1.sim"}, false, 0},
		{"a job before the intent", Doubt{Kind: "ganeti.instance_migrate", Intent: intent, Job: &JobPattern{Summary: "INSTANCE_MIGRATE(vm1)", Away: "h1"}}, false, 0},
		{"an evacuation", Doubt{Kind: "ganeti.instance_migrate", Intent: intent, Job: &JobPattern{Summary: "INSTANCE_MIGRATE(vm2)", Away: "h2"}}, true, 2},
		{"not the migration back", Doubt{Kind: "ganeti.instance_migrate", Intent: intent, Job: &JobPattern{Summary: "INSTANCE_MIGRATE(vm2)", To: "h2"}}, false, 0},
		{"a job that failed", Doubt{Kind: "ganeti.instance_migrate", Intent: intent, Job: &JobPattern{Summary: "INSTANCE_MIGRATE(vm3)", To: "h1"}}, false, 3},
	} {
		acted, job, err := Acted(before, st, jobs, tc.d)
		if err != nil || acted != tc.acted || job != tc.job {
			t.Errorf("%s: acted %v, job %d, %v; want %v, job %d", tc.name, acted, job, err, tc.acted, tc.job)
		}
	}
	if _, _, err := Acted(before, st, jobs, Doubt{Addr: "step.x", Kind: "shell"}); err == nil || !strings.Contains(err.Error(), "keeps no record") {
		t.Errorf("a step the record cannot judge: %v", err)
	}
}

// TestJobPatternOf describes a clean run's job so that the same step's job
// is found in another run: an evacuation anywhere but home, a migration
// back to home.
func TestJobPatternOf(t *testing.T) {
	home := map[string]string{"vm1": "h1"}
	evac := sim.Job{Summary: []string{"INSTANCE_MIGRATE(vm1)"}, Ops: []sim.JobOp{{ID: "OP_INSTANCE_MIGRATE", Instance: "vm1", TargetNode: "h2"}}}
	back := sim.Job{Summary: []string{"INSTANCE_MIGRATE(vm1)"}, Ops: []sim.JobOp{{ID: "OP_INSTANCE_MIGRATE", Instance: "vm1", TargetNode: "h1"}}}
	other := sim.Job{Summary: []string{"INSTANCE_MIGRATE(vm1)"}, Ops: []sim.JobOp{{ID: "OP_INSTANCE_MIGRATE", Instance: "vm1", TargetNode: "h3"}}}
	reinstall := sim.Job{Summary: []string{"INSTANCE_SHUTDOWN(a1)", "INSTANCE_REINSTALL(a1)", "INSTANCE_STARTUP(a1)"},
		Ops: []sim.JobOp{{ID: "OP_INSTANCE_SHUTDOWN", Instance: "a1"}, {ID: "OP_INSTANCE_REINSTALL", Instance: "a1"}, {ID: "OP_INSTANCE_STARTUP", Instance: "a1"}}}
	pe, pb, pr := jobPatternOf(evac, home), jobPatternOf(back, home), jobPatternOf(reinstall, home)
	if pe != (JobPattern{Summary: "INSTANCE_MIGRATE(vm1)", Away: "h1"}) || pb != (JobPattern{Summary: "INSTANCE_MIGRATE(vm1)", To: "h1"}) || pr.Summary != "INSTANCE_SHUTDOWN(a1)" {
		t.Fatalf("patterns %+v %+v %+v", pe, pb, pr)
	}
	if !pe.Matches(evac) || !pe.Matches(other) || pe.Matches(back) || !pb.Matches(back) || pb.Matches(other) || !pr.Matches(reinstall) || pr.Matches(evac) {
		t.Error("a pattern matches the wrong jobs")
	}
}

func TestJobHandle(t *testing.T) {
	for h, want := range map[string]int{"17": 17, "17?wait=1": 17, "": 0, "abc": 0} {
		if got := JobHandle(h); got != want {
			t.Errorf("JobHandle(%q) = %d, want %d", h, got, want)
		}
	}
}
