package sim

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// upgradeScript is rok-cluster-upgrade-v<release>: upgrade-cluster,
// upgrade-node and enable-etcd-auth. It ships on the new appliance image,
// so a node still on an older BOOT disk does not have it.
func (c *cmd) upgradeScript() int {
	release := strings.TrimPrefix(c.name, upgradeScriptPrefix)
	target := c.st.Spec.Release
	if release != target || compareSeries(seriesOf(c.n.Boot), seriesOf(target)) < 0 {
		c.errf("sh: 1: %s: not found", c.name)
		return 127
	}
	usage := fmt.Sprintf("usage: %s [-h] {upgrade-cluster,upgrade-node,enable-etcd-auth}", c.name)
	if len(c.args) != 1 {
		if len(c.args) > 0 && (c.args[0] == "-h" || c.args[0] == "--help") {
			c.outf("%s\n\nUpgrade a Rok cluster to v%s: upgrade-cluster on the master, then upgrade-node on\nevery node (the master first), then enable-etcd-auth on the master.\n", usage, target)
			return 0
		}
		c.errf("%s\n%s: error: expected one command", usage, c.name)
		return 2
	}
	verb := c.args[0]
	switch verb {
	case opUpgradeCluster, opUpgradeNode, opEnableEtcdAuth:
	default:
		c.errf("%s\n%s: error: argument command: invalid choice: '%s' (choose from 'upgrade-cluster', 'upgrade-node', 'enable-etcd-auth')", usage, c.name, verb)
		return 2
	}
	c.dirty = true
	c.st.counter(c.n.Name, verb).Runs++
	var msg string
	switch verb {
	case opUpgradeCluster:
		msg = c.upgradeCluster(target)
	case opUpgradeNode:
		msg = c.upgradeNode(target)
	case opEnableEtcdAuth:
		msg = c.enableEtcdAuth(target)
	}
	if msg != "" {
		c.errf("%s: error: %s", c.name, msg)
		c.st.event(c.n.Name, "%s %s refused: %s", c.name, verb, msg)
		return 1
	}
	c.st.counter(c.n.Name, verb).OK++
	return 0
}

// clusterUsable is why the cluster cannot take an upgrade step, or "".
func (c *cmd) clusterUsable() string {
	if c.st.Cluster.Error != "" {
		return "the cluster is in an error state: " + c.st.Cluster.Error
	}
	return ""
}

func (c *cmd) masterOnly(verb string) string {
	switch m := c.st.Cluster.Master; {
	case m == "":
		return fmt.Sprintf("%s must run on the cluster's master, and the cluster has no master (is the master powered off, with cluster.master_candidates = %s?)",
			verb, c.st.Cluster.Config["cluster.master_candidates"])
	case m != c.n.Name:
		return fmt.Sprintf("%s must run on the cluster's master; this node is %s and the master is %s", verb, c.n.Name, m)
	}
	return ""
}

// upgradeCluster applies rule 2.
func (c *cmd) upgradeCluster(target string) string {
	if msg := c.clusterUsable(); msg != "" {
		return msg
	}
	if msg := c.masterOnly(opUpgradeCluster); msg != "" {
		return msg
	}
	shared := c.st.Cluster.SharedState
	switch cmp := compareSeries(seriesOf(shared), seriesOf(target)); {
	case cmp == 0:
		return fmt.Sprintf("the cluster's shared state is already at %s: upgrade-cluster has run", shared)
	case cmp > 0:
		return fmt.Sprintf("the cluster's shared state is at %s, newer than %s", shared, target)
	case seriesOf(shared) != previousSeries(target):
		return fmt.Sprintf("the cluster's shared state is at %s; v%s upgrades shared state from %s only", shared, target, previousSeries(target))
	}
	c.outf("Upgrading the shared state of cluster %s from %s to %s\n", c.st.Cluster.Name, shared, target)
	c.outf(" - converting the cluster configuration in etcd... done\n")
	c.outf(" - migrating the OpenStore endpoint registry to http:// with roles... done\n")
	c.outf(" - recording the new configuration version... done\n")
	c.outf("The shared state of cluster %s is at %s.\n", c.st.Cluster.Name, target)
	c.st.Cluster.SharedState = target
	c.st.Cluster.Config["cluster.shared_state_version"] = target
	c.st.event(c.n.Name, "upgrade-cluster: shared state %s -> %s", shared, target)
	c.st.checkVersions()
	return ""
}

