package main

// End-to-end tests of the shipped playbooks/rok-v0.11 (issue 5 §3): the
// simulator (package sim) runs in this process — one SSH server per node on
// loopback, a real embedded etcd with TLS, the Ganeti RAPI over HTTPS — and
// rokflow runs as a child process (rokflowCmd), the way an operator runs
// it: apply with the var-file the simulator writes and the secrets of its
// sim.env in the environment, a state directory of its own per test.
//
// Nothing synchronises by sleeping: a test waits for a child to exit, or
// polls the simulator in a bounded loop.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/server"
	"github.com/rokflow/rokflow/sim/shellwords"
)

// e2ePlaybooks holds the shipped playbooks, relative to this package.
const e2ePlaybooks = "../../playbooks"

// e2eRelease is what the playbook upgrades to.
const e2eRelease = "0.11.0"

// The once-commands the simulator counts per node.
const (
	opUpgradeCluster = "upgrade-cluster"
	opUpgradeNode    = "upgrade-node"
	opEnableEtcdAuth = "enable-etcd-auth"
	opGatewayMigrate = "gateway-migrate"
)

// shipped is the path of the shipped v0.11 playbook.
var shipped = filepath.Join(e2ePlaybooks, "rok-v0.11")

// e2eSim is a simulated cluster started for one test, and how rokflow
// reaches it.
type e2eSim struct {
	tb     testing.TB
	srv    *server.Server
	vars   string   // the var-file sim.WriteVars wrote
	env    []string // ROKFLOW_VAR_ secrets, from sim.env
	state  string   // --state URL of this test's runs
	log    *lockedBuffer
	before sim.Status // the cluster before the upgrade
}

// lockedBuffer collects the simulator's event log, written under its lock
// and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSim starts a simulator for spec in a temporary directory; it stops
// when the test ends, and a failing test shows its event log.
func startSim(tb testing.TB, spec sim.Spec) *e2eSim {
	tb.Helper()
	e, err := trySim(tb, spec)
	if err != nil {
		tb.Fatalf("starting the simulator: %v", err)
	}
	return e
}

// trySim is startSim, returning the simulator's refusal of spec.
func trySim(tb testing.TB, spec sim.Spec) (*e2eSim, error) {
	tb.Helper()
	log := &lockedBuffer{}
	spec.Log = log
	if spec.WaitTimeout == 0 {
		spec.WaitTimeout = sim.Duration(2 * time.Second)
	}
	dir := tb.TempDir()
	srv, err := server.Start(filepath.Join(dir, "sim"), spec)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("stopping the simulator: %v", err)
		}
		if tb.Failed() {
			tb.Logf("the simulator's events (last 80):\n%s", lastLines(log.String(), 80))
		}
	})
	if err := server.WriteVars(srv.Dir()); err != nil {
		tb.Fatalf("WriteVars: %v", err)
	}
	e := &e2eSim{
		tb:    tb,
		srv:   srv,
		vars:  filepath.Join(srv.Dir(), sim.VarsFile),
		env:   readSimEnv(tb, filepath.Join(srv.Dir(), sim.EnvFile)),
		state: "file://" + filepath.Join(dir, "state"),
		log:   log,
	}
	e.before = srv.Status()
	return e, nil
}

// readSimEnv reads the export NAME=VALUE lines of sim.env.
func readSimEnv(tb testing.TB, path string) []string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var env []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "export ") {
			continue
		}
		words, err := shellwords.Split(line)
		if err != nil || len(words) != 2 {
			tb.Fatalf("%s: cannot read %q: %v", path, line, err)
		}
		env = append(env, shellwords.Texts(words)[1])
	}
	for _, name := range []string{"ROKFLOW_VAR_rapi_password=", "ROKFLOW_VAR_roke_password="} {
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, name) && len(kv) > len(name) }) {
			tb.Fatalf("%s does not set %s: %q", path, strings.TrimSuffix(name, "="), data)
		}
	}
	return env
}

// rokflow is the rokflow command with the simulator's secrets.
func (e *e2eSim) rokflow(args ...string) *exec.Cmd {
	cmd := rokflowCmd(args...)
	cmd.Env = append(cmd.Env, e.env...)
	return cmd
}

// applyArgs is apply of playbook against the simulator, unattended, with
// the BOOT-disk gates polling often.
func (e *e2eSim) applyArgs(playbook string, extra ...string) []string {
	return append([]string{"apply", playbook, "--var-file", e.vars, "--state", e.state,
		"--auto-approve", "--var", "gate_check_interval=100ms"}, extra...)
}

// apply runs apply to its end and returns its exit code and output.
func (e *e2eSim) apply(playbook string, extra ...string) (code int, stdout, stderr string) {
	e.tb.Helper()
	return runChild(e.tb, e.rokflow(e.applyArgs(playbook, extra...)...), 3*time.Minute)
}

