package sim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/rokflow/rokflow/internal/debversion"
	"github.com/rokflow/rokflow/sim/internal/release"
)

// Platforms a simulated cluster can run on.
const (
	// PlatformAppliance is a cluster of Rok appliances (physical or VMs
	// with a BOOT disk an operator replaces).
	PlatformAppliance = "appliance"
	// PlatformGaneti is RokE: one Rok appliance instance per Ganeti host,
	// beside the host's guest instances, re-imaged through the RAPI.
	PlatformGaneti = "ganeti"
)

// Spec describes the cluster a new simulator creates. Once a state exists
// in the directory, it wins: Start resumes it and only the run-time knobs
// (AutoOperator, OperatorDelay, JobDelay, WaitTimeout) are taken from Spec.
type Spec struct {
	// Cluster is the Rok cluster name (ROK_CLUSTERNAME); members are
	// <hostname>.<Cluster>. Default "sim".
	Cluster string `json:"cluster"`
	// Platform is PlatformAppliance (default) or PlatformGaneti.
	Platform string `json:"platform"`
	// Nodes is the number of appliances (platform appliance; default 3).
	Nodes int `json:"nodes"`
	// Hosts is the number of Ganeti hosts, each carrying one RokE
	// appliance (platform ganeti; default 3).
	Hosts int `json:"hosts"`
	// Guests is the number of guest instances per Ganeti host (default 2).
	Guests int `json:"guests"`
	// Master is the index (0-based) of the first master; default 0.
	Master int `json:"master"`
	// FromVersion is the rok-base version every node runs at first; a bare
	// release such as "0.9.4" stands for its first package, "0.9.4-1".
	// Default "0.10.2-1".
	FromVersion string `json:"from_version"`
	// Upgrades are the releases the cluster can be upgraded to, in order:
	// their series strictly increase, each newer than FromVersion's. Each
	// has its script rok-cluster-upgrade-v<release> (on a node whose BOOT
	// disk is of its series or newer), its appliance BOOT disk
	// (release.BootVersion), its RokE image and Ganeti host packages
	// (imageVersion); the release.Catalogue (releases.go) says what each series
	// brings. Default ["0.11.0"], or for a cluster starting at 0.11 or
	// later the first release of the next series.
	Upgrades []string `json:"upgrades"`
	// Candidates is the initial cluster.master_candidates; nil means every
	// member, listed explicitly (so a playbook has a value to restore).
	Candidates []string `json:"candidates,omitempty"`
	// RAPIUser and RAPIPassword guard the RAPI's writes; the password is
	// generated when empty. RokEPassword is the appliances' root password.
	RAPIUser     string `json:"rapi_user"`
	RAPIPassword string `json:"rapi_password"`
	RokEPassword string `json:"roke_password"`
	// AutoOperator makes a simulated field operator swap the BOOT disk of
	// an appliance whose rok-base version a gate's check polls while it is
	// still old (demo mode).
	AutoOperator bool `json:"auto_operator"`
	// OperatorDelay is how long a node stays powered off during a BOOT
	// disk swap (default 2s).
	OperatorDelay Duration `json:"operator_delay"`
	// JobDelay is how long each Ganeti opcode takes (default 300ms).
	JobDelay Duration `json:"job_delay"`
	// WaitTimeout bounds a RAPI /2/jobs/ID/wait long poll (Ganeti: 10s).
	WaitTimeout Duration `json:"wait_timeout"`
	// NoEtcd runs without an etcd server: enable-etcd-auth then only
	// records the flag. For tests that do not look at etcd.
	NoEtcd bool `json:"no_etcd,omitempty"`
	// Faults are the faults injected from the start.
	Faults Faults `json:"faults"`
	// Log, when set, receives one line per event (node powered off, master
	// failover, job finished...). It is not persisted.
	Log io.Writer `json:"-"`
}

// Faults are injected failures. The control API changes them at run time;
// a fault lasts until it is removed ("healed") unless it has a count.
type Faults struct {
	// FailUpgradeNode lists members whose upgrade-node fails.
	FailUpgradeNode []string `json:"fail_upgrade_node,omitempty"`
	// Slow adds latency to every command run on a node or Ganeti host,
	// and to the Ganeti jobs acting on that host.
	Slow map[string]Duration `json:"slow,omitempty"`
	// FailJobs makes Ganeti opcodes fail.
	FailJobs []JobFault `json:"fail_jobs,omitempty"`
	// NoPowerOn lists nodes that do not come back after a power-off.
	NoPowerOn []string `json:"no_power_on,omitempty"`
}

// JobFault makes matching Ganeti opcodes fail with OpExecError.
type JobFault struct {
	// Op is the opcode (OP_INSTANCE_REINSTALL) or its short name
	// (reinstall, migrate, evacuate, shutdown, startup, role).
	Op string `json:"op"`
	// Target is the instance or node name the opcode acts on; "" is any.
	Target string `json:"target,omitempty"`
	// Times is how many more failures to inject; 0 means until healed.
	Times int `json:"times,omitempty"`
}

// Duration is a time.Duration written as "1.5s" in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "1.5s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		*d = Duration(v)
		return err
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a duration is a string such as \"1.5s\": %w", err)
	}
	*d = Duration(n)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

