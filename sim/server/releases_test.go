package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/internal/release"
)

// TestSpecReleases checks how a Spec's starting release and upgrade targets
// are completed and validated.
func TestSpecReleases(t *testing.T) {
	tests := map[string]struct {
		from     string
		upgrades []string
		wantFrom string
		want     []string
		err      string
	}{
		"defaults":             {wantFrom: "0.10.2-1", want: []string{"0.11.0"}},
		"two targets":          {upgrades: []string{"0.11.0", "0.12.0"}, wantFrom: "0.10.2-1", want: []string{"0.11.0", "0.12.0"}},
		"bare release":         {from: "0.9.4", wantFrom: "0.9.4-1", want: []string{"0.11.0"}},
		"package version":      {from: "0.10.1-3", wantFrom: "0.10.1-3", want: []string{"0.11.0"}},
		"start at 0.11":        {from: "0.11.0", wantFrom: "0.11.0-1", want: []string{"0.12.0"}},
		"start at 0.12":        {from: "0.12.1", wantFrom: "0.12.1-1", want: []string{"0.13.0"}},
		"generic targets":      {upgrades: []string{"0.11.0", "0.12.0", "0.13.0", "1.0.0"}, wantFrom: "0.10.2-1", want: []string{"0.11.0", "0.12.0", "0.13.0", "1.0.0"}},
		"a gap":                {upgrades: []string{"0.12.0"}, wantFrom: "0.10.2-1", want: []string{"0.12.0"}},
		"not a version":        {from: "v0.10", err: `starting release "v0.10"`},
		"target not a release": {upgrades: []string{"0.12"}, err: `upgrade target "0.12": name a release, such as 0.12.0`},
		"target a package":     {upgrades: []string{"0.12.0-1"}, err: `upgrade target "0.12.0-1": name a release`},
		"same series":          {upgrades: []string{"0.10.3"}, err: "upgrade target 0.10.3 is not newer than the release the cluster starts at, 0.10.2: each target must be of a later series than 0.10"},
		"older":                {from: "0.11.0", upgrades: []string{"0.10.3"}, err: "upgrade target 0.10.3 is not newer"},
		"out of order":         {upgrades: []string{"0.12.0", "0.11.0"}, err: "upgrade target 0.11.0 is listed after 0.12.0: list the targets in upgrade order"},
		"one per series":       {upgrades: []string{"0.11.0", "0.11.1"}, err: "upgrade target 0.11.1 is listed after 0.11.0"},
		"starting only":        {from: "0.9.4", upgrades: []string{"0.10.2"}, err: "upgrade target 0.10.2: the simulator knows Rok 0.10 only as a release a cluster starts at (it has no rok-cluster-upgrade-v0.10.2 script); targets start at 0.11"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := sim.Spec{FromVersion: tc.from, Upgrades: tc.upgrades}
			err := spec.Check()
			got, _ := spec.WithDefaults()
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case got.FromVersion != tc.wantFrom || !slices.Equal(got.Upgrades, tc.want):
				t.Errorf("from %q upgrades %q, want %q %q", got.FromVersion, got.Upgrades, tc.wantFrom, tc.want)
			}
		})
	}
}

// TestLegacySpec reads the spec of a state file written when a cluster had
// one target, named by release (or only by to_version).
func TestLegacySpec(t *testing.T) {
	tests := map[string]struct {
		json string
		want []string
	}{
		"release":    {`{"from_version":"0.10.2-1","to_version":"0.11.0-1","image_version":"0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b","release":"0.11.0"}`, []string{"0.11.0"}},
		"to_version": {`{"from_version":"0.10.2-1","to_version":"0.11.0-1"}`, []string{"0.11.0"}},
		"upgrades":   {`{"from_version":"0.10.2-1","upgrades":["0.11.0","0.12.0"],"release":"0.11.0"}`, []string{"0.11.0", "0.12.0"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var s sim.Spec
			if err := json.Unmarshal([]byte(tc.json), &s); err != nil {
				t.Fatal(err)
			}
			if s.FromVersion != "0.10.2-1" || !slices.Equal(s.Upgrades, tc.want) {
				t.Errorf("from %q upgrades %q, want %q", s.FromVersion, s.Upgrades, tc.want)
			}
		})
	}
}