// runChild runs a rokflow child process, killing it after limit.
func runChild(tb testing.TB, cmd *exec.Cmd, limit time.Duration) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		tb.Fatalf("rokflow %s did not finish within %s:\n%s%s", strings.Join(cmd.Args[1:], " "), limit, lastLines(out.String(), 40), errb.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		tb.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stepState is one step of `rokflow state show --json`.
type stepState struct {
	Address string `json:"address"`
	Status  string `json:"status"`
	Error   string `json:"error"`
}

// steps returns the steps of the latest run of playbook.
func (e *e2eSim) steps(playbook string) []stepState {
	e.tb.Helper()
	code, out, stderr := runChild(e.tb, e.rokflow("state", "show", playbook, "--state", e.state, "--json"), time.Minute)
	if code != 0 {
		e.tb.Fatalf("state show --json exited %d:\n%s", code, stderr)
	}
	var doc struct {
		Steps []stepState `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		e.tb.Fatalf("state show --json: %v\n%s", err, out)
	}
	return doc.Steps
}

// upgradedCounters are the once-command counters of a complete upgrade:
// upgrade-cluster, the Gateway migration and enable-etcd-auth once on the
// master, upgrade-node once on every member, each run succeeding.
func upgradedCounters(before sim.Status) map[string]sim.NodeCount {
	want := map[string]sim.NodeCount{}
	once := sim.Counter{Runs: 1, OK: 1}
	for _, n := range before.Nodes {
		want[n.Name] = sim.NodeCount{opUpgradeNode: once}
	}
	for _, op := range []string{opUpgradeCluster, opGatewayMigrate, opEnableEtcdAuth} {
		want[before.Master][op] = once
	}
	return want
}

// checkCounters compares every once-command counter with want.
func checkCounters(tb testing.TB, st sim.Status, want map[string]sim.NodeCount) {
	tb.Helper()
	nodes := map[string]bool{}
	for n := range want {
		nodes[n] = true
	}
	for n := range st.Counters {
		nodes[n] = true
	}
	for _, n := range sortedSet(nodes) {
		ops := map[string]bool{}
		for op := range want[n] {
			ops[op] = true
		}
		for op := range st.Counters[n] {
			ops[op] = true
		}
		for _, op := range sortedSet(ops) {
			if got, w := st.Counters[n][op], want[n][op]; got != w {
				tb.Errorf("%s on %s: ran %d times, %d succeeded; want %d runs, %d succeeded", op, n, got.Runs, got.OK, w.Runs, w.OK)
			}
		}
	}
}

func sortedSet(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// endpointLine is a daemons.conf option whose value is an endpoint, and
// withRole the form v0.11 wants.
var (
	endpointLine = regexp.MustCompile(`^\s*([a-z-]+)\s*=\s*(\S*://\S*)\s*$`)
	withRole     = regexp.MustCompile(`^role=(master|slave),http://`)
)

// checkUpgraded asserts the end state of a complete upgrade: every member
// on the release with its daemons up and http:// endpoints with roles, the
// master unchanged, etcd auth on, the master candidates as they were
// before, on Ganeti every host upgraded and every instance running on its
// first host again, and the once-command counters as want says.
func (e *e2eSim) checkUpgraded(want map[string]sim.NodeCount) sim.Status {
	tb := e.tb
	tb.Helper()
	st := e.srv.Status()
	before := e.before
	if st.Error != "" {
		tb.Errorf("the cluster is in an error state: %s", st.Error)
	}
	if st.Master != before.Master {
		tb.Errorf("the master is %q, want %q as before the upgrade", st.Master, before.Master)
	}
	if st.SharedState != e2eRelease {
		tb.Errorf("the shared state is at %q, want %s", st.SharedState, e2eRelease)
	}
	if !st.EtcdAuth {
		tb.Error("etcd auth is off")
	}
	if !slices.Equal(st.Candidates, before.Candidates) {
		tb.Errorf("master candidates %v, want them restored to %v", st.Candidates, before.Candidates)
	}
	for _, n := range st.Nodes {
		if n.NodeState != e2eRelease || !strings.HasPrefix(n.Boot, "0.11") || n.State != "online" || n.Power != "on" || n.Role != map[bool]string{true: "master", false: "slave"}[n.Name == before.Master] {
			tb.Errorf("%s: node state %s, BOOT disk %s, %s, power %s, role %s", n.Name, n.NodeState, n.Boot, n.State, n.Power, n.Role)
		}
		for svc, s := range n.Services {
			if s != "active" {
				tb.Errorf("%s: %s is %s", n.Name, svc, s)
			}
		}
		for f, scheme := range n.Endpoints {
			if scheme != "http" {
				tb.Errorf("%s: %s has %s endpoints, want http", n.Name, f, scheme)
			}
		}
		data, err := os.ReadFile(filepath.Join(e.srv.Dir(), "nodes", n.Name, "root", "etc", "rok", "daemons.conf"))
		if err != nil {
			tb.Error(err)
			continue
		}
		found := 0
		for _, line := range strings.Split(string(data), "\n") {
			m := endpointLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			found++
			if !withRole.MatchString(m[2]) {
				tb.Errorf("%s: daemons.conf: %s = %s is not an http:// endpoint with a role", n.Name, m[1], m[2])
			}
		}
		if found == 0 {
			tb.Errorf("%s: daemons.conf has no endpoint:\n%s", n.Name, data)
		}
	}
	for _, h := range st.Hosts {
		if !h.Compatible || !strings.HasPrefix(h.RokBase, "0.11") || !strings.HasPrefix(h.RokCommon, "0.11") {
			tb.Errorf("Ganeti host %s: rok-base %s, rok-common %s, guests can connect %v (%s)", h.Name, h.RokBase, h.RokCommon, h.Compatible, h.Why)
		}
		for f, scheme := range h.Endpoints {
			if scheme != "http" {
				tb.Errorf("Ganeti host %s: %s has %s endpoints, want http", h.Name, f, scheme)
			}
		}
	}
	if len(st.Instances) != len(before.Instances) {
		tb.Errorf("%d Ganeti instances, %d before", len(st.Instances), len(before.Instances))
	}
	home := map[string]string{}
	for _, i := range before.Instances {
		home[i.Name] = i.PNode
	}
	for _, i := range st.Instances {
		if i.PNode != home[i.Name] || i.Status != "running" || i.Kind == "guest" && i.IO != "ok" {
			tb.Errorf("instance %s: on %s (was on %s), %s, disk I/O %s", i.Name, i.PNode, home[i.Name], i.Status, i.IO)
		}
	}
	checkCounters(tb, st, want)
	return st
}

// TestE2EAppliance runs the shipped playbook on a Rok appliance cluster:
// the simulated field operator swaps each BOOT disk when its gate polls.
func TestE2EAppliance(t *testing.T) {
	e := startSim(t, sim.Spec{Nodes: 4, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)})
	if e.before.SharedState == e2eRelease || e.before.EtcdAuth || len(e.before.Candidates) != 4 {
		t.Fatalf("the cluster does not start on 0.10 with every member a candidate: %+v", e.before)
	}
	code, out, stderr := e.apply(shipped)
	if code != 0 {
		t.Fatalf("apply exited %d:\n%s\n%s", code, lastLines(out, 40), stderr)
	}
	e.checkUpgraded(upgradedCounters(e.before))
	if !strings.Contains(out, "succeeded") {
		t.Errorf("apply does not say the run succeeded:\n%s", lastLines(out, 5))
	}
}

// TestE2EGaneti runs the shipped playbook on RokE appliances on a Ganeti
// cluster: guests leave each host, the appliance is re-imaged and
// upgraded, the host upgraded, and the guests come back.
func TestE2EGaneti(t *testing.T) {
	e := startSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 2, JobDelay: sim.Duration(10 * time.Millisecond)})
	if len(e.before.Instances) != 9 || len(e.before.Hosts) != 3 {
		t.Fatalf("want 3 hosts with an appliance and 2 guests each: %d hosts, %d instances", len(e.before.Hosts), len(e.before.Instances))
	}
	code, out, stderr := e.apply(shipped)
	if code != 0 {
		t.Fatalf("apply exited %d:\n%s\n%s", code, lastLines(out, 40), stderr)
	}
	st := e.checkUpgraded(upgradedCounters(e.before))
	// Every guest really left its host and came back.
	for _, i := range e.before.Instances {
		if i.Kind == "guest" && !strings.Contains(e.log.String(), "instance "+i.Name+" migrated "+i.PNode+" -> ") {
			t.Errorf("guest %s never left %s", i.Name, i.PNode)
		}
	}
	for _, j := range st.Jobs {
		if j.Status != "success" {
			t.Errorf("Ganeti job %d %s: %v %s", j.ID, j.Status, j.Summary, j.Error)
		}
	}
}

