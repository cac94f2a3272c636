package server

import (
	"strings"
	"testing"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/internal/release"

	"github.com/rokflow/rokflow/internal/openstore"
	"github.com/rokflow/rokflow/sim/shellwords"
)

const upgrade = "rok-cluster-upgrade-v0.11.0"

// writeFile replaces a node file through the SSH transport's write script.
func writeFile(t *testing.T, s *Server, node, path, content string) {
	t.Helper()
	line := pidReport + "exec " + shellwords.Join([]string{"sh", "-c", tsWriteScript, "rokflow-write", path, "644"})
	if r := runLine(t, s, node, line, content); r.code != 0 {
		t.Fatalf("writing %s on %s: exit %d: %s", path, node, r.code, r.stderr)
	}
}

// rewriteEndpoints does what rok.openstore_endpoints does, with rokflow's
// own rewriter, so the seeded files are proven migratable.
func rewriteEndpoints(t *testing.T, s *Server, node string) {
	t.Helper()
	for path, rewrite := range map[string]func(string) (string, []openstore.Change, error){
		"/etc/rok/daemons.conf": openstore.RewriteConfig,
		"/etc/default/rok":      openstore.RewriteEnv,
	} {
		old := must(t, s, node, "cat", path)
		text, changes, err := rewrite(old)
		if err != nil {
			t.Fatalf("rokflow cannot rewrite %s of %s: %v", path, node, err)
		}
		if len(changes) == 0 {
			t.Fatalf("%s of %s has no endpoint to rewrite", path, node)
		}
		writeFile(t, s, node, path, text)
	}
	rewriteUnits(t, s, node)
}

// upgradeMaster swaps the master's disk and runs upgrade-cluster and
// upgrade-node on it, as the playbook does.
func upgradeMaster(t *testing.T, s *Server, master string) {
	t.Helper()
	operate(t, s, sim.ActionSwap, master)
	rewriteEndpoints(t, s, master)
	must(t, s, master, upgrade, "upgrade-cluster")
	must(t, s, master, upgrade, "upgrade-node")
}

func upgradeSlave(t *testing.T, s *Server, node string) {
	t.Helper()
	operate(t, s, sim.ActionSwap, node)
	rewriteEndpoints(t, s, node)
	must(t, s, node, upgrade, "upgrade-node")
}

func pin(t *testing.T, s *Server, node string) {
	t.Helper()
	must(t, s, node, "rok-config", "set", "cluster.master_candidates="+node)
}

func TestSeedFilesAreMigratable(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	for _, n := range []string{"rok1.sim", "rok2.sim"} {
		conf := must(t, s, n, "cat", "/etc/rok/daemons.conf")
		if !strings.Contains(conf, "tcp://") {
			t.Errorf("%s daemons.conf has no tcp:// endpoint:\n%s", n, conf)
		}
		rewriteEndpoints(t, s, n)
		for _, f := range []string{"/etc/rok/daemons.conf", "/etc/default/rok"} {
			if text := must(t, s, n, "cat", f); strings.Contains(text, "tcp://") {
				t.Errorf("%s still has tcp:// after the rewrite:\n%s", f, text)
			}
		}
	}
}

func TestUpgradeClusterRules(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	// The script ships on the new BOOT disk only.
	r := refused(t, s, "rok1.sim", "rok-cluster-upgrade-v0.11.0: not found", upgrade, "upgrade-cluster")
	if r.code != 127 {
		t.Errorf("exit %d on an old BOOT disk, want 127", r.code)
	}
	// Only on the master.
	operate(t, s, sim.ActionSwap, "rok2.sim")
	refused(t, s, "rok2.sim", "must run on the cluster's master; this node is rok2.sim and the master is rok1.sim", upgrade, "upgrade-cluster")
	// Allowed on the master after its swap, once.
	operate(t, s, sim.ActionSwap, "rok1.sim")
	out := must(t, s, "rok1.sim", upgrade, "upgrade-cluster")
	if !strings.Contains(out, "shared state of cluster sim is at 0.11.0") {
		t.Errorf("upgrade-cluster said:\n%s", out)
	}
	refused(t, s, "rok1.sim", "already at 0.11.0: upgrade-cluster has run", upgrade, "upgrade-cluster")
	if c := s.Status().Count("rok1.sim", release.OpUpgradeCluster); c != (sim.Counter{Runs: 2, OK: 1}) {
		t.Errorf("counter = %+v, want 2 runs, 1 ok", c)
	}
	if got := must(t, s, "rok3.sim", "rok-config", "get", "cluster.shared_state_version"); got != "0.11.0\n" {
		t.Errorf("shared state version = %q", got)
	}
}