var clusterName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$`)

// WithDefaults fills in the zero fields and checks the rest: the Spec a
// new cluster is created from.
func (s Spec) WithDefaults() (Spec, error) {
	if s.Cluster == "" {
		s.Cluster = "sim"
	}
	if !clusterName.MatchString(s.Cluster) {
		return s, fmt.Errorf("cluster name %q: use lower-case letters, digits, '-' and '.'", s.Cluster)
	}
	if s.Platform == "" {
		s.Platform = PlatformAppliance
	}
	if s.Platform != PlatformAppliance && s.Platform != PlatformGaneti {
		return s, fmt.Errorf("platform %q: use %q or %q", s.Platform, PlatformAppliance, PlatformGaneti)
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&s.Nodes, 3)
	def(&s.Hosts, 3)
	def(&s.Guests, 2)
	n := s.Nodes
	if s.Platform == PlatformGaneti {
		n = s.Hosts
		if s.Hosts < 2 {
			return s, fmt.Errorf("a Ganeti cluster needs at least 2 hosts (guests move away during an upgrade), not %d", s.Hosts)
		}
	}
	if n < 1 || n > 200 {
		return s, fmt.Errorf("%d nodes: use 1 to 200", n)
	}
	if s.Guests < 0 || s.Guests > 20 {
		return s, fmt.Errorf("%d guests per host: use 0 to 20", s.Guests)
	}
	if s.Master < 0 || s.Master >= n {
		return s, fmt.Errorf("master index %d is not one of the %d nodes", s.Master, n)
	}
	str := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	str(&s.FromVersion, "0.10.2-1")
	str(&s.RAPIUser, "rokflow")
	if s.RAPIPassword == "" {
		s.RAPIPassword = randomToken(12)
	}
	if s.RokEPassword == "" {
		s.RokEPassword = randomToken(12)
	}
	if err := s.checkReleases(); err != nil {
		return s, err
	}
	if s.OperatorDelay == 0 {
		s.OperatorDelay = Duration(2 * time.Second)
	}
	if s.JobDelay == 0 {
		s.JobDelay = Duration(300 * time.Millisecond)
	}
	if s.WaitTimeout == 0 {
		s.WaitTimeout = Duration(10 * time.Second)
	}
	return s, nil
}

// Check reports what is wrong with a Spec a new cluster would be created
// from, as Start would.
func (s Spec) Check() error {
	_, err := s.WithDefaults()
	return err
}

// checkReleases completes and checks the starting release and the upgrade
// targets.
func (s *Spec) checkReleases() error {
	if release.Bare.MatchString(s.FromVersion) {
		s.FromVersion = release.BootVersion(s.FromVersion)
	}
	if _, err := debversion.Parse(s.FromVersion); err != nil {
		return fmt.Errorf("starting release %q: name a release, such as 0.10.2, or a rok-base version: %w", s.FromVersion, err)
	}
	from, err := release.Series(s.FromVersion)
	if err != nil {
		return fmt.Errorf("starting release: %w", err)
	}
	if len(s.Upgrades) == 0 {
		s.Upgrades = []string{defaultUpgrade(from)}
	}
	prev, prevRelease := from, ""
	for _, u := range s.Upgrades {
		if !release.Bare.MatchString(u) {
			return fmt.Errorf("upgrade target %q: name a release, such as 0.12.0", u)
		}
		ser := release.SeriesOf(u)
		switch {
		case release.CompareSeries(ser, from) <= 0:
			return fmt.Errorf("upgrade target %s is not newer than the release the cluster starts at, %s: each target must be of a later series than %s",
				u, release.Upstream(s.FromVersion), from)
		case release.CompareSeries(ser, prev) <= 0:
			return fmt.Errorf("upgrade target %s is listed after %s: list the targets in upgrade order, one release per series", u, prevRelease)
		case len(release.ProfileOf(ser).Commands) == 0:
			return fmt.Errorf("upgrade target %s: the simulator knows Rok %s only as a release a cluster starts at (it has no rok-cluster-upgrade-v%s script); targets start at %s",
				u, ser, u, firstTargetSeries())
		}
		prev, prevRelease = ser, u
	}
	return nil
}

// defaultUpgrade is the upgrade target of a cluster starting at series from
// when none is given: 0.11.0, the seed's, or the next series' first
// release.
func defaultUpgrade(from string) string {
	if release.CompareSeries(from, "0.11") < 0 {
		return "0.11.0"
	}
	major, minor, _ := strings.Cut(from, ".")
	var n int
	fmt.Sscan(minor, &n)
	return fmt.Sprintf("%s.%d.0", major, n+1)
}

// firstTargetSeries is the oldest series the simulator can upgrade to.
func firstTargetSeries() string {
	for _, p := range release.Catalogue {
		if len(p.Commands) > 0 {
			return p.Series
		}
	}
	return ""
}

// UnmarshalJSON reads a Spec, including one from a state file written
// before a cluster could have several upgrade targets: its release (or the
// release of its to_version) is then the one target.
func (s *Spec) UnmarshalJSON(b []byte) error {
	type plain Spec
	var v struct {
		plain
		Release   string `json:"release"`
		ToVersion string `json:"to_version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Spec(v.plain)
	if len(s.Upgrades) == 0 {
		switch {
		case v.Release != "":
			s.Upgrades = []string{v.Release}
		case v.ToVersion != "":
			if rel, err := debversion.Release(v.ToVersion); err == nil {
				s.Upgrades = []string{rel}
			}
		}
	}
	return nil
}

// randomToken returns n random bytes in hex.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}