// copyPlaybooks copies playbooks/rok-v0.11 and playbooks/lib into a
// temporary directory, keeping their relative layout, and returns the
// copy of rok-v0.11.
func copyPlaybooks(tb testing.TB) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), "playbooks")
	for _, name := range []string{"rok-v0.11", "lib"} {
		src := filepath.Join(e2ePlaybooks, name)
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(e2ePlaybooks, path)
			if d.IsDir() {
				if d.Name() == ".rokflow" {
					return filepath.SkipDir // a journal left by someone's apply
				}
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			if !strings.HasSuffix(path, ".hcl") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return filepath.Join(dst, "rok-v0.11")
}

// editBlock rewrites the top-level block of file that starts with header
// (such as `step "upgrade_node" {`) with edit, which must change it.
func editBlock(tb testing.TB, file, header string, edit func(block string) string) {
	tb.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	src := string(data)
	start := strings.Index(src, "\n"+header+"\n")
	if start < 0 || strings.Count(src, "\n"+header+"\n") != 1 {
		tb.Fatalf("%s: no single block %q", file, header)
	}
	start++
	end := strings.Index(src[start:], "\n}\n")
	if end < 0 {
		tb.Fatalf("%s: the block %q does not end", file, header)
	}
	end += start + len("\n}\n")
	block := src[start:end]
	changed := edit(block)
	if changed == block {
		tb.Fatalf("%s: the edit of %q changed nothing:\n%s", file, header, block)
	}
	if err := os.WriteFile(file, []byte(src[:start]+changed+src[end:]), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// setDependsOn replaces the depends_on of a block, whatever its alignment.
func setDependsOn(refs string) func(string) string {
	re := regexp.MustCompile(`(?m)^(\s*depends_on\s*=\s*)\[[^\]]*\]`)
	return func(block string) string {
		return re.ReplaceAllString(block, "${1}["+refs+"]")
	}
}

// TestE2EMisorderedPlaybookRejected applies copies of the playbook whose
// order is wrong: the simulator refuses the step as the real cluster would,
// and the run fails with its refusal.
func TestE2EMisorderedPlaybookRejected(t *testing.T) {
	t.Run("upgrade-node before upgrade-cluster", func(t *testing.T) {
		pb := copyPlaybooks(t)
		lib := filepath.Join(pb, "..", "lib", "node-upgrade", "main.hcl")
		editBlock(t, lib, `step "upgrade_cluster" {`, setDependsOn("step.upgrade_node"))
		editBlock(t, lib, `step "upgrade_node" {`, setDependsOn("hook.after_boot"))
		e := startSim(t, sim.Spec{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)})
		code, out, stderr := e.apply(pb)
		const refusal = "rok-cluster-upgrade-v0.11.0: error: the cluster's shared state is at 0.10.2; run upgrade-cluster on the master (rok1.sim) first"
		if code != 1 || !strings.Contains(out+stderr, refusal) {
			t.Fatalf("apply exited %d, want 1 with the simulator's refusal %q:\n%s\n%s", code, refusal, lastLines(out, 30), stderr)
		}
		failedStep(t, e.steps(pb), "module.master.step.upgrade_node", refusal)
		st := e.srv.Status()
		checkCounters(t, st, map[string]sim.NodeCount{"rok1.sim": {opUpgradeNode: {Runs: 1}}})
		if st.SharedState != e.before.SharedState || st.Node("rok1.sim").NodeState != "0.10.2" {
			t.Errorf("the refused step changed the cluster: shared state %s, master node state %s", st.SharedState, st.Node("rok1.sim").NodeState)
		}
	})
	t.Run("enable-etcd-auth before the last slave", func(t *testing.T) {
		pb := copyPlaybooks(t)
		editBlock(t, filepath.Join(pb, "main.hcl"), `step "enable_etcd_auth" {`, setDependsOn("module.gateway"))
		// A BOOT-disk swap takes twice the operator's delay: the slaves
		// cannot be upgraded before enable-etcd-auth, which now starts with
		// them, has run.
		e := startSim(t, sim.Spec{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(300 * time.Millisecond)})
		code, out, stderr := e.apply(pb)
		const refusal = "rok-cluster-upgrade-v0.11.0: error: every member must be upgraded to 0.11.0 first, or it loses access to etcd; not yet upgraded: "
		if code != 1 || !strings.Contains(out+stderr, refusal) {
			t.Fatalf("apply exited %d, want 1 with the simulator's refusal %q:\n%s\n%s", code, refusal, lastLines(out, 30), stderr)
		}
		if !strings.Contains(out+stderr, "rok3.sim (0.10.2)") {
			t.Errorf("the refusal does not name the last slave, rok3.sim:\n%s", stderr)
		}
		failedStep(t, e.steps(pb), "step.enable_etcd_auth", refusal)
		st := e.srv.Status()
		if st.EtcdAuth || st.Count("rok1.sim", opEnableEtcdAuth) != (sim.Counter{Runs: 1}) {
			t.Errorf("etcd auth %v, enable-etcd-auth %+v; want off, refused once", st.EtcdAuth, st.Count("rok1.sim", opEnableEtcdAuth))
		}
	})
}

// failedStep asserts that the journal shows addr failed with msg.
func failedStep(tb testing.TB, steps []stepState, addr, msg string) {
	tb.Helper()
	for _, s := range steps {
		if s.Address == addr {
			if s.Status != "failed" || !strings.Contains(s.Error, msg) {
				tb.Errorf("%s is %s with error %q; want failed with %q", addr, s.Status, s.Error, msg)
			}
			return
		}
	}
	tb.Errorf("the journal has no step %s", addr)
}

// TestE2ESlaveFailureResumes makes the second slave's upgrade-node fail:
// the rolling group stops there, the run fails and says where, and the pin
// stays, held back while members run mixed releases; once the fault is
// healed, apply resumes and completes, running no once-command again
// except the one that failed, and puts the candidates back at the end.
func TestE2ESlaveFailureResumes(t *testing.T) {
	e := startSim(t, sim.Spec{Nodes: 4, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond),
		Faults: sim.Faults{FailUpgradeNode: []string{"rok3.sim"}}})
	code, out, stderr := e.apply(shipped)
	const failure = "migrating the node-local state of rok3.sim failed: the composer map store is locked by another process (simulated fault)"
	if code != 1 || !strings.Contains(out+stderr, failure) {
		t.Fatalf("apply exited %d, want 1 with %q:\n%s\n%s", code, failure, lastLines(out, 30), stderr)
	}
	const addr = `group.slaves["rok3.sim"].module.node.step.upgrade_node`
	failedStep(t, e.steps(shipped), addr, failure)
	const held = "step.restore_candidates held back, step.pin_master stays in place: members run mixed releases ("
	if !strings.Contains(out, held) || !strings.Contains(stderr, "Warning: Undo held back") {
		t.Errorf("apply does not say that the pin stays, and why (%q):\n%s\n%s", held, lastLines(out, 20), stderr)
	}
	// What an operator reads.
	code, show, stderr := runChild(t, e.rokflow("state", "show", shipped, addr, "--state", e.state), time.Minute)
	if code != 0 || !strings.Contains(show, addr+"  FAILED") || !strings.Contains(show, "error:") || !strings.Contains(show, failure) {
		t.Errorf("state show %s exited %d:\n%s%s", addr, code, show, stderr)
	}
	st := e.srv.Status()
	if n := st.Node("rok2.sim"); n.NodeState != e2eRelease {
		t.Errorf("the first slave is at %s, want it upgraded before the failure", n.NodeState)
	}
	if n := st.Node("rok4.sim"); n.NodeState != "0.10.2" || n.Boot != "0.10.2-1" {
		t.Errorf("the slave after the failed one was touched: node state %s, BOOT disk %s", n.NodeState, n.Boot)
	}
	if st.EtcdAuth {
		t.Error("etcd auth was enabled after a failed slave")
	}
	firstRun := upgradedCounters(e.before)
	firstRun["rok3.sim"][opUpgradeNode] = sim.Counter{Runs: 1}
	delete(firstRun, "rok4.sim")
	delete(firstRun["rok1.sim"], opEnableEtcdAuth)
	checkCounters(t, st, firstRun)
	// rok2 and rok3 have their 0.11 BOOT disks, rok4 runs 0.10: putting
	// the candidates back now would let the cluster fail over to rok4.
	if !slices.Equal(st.Candidates, []string{e.before.Master}) {
		t.Errorf("after the failure the master candidates are %v: while members run mixed releases the pin must stay, want [%s]", st.Candidates, e.before.Master)
	}
	code, show, stderr = runChild(t, e.rokflow("state", "show", shipped, "step.pin_master", "--state", e.state), time.Minute)
	if code != 0 || !strings.Contains(show, "undo held: step.restore_candidates\n      because: members run mixed releases") {
		t.Errorf("state show step.pin_master exited %d; it must list the undo as held, with its reason:\n%s%s", code, show, stderr)
	}

	// Heal the fault through the control API, as the test harness of a
	// real lab would, and resume.
	cl, err := sim.Dial(e.srv.Dir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.SetFaults(ctx, sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	if f, err := cl.Faults(ctx); err != nil || len(f.FailUpgradeNode) != 0 {
		t.Fatalf("faults after healing: %+v %v", f, err)
	}
	healedAt := len(e.log.String())
	code, out, stderr = e.apply(shipped)
	// The pin stayed, so the resumed run does not pin again; it keeps the
	// rolling order: the failed slave first, then the next one.
	events := e.log.String()[healedAt:]
	if strings.Contains(events, "rok1.sim: rok-config set cluster.master_candidates=rok1.sim ") {
		t.Errorf("the resumed run pinned the master again, though the pin had stayed in place")
	}
	upgraded3 := strings.Index(events, "rok3.sim: upgrade-node: node upgraded")
	swapped4 := strings.Index(events, "rok4.sim: operator: BOOT disk swap")
	if swapped4 >= 0 && (upgraded3 < 0 || swapped4 < upgraded3) {
		t.Errorf("the resumed run started on rok4.sim before rok3.sim, the slave that failed, was upgraded: the rolling group's stop on failure did not survive the resume")
	}
	if code != 0 {
		var failed []string
		for _, s := range e.steps(shipped) {
			if s.Status == "failed" {
				failed = append(failed, s.Address+": "+s.Error)
			}
		}
		t.Fatalf("apply after healing exited %d; failed steps in the journal:\n%s\n%s\n%s", code, strings.Join(failed, "\n"), lastLines(out, 40), stderr)
	}
	want := upgradedCounters(e.before)
	want["rok3.sim"][opUpgradeNode] = sim.Counter{Runs: 2, OK: 1} // the failed run, then the good one
	e.checkUpgraded(want)
}

// TestE2EGanetiJobFailureResumes makes the re-imaging of a slave's RokE
// appliance fail (a Ganeti job ending in OpExecError): the run stops there
// and says where; the guests stay where the evacuation put them, since
// their host cannot serve them with its appliance down, and the run says
// so; once the fault is healed apply resumes and completes the upgrade
// with every guest back on its host.
func TestE2EGanetiJobFailureResumes(t *testing.T) {
	e := startSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 2, JobDelay: sim.Duration(10 * time.Millisecond),
		Faults: sim.Faults{FailJobs: []sim.JobFault{{Op: "reinstall", Target: "roke2.gnt.sim"}}}})
	code, out, stderr := e.apply(shipped)
	const failure = "snf-image: image transfer failed: connection reset by peer (simulated fault)"
	if code != 1 || !strings.Contains(out+stderr, failure) {
		t.Fatalf("apply exited %d, want 1 with %q:\n%s\n%s", code, failure, lastLines(out, 30), stderr)
	}
	failedStep(t, e.steps(shipped), `group.slaves_ganeti["roke2.sim"].module.host.step.reinstall`, failure)
	st := e.srv.Status()
	host := e.before.Node("roke2.sim").Host
	for _, i := range st.Instances {
		if i.Kind == "guest" && (i.Status != "running" || i.IO != "ok") {
			t.Errorf("after the failure, guest %s on %s is %s with disk I/O %s", i.Name, i.PNode, i.Status, i.IO)
		}
		if i.Kind == "guest" && i.PNode == host {
			t.Errorf("after the failure, guest %s is back on %s, whose RokE appliance is down", i.Name, host)
		}
	}
	const held = `group.slaves_ganeti["roke2.sim"].module.host.step.migrate_back held back, `
	if !strings.Contains(out, held) || !strings.Contains(stderr, "Warning: Undo held back") {
		t.Errorf("apply does not say that the guests stay where they are (%q):\n%s\n%s", held, lastLines(out, 20), stderr)
	}
	if n := st.Node("roke3.sim"); n.NodeState != "0.10.2" || !strings.HasPrefix(n.Boot, "0.10") {
		t.Errorf("the host after the failed one was touched: roke3.sim node state %s, BOOT disk %s", n.NodeState, n.Boot)
	}
	if err := e.srv.SetFaults(sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = e.apply(shipped)
	if code != 0 {
		t.Fatalf("apply after healing exited %d:\n%s\n%s", code, lastLines(out, 30), stderr)
	}
	e.checkUpgraded(upgradedCounters(e.before))
}

// TestE2EGanetiEvacuationFailureMigratesBack makes the evacuation of one
// guest of a slave's host fail: the guests already moved are owed their
// migration back, and since the host's appliance is untouched and online
// the failed run brings each of them back to its host; a resumed run then
// completes the upgrade.
func TestE2EGanetiEvacuationFailureMigratesBack(t *testing.T) {
	e := startSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 3, JobDelay: sim.Duration(10 * time.Millisecond)})
	host := e.before.Node("roke2.sim").Host
	var guests []string
	for _, i := range e.before.Instances {
		if i.Kind == "guest" && i.PNode == host {
			guests = append(guests, i.Name)
		}
	}
	if len(guests) != 3 {
		t.Fatalf("want 3 guests on %s, found %v", host, guests)
	}
	stuck := guests[len(guests)-1]
	if err := e.srv.SetFaults(sim.Faults{FailJobs: []sim.JobFault{{Op: "migrate", Target: stuck, Times: 1}}}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := e.apply(shipped)
	if code != 1 {
		t.Fatalf("apply exited %d, want 1:\n%s\n%s", code, lastLines(out, 30), stderr)
	}
	failedStep(t, e.steps(shipped), `group.slaves_ganeti["roke2.sim"].module.host.step.evacuate["`+stuck+`"]`, "simulated fault")
	st := e.srv.Status()
	for _, i := range st.Instances {
		if i.Kind == "guest" && slices.Contains(guests, i.Name) && (i.PNode != host || i.IO != "ok") {
			t.Errorf("after the failure, guest %s is on %s with disk I/O %s; want it back on %s, its host", i.Name, i.PNode, i.IO, host)
		}
	}
	for _, g := range guests[:len(guests)-1] {
		if !strings.Contains(e.log.String(), "instance "+g+" migrated "+host+" -> ") {
			t.Errorf("guest %s never left %s: the test shows no migration back", g, host)
		}
	}
	code, out, stderr = e.apply(shipped)
	if code != 0 {
		t.Fatalf("the resumed apply exited %d:\n%s\n%s", code, lastLines(out, 30), stderr)
	}
	e.checkUpgraded(upgradedCounters(e.before))
}

// slaveElement is the address prefix of a slave in the rolling group.
var slaveElement = regexp.MustCompile(`^group\.slaves\["([^"]+)"\]\.`)

// onceOp says which once-command the step at addr runs, and on which node.
func onceOp(addr, master string) (node, op string, ok bool) {
	node = master
	if m := slaveElement.FindStringSubmatch(addr); m != nil {
		node = m[1]
	}
	switch {
	case strings.HasSuffix(addr, ".step.upgrade_cluster"):
		return node, opUpgradeCluster, true
	case strings.HasSuffix(addr, ".step.upgrade_node"):
		return node, opUpgradeNode, true
	case addr == "step.enable_etcd_auth":
		return node, opEnableEtcdAuth, true
	case addr == "module.gateway.step.migrate":
		return node, opGatewayMigrate, true
	}
	return "", "", false
}

// waitQuiet waits until the simulator is quiet, as an operator checks
// before deciding anything after a crash: every command a killed rokflow
// left behind has run, so the once-command counters and what those
// commands change stay the same over several polls. (A BOOT-disk swap the
// field operator is doing may go on: the resumed run's gate waits for it.)
func (e *e2eSim) waitQuiet() sim.Status {
	e.tb.Helper()
	fingerprint := func(st sim.Status) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s|%s|%v|%v|%d|", st.Master, st.SharedState, st.EtcdAuth, st.Candidates, len(st.Migrations))
		for _, n := range st.Nodes {
			fmt.Fprintf(&b, "%s=%s;", n.Name, n.NodeState)
		}
		c, _ := json.Marshal(st.Counters) // maps marshal sorted
		b.Write(c)
		return b.String()
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(20 * time.Second)
	st := e.srv.Status()
	last, same := fingerprint(st), 0
	for same < 6 {
		if time.Now().After(deadline) {
			e.tb.Fatal("the simulator did not become quiet within 20s")
		}
		<-tick.C
		st = e.srv.Status()
		if fp := fingerprint(st); fp == last {
			same++
		} else {
			last, same = fp, 0
		}
	}
	return st
}

// resolveInDoubt does what an operator does after a crash: wait for the
// cluster to be quiet, then for each step in doubt look at the cluster —
// did this once-command run on that node? — and say so. It also returns
// how many steps the journal shows succeeded.
func (e *e2eSim) resolveInDoubt(playbook string) (done, retried, succeeded int) {
	e.tb.Helper()
	var doubt []stepState
	for _, s := range e.steps(playbook) {
		switch s.Status {
		case "in_doubt":
			doubt = append(doubt, s)
		case "succeeded":
			succeeded++
		}
	}
	st := e.waitQuiet()
	for _, s := range doubt {
		node, op, ok := onceOp(s.Address, e.before.Master)
		if !ok {
			e.tb.Fatalf("%s is in doubt, and it runs no once-command the simulator counts", s.Address)
		}
		how := "--retry"
		if st.Count(node, op).OK > 0 {
			how = "--done"
			done++
		} else {
			retried++
		}
		code, out, stderr := runChild(e.tb, e.rokflow("resolve", playbook, s.Address, how, "--state", e.state), time.Minute)
		if code != 0 {
			e.tb.Fatalf("resolve %s %s exited %d:\n%s%s", s.Address, how, code, out, stderr)
		}
	}
	return done, retried, succeeded
}

// child is a rokflow process whose output the test follows line by line.
type child struct {
	cmd    *exec.Cmd
	out    lockedBuffer
	starts chan struct{} // one for each step it starts ("… ADDRESS")
	exited chan error    // its exit, once its output is read
}

// startChild starts rokflow with args.
func (e *e2eSim) startChild(args ...string) *child {
	e.tb.Helper()
	c := &child{cmd: e.rokflow(args...), starts: make(chan struct{}, 4096), exited: make(chan error, 1)}
	r, w, err := os.Pipe()
	if err != nil {
		e.tb.Fatal(err)
	}
	c.cmd.Stdout, c.cmd.Stderr = w, w
	err = c.cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		e.tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			c.out.Write([]byte(line + "\n"))
			if strings.Contains(line, "… ") {
				select {
				case c.starts <- struct{}{}:
				default:
				}
			}
		}
		r.Close()
		c.exited <- c.cmd.Wait()
	}()
	return c
}