func TestUpgradeClusterNeedsAMaster(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	operate(t, s, sim.ActionPowerOff, "rok1.sim")
	operate(t, s, sim.ActionSwap, "rok2.sim")
	refused(t, s, "rok2.sim", "the cluster has no master", upgrade, "upgrade-cluster")
}

func TestUpgradeNodeRules(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	// Before upgrade-cluster: refused, even with a new disk.
	operate(t, s, sim.ActionSwap, "rok2.sim")
	refused(t, s, "rok2.sim", "run upgrade-cluster on the master (rok1.sim) first", upgrade, "upgrade-node")
	upgradeMaster(t, s, "rok1.sim")
	// With tcp:// endpoints the v0.11 daemons do not start.
	r := refused(t, s, "rok2.sim", "tcp:// endpoints are not supported since Rok v0.11", upgrade, "upgrade-node")
	if !strings.Contains(r.stderr, "the Rok daemons failed to start") {
		t.Errorf("upgrade-node said:\n%s", r.stderr)
	}
	rewriteEndpoints(t, s, "rok2.sim")
	must(t, s, "rok2.sim", upgrade, "upgrade-node")
	refused(t, s, "rok2.sim", "already upgraded to 0.11.0; upgrade-node runs once per node", upgrade, "upgrade-node")
	if c := s.Status().Count("rok2.sim", release.OpUpgradeNode); c != (sim.Counter{Runs: 4, OK: 1}) {
		t.Errorf("counter = %+v, want 4 runs, 1 ok", c)
	}
	_, ms := members(t, s, "rok3.sim")
	if ms["rok2.sim"].State != "online" || ms["rok2.sim"].Version != "0.11.0" {
		t.Errorf("rok2 after upgrade-node: %+v", ms["rok2.sim"])
	}
	if ms["rok3.sim"].Version != "0.10.2" {
		t.Errorf("rok3: %+v", ms["rok3.sim"])
	}
}

func TestEnableEtcdAuthRules(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	upgradeMaster(t, s, "rok1.sim")
	upgradeSlave(t, s, "rok2.sim")
	refused(t, s, "rok1.sim", "not yet upgraded: rok3.sim (0.10.2)", upgrade, "enable-etcd-auth")
	upgradeSlave(t, s, "rok3.sim")
	refused(t, s, "rok2.sim", "enable-etcd-auth must run on the cluster's master", upgrade, "enable-etcd-auth")
	must(t, s, "rok1.sim", upgrade, "enable-etcd-auth")
	if !s.Status().EtcdAuth {
		t.Error("etcd auth not recorded")
	}
	if out := must(t, s, "rok1.sim", upgrade, "enable-etcd-auth"); !strings.Contains(out, "already enabled") {
		t.Errorf("second run said %q", out)
	}
}

func TestGatewayMigrateRules(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	upgradeMaster(t, s, "rok1.sim")
	show := must(t, s, "rok1.sim", "rok-gw-manage", "showmigrations")
	if !strings.Contains(show, "gateway\n [X] 0001_initial") || !strings.Contains(show, " [ ] 0007_openstore_endpoints\n [ ] 0008_bucket_publish_state\n") {
		t.Errorf("showmigrations:\n%s", show)
	}
	refused(t, s, "rok1.sim", "while rok-gw-gunicorn and rok-daemons are running", "rok-gw-manage", "migrate", "--noinput")
	must(t, s, "rok1.sim", "systemctl", "stop", "rok-gw-gunicorn")
	refused(t, s, "rok1.sim", "while rok-daemons is running", "rok-gw-manage", "migrate", "--noinput")
	must(t, s, "rok1.sim", "systemctl", "stop", "rok-daemons")
	out := must(t, s, "rok1.sim", "rok-gw-manage", "migrate", "--noinput")
	want := "Operations to perform:\n  Apply all migrations: auth, contenttypes, gateway\nRunning migrations:\n" +
		"  Applying gateway.0007_openstore_endpoints... OK\n  Applying gateway.0008_bucket_publish_state... OK\n"
	if out != want {
		t.Errorf("migrate printed\n%s\nwant\n%s", out, want)
	}
	if out := must(t, s, "rok1.sim", "rok-gw-manage", "migrate", "--noinput"); !strings.Contains(out, "No migrations to apply.") {
		t.Errorf("second migrate printed\n%s", out)
	}
	must(t, s, "rok1.sim", "systemctl", "start", "rok-daemons")
	must(t, s, "rok1.sim", "systemctl", "start", "rok-gw-gunicorn")
	if c := s.Status().Count("rok1.sim", opGatewayMigrate); c != (sim.Counter{Runs: 4, OK: 2}) {
		t.Errorf("counter = %+v", c)
	}
}