// upgradeNode applies rules 3 and 4.
func (c *cmd) upgradeNode(target string) string {
	if msg := c.clusterUsable(); msg != "" {
		return msg
	}
	if c.st.Cluster.Master == "" {
		return "the cluster has no master; upgrade-node registers the node with the master, so one must be online"
	}
	if seriesOf(c.st.Cluster.SharedState) != seriesOf(target) {
		return fmt.Sprintf("the cluster's shared state is at %s; run upgrade-cluster on the master (%s) first",
			c.st.Cluster.SharedState, c.st.Cluster.Master)
	}
	if seriesOf(c.n.NodeState) == seriesOf(target) {
		return fmt.Sprintf("node %s is already upgraded to %s; upgrade-node runs once per node", c.n.Name, c.n.NodeState)
	}
	if has(c.st.Spec.Faults.FailUpgradeNode, c.n.Name) {
		c.outf("Upgrading node %s to Rok %s\n - migrating the node-local composer state... failed\n", c.n.Name, target)
		return fmt.Sprintf("migrating the node-local state of %s failed: the composer map store is locked by another process (simulated fault)", c.n.Name)
	}
	c.outf("Upgrading node %s to Rok %s\n", c.n.Name, target)
	c.outf(" - migrating the node-local composer state... done\n")
	c.outf(" - restarting the Rok daemons... ")
	if ok, errs := c.s.startDaemons(c.st, c.n); !ok {
		c.outf("failed\n")
		for _, e := range errs {
			c.errf("%s", e)
		}
		return "the Rok daemons failed to start with the node's configuration; rewrite its OpenStore endpoints (/etc/rok/daemons.conf, /etc/default/rok) for v0.11 and run upgrade-node again"
	}
	c.outf("done\n")
	c.n.Services["rok-gw-gunicorn"] = svcActive
	c.n.NodeState = target
	c.outf("Node %s is upgraded to %s.\n", c.n.Name, target)
	c.st.event(c.n.Name, "upgrade-node: node upgraded to %s", target)
	return ""
}

// enableEtcdAuth applies rule 5.
func (c *cmd) enableEtcdAuth(target string) string {
	if msg := c.clusterUsable(); msg != "" {
		return msg
	}
	if msg := c.masterOnly(opEnableEtcdAuth); msg != "" {
		return msg
	}
	var behind []string
	for _, m := range c.st.members() {
		if seriesOf(m.NodeState) != seriesOf(target) {
			behind = append(behind, fmt.Sprintf("%s (%s)", m.Name, m.NodeState))
		}
	}
	if len(behind) > 0 {
		return fmt.Sprintf("every member must be upgraded to %s first, or it loses access to etcd; not yet upgraded: %s",
			target, strings.Join(behind, ", "))
	}
	if c.st.Cluster.EtcdAuth {
		c.outf("etcd SSL authentication and RBAC are already enabled; nothing to do.\n")
		return ""
	}
	c.outf("Enabling etcd SSL client authentication and RBAC\n")
	if c.s.etcd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.s.etcd.enableAuth(ctx, &c.stdout); err != nil {
			return "etcd: " + err.Error()
		}
	} else {
		c.outf(" - (no etcd server in this simulator; recording the change only)\n")
	}
	c.st.Cluster.EtcdAuth = true
	c.outf("etcd authentication is on: clients need a certificate signed by the cluster CA, and only the users root and rok have access.\n")
	c.st.event(c.n.Name, "enable-etcd-auth: etcd auth and RBAC enabled")
	return ""
}

// previousSeries is the series a release upgrades from: 0.11.0 -> 0.10.
func previousSeries(release string) string {
	ser := seriesOf(release)
	major, minor, _ := strings.Cut(ser, ".")
	var n int
	fmt.Sscan(minor, &n)
	if n == 0 {
		return ser
	}
	return fmt.Sprintf("%s.%d", major, n-1)
}