// exitCode is how a child ended.
func (c *child) exitCode(tb testing.TB, err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return 0
}

// startedLine is a progress line of a step starting; elementKey is a key
// in an address.
var (
	startedLine = regexp.MustCompile(`… (\S+)`)
	elementKey  = regexp.MustCompile(`\["[^"]+"\]`)
)

// lastStarted names the step a child's output last started, with element
// keys elided, for the statistics of where kills landed.
func lastStarted(out string) string {
	m := startedLine.FindAllStringSubmatch(out, -1)
	if m == nil {
		return "(loading, locking, reading the journal)"
	}
	return elementKey.ReplaceAllString(m[len(m)-1][1], "[…]")
}

// TestE2ECrashResume SIGKILLs rokflow at random instants of the real
// upgrade, resumes each time, resolves steps in doubt by looking at the
// simulator, and checks the upgrade completes with every once-command run
// exactly once.
//
// The instants are random, and spread over the whole upgrade: while the
// kills are fewer than 1.5 per step the journal shows succeeded (plus 3),
// a round lingers — one time in three it is killed within 100ms of the
// process starting (loading, taking the lock, reading the journal,
// connecting), otherwise 0–40ms after the first step it starts; once the
// kills are ahead, a round moves on — killed 0–60ms after the second step
// it starts. Every command on a node takes 15ms, as on real hardware, so
// that kills land inside commands too.
func TestE2ECrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash torture of the v0.11 upgrade takes a while")
	}
	const nodes = 5
	slow := map[string]sim.Duration{}
	for i := 1; i <= nodes; i++ {
		slow[fmt.Sprintf("rok%d.sim", i)] = sim.Duration(15 * time.Millisecond)
	}
	e := startSim(t, sim.Spec{Nodes: nodes, AutoOperator: true, OperatorDelay: sim.Duration(250 * time.Millisecond), Faults: sim.Faults{Slow: slow}})
	const minKills, maxKills = 30, 80
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(5, seed))
	t.Logf("seed %d", seed)
	args := e.applyArgs(shipped)
	kills, finished, done, retried, succeeded, duringSwap := 0, false, 0, 0, 0, 0
	killedIn := map[string]int{}
	resolve := func() {
		d, r, s := e.resolveInDoubt(shipped)
		done, retried, succeeded = done+d, retried+r, s
	}
	for round := 0; round < 400 && !finished; round++ {
		for _, n := range e.srv.Status().Nodes {
			if n.Power != "on" {
				duringSwap++ // this run starts while a node is off for its swap
				break
			}
		}
		c := e.startChild(args...)
		var err error
		exited := false
		if kills < maxKills {
			var at <-chan time.Time
			starts, jitter := 2, 60
			if float64(kills) < 1.5*float64(succeeded)+3 {
				starts, jitter = 1, 40
				if rng.IntN(3) == 0 {
					starts, jitter = 0, 100
				}
			}
			for n := starts; n > 0 && !exited; {
				select {
				case <-c.starts:
					n--
				case err = <-c.exited:
					exited = true
				case <-time.After(2 * time.Minute):
					t.Fatalf("no step started within 2 minutes:\n%s", lastLines(c.out.String(), 20))
				}
			}
			at = time.After(time.Duration(rng.IntN(jitter)) * time.Millisecond)
			if !exited {
				select {
				case err = <-c.exited:
					exited = true
				case <-at:
				}
			}
			if !exited {
				_ = c.cmd.Process.Signal(syscall.SIGKILL)
				<-c.exited
				kills++
				killedIn[lastStarted(c.out.String())]++
				resolve()
				continue
			}
		} else {
			select {
			case err = <-c.exited:
			case <-time.After(3 * time.Minute):
				_ = c.cmd.Process.Signal(syscall.SIGKILL)
				<-c.exited
				t.Fatalf("the last apply did not finish:\n%s", lastLines(c.out.String(), 40))
			}
		}
		switch code := c.exitCode(t, err); code {
		case 0:
			finished = true
		case 3: // paused: steps a killed run left running are now in doubt
			resolve()
		default:
			t.Fatalf("apply exited %d after %d kills:\n%s", code, kills, lastLines(c.out.String(), 40))
		}
	}
	if !finished {
		t.Fatalf("the upgrade never finished (%d kills)", kills)
	}
	where := make([]string, 0, len(killedIn))
	for k, n := range killedIn {
		where = append(where, fmt.Sprintf("%3d  %s", n, k))
	}
	sort.Strings(where)
	t.Logf("%d kills (%d runs started while a node was powered off for its swap); steps in doubt: %d resolved --done, %d --retry; the step each killed process had started last:\n%s",
		kills, duringSwap, done, retried, strings.Join(where, "\n"))
	if kills < minKills {
		t.Errorf("only %d kills before the upgrade finished; want at least %d", kills, minKills)
	}
	e.waitQuiet()
	e.checkUpgraded(upgradedCounters(e.before))
}