func TestDaemonsRefuseWrongEndpoints(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	// A v0.11 BOOT disk with tcp:// endpoints: the daemons fail at boot.
	operate(t, s, sim.ActionSwap, "rok2.sim")
	if r := run(t, s, "rok2.sim", "systemctl", "is-active", "rok-daemons"); r.code != 3 || r.stdout != "failed\n" {
		t.Errorf("is-active after boot = %d %q", r.code, r.stdout)
	}
	refused(t, s, "rok2.sim", "Job for rok-daemons.service failed", "systemctl", "start", "rok-daemons")
	if j := must(t, s, "rok2.sim", "journalctl", "-u", "rok-daemons", "--no-pager"); !strings.Contains(j, "rok-composerd: error: argument --openstore-controller") {
		t.Errorf("journal:\n%s", j)
	}
	_, ms := members(t, s, "rok1.sim")
	if ms["rok2.sim"].State != "needs-upgrade" {
		t.Errorf("rok2 state %q", ms["rok2.sim"].State)
	}
	rewriteEndpoints(t, s, "rok2.sim")
	must(t, s, "rok2.sim", "systemctl", "start", "rok-daemons")
	// The reverse: v0.10 daemons do not take v0.11 endpoints.
	rewriteEndpoints(t, s, "rok3.sim")
	refused(t, s, "rok3.sim", "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := must(t, s, "rok3.sim", "journalctl", "-u", "rok-daemons.service"); !strings.Contains(j, "expected tcp://HOST:PORT") {
		t.Errorf("journal:\n%s", j)
	}
}

func TestFailoverWithoutPin(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	operate(t, s, sim.ActionPowerOff, "rok1.sim")
	if master, _ := members(t, s, "rok2.sim"); master != "rok2.sim" {
		t.Fatalf("master after the master's power-off = %q, want rok2.sim", master)
	}
	// The old master comes back with the new release under an old master.
	operate(t, s, sim.ActionReplaceDisk, "rok1.sim")
	operate(t, s, sim.ActionPowerOn, "rok1.sim")
	st := s.Status()
	if !strings.Contains(st.Error, "master rok2.sim runs Rok 0.10.2, older than member rok1.sim (Rok 0.11.0)") {
		t.Fatalf("cluster error = %q", st.Error)
	}
	refused(t, s, "rok1.sim", "the cluster is in an error state", upgrade, "upgrade-cluster")
	r := run(t, s, "rok3.sim", "rok-cluster-ctl", "member-list")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the cluster is in an error state") {
		t.Errorf("member-list: %+v", r)
	}
	// Nothing heals it but an operator.
	operate(t, s, sim.ActionPowerOff, "rok2.sim")
	if s.Status().Error == "" {
		t.Error("the error cleared by itself")
	}
	operate(t, s, sim.ActionRepair, "")
	if st := s.Status(); st.Error != "" || st.Master != "rok1.sim" {
		t.Errorf("after repair: master %q error %q", st.Master, st.Error)
	}
}

