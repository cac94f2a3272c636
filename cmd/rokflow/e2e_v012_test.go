package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// nextRelease is the test-only next release built from the lib.
var nextRelease = filepath.Join(e2ePlaybooks, "testdata", "rok-v0.12")

// checkV012 asserts the end state of an upgrade from 0.11 to 0.12.0:
// every member on 0.12.0 with its daemons up (they start only with
// map-version 4), the cluster finalized, etcd auth still on, the master
// and candidates as before, on Ganeti every guest home and every host on
// 0.12, and each once-command run once (no enable-etcd-auth).
func (e *e2eSim) checkV012() {
	tb := e.tb
	tb.Helper()
	st := e.srv.Status()
	if st.Error != "" {
		tb.Errorf("the cluster is in an error state: %s", st.Error)
	}
	if st.Master != e.before.Master || st.SharedState != "0.12.0" || st.Finalized != "0.12.0" || !st.EtcdAuth {
		tb.Errorf("master %s (was %s), shared state %s, finalized %q, etcd auth %v", st.Master, e.before.Master, st.SharedState, st.Finalized, st.EtcdAuth)
	}
	if strings.Join(st.Candidates, ",") != strings.Join(e.before.Candidates, ",") {
		tb.Errorf("master candidates %v, want them restored to %v", st.Candidates, e.before.Candidates)
	}
	for _, n := range st.Nodes {
		if n.NodeState != "0.12.0" || !strings.HasPrefix(n.Boot, "0.12") || n.State != "online" {
			tb.Errorf("%s: node state %s, BOOT disk %s, %s", n.Name, n.NodeState, n.Boot, n.State)
		}
		for svc, s := range n.Services {
			if s != "active" {
				tb.Errorf("%s: %s is %s", n.Name, svc, s)
			}
		}
		if got := st.Count(n.Name, opUpgradeNode); got != (sim.Counter{Runs: 1, OK: 1}) {
			tb.Errorf("%s: upgrade-node ran %d times, %d succeeded", n.Name, got.Runs, got.OK)
		}
	}
	for op, n := range map[string]int{opUpgradeCluster: 1, "finalize": 1, opEnableEtcdAuth: 0} {
		if got := st.Count(st.Master, op); got != (sim.Counter{Runs: n, OK: n}) {
			tb.Errorf("%s on the master: ran %d times, %d succeeded; want %d", op, got.Runs, got.OK, n)
		}
	}
	for _, h := range st.Hosts {
		if !h.Compatible || !strings.HasPrefix(h.RokBase, "0.12") {
			tb.Errorf("Ganeti host %s: rok-base %s, guests can connect %v (%s)", h.Name, h.RokBase, h.Compatible, h.Why)
		}
	}
	home := map[string]string{}
	for _, i := range e.before.Instances {
		home[i.Name] = i.PNode
	}
	for _, i := range st.Instances {
		if i.PNode != home[i.Name] || i.Status != "running" || i.Kind == "guest" && i.IO != "ok" {
			tb.Errorf("instance %s: on %s (was on %s), %s, disk I/O %s", i.Name, i.PNode, home[i.Name], i.Status, i.IO)
		}
	}
}

// TestE2ERokV012 applies the test-only next release, built from the lib
// with its own steps in the lib's hooks, to clusters on 0.11.0 that can
// be upgraded to 0.12.0, on both platforms; a second plan finds nothing
// to do.
func TestE2ERokV012(t *testing.T) {
	pb := nextRelease
	for _, spec := range []sim.Spec{
		{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)},
		{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 2, JobDelay: sim.Duration(10 * time.Millisecond)},
	} {
		name := spec.Platform
		if name == "" {
			name = sim.PlatformAppliance
		}
		t.Run(name, func(t *testing.T) {
			spec.FromVersion, spec.Upgrades = "0.11.0", []string{"0.12.0"}
			e := startSim(t, spec)
			code, out, stderr := e.apply(pb)
			if code != 0 {
				t.Fatalf("apply exited %d:\n%s\n%s", code, lastLines(out, 40), stderr)
			}
			e.checkV012()
			code, out, stderr = runChild(t, e.rokflow("plan", pb, "--var-file", e.vars, "--discover"), time.Minute)
			if code != 0 || !strings.Contains(out, "already at 0.12.0: nothing to do") {
				t.Errorf("plan after the upgrade exited %d, want nothing to do:\n%s\n%s", code, lastLines(out, 10), stderr)
			}
		})
	}
}
