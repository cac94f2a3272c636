package sim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// seriesProfile is what the simulator knows of one Rok release series
// (major.minor): the upgrade script its releases ship, the Gateway
// migrations its code adds, the images it is released as, and the
// configuration its daemons accept. The catalogue below holds the series
// the simulator knows by name; any other series gets a generic profile
// (profileOf), so that a cluster can start at and be upgraded to any
// release.
type seriesProfile struct {
	// Series is the major.minor release, "0.12".
	Series string
	// Commands are the subcommands rok-cluster-upgrade-v<release> declares,
	// in the order its usage lists them. None: the simulator knows the
	// series only as one a cluster starts at, not as an upgrade target.
	Commands []string
	// Migrations are the Gateway migrations the series' code adds to the
	// previous series' ones, in order.
	Migrations []string
	// MapVersion is the composer map version the series' daemons read and
	// write; they refuse a daemons.conf whose map-version says another.
	MapVersion int
	// MapVersionRequired makes the daemons refuse a daemons.conf that does
	// not set map-version at all (a series that changed the map format).
	MapVersionRequired bool
	// Images are the versions of the RokE image (and of the Rok packages a
	// Ganeti host installs) of the series' releases whose version is not
	// "<release>-1" (imageVersion).
	Images map[string]string
}

// The upgrade script's subcommands.
const (
	opUpgradeCluster = "upgrade-cluster"
	opUpgradeNode    = "upgrade-node"
	opEnableEtcdAuth = "enable-etcd-auth"
	opFinalize       = "finalize"
)

// catalogue lists the series the simulator knows by name, oldest first.
var catalogue = []seriesProfile{
	{
		Series:     "0.9",
		MapVersion: 2,
		Migrations: []string{
			"contenttypes.0001_initial", "contenttypes.0002_remove_content_type_name",
			"auth.0001_initial", "auth.0002_alter_permission_name_max_length",
			"gateway.0001_initial", "gateway.0002_buckets", "gateway.0003_objects_versions", "gateway.0004_tasks",
		},
	},
	{
		Series:     "0.10",
		MapVersion: 3,
		Migrations: []string{"gateway.0005_retention_rules", "gateway.0006_retain_periodic"},
	},
	{
		// The seed's release: OpenStore endpoints become http:// with roles,
		// and etcd gets authentication once every node is upgraded.
		Series:     "0.11",
		Commands:   []string{opUpgradeCluster, opUpgradeNode, opEnableEtcdAuth},
		MapVersion: 3,
		Migrations: []string{"gateway.0007_openstore_endpoints", "gateway.0008_bucket_publish_state"},
		Images:     map[string]string{"0.11.0": "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"},
	},
	{
		// The next release: a new composer map format, which every node's
		// daemons.conf must name before its daemons start, and a finalize
		// once every node is upgraded.
		Series:             "0.12",
		Commands:           []string{opUpgradeCluster, opUpgradeNode, opFinalize},
		MapVersion:         4,
		MapVersionRequired: true,
		Migrations:         []string{"gateway.0009_object_lock_retention"},
	},
}

// genericCommands are the subcommands of a series the catalogue does not
// name.
var genericCommands = []string{opUpgradeCluster, opUpgradeNode}

// profileOf returns the profile of a series: the catalogue's, or a generic
// one that upgrades with upgrade-cluster and upgrade-node, adds no Gateway
// migration and keeps the map version of the newest known series before it.
func profileOf(ser string) seriesProfile {
	for _, p := range catalogue {
		if p.Series == ser {
			return p
		}
	}
	p := seriesProfile{Series: ser, Commands: genericCommands, MapVersion: catalogue[0].MapVersion}
	for _, k := range catalogue {
		if compareSeries(k.Series, ser) < 0 {
			p.MapVersion = k.MapVersion
		}
	}
	return p
}

// knownMigrations returns the migrations the Gateway code of a release
// series knows: its own and every earlier series'.
func knownMigrations(ser string) []string {
	var out []string
	for _, p := range catalogue {
		if compareSeries(p.Series, ser) <= 0 {
			out = append(out, p.Migrations...)
		}
	}
	return out
}

// httpEndpoints says whether the daemons of a series take OpenStore
// endpoints as http:// with roles (since 0.11) rather than tcp://.
func httpEndpoints(ser string) bool { return compareSeries(ser, "0.11") >= 0 }

// etcdAuthFrom says whether a cluster created on a series has etcd
// authentication on: the series, or one before it, enables it on upgrade.
func etcdAuthFrom(ser string) bool {
	for _, p := range catalogue {
		if compareSeries(p.Series, ser) <= 0 && slices.Contains(p.Commands, opEnableEtcdAuth) {
			return true
		}
	}
	return false
}

// bootVersion is the rok-base version on the appliance BOOT disk of a
// release: "0.12.0" -> "0.12.0-1".
func bootVersion(release string) string { return release + "-1" }

// imageVersion is the version of the RokE image of a release, and of the
// Rok packages a Ganeti host installs with it: the catalogue's, or
// "<release>-1". The image's id is "roke-<image version>".
func imageVersion(release string) string {
	if v, ok := profileOf(seriesOf(release)).Images[release]; ok {
		return v
	}
	return release + "-1"
}

// imageID names the RokE image of a version in snf-image's store.
func imageID(version string) string { return "roke-" + version }

// bareRelease is a release as a playbook names it: "0.12.0".
var bareRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// isTarget says whether a release is one the cluster can be upgraded to.
func (st *state) isTarget(release string) bool { return has(st.Spec.Upgrades, release) }

// nextTarget returns the lowest upgrade target of a series newer than ser,
// or "" when there is none.
func (st *state) nextTarget(ser string) string {
	for _, u := range st.Spec.Upgrades {
		if compareSeries(seriesOf(u), ser) > 0 {
			return u
		}
	}
	return ""
}

// oldestNodeState returns the series of the member least far along.
func (st *state) oldestNodeState() string {
	oldest := ""
	for _, m := range st.members() {
		if s := seriesOf(m.NodeState); oldest == "" || compareSeries(s, oldest) < 0 {
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
		out = append(out, imageVersion(u))
	}
	return out
}

// upgradesFrom is the series a release upgrades a cluster's shared and
// node-local state from: the previous minor series (0.11.0 from 0.10); for
// the first release of a major series (1.0.0), the newest series before it
// on the cluster's path, its starting release and upgrade targets.
func (st *state) upgradesFrom(release string) string {
	ser := seriesOf(release)
	major, minor, _ := strings.Cut(ser, ".")
	var n int
	fmt.Sscan(minor, &n)
	if n > 0 {
		return fmt.Sprintf("%s.%d", major, n-1)
	}
	from := seriesOf(st.Spec.FromVersion)
	for _, u := range st.Spec.Upgrades {
		if s := seriesOf(u); compareSeries(s, ser) < 0 {
			from = s
		}
	}
	return from
}

// upgradeHelp is the description rok-cluster-upgrade-v<release> --help
// prints, from the subcommands it declares.
func upgradeHelp(release string, commands []string) string {
	var steps []string
	for _, c := range commands {
		switch c {
		case opUpgradeCluster:
			steps = append(steps, "upgrade-cluster on the master")
		case opUpgradeNode:
			steps = append(steps, "upgrade-node on\nevery node (the master first)")
		default:
			steps = append(steps, c+" on the master")
		}
	}
	return fmt.Sprintf("Upgrade a Rok cluster to v%s: %s.", release, strings.Join(steps, ", then "))
}
