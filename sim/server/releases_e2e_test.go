package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/internal/release"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

const upgrade12 = "rok-cluster-upgrade-v0.12.0"

// setMapVersion rewrites the map-version of a node's daemons.conf through
// the SSH transport's write script.
func setMapVersion(t *testing.T, s *Server, node string, v int) {
	t.Helper()
	conf := must(t, s, node, "cat", daemonsConfPath)
	if !mapVersionLine.MatchString(conf) {
		t.Fatalf("%s: daemons.conf has no map-version:\n%s", node, conf)
	}
	writeFile(t, s, node, daemonsConfPath, mapVersionLine.ReplaceAllString(conf, fmt.Sprintf("map-version = %d", v)))
}

// gatewayMigrate migrates the Gateway's store on node as
// lib/gateway-migrate does, and checks it applied exactly want.
func gatewayMigrate(t *testing.T, s *Server, node string, want ...string) {
	t.Helper()
	must(t, s, node, "systemctl", "stop", "rok-gw-gunicorn", "rok-daemons")
	out := must(t, s, node, "rok-gw-manage", "migrate", "--noinput")
	applied := regexp.MustCompile(`Applying (\S+)\.\.\. OK`).FindAllStringSubmatch(out, -1)
	var got []string
	for _, m := range applied {
		got = append(got, m[1])
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: migrate applied %q, want %q", node, got, want)
	}
	must(t, s, node, "systemctl", "start", "rok-daemons", "rok-gw-gunicorn")
}

// journalOf returns a node's rok-daemons journal.
func journalOf(t *testing.T, s *Server, node string) string {
	t.Helper()
	return must(t, s, node, "journalctl", "-u", "rok-daemons", "--no-pager")
}

// mapVersionRefused says whether a journal has the map-version refusal
// that begins with what and ends with why, naming daemons.conf's line.
func mapVersionRefused(journal, what, why string) bool {
	return regexp.MustCompile(regexp.QuoteMeta(what) + ` \(/etc/rok/daemons\.conf:[0-9]+\): ` + regexp.QuoteMeta(why)).MatchString(journal)
}

