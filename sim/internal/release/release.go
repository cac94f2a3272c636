package release

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rokflow/rokflow/internal/debversion"
)

// Profile is what the simulator knows of one Rok release series
// (major.minor): the upgrade script its releases ship, the Gateway
// migrations its code adds, the images it is released as, and the
// configuration its daemons accept. The catalogue below holds the series
// the simulator knows by name; any other series gets a generic profile
// (ProfileOf), so that a cluster can start at and be upgraded to any
// release.
type Profile struct {
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
	// "<release>-1" (ImageVersion).
	Images map[string]string
}

// The upgrade script's subcommands.
const (
	OpUpgradeCluster = "upgrade-cluster"
	OpUpgradeNode    = "upgrade-node"
	OpEnableEtcdAuth = "enable-etcd-auth"
	OpFinalize       = "finalize"
)

// Catalogue lists the series the simulator knows by name, oldest first.
var Catalogue = []Profile{
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
		Commands:   []string{OpUpgradeCluster, OpUpgradeNode, OpEnableEtcdAuth},
		MapVersion: 3,
		Migrations: []string{"gateway.0007_openstore_endpoints", "gateway.0008_bucket_publish_state"},
		Images:     map[string]string{"0.11.0": "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"},
	},
	{
		// The next release: a new composer map format, which every node's
		// daemons.conf must name before its daemons start, and a finalize
		// once every node is upgraded.
		Series:             "0.12",
		Commands:           []string{OpUpgradeCluster, OpUpgradeNode, OpFinalize},
		MapVersion:         4,
		MapVersionRequired: true,
		Migrations:         []string{"gateway.0009_object_lock_retention"},
	},
}

// GenericCommands are the subcommands of a series the catalogue does not
// name.
var GenericCommands = []string{OpUpgradeCluster, OpUpgradeNode}

// ProfileOf returns the profile of a series: the catalogue's, or a generic
// one that upgrades with upgrade-cluster and upgrade-node, adds no Gateway
// migration and keeps the map version of the newest known series before it.
func ProfileOf(ser string) Profile {
	for _, p := range Catalogue {
		if p.Series == ser {
			return p
		}
	}
	p := Profile{Series: ser, Commands: GenericCommands, MapVersion: Catalogue[0].MapVersion}
	for _, k := range Catalogue {
		if CompareSeries(k.Series, ser) < 0 {
			p.MapVersion = k.MapVersion
		}
	}
	return p
}

// KnownMigrations returns the migrations the Gateway code of a release
// series knows: its own and every earlier series'.
func KnownMigrations(ser string) []string {
	var out []string
	for _, p := range Catalogue {
		if CompareSeries(p.Series, ser) <= 0 {
			out = append(out, p.Migrations...)
		}
	}
	return out
}

// HTTPEndpoints says whether the daemons of a series take OpenStore
// endpoints as http:// with roles (since 0.11) rather than tcp://.
func HTTPEndpoints(ser string) bool { return CompareSeries(ser, "0.11") >= 0 }

// EtcdAuthFrom says whether a cluster created on a series has etcd
// authentication on: the series, or one before it, enables it on upgrade.
func EtcdAuthFrom(ser string) bool {
	for _, p := range Catalogue {
		if CompareSeries(p.Series, ser) <= 0 && slices.Contains(p.Commands, OpEnableEtcdAuth) {
			return true
		}
	}
	return false
}

// BootVersion is the rok-base version on the appliance BOOT disk of a
// release: "0.12.0" -> "0.12.0-1".
func BootVersion(release string) string { return release + "-1" }

// ImageVersion is the version of the RokE image of a release, and of the
// Rok packages a Ganeti host installs with it: the catalogue's, or
// "<release>-1". The image's id is "roke-<image version>".
func ImageVersion(release string) string {
	if v, ok := ProfileOf(SeriesOf(release)).Images[release]; ok {
		return v
	}
	return release + "-1"
}

// ImageID names the RokE image of a version in snf-image's store.
func ImageID(version string) string { return "roke-" + version }

// Bare is a release as a playbook names it: "0.12.0".
var Bare = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// Series returns the major.minor release of a package version or release
// string: "0.10.2-1" -> "0.10", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"
// -> "0.11", "0.11.0" -> "0.11".
func Series(v string) (string, error) {
	rel, err := debversion.Release(v)
	if err != nil {
		return "", fmt.Errorf("version %q: %w", v, err)
	}
	parts := strings.Split(rel, ".")
	if len(parts) < 2 {
		parts = append(parts, "0")
	}
	return parts[0] + "." + parts[1], nil
}

// SeriesOf is series for values the simulator made itself; "" when bad.
func SeriesOf(v string) string {
	s, _ := Series(v)
	return s
}

// CompareSeries orders two major.minor releases.
func CompareSeries(a, b string) int {
	c, err := debversion.Compare(a, b)
	if err != nil {
		return strings.Compare(a, b)
	}
	return c
}

// Upstream returns the upstream part of a Debian version, what
// member-list shows: "0.10.2-1" -> "0.10.2".
func Upstream(v string) string {
	p, err := debversion.Parse(v)
	if err != nil {
		return v
	}
	return p.Upstream
}