func TestFailoverWithPin(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	_, ms := members(t, s, "rok2.sim")
	if ms["rok2.sim"].MasterCapable || !ms["rok1.sim"].MasterCapable {
		t.Errorf("master capability after the pin: %+v", ms)
	}
	operate(t, s, sim.ActionPowerOff, "rok1.sim")
	master, ms := members(t, s, "rok2.sim")
	if master != "" || ms["rok1.sim"].State != "offline" {
		t.Fatalf("pinned master off: master %q, rok1 %+v", master, ms["rok1.sim"])
	}
	table := must(t, s, "rok3.sim", "rok-cluster-ctl", "member-list")
	if strings.Contains(table, "master ") {
		t.Errorf("a member claims the role master:\n%s", table)
	}
	operate(t, s, sim.ActionReplaceDisk, "rok1.sim")
	operate(t, s, sim.ActionPowerOn, "rok1.sim")
	if st := s.Status(); st.Master != "rok1.sim" || st.Error != "" {
		t.Errorf("after the swap: master %q error %q", st.Master, st.Error)
	}
	// The pin stays: nothing restores the candidates.
	if got := must(t, s, "rok2.sim", "rok-config", "get", "cluster.master_candidates"); got != "rok1.sim\n" {
		t.Errorf("candidates = %q", got)
	}
}

func TestConfigRules(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	refused(t, s, "rok1.sim", `"rok9.sim" is not a member of cluster sim`, "rok-config", "set", "cluster.master_candidates=rok9.sim")
	refused(t, s, "rok1.sim", "cluster.name is read-only", "rok-config", "set", "cluster.name=x")
	refused(t, s, "rok1.sim", "no such key: nope", "rok-config", "get", "nope")
	refused(t, s, "rok1.sim", "expected KEY=VALUE", "rok-config", "set", "novalue")
	must(t, s, "rok1.sim", "rok-config", "set", "gw.task_gc.all.cronspec=0 4 * * *", "cluster.master_candidates=rok2.sim,rok3.sim")
	// The master is no longer a candidate: it steps down.
	if st := s.Status(); st.Master != "rok2.sim" {
		t.Errorf("master = %q after rok1 lost its capability", st.Master)
	}
	if got := must(t, s, "rok3.sim", "rok-config", "get", "gw.task_gc.all.cronspec"); got != "0 4 * * *\n" {
		t.Errorf("got %q", got)
	}
}

func TestFaults(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true, Faults: sim.Faults{FailUpgradeNode: []string{"rok2.sim"}, NoPowerOn: []string{"rok3.sim"}}})
	pin(t, s, "rok1.sim")
	upgradeMaster(t, s, "rok1.sim")
	operate(t, s, sim.ActionSwap, "rok2.sim")
	rewriteEndpoints(t, s, "rok2.sim")
	refused(t, s, "rok2.sim", "(simulated fault)", upgrade, "upgrade-node")
	refused(t, s, "rok2.sim", "(simulated fault)", upgrade, "upgrade-node")
	if err := s.SetFaults(sim.Faults{NoPowerOn: []string{"rok3.sim"}}); err != nil {
		t.Fatal(err)
	}
	must(t, s, "rok2.sim", upgrade, "upgrade-node")
	// rok3 does not come back after its power-off, until healed.
	operate(t, s, sim.ActionSwap, "rok3.sim")
	if n := s.Status().Node("rok3.sim"); n.Power != "off" {
		t.Fatalf("rok3 is %s", n.Power)
	}
	if err := s.Operator(sim.OperatorRequest{Action: sim.ActionPowerOn, Node: "rok3.sim"}); err == nil {
		t.Fatal("power-on of a node that does not come back succeeded")
	}
	if err := s.SetFaults(sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "rok3 back after healing", func() bool { return s.Status().Node("rok3.sim").Power == "on" })
}

// TestWriteScriptRefusesShortInput: the transport's write script says how
// many bytes it sends; input that ends early (a dropped connection) must
// not replace the file.
func TestWriteScriptRefusesShortInput(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	before := must(t, s, "rok1.sim", "cat", "/etc/rok/daemons.conf")
	line := pidReport + "exec " + shellwords.Join([]string{"sh", "-c", tsWriteScript, "rokflow-write", "/etc/rok/daemons.conf", "644", "4096"})
	r := runLine(t, s, "rok1.sim", line, "[openstored.0]\n")
	if r.code == 0 || !strings.Contains(r.stderr, "15 of 4096 bytes arrived") {
		t.Fatalf("a short write: exit %d: %s", r.code, r.stderr)
	}
	if after := must(t, s, "rok1.sim", "cat", "/etc/rok/daemons.conf"); after != before {
		t.Fatalf("a short write changed the file:\n%s", after)
	}
}