// TestUpgradePath drives a cluster started at 0.10.2 through its two
// upgrade targets by commands: 0.11.0 as the seed says, then 0.12.0,
// whose daemons need map-version = 4, and its finalize.
func TestUpgradePath(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true, Upgrades: []string{"0.11.0", "0.12.0"}})
	pin(t, s, "rok1.sim")

	upgradeMaster(t, s, "rok1.sim")
	gatewayMigrate(t, s, "rok1.sim", "gateway.0007_openstore_endpoints", "gateway.0008_bucket_publish_state")
	upgradeSlave(t, s, "rok2.sim")
	upgradeSlave(t, s, "rok3.sim")
	must(t, s, "rok1.sim", upgrade, "enable-etcd-auth")

	// The 0.12 script comes with the 0.12 BOOT disk; 0.11's has no finalize.
	if r := refused(t, s, "rok1.sim", "rok-cluster-upgrade-v0.12.0: not found", upgrade12, "upgrade-cluster"); r.code != 127 {
		t.Errorf("exit %d on a 0.11 BOOT disk, want 127", r.code)
	}
	if r := refused(t, s, "rok1.sim", "invalid choice: 'finalize' (choose from 'upgrade-cluster', 'upgrade-node', 'enable-etcd-auth')", upgrade, "finalize"); r.code != 2 {
		t.Errorf("exit %d, want 2", r.code)
	}

	// The master: its new BOOT disk's daemons refuse map version 3.
	operate(t, s, sim.ActionSwap, "rok1.sim")
	if n := s.Status().Node("rok1.sim"); n.Boot != "0.12.0-1" || n.State != "needs-upgrade" || n.Services["rok-daemons"] != svcFailed {
		t.Fatalf("rok1 after its 0.12 swap: %+v", n)
	}
	if j := journalOf(t, s, "rok1.sim"); !mapVersionRefused(j, "rok-composerd: error: argument --map-version: invalid choice: '3'", "Rok 0.12 reads and writes composer map version 4 only") {
		t.Errorf("journal:\n%s", j)
	}
	help := must(t, s, "rok1.sim", upgrade12, "--help")
	if want := "usage: rok-cluster-upgrade-v0.12.0 [-h] {upgrade-cluster,upgrade-node,finalize}\n\nUpgrade a Rok cluster to v0.12.0: upgrade-cluster on the master, then upgrade-node on\nevery node (the master first), then finalize on the master.\n"; help != want {
		t.Errorf("help:\n%s\nwant\n%s", help, want)
	}
	refused(t, s, "rok1.sim", "invalid choice: 'enable-etcd-auth' (choose from 'upgrade-cluster', 'upgrade-node', 'finalize')", upgrade12, "enable-etcd-auth")
	if out := must(t, s, "rok1.sim", upgrade12, "upgrade-cluster"); !strings.Contains(out, "from 0.11.0 to 0.12.0") {
		t.Errorf("upgrade-cluster said:\n%s", out)
	}
	refused(t, s, "rok1.sim", "the Rok daemons failed to start with the node's configuration; set map-version = 4 in /etc/rok/daemons.conf and run upgrade-node again", upgrade12, "upgrade-node")
	// What a playbook does between the BOOT swap and upgrade-node.
	p := newPlaybook(t, s)
	if out := p.step("file.replace", "rok1.sim", `paths = ["/etc/rok/daemons.conf"]
pattern = "map-version = 3"
replacement = "map-version = 4"`); len(strs(out.GetAttr("changed"))) != 1 {
		t.Errorf("file.replace changed %q", strs(out.GetAttr("changed")))
	}
	must(t, s, "rok1.sim", upgrade12, "upgrade-node")
	refused(t, s, "rok1.sim", "finalize needs every member upgraded to 0.12.0 first (run upgrade-node on each): a member on an older release cannot read the new map format; not yet upgraded: rok2.sim (0.11.0), rok3.sim (0.11.0)", upgrade12, "finalize")
	gatewayMigrate(t, s, "rok1.sim", "gateway.0009_object_lock_retention")

	// A 0.11 node rewritten too early: its daemons refuse map version 4;
	// once it boots 0.12 they take it.
	setMapVersion(t, s, "rok2.sim", 4)
	refused(t, s, "rok2.sim", "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := journalOf(t, s, "rok2.sim"); !mapVersionRefused(j, "invalid choice: '4'", "Rok 0.11 reads and writes composer map version 3 only (choose from '3')") {
		t.Errorf("journal:\n%s", j)
	}
	operate(t, s, sim.ActionSwap, "rok2.sim")
	must(t, s, "rok2.sim", upgrade12, "upgrade-node")
	// The other slave the right way round.
	operate(t, s, sim.ActionSwap, "rok3.sim")
	refused(t, s, "rok3.sim", "set map-version = 4", upgrade12, "upgrade-node")
	setMapVersion(t, s, "rok3.sim", 4)
	must(t, s, "rok3.sim", upgrade12, "upgrade-node")

	refused(t, s, "rok2.sim", "finalize must run on the cluster's master; this node is rok2.sim and the master is rok1.sim", upgrade12, "finalize")
	if out := must(t, s, "rok1.sim", upgrade12, "finalize"); !strings.Contains(out, "Cluster sim is finalized at 0.12.0.") {
		t.Errorf("finalize said:\n%s", out)
	}
	if out := must(t, s, "rok1.sim", upgrade12, "finalize"); out != "Cluster sim is already finalized at 0.12.0; nothing to do.\n" {
		t.Errorf("a second finalize said:\n%s", out)
	}

	st := s.Status()
	if st.Finalized != "0.12.0" || st.SharedState != "0.12.0" || st.Error != "" || !st.EtcdAuth {
		t.Errorf("end state: finalized %q shared %q error %q etcd auth %v", st.Finalized, st.SharedState, st.Error, st.EtcdAuth)
	}
	if c := st.Count("rok1.sim", release.OpFinalize); c != (sim.Counter{Runs: 3, OK: 2}) {
		t.Errorf("finalize ran %+v on the master", c)
	}
	if got := must(t, s, "rok2.sim", "rok-config", "get", "composer.map_version"); got != "4\n" {
		t.Errorf("composer.map_version = %q", got)
	}
	_, ms := members(t, s, "rok3.sim")
	for _, n := range st.Nodes {
		if n.Boot != "0.12.0-1" || n.NodeState != "0.12.0" || ms[n.Name].Version != "0.12.0" || ms[n.Name].State != "online" {
			t.Errorf("%s: BOOT %s, node state %s, member-list %+v", n.Name, n.Boot, n.NodeState, ms[n.Name])
		}
	}
	var b strings.Builder
	if err := st.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"started at 0.10.2, upgrades to 0.11.0, then 0.12.0", "shared state 0.12.0, finalized at 0.12.0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, b.String())
		}
	}
	// Past the last target, the operator has no BOOT disk to put in.
	if err := s.Operator(sim.OperatorRequest{Action: sim.ActionSwap, Node: "rok2.sim", Wait: true}); err == nil ||
		!strings.Contains(err.Error(), "rok2.sim runs rok-base 0.12.0-1, and no upgrade target of the cluster (0.11.0, 0.12.0) is of a newer series") {
		t.Errorf("a swap past the last target: %v", err)
	}
}

