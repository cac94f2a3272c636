package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestControlAPI(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	ctx := context.Background()
	c, err := sim.Dial(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Master != "rok1.sim" || len(st.Nodes) != 3 || c.PID() != os.Getpid() {
		t.Fatalf("status: %+v %v", st, err)
	}
	if err := c.SetFaults(ctx, sim.Faults{FailUpgradeNode: []string{"rok2.sim"}, FailJobs: []sim.JobFault{{Op: "reinstall", Times: 2}}}); err != nil {
		t.Fatal(err)
	}
	if f, err := c.Faults(ctx); err != nil || len(f.FailUpgradeNode) != 1 || f.FailJobs[0].Times != 2 {
		t.Errorf("faults: %+v %v", f, err)
	}
	if err := c.Operator(ctx, sim.OperatorRequest{Action: sim.ActionSwap, Node: "rok3.sim", Wait: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.Operator(ctx, sim.OperatorRequest{Action: sim.ActionReplaceDisk, Node: "rok3.sim"}); err == nil || !strings.Contains(err.Error(), "power it off before") {
		t.Errorf("replacing the disk of a running node: %v", err)
	}
	if err := c.Operator(ctx, sim.OperatorRequest{Action: "teleport", Node: "rok3.sim"}); err == nil {
		t.Error("an unknown action was accepted")
	}
	// A wrong token is refused.
	rt, err := sim.ReadRuntime(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	rt.Token = "nope"
	badDir := t.TempDir()
	if data, err := json.Marshal(rt); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(filepath.Join(badDir, sim.RuntimeFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	bad, err := sim.Dial(badDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Status(ctx); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("a wrong token: %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the simulator did not stop")
	}
	disk, err := StatusFromDisk(s.Dir())
	if err != nil || disk.Running || disk.Node("rok3.sim").Boot != "0.11.0-1" {
		t.Errorf("status from disk: %+v %v", disk, err)
	}
}

func TestStatusText(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, NoEtcd: true})
	pin(t, s, "roke1.sim")
	must(t, s, "roke1.sim", "rok-config", "get")
	var b bytes.Buffer
	st := s.Status()
	if err := st.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Rok cluster sim on ganeti", "master roke1.sim, shared state 0.10.2, master candidates roke1.sim",
		"roke1.sim  ", "GANETI HOST", "node1.gnt.sim", "vm1-1.gnt.sim  guest", "ok", "Once-commands (runs/succeeded): none yet",
		"rok-config set cluster.master_candidates=roke1.sim",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestWriteVars checks the var-file against the playbook's variables.
func TestWriteVars(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, NoEtcd: true})
	data, err := os.ReadFile(filepath.Join(s.Dir(), sim.VarsFile))
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(data, sim.VarsFile, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s:\n%s", diags, data)
	}
	attrs, _ := f.Body.JustAttributes()
	for _, name := range []string{"platform", "cluster_name", "seed_node", "nodes", "etcd", "ganeti"} {
		if attrs[name] == nil {
			t.Errorf("%s has no %s", sim.VarsFile, name)
		}
	}
	// A playbook's release is its own (its `to`), not the simulator's.
	if attrs["release"] != nil {
		t.Errorf("%s sets release", sim.VarsFile)
	}
	v, _ := attrs["ganeti"].Expr.Value(nil)
	hostAddrs := v.GetAttr("hosts").GetAttr("addresses")
	if got := hostAddrs.GetAttr("node2.gnt.sim").AsString(); got != s.Status().Hosts[1].SSH {
		t.Errorf("host address %q", got)
	}
	if got := v.GetAttr("rapi_port").AsBigFloat().String(); got != fmt.Sprint(s.st.Ports.RAPI) {
		t.Errorf("rapi_port %s", got)
	}
	for _, p := range []string{v.GetAttr("ca_file").AsString(), v.GetAttr("hosts").GetAttr("known_hosts").AsString()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a file the var-file names: %v", err)
		}
	}
	env, _ := os.ReadFile(filepath.Join(s.Dir(), sim.EnvFile))
	if !strings.Contains(string(env), "export ROKFLOW_VAR_rapi_password='"+s.st.Spec.RAPIPassword+"'") || !strings.Contains(string(env), "ROKFLOW_VAR_roke_password=") {
		t.Errorf("sim.env:\n%s", env)
	}
	if fi, _ := os.Stat(filepath.Join(s.Dir(), sim.EnvFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("sim.env mode %v", fi.Mode())
	}
	if got := hclString(`a"b\${x}%{y}`); got != `"a\"b\\$${x}%%{y}"` {
		t.Errorf("hclString = %s", got)
	}
}

// TestAutoOperatorWithoutPin is the failure the seed's pin prevents: the
// demo operator swaps the unpinned master's disk, the cluster fails over
// to a node on the old release, and breaks when the master comes back.
func TestAutoOperatorWithoutPin(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true, AutoOperator: true})
	if got := must(t, s, "rok1.sim", "dpkg-query", "--show", "--showformat=${Version}", "rok-base"); got != "0.10.2-1" {
		t.Fatalf("before the swap: %q", got)
	}
	eventually(t, "the failover", func() bool { return s.Status().Master == "rok2.sim" })
	eventually(t, "the master back on 0.11", func() bool { return s.Status().Node("rok1.sim").Power == "on" })
	if got := must(t, s, "rok1.sim", "dpkg-query", "--show", "--showformat=${Version}", "rok-base"); got != "0.11.0-1" {
		t.Errorf("after the swap: %q", got)
	}
	if st := s.Status(); !strings.Contains(st.Error, "master rok2.sim runs Rok 0.10.2, older than member rok1.sim") {
		t.Errorf("cluster error: %q", st.Error)
	}
	// Polling a node already on the new release does not swap it again.
	must(t, s, "rok1.sim", "dpkg-query", "--show", "--showformat=${Version}", "rok-base")
	if ops := s.Status().Operator; len(ops) != 0 {
		t.Errorf("operator tasks: %+v", ops)
	}
}

func TestSlowHost(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true, Faults: sim.Faults{Slow: map[string]sim.Duration{"rok3.sim": sim.Duration(150 * time.Millisecond)}}})
	start := time.Now()
	must(t, s, "rok3.sim", "true")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("a command on the slow host took %v", d)
	}
	start = time.Now()
	must(t, s, "rok2.sim", "true")
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a command on another host took %v", d)
	}
}

