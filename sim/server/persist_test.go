package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/internal/release"
)

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	spec := sim.Spec{NoEtcd: true, Faults: sim.Faults{FailUpgradeNode: []string{"rok3.sim"}}}
	s, err := Start(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	pin(t, s, "rok1.sim")
	upgradeMaster(t, s, "rok1.sim")
	operate(t, s, sim.ActionPowerOff, "rok2.sim")
	writeFile(t, s, "rok3.sim", "/etc/rok/note", "kept\n")
	// Every change is on disk at once, not only at Close.
	var onDisk state
	data, _ := os.ReadFile(filepath.Join(dir, stateFile))
	if err := json.Unmarshal(data, &onDisk); err != nil || onDisk.Cluster.SharedState != "0.11.0" || onDisk.node("rok2.sim").On {
		t.Fatalf("state file not current: %v", err)
	}
	before := s.Status()
	known, _ := os.ReadFile(filepath.Join(dir, sim.KnownHostsFile))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, sim.RuntimeFile)); !os.IsNotExist(err) {
		t.Errorf("sim.json left behind: %v", err)
	}

	// A different spec does not change a resumed cluster.
	s, err = Start(dir, sim.Spec{Nodes: 5, Cluster: "other", NoEtcd: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after := s.Status()
	for _, f := range []string{"Cluster", "Master", "SharedState", "Candidates", "Nodes", "Counters", "Faults", "Migrations"} {
		b, a := fieldOf(before, f), fieldOf(after, f)
		if !reflect.DeepEqual(b, a) {
			t.Errorf("%s changed across the restart:\n%v\n%v", f, b, a)
		}
	}
	if again, _ := os.ReadFile(filepath.Join(dir, sim.KnownHostsFile)); string(again) != string(known) {
		t.Errorf("host keys or ports changed:\n%s\n%s", known, again)
	}
	if got := must(t, s, "rok3.sim", "cat", "/etc/rok/note"); got != "kept\n" {
		t.Errorf("node file: %q", got)
	}
	refused(t, s, "rok1.sim", "already at 0.11.0", upgrade, "upgrade-cluster")
	// The restarted server is reachable where the var-file says.
	vars, _ := os.ReadFile(filepath.Join(dir, sim.VarsFile))
	if !strings.Contains(string(vars), fmt.Sprintf("%q = %q", "rok1.sim", after.Node("rok1.sim").SSH)) {
		t.Errorf("vars file does not match the ports:\n%s", vars)
	}
	c := sshClient(t, s, "rok1.sim")
	if r, err := sshRun(t, c, "exec 'hostname'", ""); err != nil || r.stdout != "rok1\n" {
		t.Errorf("SSH after restart: %+v %v", r, err)
	}
	if _, err := Start(dir, sim.Spec{}); err == nil || !strings.Contains(err.Error(), "another simulator is running") {
		t.Errorf("a second simulator on the same directory: %v", err)
	}
}

func fieldOf(st sim.Status, name string) any {
	return reflect.ValueOf(st).FieldByName(name).Interface()
}

// TestJobResumesAfterRestart stops the simulator while a Ganeti job runs;
// the restarted queue finishes it, and the reinstall takes effect once.
func TestJobResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	spec := sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, NoEtcd: true, JobDelay: sim.Duration(200 * time.Millisecond)}
	s, err := Start(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	c := newRAPITest(t, s)
	_, id := c.do("POST", "/2/instances/roke2.gnt.sim/reinstall", map[string]any{"os": "snf-image+default",
		"osparams": map[string]any{"img_id": release.ImageID(release.ImageVersion("0.11.0")), "img_format": "diskdump"}}, "ok")
	eventually(t, "the job to start", func() bool {
		_, j := c.do("GET", fmt.Sprintf("/2/jobs/%v", id), nil, "")
		return j.(map[string]any)["status"] == "running"
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Start(dir, sim.Spec{JobDelay: sim.Duration(5 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c = newRAPITest(t, s)
	j := c.job(id)
	if j["status"] != "success" {
		t.Fatalf("resumed job: %v %v", j["status"], j["opresult"])
	}
	if n := s.Status().Node("roke2.sim"); n.Boot != release.ImageVersion("0.11.0") || n.Power != "on" {
		t.Errorf("roke2 after the resumed reinstall: %+v", n)
	}
}
