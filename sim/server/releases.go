package server

import (
	"fmt"
	"strings"

	"github.com/rokflow/rokflow/sim/internal/release"
)

// isTarget says whether a release is one the cluster can be upgraded to.
func (st *state) isTarget(rel string) bool { return has(st.Spec.Upgrades, rel) }

// nextTarget returns the lowest upgrade target of a series newer than ser,
// or "" when there is none.
func (st *state) nextTarget(ser string) string {
	for _, u := range st.Spec.Upgrades {
		if release.CompareSeries(release.SeriesOf(u), ser) > 0 {
			return u
		}
	}
	return ""
}

// oldestNodeState returns the series of the member least far along.
func (st *state) oldestNodeState() string {
	oldest := ""
	for _, m := range st.members() {
		if s := release.SeriesOf(m.NodeState); oldest == "" || release.CompareSeries(s, oldest) < 0 {
			oldest = s
		}
	}
	return oldest
}

// images are the versions of the RokE images in the site's image store
// (and of the Rok packages in the hosts' apt repository): the starting
// release's and each upgrade target's, oldest first.
func (st *state) images() []string {
	out := []string{st.Spec.FromVersion}
	for _, u := range st.Spec.Upgrades {
		out = append(out, release.ImageVersion(u))
	}
	return out
}

// upgradesFrom is the series a release upgrades a cluster's shared and
// node-local state from: the previous minor series (0.11.0 from 0.10); for
// the first release of a major series (1.0.0), the newest series before it
// on the cluster's path, its starting release and upgrade targets.
func (st *state) upgradesFrom(rel string) string {
	ser := release.SeriesOf(rel)
	major, minor, _ := strings.Cut(ser, ".")
	var n int
	fmt.Sscan(minor, &n)
	if n > 0 {
		return fmt.Sprintf("%s.%d", major, n-1)
	}
	from := release.SeriesOf(st.Spec.FromVersion)
	for _, u := range st.Spec.Upgrades {
		if s := release.SeriesOf(u); release.CompareSeries(s, ser) < 0 {
			from = s
		}
	}
	return from
}

// upgradeHelp is the description rok-cluster-upgrade-v<release> --help
// prints, from the subcommands it declares.
func upgradeHelp(rel string, commands []string) string {
	var steps []string
	for _, c := range commands {
		switch c {
		case release.OpUpgradeCluster:
			steps = append(steps, "upgrade-cluster on the master")
		case release.OpUpgradeNode:
			steps = append(steps, "upgrade-node on\nevery node (the master first)")
		default:
			steps = append(steps, c+" on the master")
		}
	}
	return fmt.Sprintf("Upgrade a Rok cluster to v%s: %s.", rel, strings.Join(steps, ", then "))
}
