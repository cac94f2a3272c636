package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rokflow/rokflow/sim/internal/release"
)

// upgradeScript is rok-cluster-upgrade-v<release>, with the subcommands
// its series declares (releases.go). It ships on the new appliance image,
// so a node still on an older BOOT disk does not have it, and the
// simulator has it only for the cluster's upgrade targets.
func (c *cmd) upgradeScript() int {
	rel := strings.TrimPrefix(c.name, upgradeScriptPrefix)
	if !c.st.isTarget(rel) || release.CompareSeries(release.SeriesOf(c.n.Boot), release.SeriesOf(rel)) < 0 {
		c.errf("sh: 1: %s: not found", c.name)
		return 127
	}
	verbs := release.ProfileOf(release.SeriesOf(rel)).Commands
	usage := fmt.Sprintf("usage: %s [-h] {%s}", c.name, strings.Join(verbs, ","))
	if len(c.args) > 0 && (c.args[0] == "-h" || c.args[0] == "--help") {
		c.outf("%s\n\n%s\n", usage, upgradeHelp(rel, verbs))
		return 0
	}
	if len(c.args) != 1 {
		c.errf("%s\n%s: error: expected one command", usage, c.name)
		return 2
	}
	verb := c.args[0]
	run := upgradeVerbs[verb]
	if !has(verbs, verb) || run == nil {
		c.errf("%s\n%s: error: argument command: invalid choice: '%s' (choose from '%s')", usage, c.name, verb, strings.Join(verbs, "', '"))
		return 2
	}
	c.dirty = true
	c.st.counter(c.n.Name, verb).Runs++
	if msg := run(c, rel); msg != "" {
		c.errf("%s: error: %s", c.name, msg)
		c.st.event(c.n.Name, "%s %s refused: %s", c.name, verb, msg)
		return 1
	}
	c.st.counter(c.n.Name, verb).OK++
	return 0
}

// upgradeVerbs are the upgrade script's subcommands; each returns why it
// refused, or "".
var upgradeVerbs = map[string]func(c *cmd, target string) string{
	release.OpUpgradeCluster: (*cmd).upgradeCluster,
	release.OpUpgradeNode:    (*cmd).upgradeNode,
	release.OpEnableEtcdAuth: (*cmd).enableEtcdAuth,
	release.OpFinalize:       (*cmd).finalize,
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
	if msg := c.masterOnly(release.OpUpgradeCluster); msg != "" {
		return msg
	}
	shared := c.st.Cluster.SharedState
	switch cmp := release.CompareSeries(release.SeriesOf(shared), release.SeriesOf(target)); {
	case cmp == 0:
		return fmt.Sprintf("the cluster's shared state is already at %s: upgrade-cluster has run", shared)
	case cmp > 0:
		return fmt.Sprintf("the cluster's shared state is at %s, newer than %s", shared, target)
	case release.SeriesOf(shared) != c.st.upgradesFrom(target):
		return fmt.Sprintf("the cluster's shared state is at %s; v%s upgrades shared state from %s only", shared, target, c.st.upgradesFrom(target))
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
	if release.SeriesOf(c.st.Cluster.SharedState) != release.SeriesOf(target) {
		return fmt.Sprintf("the cluster's shared state is at %s; run upgrade-cluster on the master (%s) first",
			c.st.Cluster.SharedState, c.st.Cluster.Master)
	}
	switch cmp := release.CompareSeries(release.SeriesOf(c.n.NodeState), release.SeriesOf(target)); {
	case cmp == 0:
		return fmt.Sprintf("node %s is already upgraded to %s; upgrade-node runs once per node", c.n.Name, c.n.NodeState)
	case cmp > 0:
		return fmt.Sprintf("node %s is at %s, newer than %s", c.n.Name, c.n.NodeState, target)
	case release.SeriesOf(c.n.NodeState) != c.st.upgradesFrom(target):
		return fmt.Sprintf("node %s is at %s; v%s upgrades node-local state from %s only", c.n.Name, c.n.NodeState, target, c.st.upgradesFrom(target))
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
		return "the Rok daemons failed to start with the node's configuration; " + daemonFixes(errs, c.n) + " and run upgrade-node again"
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
	if msg := c.masterOnly(release.OpEnableEtcdAuth); msg != "" {
		return msg
	}
	var behind []string
	for _, m := range c.st.members() {
		if release.CompareSeries(release.SeriesOf(m.NodeState), release.SeriesOf(target)) < 0 {
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
		if err := c.s.etcd.EnableAuth(ctx, &c.stdout); err != nil {
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

// finalize ends an upgrade once every member runs the new release: the
// cluster switches to the release's composer map version, which nodes on
// an older release could not read. It runs on the master only.
func (c *cmd) finalize(target string) string {
	if msg := c.clusterUsable(); msg != "" {
		return msg
	}
	if msg := c.masterOnly(release.OpFinalize); msg != "" {
		return msg
	}
	ser := release.SeriesOf(target)
	if release.SeriesOf(c.st.Cluster.Finalized) == ser {
		c.outf("Cluster %s is already finalized at %s; nothing to do.\n", c.st.Cluster.Name, c.st.Cluster.Finalized)
		return ""
	}
	if shared := c.st.Cluster.SharedState; release.CompareSeries(release.SeriesOf(shared), ser) > 0 {
		return fmt.Sprintf("the cluster's shared state is at %s, newer than %s", shared, target)
	}
	var behind []string
	for _, m := range c.st.members() {
		if release.CompareSeries(release.SeriesOf(m.NodeState), ser) < 0 {
			behind = append(behind, fmt.Sprintf("%s (%s)", m.Name, m.NodeState))
		}
	}
	if len(behind) > 0 {
		return fmt.Sprintf("finalize needs every member upgraded to %s first (run upgrade-node on each): a member on an older release cannot read the new map format; not yet upgraded: %s",
			target, strings.Join(behind, ", "))
	}
	mv := release.ProfileOf(ser).MapVersion
	c.outf("Finalizing the upgrade of cluster %s to %s\n", c.st.Cluster.Name, target)
	c.outf(" - switching the cluster to composer map version %d... done\n", mv)
	c.outf(" - retiring the compatibility paths of older releases... done\n")
	c.outf("Cluster %s is finalized at %s.\n", c.st.Cluster.Name, target)
	c.st.Cluster.Finalized = target
	c.st.Cluster.Config["composer.map_version"] = strconv.Itoa(mv)
	c.st.event(c.n.Name, "finalize: cluster finalized at %s (composer map version %d)", target, mv)
	return ""
}