// TestAutoOperatorFollowsThePath: the demo operator swaps a node to the
// upgrade under way, and to the next target only once every member is
// through the one before.
func TestAutoOperatorFollowsThePath(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true, AutoOperator: true, Upgrades: []string{"0.11.0", "0.12.0"}})
	pin(t, s, "rok1.sim")
	poll := func(node string) { must(t, s, node, "dpkg-query", "--show", "--showformat=${Version}", "rok-base") }
	poll("rok1.sim")
	eventually(t, "rok1 on 0.11", func() bool { n := s.Status().Node("rok1.sim"); return n.Boot == "0.11.0-1" && n.Power == "on" })
	// Polled again while the others are on 0.10: it stays.
	poll("rok1.sim")
	if st := s.Status(); len(st.Operator) != 0 || st.Node("rok1.sim").Boot != "0.11.0-1" {
		t.Fatalf("the operator went on with rok1: %+v", st.Operator)
	}
	rewriteEndpoints(t, s, "rok1.sim")
	must(t, s, "rok1.sim", upgrade, "upgrade-cluster")
	must(t, s, "rok1.sim", upgrade, "upgrade-node")
	upgradeSlave(t, s, "rok2.sim")
	upgradeSlave(t, s, "rok3.sim")
	poll("rok1.sim")
	eventually(t, "rok1 on 0.12", func() bool { n := s.Status().Node("rok1.sim"); return n.Boot == "0.12.0-1" && n.Power == "on" })
}

// TestGanetiReleases: the image store and the hosts' apt sources have the
// versions of the starting release and of each target, no others; a host's
// apt-get follows its appliance.
func TestGanetiReleases(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, NoEtcd: true, Upgrades: []string{"0.11.0", "0.12.0"}})
	c := newRAPITest(t, s)
	v11 := release.ImageVersion("0.11.0")
	reinstall := func(params map[string]any) map[string]any {
		t.Helper()
		_, id := c.do("POST", "/2/instances/roke2.gnt.sim/reinstall", map[string]any{"os": "snf-image+default", "start": true, "osparams": params}, "ok")
		return c.job(id)
	}
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"img_id": "roke-0.13.0-1"}, "snf-image: no RokE image of Rok 0.13.0-1 (img_id 'roke-0.13.0-1'): the image store has roke-0.10.2-1, roke-" + v11 + ", roke-0.12.0-1"},
		{map[string]any{"img_id": "roke-appliance", "img_properties": `{"ROK_VERSION":"0.9.0-1"}`}, "no RokE image of Rok 0.9.0-1 (img_id 'roke-appliance')"},
	} {
		j := reinstall(tc.params)
		if got := fmt.Sprint(j["opresult"]); j["status"] != "error" || !strings.Contains(got, tc.want) {
			t.Errorf("reinstall with %v: %v %s", tc.params, j["status"], got)
		}
	}
	if j := reinstall(map[string]any{"img_id": release.ImageID(v11), "img_properties": `{"ROK_VERSION":"` + v11 + `"}`}); j["status"] != "success" {
		t.Fatalf("reinstall of 0.11: %v", j["opresult"])
	}
	if n := s.Status().Node("roke2.sim"); n.Boot != v11 || n.Power != "on" {
		t.Errorf("roke2: %+v", n)
	}
	rewriteEndpoints(t, s, "roke2.sim")
	must(t, s, "roke2.sim", "systemctl", "restart", "rok-daemons")
	apt := []string{"apt-get", "-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "install"}
	host := "node2.gnt.sim"
	if out := must(t, s, host, append(apt, "rok-common", "rok-base")...); !strings.Contains(out, "Unpacking rok-base ("+v11+") over (0.10.2-1)") {
		t.Errorf("apt-get:\n%s", out)
	}
	if out := must(t, s, host, append(apt, "rok-base")...); !strings.Contains(out, "rok-base is already the newest version ("+v11+").") {
		t.Errorf("apt-get again:\n%s", out)
	}
	refused(t, s, host, "E: Version '0.13.0-1' for 'rok-base' was not found", append(apt, "rok-base=0.13.0-1")...)
	// Ahead of its appliance, the host's guests lose their disks.
	must(t, s, host, append(apt, "rok-base=0.12.0-1")...)
	if h := s.Status().Hosts[1]; h.Compatible || !strings.Contains(h.Why, "the Rok packages of node2.gnt.sim are 0.12.0-1 but its RokE appliance roke2.sim runs 0.11~rc1") {
		t.Errorf("host ahead of its appliance: %+v", h)
	}
	refused(t, s, host, "E: Packages were downgraded and -y was used without --allow-downgrades.", append(apt, "rok-base="+v11)...)
	must(t, s, host, append(apt, "--allow-downgrades", "rok-base="+v11)...)
	// An image named otherwise, known by its ROK_VERSION.
	if j := reinstall(map[string]any{"img_id": "roke-appliance", "img_properties": `{"ROK_VERSION":"0.12.0-1"}`}); j["status"] != "success" {
		t.Fatalf("reinstall by ROK_VERSION: %v", j["opresult"])
	}
	if n := s.Status().Node("roke2.sim"); n.Boot != "0.12.0-1" {
		t.Errorf("roke2 after the 0.12 image: %+v", n)
	}
	if out := must(t, s, host, append(apt, "rok-base")...); !strings.Contains(out, "Unpacking rok-base (0.12.0-1) over ("+v11+")") {
		t.Errorf("apt-get after the 0.12 image:\n%s", out)
	}
}

