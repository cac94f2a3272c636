package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/internal/release"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/sim/server/etcd"
	"github.com/rokflow/rokflow/sim/server/rapi"
	"github.com/rokflow/rokflow/steps"
	builtinkinds "github.com/rokflow/rokflow/steps/builtin"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// playbook runs rokflow's own step kinds against the simulator, reaching
// nodes through rokflow's SSH transport, in the order playbooks/rok-v0.11
// runs them.
type playbook struct {
	t     *testing.T
	s     *Server
	reg   *steps.Registry
	hosts map[string]steps.Host
}

func newPlaybook(t *testing.T, s *Server) *playbook {
	reg, err := builtinkinds.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return &playbook{t: t, s: s, reg: reg, hosts: map[string]steps.Host{}}
}

// step runs one step of kind on target ("" for none) with args written as
// in a playbook, fails the test on errors and returns the outputs.
func (p *playbook) step(kind, target, args string) cty.Value {
	p.t.Helper()
	out, err := p.try(kind, target, args)
	if err != "" {
		p.t.Fatalf("step %s on %q failed: %s", kind, target, err)
	}
	return out
}

// try runs a step and returns its error diagnostics as text.
func (p *playbook) try(kind, target, args string) (cty.Value, string) {
	p.t.Helper()
	k, ok := p.reg.Lookup(kind)
	if !ok {
		p.t.Fatalf("no kind %s", kind)
	}
	req := steps.RunRequest{Args: stepstest.Args(p.t, k, args, nil), Target: target}
	if target != "" {
		if p.hosts[target] == nil {
			p.hosts[target] = rokflowHost(p.t, p.s, target)
		}
		req.Host = p.hosts[target]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp := k.Run(ctx, req)
	if resp.Diagnostics.HasErrors() {
		return resp.Outputs, resp.Diagnostics.Error()
	}
	return resp.Outputs, ""
}

func str(v cty.Value, path ...string) string {
	for _, p := range path {
		v = v.GetAttr(p)
	}
	v, _ = v.Unmark()
	return v.AsString()
}

func strs(v cty.Value) []string {
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		e, _ = e.Unmark()
		out = append(out, e.AsString())
	}
	return out
}

const swapGate = `
instructions = "Power off, replace the BOOT disk, power on."
check {
  command       = ["dpkg-query", "--show", "--showformat=$${Version}", "rok-base"]
  expect_stdout = "^0\\.11"
  interval      = "20ms"
  timeout       = "30s"
}
`

// nodeUpgrade is lib/node-upgrade after the BOOT disk is in.
func (p *playbook) nodeUpgrade(node string, upgradeCluster bool) {
	p.step("rok.openstore_endpoints", node, `env_files = ["/etc/default/rok"]`)
	if upgradeCluster {
		p.step("rok.upgrade_cluster", node, `release = "0.11.0"`)
	}
	p.step("rok.upgrade_node", node, `release = "0.11.0"`)
}

// gateway is lib/gateway-migrate.
func (p *playbook) gateway(master string) {
	pending := p.step("rok.gateway_showmigrations", master, "")
	if got := strs(pending.GetAttr("pending")); strings.Join(got, " ") != "gateway.0007_openstore_endpoints gateway.0008_bucket_publish_state" {
		p.t.Errorf("pending migrations: %q", got)
	}
	p.step("service", master, `name = "rok-gw-gunicorn"
action = "stop"`)
	p.step("service", master, `name = "rok-daemons"
action = "stop"`)
	applied := p.step("rok.gateway_migrate", master, "")
	if got := strs(applied.GetAttr("applied")); len(got) != 2 {
		p.t.Errorf("applied migrations: %q", got)
	}
	p.step("service", master, `name = "rok-daemons"
action = "start"`)
	p.step("service", master, `name = "rok-gw-gunicorn"
action = "start"`)
}

// finish enables etcd auth, checks it as the playbook does, and restores
// the master candidates.
func (p *playbook) finish(master, previous string) {
	p.step("rok.enable_etcd_auth", master, `release = "0.11.0"`)
	dir := p.s.Dir()
	p.step("etcd.auth_check", "", fmt.Sprintf(`
etcd = {
  endpoints       = [%q]
  ca_file         = %q
  request_timeout = "3s"
}
anonymous_key = "/rok/"
as = {
  cert_file = %q
  key_file  = %q
}`, p.s.Status().Etcd, filepath.Join(dir, etcd.CAFile), filepath.Join(dir, etcd.ClientCert), filepath.Join(dir, etcd.ClientKey)))
	p.step("rok.config_set", master, fmt.Sprintf("key = \"cluster.master_candidates\"\nvalue = %q", previous))
}