func TestRAPIJobFault(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, NoEtcd: true,
		Faults: sim.Faults{FailJobs: []sim.JobFault{{Op: "migrate", Target: "vm1-1.gnt.sim", Times: 1}}}})
	c := newRAPITest(t, s)
	_, id := c.do("PUT", "/2/instances/vm1-1.gnt.sim/migrate", map[string]any{"mode": "live"}, "ok")
	j := c.job(id)
	if j["status"] != "error" || !strings.Contains(fmt.Sprint(opResult(j, 0)), "OpExecError [Could not migrate instance vm1-1.gnt.sim") {
		t.Errorf("faulty migration: %v %v", j["status"], opResult(j, 0))
	}
	if f := s.Faults(); len(f.FailJobs) != 0 {
		t.Errorf("the fault was not used up: %+v", f)
	}
	_, id = c.do("PUT", "/2/instances/vm1-1.gnt.sim/migrate", map[string]any{"mode": "live"}, "ok")
	if j := c.job(id); j["status"] != "success" {
		t.Errorf("second migration: %v %v", j["status"], j["opresult"])
	}
	// A slow host slows its jobs too.
	if err := s.SetFaults(sim.Faults{Slow: map[string]sim.Duration{"node2.gnt.sim": sim.Duration(200 * time.Millisecond)}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, id = c.do("PUT", "/2/instances/vm1-1.gnt.sim/migrate", map[string]any{"mode": "live", "target_node": "node1.gnt.sim"}, "ok")
	if j := c.job(id); j["status"] != "success" || time.Since(start) < 200*time.Millisecond {
		t.Errorf("job on a slow host: %v after %v", j["status"], time.Since(start))
	}
}