// TestStartAt094: a cluster can start on a release before the seed's: its
// daemons take tcp:// and map version 2, its Gateway knows 0.9's
// migrations, and 0.11 refuses to upgrade it (it upgrades from 0.10 only).
func TestStartAt094(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true, FromVersion: "0.9.4"})
	st := s.Status()
	if st.StartRelease != "0.9.4" || !slices.Equal(st.Upgrades, []string{"0.11.0"}) || st.SharedState != "0.9.4" || st.EtcdAuth {
		t.Errorf("status: %+v", st)
	}
	_, ms := members(t, s, "rok2.sim")
	for name, m := range ms {
		if m.Version != "0.9.4" || m.State != "online" {
			t.Errorf("%s: %+v", name, m)
		}
	}
	conf := must(t, s, "rok1.sim", "cat", daemonsConfPath)
	if !strings.Contains(conf, "map-version = 2\n") || !strings.Contains(conf, "tcp://") {
		t.Errorf("daemons.conf:\n%s", conf)
	}
	must(t, s, "rok1.sim", "systemctl", "restart", "rok-daemons")
	if got := must(t, s, "rok1.sim", "rok-config", "get", "composer.map_version"); got != "2\n" {
		t.Errorf("composer.map_version = %q", got)
	}
	if show := must(t, s, "rok1.sim", "rok-gw-manage", "showmigrations", "gateway"); show != "gateway\n [X] 0001_initial\n [X] 0002_buckets\n [X] 0003_objects_versions\n [X] 0004_tasks\n" {
		t.Errorf("showmigrations:\n%s", show)
	}
	pin(t, s, "rok1.sim")
	operate(t, s, sim.ActionSwap, "rok1.sim")
	rewriteEndpoints(t, s, "rok1.sim")
	refused(t, s, "rok1.sim", "the cluster's shared state is at 0.9.4; v0.11.0 upgrades shared state from 0.10 only", upgrade, "upgrade-cluster")
	refused(t, s, "rok1.sim", "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := journalOf(t, s, "rok1.sim"); !mapVersionRefused(j, "invalid choice: '2'", "Rok 0.11 reads and writes composer map version 3 only") {
		t.Errorf("journal:\n%s", j)
	}
}