// checkDone asserts the end state of a whole upgrade: every node on
// 0.11.0, auth on, candidates restored, and each once-command run exactly
// once where it belongs.
func checkDone(t *testing.T, s *Server, master string) {
	t.Helper()
	st := s.Status()
	if st.Error != "" || st.Master != master || !st.EtcdAuth || st.SharedState != "0.11.0" {
		t.Errorf("end state: master %q error %q etcd auth %v shared %s", st.Master, st.Error, st.EtcdAuth, st.SharedState)
	}
	if len(st.Candidates) != len(st.Nodes) {
		t.Errorf("master candidates not restored: %v", st.Candidates)
	}
	for _, n := range st.Nodes {
		if n.NodeState != "0.11.0" || n.State != "online" || n.Power != "on" {
			t.Errorf("%s: %+v", n.Name, n)
		}
		if c := st.Count(n.Name, release.OpUpgradeNode); c != (sim.Counter{Runs: 1, OK: 1}) {
			t.Errorf("%s: upgrade-node ran %+v", n.Name, c)
		}
		for op, c := range st.Counters[n.Name] {
			if op != release.OpUpgradeNode && (n.Name != master || c != (sim.Counter{Runs: 1, OK: 1})) {
				t.Errorf("%s: %s ran %+v", n.Name, op, c)
			}
		}
	}
	for _, op := range []string{release.OpUpgradeCluster, opGatewayMigrate, release.OpEnableEtcdAuth} {
		if c := st.Count(master, op); c != (sim.Counter{Runs: 1, OK: 1}) {
			t.Errorf("%s on the master ran %+v", op, c)
		}
	}
}

// TestPlaybookAppliance runs the appliance path of the v0.11 playbook with
// the demo operator swapping BOOT disks when the gates poll.
func TestPlaybookAppliance(t *testing.T) {
	s := newSim(t, sim.Spec{AutoOperator: true})
	p := newPlaybook(t, s)
	ml := p.step("rok.member_list", "rok2.sim", "")
	master := str(ml, "master")
	slaves := strs(ml.GetAttr("slaves"))
	if master != "rok1.sim" || len(slaves) != 2 {
		t.Fatalf("member list: master %q slaves %q", master, slaves)
	}
	if table := p.step("rok.member_list", "rok3.sim", `format = "table"`); !table.RawEquals(ml) {
		t.Errorf("the table and the JSON disagree:\n%#v\n%#v", table, ml)
	}
	if got := str(p.step("rok.config_get", "rok3.sim", `key = "cluster.name"`), "value"); got != "sim" {
		t.Errorf("rok.config_get: %q", got)
	}
	pinned := p.step("rok.config_set", master, fmt.Sprintf("key = \"cluster.master_candidates\"\nvalue = %q", master))
	previous := str(pinned, "previous")
	p.step("manual", master, swapGate)
	if st := s.Status(); st.Master != master || st.Error != "" {
		t.Fatalf("after the master's swap: master %q error %q", st.Master, st.Error)
	}
	p.nodeUpgrade(master, true)
	p.gateway(master)
	for _, slave := range slaves {
		p.step("manual", slave, swapGate)
		p.nodeUpgrade(slave, false)
	}
	p.finish(master, previous)
	checkDone(t, s, master)
}

