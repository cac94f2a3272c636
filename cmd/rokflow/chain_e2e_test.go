package main

import (
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// catalogue holds the shipped v0.11 playbook beside the test-only v0.12
// one built from playbooks/lib: a chain 0.10 → 0.11 → 0.12.
var catalogue = e2ePlaybooks + "/testdata/catalogue"

// TestE2EChain plans and applies the chain on a cluster at 0.10.2 that can
// be upgraded to 0.11.0 and then 0.12.0: two hops, one journal, and a
// cluster at 0.12 finalized at the end; applying again has nothing to do.
func TestE2EChain(t *testing.T) {
	e := startSim(t, sim.Spec{Nodes: 3, Upgrades: []string{"0.11.0", "0.12.0"}, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)})
	code, out, stderr := runChild(t, e.rokflow("plan", catalogue, "--to", "0.12.0", "--var-file", e.vars), time.Minute)
	if code != 0 {
		t.Fatalf("plan --to exited %d:\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"Upgrade path: 0.10.2 → 0.11.0 → 0.12.0 (2 hops)",
		"Hop 1/2: ", "Release: 0.10.2 → 0.11.0, 3 of 3 nodes to upgrade",
		"Hop 2/2: ", "Release: 0.11 → 0.12.0; the cluster's release is known after step.members",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the chain's plan does not say %q:\n%s", want, out)
		}
	}
	args := []string{"apply", catalogue, "--to", "0.12.0", "--var-file", e.vars, "--state", e.state, "--auto-approve", "--var", "gate_check_interval=100ms"}
	code, out, stderr = runChild(t, e.rokflow(args...), 5*time.Minute)
	if code != 0 {
		t.Fatalf("apply --to exited %d:\n%s\n%s", code, lastLines(out, 60), stderr)
	}
	st := e.srv.Status()
	for _, n := range st.Nodes {
		if n.Boot != "0.12.0-1" || n.NodeState != "0.12.0" || n.State != "online" {
			t.Errorf("%s boots %s, node state %s, %s; want 0.12.0-1, 0.12.0, online", n.Name, n.Boot, n.NodeState, n.State)
		}
	}
	if st.Finalized != "0.12.0" || st.SharedState != "0.12.0" || !st.EtcdAuth || st.Error != "" {
		t.Errorf("the cluster is not at 0.12.0 finalized with etcd auth on: %+v", st)
	}
	if !strings.Contains(out, "The cluster is upgraded along 0.10.2 → 0.11.0 → 0.12.0.") {
		t.Errorf("apply does not say the chain is done:\n%s", lastLines(out, 10))
	}
	code, out, stderr = runChild(t, e.rokflow(args...), time.Minute)
	if code != 0 || !strings.Contains(out, "already at 0.12.0: nothing to do") {
		t.Errorf("a second apply --to exited %d, want nothing to do:\n%s\n%s", code, out, stderr)
	}
}

// TestE2EReleaseChecked: the v0.11 playbook refuses a 0.9 cluster before
// anything changes, and has nothing to do on a cluster already at 0.11.
func TestE2EReleaseChecked(t *testing.T) {
	old := startSim(t, sim.Spec{Nodes: 2, FromVersion: "0.9.4", NoEtcd: true})
	code, out, stderr := old.apply(shipped)
	if code != 1 || !strings.Contains(stderr, "not on this playbook's upgrade path") || !strings.Contains(stderr, "rok1.sim 0.9.4") {
		t.Fatalf("apply on 0.9.4 exited %d, want a refusal naming the releases:\n%s\n%s", code, out, stderr)
	}
	old.waitQuiet()
	st := old.srv.Status()
	for node, ops := range st.Counters {
		for op, c := range ops {
			if c.Runs > 0 {
				t.Errorf("%s ran %s %d times before the refusal", node, op, c.Runs)
			}
		}
	}
	if strings.Join(st.Candidates, ",") != strings.Join(old.before.Candidates, ",") {
		t.Errorf("the candidates changed: %v, were %v", st.Candidates, old.before.Candidates)
	}

	done := startSim(t, sim.Spec{Nodes: 2, FromVersion: "0.11.0", NoEtcd: true})
	code, out, stderr = done.apply(shipped)
	if code != 0 || !strings.Contains(out, "already at 0.11.0: nothing to do") {
		t.Fatalf("apply on 0.11.0 exited %d, want nothing to do:\n%s\n%s", code, out, stderr)
	}
	for node, ops := range done.srv.Status().Counters {
		for op, c := range ops {
			if c.Runs > 0 {
				t.Errorf("%s ran %s %d times on a cluster already upgraded", node, op, c.Runs)
			}
		}
	}
}