// TestE2ECrashAfterPin kills rokflow the moment the simulator has pinned
// the master candidates — after `rok-config set`, before rokflow could
// journal the pin's success — and resumes: the candidates put back at the
// end must still be those from before the upgrade. (The kill races the
// journal write; three tries make missing the window unlikely.)
func TestE2ECrashAfterPin(t *testing.T) {
	for try := 1; try <= 3; try++ {
		e := startSim(t, sim.Spec{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)})
		c := e.startChild(e.applyArgs(shipped)...)
		for deadline := time.Now().Add(time.Minute); ; {
			if len(e.srv.Status().Candidates) == 1 {
				break
			}
			select {
			case err := <-c.exited:
				t.Fatalf("apply exited (%v) before it pinned the master:\n%s", err, c.out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("the master was not pinned within a minute:\n%s", c.out.String())
			}
		}
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.exited
		e.waitQuiet()
		pinned := true
		for _, s := range e.steps(shipped) {
			if s.Address == "step.pin_master" && s.Status == "succeeded" {
				pinned = false // the kill came after the journal write: try again
			}
		}
		code, out, stderr := e.apply(shipped)
		if code != 0 {
			t.Fatalf("apply after the kill exited %d:\n%s\n%s", code, lastLines(out, 30), stderr)
		}
		st := e.checkUpgraded(upgradedCounters(e.before))
		if !slices.Equal(st.Candidates, e.before.Candidates) {
			if pinned {
				t.Fatalf("try %d: rokflow was killed after the pin and before its success was journaled; the resumed run pinned again, recorded the pinned value as the previous one, and so never restored the candidates", try)
			}
			t.Fatalf("try %d: the candidates were not restored", try)
		}
		if pinned {
			t.Logf("try %d: the kill landed between the pin and its journal record, and the candidates were restored", try)
			return
		}
	}
	t.Log("no try killed rokflow between the pin and its journal record")
}