// TestPlaybookGaneti runs the Ganeti path: guests leave the host, the RokE
// appliance is re-imaged, upgraded, the host gets the new packages and
// http endpoints, and the guests come back.
func TestPlaybookGaneti(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 2})
	p := newPlaybook(t, s)
	s.mu.Lock()
	rapi := fmt.Sprintf(`rapi = { host = "127.0.0.1", port = %d, user = %q, password = %q, ca_file = %q }`,
		s.st.Ports.RAPI, s.st.Spec.RAPIUser, s.st.Spec.RAPIPassword, filepath.Join(s.Dir(), rapi.PEMFile))
	image := release.ImageVersion(s.st.Spec.Upgrades[0])
	s.mu.Unlock()

	insts := p.step("ganeti.instances", "", rapi).GetAttr("instances")
	ml := p.step("rok.member_list", "roke1.sim", "")
	master := str(ml, "master")
	// Which instance is each member's appliance: by its address.
	type app struct{ name, pnode string }
	apps := map[string]app{}
	for it := ml.GetAttr("members").ElementIterator(); it.Next(); {
		_, m := it.Element()
		for jt := insts.ElementIterator(); jt.Next(); {
			_, i := jt.Element()
			for _, ip := range strs(i.GetAttr("nic_ips")) {
				if ip == str(m, "address") {
					apps[str(m, "name")] = app{str(i, "name"), str(i, "pnode")}
				}
			}
		}
	}
	guests := func(member string) []string {
		var out []string
		for jt := p.step("ganeti.instances", "", rapi).GetAttr("instances").ElementIterator(); jt.Next(); {
			_, i := jt.Element()
			if str(i, "pnode") == apps[member].pnode && !strings.HasPrefix(str(i, "name"), "roke") {
				out = append(out, str(i, "name"))
			}
		}
		return out
	}
	previous := str(p.step("rok.config_set", master, fmt.Sprintf("key = \"cluster.master_candidates\"\nvalue = %q", master)), "previous")
	upgradeHost := func(member string, upgradeCluster bool) {
		a := apps[member]
		moved := guests(member)
		if len(moved) != 2 {
			t.Fatalf("guests of %s: %q", a.pnode, moved)
		}
		for _, g := range moved {
			p.step("ganeti.instance_migrate", "", fmt.Sprintf("%s\ninstance = %q\nmode = \"live\"\nallow_failover = false", rapi, g))
		}
		p.step("ganeti.instance_reinstall", "", fmt.Sprintf(`%s
instance = %q
os       = "snf-image+default"
start    = true
osparams = {
  img_id         = %q
  img_format     = "diskdump"
  img_passwd     = "roke-root-pass"
  img_properties = %q
}`, rapi, a.name, "roke-"+image, `{"ROK_VERSION":"`+image+`"}`))
		p.step("wait", member, `command = ["dpkg-query", "--show", "--showformat=$${Version}", "rok-base"]
expect_stdout = "^0\\.11"
interval = "20ms"`)
		p.nodeUpgrade(member, upgradeCluster)
		// Before the host is upgraded, guests cannot come back.
		_, errText := p.try("ganeti.instance_migrate", "", fmt.Sprintf("%s\ninstance = %q\nmode = \"live\"\ntarget_node = %q", rapi, moved[0], a.pnode))
		if !strings.Contains(errText, "ExtStorage provider 'rok' failed to attach disk/0") {
			t.Errorf("a guest came back to a host not yet upgraded: %q", errText)
		}
		p.step("apt", a.pnode, `packages = ["rok-common", "rok-base"]
dpkg_options = ["--force-confdef", "--force-confold"]`)
		out := p.step("file.replace", a.pnode, `paths = ["/usr/bin/*kvm*", "/etc/ganeti/rok/rok.conf", "/etc/default/snf-image"]
pattern = "tcp:"
replacement = "http:"`)
		if got := strs(out.GetAttr("changed")); len(got) != 4 {
			t.Errorf("file.replace changed %q", got)
		}
		for _, g := range moved {
			p.step("ganeti.instance_migrate", "", fmt.Sprintf("%s\ninstance = %q\nmode = \"live\"\ntarget_node = %q", rapi, g, a.pnode))
		}
	}
	upgradeHost(master, true)
	p.gateway(master)
	for _, slave := range strs(ml.GetAttr("slaves")) {
		upgradeHost(slave, false)
	}
	p.finish(master, previous)
	checkDone(t, s, master)
	for _, i := range s.Status().Instances {
		if i.Status != "running" || i.Kind == instGuest && i.IO != "ok" {
			t.Errorf("instance %s: %+v", i.Name, i)
		}
	}
	for _, h := range s.Status().Hosts {
		if !h.Compatible || len(h.Instances) != 3 {
			t.Errorf("host %s: %+v", h.Name, h)
		}
	}
}