// TestLegacyStateResumes resumes a state file without upgrades, as one
// written before them.
func TestLegacyStateResumes(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(dir, sim.Spec{NoEtcd: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, stateFile)
	data, _ := os.ReadFile(path)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	spec := doc["spec"].(map[string]any)
	delete(spec, "upgrades")
	spec["release"], spec["to_version"], spec["image_version"] = "0.11.0", "0.11.0-1", release.ImageVersion("0.11.0")
	data, _ = json.Marshal(doc)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Start(dir, sim.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Status(); !slices.Equal(st.Upgrades, []string{"0.11.0"}) || st.StartRelease != "0.10.2" {
		t.Errorf("resumed: start %q upgrades %q", st.StartRelease, st.Upgrades)
	}
	pin(t, s, "rok1.sim")
	upgradeMaster(t, s, "rok1.sim")
}

// TestCatalogue checks the catalogue's data and what is derived from it.
func TestCatalogue(t *testing.T) {
	seen := map[string]string{}
	for i, p := range release.Catalogue {
		if i > 0 && release.CompareSeries(release.Catalogue[i-1].Series, p.Series) >= 0 {
			t.Errorf("the catalogue is not in series order at %s", p.Series)
		}
		for _, c := range p.Commands {
			if upgradeVerbs[c] == nil {
				t.Errorf("%s: the simulator has no %s", p.Series, c)
			}
		}
		for _, m := range p.Migrations {
			if seen[m] != "" {
				t.Errorf("migration %s is in %s and %s", m, seen[m], p.Series)
			}
			seen[m] = p.Series
		}
	}
	profiles := map[string]struct {
		commands   []string
		mapVersion int
		required   bool
	}{
		"0.8":  {release.GenericCommands, 2, false},
		"0.9":  {nil, 2, false},
		"0.10": {nil, 3, false},
		"0.11": {[]string{release.OpUpgradeCluster, release.OpUpgradeNode, release.OpEnableEtcdAuth}, 3, false},
		"0.12": {[]string{release.OpUpgradeCluster, release.OpUpgradeNode, release.OpFinalize}, 4, true},
		"0.13": {release.GenericCommands, 4, false},
		"1.0":  {release.GenericCommands, 4, false},
	}
	for ser, want := range profiles {
		p := release.ProfileOf(ser)
		if p.Series != ser || !slices.Equal(p.Commands, want.commands) || p.MapVersion != want.mapVersion || p.MapVersionRequired != want.required {
			t.Errorf("profileOf(%s) = %+v, want %+v", ser, p, want)
		}
	}
	for rel, want := range map[string]string{
		"0.11.0": "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", // the seed's
		"0.11.2": "0.11.2-1",
		"0.12.0": "0.12.0-1",
		"1.0.0":  "1.0.0-1",
	} {
		if got := release.ImageVersion(rel); got != want {
			t.Errorf("imageVersion(%s) = %s, want %s", rel, got, want)
		}
	}
	if got := release.BootVersion("0.11.0"); got != "0.11.0-1" {
		t.Errorf("bootVersion(0.11.0) = %s", got)
	}
	for ser, want := range map[string]string{"0.9": "gateway.0004_tasks", "0.10": "gateway.0006_retain_periodic", "0.11": "gateway.0008_bucket_publish_state",
		"0.12": "gateway.0009_object_lock_retention", "0.13": "gateway.0009_object_lock_retention"} {
		if ms := release.KnownMigrations(ser); ms[len(ms)-1] != want {
			t.Errorf("knownMigrations(%s) ends with %s, want %s", ser, ms[len(ms)-1], want)
		}
	}
	for ser, want := range map[string]bool{"0.9": false, "0.10": false, "0.11": true, "0.12": true, "0.13": true} {
		if release.HTTPEndpoints(ser) != want || release.EtcdAuthFrom(ser) != want {
			t.Errorf("%s: http endpoints %v, etcd auth %v, want %v", ser, release.HTTPEndpoints(ser), release.EtcdAuthFrom(ser), want)
		}
	}
	old := "Upgrade a Rok cluster to v0.11.0: upgrade-cluster on the master, then upgrade-node on\nevery node (the master first), then enable-etcd-auth on the master."
	if got := upgradeHelp("0.11.0", release.ProfileOf("0.11").Commands); got != old {
		t.Errorf("0.11 help:\n%s", got)
	}
}

// TestUpgradesFrom: a release upgrades state from the previous minor
// series, or for a new major series from the one before it on the path.
func TestUpgradesFrom(t *testing.T) {
	st := &state{Spec: sim.Spec{FromVersion: "0.10.2-1", Upgrades: []string{"0.11.0", "0.13.0", "1.0.0", "2.0.0"}}}
	for rel, want := range map[string]string{"0.11.0": "0.10", "0.12.0": "0.11", "0.13.0": "0.12", "1.0.0": "0.13", "1.1.0": "1.0", "2.0.0": "1.0"} {
		if got := st.upgradesFrom(rel); got != want {
			t.Errorf("upgradesFrom(%s) = %s, want %s", rel, got, want)
		}
	}
	if got := st.nextTarget("0.11"); got != "0.13.0" {
		t.Errorf("nextTarget(0.11) = %s", got)
	}
	if got := st.nextTarget("2.0"); got != "" {
		t.Errorf("nextTarget(2.0) = %s", got)
	}
}

// TestMapVersionRule checks the daemons' map-version rule on daemons.conf
// files, wherever the key is.
func TestMapVersionRule(t *testing.T) {
	tests := map[string]struct {
		series, conf string
		want         []string
	}{
		"0.12 with 4":          {"0.12", "[composerd.0]\nmap-version = 4\n", nil},
		"0.12 with 3":          {"0.12", "[openstored.0]\nlisten = x\n\n[composerd.0]\nmap-version = 3\n", []string{"rok-composerd: error: argument --map-version: invalid choice: '3' (/etc/rok/daemons.conf:5): Rok 0.12 reads and writes composer map version 4 only (choose from '4')"}},
		"0.12 without":         {"0.12", "[composerd.0]\nconnect = x\n", []string{"rok-daemons: error: the following arguments are required: --map-version (/etc/rok/daemons.conf): Rok 0.12 uses composer map version 4; set map-version = 4"}},
		"0.12 at the top":      {"0.12", "map-version = 4\n[composerd.0]\n", nil},
		"0.12 in DEFAULT":      {"0.12", "[DEFAULT]\nmap-version=3\n", []string{"rok-daemons: error: argument --map-version: invalid choice: '3' (/etc/rok/daemons.conf:2)"}},
		"0.12 one of two":      {"0.12", "map-version = 4\n[composerd.0]\nmap-version = 3\n", []string{"rok-composerd: error: argument --map-version: invalid choice: '3'"}},
		"0.12 not a number":    {"0.12", "[composerd.0]\nmap-version = four\n", []string{"invalid choice: 'four'"}},
		"0.11 with 4":          {"0.11", "[composerd.0]\nmap-version = 4\n", []string{"Rok 0.11 reads and writes composer map version 3 only (choose from '3')"}},
		"0.11 without":         {"0.11", "[composerd.0]\n", nil},
		"0.9 with 2":           {"0.9", "[composerd.0]\nmap-version = 2\n", nil},
		"0.10 with 2":          {"0.10", "[composerd.0]\nmap-version = 2\n", []string{"Rok 0.10 reads and writes composer map version 3 only"}},
		"generic keeps the 4":  {"0.13", "[composerd.0]\nmap-version = 4\n", nil},
		"commented is not set": {"0.12", "[composerd.0]\n# map-version = 4\n", []string{"the following arguments are required: --map-version"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if err := writeInitial(root, daemonsConfPath, tc.conf, 0o644); err != nil {
				t.Fatal(err)
			}
			got := mapVersionProblems(root, tc.series)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %q, want %q", got[i], tc.want[i])
				}
			}
		})
	}
}