// TestE2EResumeDuringBootDiskSwap kills rokflow while a slave is powered
// off for its BOOT-disk swap and resumes at once, as an operator whose
// terminal died would: the swap gate must wait for the node to come back,
// as it does when the node goes down while the gate polls.
func TestE2EResumeDuringBootDiskSwap(t *testing.T) {
	e := startSim(t, sim.Spec{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(700 * time.Millisecond)})
	c := e.startChild(e.applyArgs(shipped)...)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(time.Minute); e.srv.Status().Node("rok2.sim").Power != "off"; {
		select {
		case err := <-c.exited:
			t.Fatalf("apply exited (%v) before the first slave's swap:\n%s", err, c.out.String())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first slave was not powered off within a minute:\n%s", c.out.String())
		}
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
	code, out, stderr := e.apply(shipped)
	if code != 0 {
		t.Fatalf("apply resumed while rok2.sim was powered off for its swap exited %d:\n%s\n%s", code, lastLines(out, 20), stderr)
	}
	e.checkUpgraded(upgradedCounters(e.before))
}

// TestE2EPinPreventsFailover shows what the pin is for. With the shipped
// playbook the master stays the master through its BOOT-disk swap (the
// cluster has no master while it is off, since no other member may take
// over) and the cluster never breaks. With a copy whose pin is removed,
// the same swap fails the cluster over to a node on the old release,
// which breaks it, and the upgrade stops there.
func TestE2EPinPreventsFailover(t *testing.T) {
	spec := sim.Spec{Nodes: 3, AutoOperator: true, OperatorDelay: sim.Duration(100 * time.Millisecond)}
	const (
		noMaster = "rok1.sim: master rok1.sim lost; no online master-capable member to take over (candidates: rok1.sim): the cluster has no master"
		back     = "rok1.sim: rok1.sim elected master (Rok 0.11.0)"
		failover = "master failover: rok1.sim -> "
		broken   = "CLUSTER ERROR"
	)
	t.Run("pinned", func(t *testing.T) {
		e := startSim(t, spec)
		code, out, stderr := e.apply(shipped)
		if code != 0 {
			t.Fatalf("apply exited %d:\n%s\n%s", code, lastLines(out, 30), stderr)
		}
		events := e.log.String()
		off := strings.Index(events, "rok1.sim: powered off (operator: BOOT disk swap)")
		if off < 0 || strings.Index(events, noMaster) < off || strings.Index(events, back) < off {
			t.Errorf("the master's swap did not go: powered off, no master while it was off, elected again on 0.11:\n%s", events)
		}
		if strings.Contains(events, failover) || strings.Contains(events, broken) || strings.Count(events, "elected master") != strings.Count(events, "rok1.sim elected master") {
			t.Errorf("another member became master, or the cluster broke:\n%s", events)
		}
		e.checkUpgraded(upgradedCounters(e.before))
	})
	t.Run("unpinned", func(t *testing.T) {
		pb := copyPlaybooks(t)
		main := filepath.Join(pb, "main.hcl")
		removeBlock(t, main, `step "pin_master" {`)
		removeBlock(t, main, `step "restore_candidates" {`)
		removeBlock(t, main, `output "previous_candidates" {`)
		editBlock(t, main, `module "master" {`, setDependsOn("step.members"))
		editBlock(t, filepath.Join(pb, "ganeti.hcl"), `module "master_ganeti" {`, setDependsOn("step.members"))
		if code, _, stderr := runChild(t, rokflowCmd("validate", pb), time.Minute); code != 0 {
			t.Fatalf("the copy without the pin is not a valid playbook:\n%s", stderr)
		}
		e := startSim(t, spec)
		code, out, stderr := e.apply(pb)
		st := e.srv.Status()
		if code != 1 {
			t.Errorf("apply exited %d, want 1", code)
		}
		if !strings.Contains(e.log.String(), failover+"rok2.sim (Rok 0.10.2)") || st.Master != "rok2.sim" || st.Node("rok2.sim").Boot != "0.10.2-1" {
			t.Errorf("the master's swap did not fail the cluster over to rok2.sim on 0.10: master %s", st.Master)
		}
		if !strings.Contains(st.Error, "the cluster failed over to a node on the old release") {
			t.Errorf("the cluster is not broken: error %q", st.Error)
		}
		const refusal = "rok-cluster-upgrade-v0.11.0: error: the cluster is in an error state: master rok2.sim runs Rok 0.10.2, older than member rok1.sim (Rok 0.11.0)"
		if !strings.Contains(out+stderr, refusal) {
			t.Errorf("the upgrade did not stop at the broken cluster with %q:\n%s\n%s", refusal, lastLines(out, 20), stderr)
		}
		if st.SharedState != e.before.SharedState || st.Count("rok1.sim", opUpgradeCluster).OK != 0 {
			t.Errorf("upgrade-cluster went through on a broken cluster: shared state %s", st.SharedState)
		}
	})
}

// removeBlock deletes the top-level block of file that starts with header.
func removeBlock(tb testing.TB, file, header string) {
	tb.Helper()
	editBlock(tb, file, header, func(string) string { return "" })
}

// benchmarkUpgrade measures the whole v0.11 upgrade of a fresh simulated
// cluster per iteration: the wall time of `rokflow apply`, from exec to
// exit. The simulator's start and the checks of the end state are not
// timed.
func benchmarkUpgrade(b *testing.B, spec sim.Spec, extra ...string) {
	var wall time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e, err := trySim(b, spec)
		if err != nil {
			b.Skipf("the simulator refuses this cluster: %v", err)
		}
		b.StartTimer()
		start := time.Now()
		code, out, stderr := e.apply(shipped, extra...)
		took := time.Since(start)
		b.StopTimer()
		if code != 0 {
			b.Fatalf("apply exited %d:\n%s\n%s", code, lastLines(out, 30), stderr)
		}
		e.checkUpgraded(upgradedCounters(e.before))
		wall += took
		b.ReportMetric(float64(len(e.before.Nodes)), "members")
		if len(e.before.Instances) > 0 {
			b.ReportMetric(float64(len(e.before.Instances)), "instances")
		}
		if err := e.srv.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/upgrade")
}

// BenchmarkE2EAppliance upgrades a simulated appliance cluster with the
// playbook's allowed parallelism: 20 slaves at a time, a field operator
// who swaps a BOOT disk in 2×50ms. The bar is 100 nodes in 30s.
func BenchmarkE2EAppliance(b *testing.B) {
	for _, nodes := range []int{100, 50} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			benchmarkUpgrade(b, sim.Spec{Nodes: nodes, AutoOperator: true, OperatorDelay: sim.Duration(50 * time.Millisecond)},
				"--var", "slave_batch=20", "--parallelism", "20")
		})
	}
}

// BenchmarkE2EGaneti upgrades RokE on a simulated Ganeti cluster of 20
// hosts with 10 guests each (200 guests, 220 instances with the
// appliances), each Ganeti opcode taking 10ms. The bar is 30s.
func BenchmarkE2EGaneti(b *testing.B) {
	benchmarkUpgrade(b, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 20, Guests: 10, JobDelay: sim.Duration(10 * time.Millisecond)},
		"--parallelism", "20")
}