// TestStartAt0110: a cluster started at 0.11.0 is one already upgraded:
// members on 0.11.0 and online, 0.11 endpoints, etcd auth on; it can be
// upgraded to the next series.
func TestStartAt0110(t *testing.T) {
	s := newSim(t, sim.Spec{Nodes: 2, FromVersion: "0.11.0"})
	st := s.Status()
	if st.StartRelease != "0.11.0" || !slices.Equal(st.Upgrades, []string{"0.12.0"}) || st.SharedState != "0.11.0" || !st.EtcdAuth {
		t.Errorf("status: %+v", st)
	}
	_, ms := members(t, s, "rok1.sim")
	for name, m := range ms {
		if m.Version != "0.11.0" || m.State != "online" {
			t.Errorf("%s: %+v", name, m)
		}
	}
	for _, n := range st.Nodes {
		if n.Boot != "0.11.0-1" || n.NodeState != "0.11.0" || n.Endpoints[daemonsConfPath] != "http" || n.Endpoints["/etc/default/rok"] != "http" {
			t.Errorf("%s: %+v", n.Name, n)
		}
	}
	if conf := must(t, s, "rok2.sim", "cat", daemonsConfPath); !strings.Contains(conf, "map-version = 3\nconnect = role=slave,http://10.0.0.11:8080\n") {
		t.Errorf("daemons.conf:\n%s", conf)
	}
	must(t, s, "rok2.sim", "systemctl", "restart", "rok-daemons")
	if show := must(t, s, "rok1.sim", "rok-gw-manage", "showmigrations", "--plan"); strings.Contains(show, "[ ]") {
		t.Errorf("pending migrations on a new 0.11 cluster:\n%s", show)
	}
	// 0.11.0 is no target of this cluster, and 0.12.0's script needs its BOOT disk.
	refused(t, s, "rok1.sim", "rok-cluster-upgrade-v0.11.0: not found", upgrade, "enable-etcd-auth")
	refused(t, s, "rok1.sim", "rok-cluster-upgrade-v0.12.0: not found", upgrade12, "upgrade-cluster")
	// etcd: only the cluster's users, as after enable-etcd-auth.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if st, err := etcdAs(t, s, "root").AuthStatus(ctx); err != nil || !st.Enabled {
		t.Errorf("etcd auth status: %v %v", st, err)
	}
	if _, err := etcdAs(t, s, "nobody").Get(ctx, "/rok/cluster"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Errorf("a certificate without a user: %v", err)
	}
	// The next series, with the 0.12 rule.
	pin(t, s, "rok1.sim")
	operate(t, s, sim.ActionSwap, "rok1.sim")
	must(t, s, "rok1.sim", upgrade12, "upgrade-cluster")
	setMapVersion(t, s, "rok1.sim", 4)
	must(t, s, "rok1.sim", upgrade12, "upgrade-node")
}

// TestStartAt0110Ganeti: on Ganeti, the hosts of a cluster started at
// 0.11 have its packages and http: endpoints, and the guests their disks.
func TestStartAt0110Ganeti(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, NoEtcd: true, FromVersion: "0.11.0"})
	st := s.Status()
	for _, h := range st.Hosts {
		if !h.Compatible || h.RokBase != "0.11.0-1" || !onlyScheme(h.Endpoints, "http") {
			t.Errorf("host %s: %+v", h.Name, h)
		}
	}
	for _, i := range st.Instances {
		if i.Status != "running" || i.Kind == instGuest && i.IO != "ok" {
			t.Errorf("instance %s: %+v", i.Name, i)
		}
	}
	if kvm := must(t, s, "node1.gnt.sim", "cat", "/usr/bin/kvm"); !strings.Contains(kvm, "controller=http://10.0.0.11:8080") {
		t.Errorf("/usr/bin/kvm:\n%s", kvm)
	}
}

// TestGenericRelease: a series the catalogue does not name upgrades with
// upgrade-cluster and upgrade-node, keeping the map version before it.
func TestGenericRelease(t *testing.T) {
	s := newSim(t, sim.Spec{Nodes: 2, NoEtcd: true, FromVersion: "0.12.1", Upgrades: []string{"0.13.0", "1.0.0"}})
	const up13, up10 = "rok-cluster-upgrade-v0.13.0", "rok-cluster-upgrade-v1.0.0"
	pin(t, s, "rok1.sim")
	for _, node := range []string{"rok1.sim", "rok2.sim"} {
		operate(t, s, sim.ActionSwap, node)
		if node == "rok1.sim" {
			if help := must(t, s, node, up13, "-h"); !strings.HasPrefix(help, "usage: rok-cluster-upgrade-v0.13.0 [-h] {upgrade-cluster,upgrade-node}\n\nUpgrade a Rok cluster to v0.13.0: upgrade-cluster on the master, then upgrade-node on\nevery node (the master first).\n") {
				t.Errorf("help:\n%s", help)
			}
			refused(t, s, node, "invalid choice: 'finalize' (choose from 'upgrade-cluster', 'upgrade-node')", up13, "finalize")
			must(t, s, node, up13, "upgrade-cluster")
		}
		must(t, s, node, up13, "upgrade-node")
	}
	// 1.0.0 upgrades from the series before it on the path, 0.13.
	operate(t, s, sim.ActionSwap, "rok1.sim")
	if n := s.Status().Node("rok1.sim"); n.Boot != "1.0.0-1" {
		t.Fatalf("rok1: %+v", n)
	}
	must(t, s, "rok1.sim", up10, "upgrade-cluster")
	refused(t, s, "rok2.sim", "rok-cluster-upgrade-v1.0.0: not found", up10, "upgrade-node")
	_, ms := members(t, s, "rok2.sim")
	if ms["rok1.sim"].Version != "1.0.0" || ms["rok1.sim"].State != "needs-upgrade" || ms["rok2.sim"].Version != "0.13.0" || ms["rok2.sim"].State != "online" {
		t.Errorf("member-list: %+v", ms)
	}
}
