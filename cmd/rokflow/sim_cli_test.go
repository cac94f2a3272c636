package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// TestSimStartRefusesBadReleases: a cluster that could not be created is
// refused before anything starts, as a usage error.
func TestSimStartRefusesBadReleases(t *testing.T) {
	tests := map[string]struct {
		args []string
		err  string
	}{
		"out of order":  {[]string{"--upgrade-to", "0.12.0,0.11.0"}, "upgrade target 0.11.0 is listed after 0.12.0"},
		"repeated":      {[]string{"--upgrade-to", "0.12.0", "--upgrade-to", "0.11.0"}, "upgrade target 0.11.0 is listed after 0.12.0"},
		"not newer":     {[]string{"--release", "0.11.0", "--upgrade-to", "0.11.2"}, "upgrade target 0.11.2 is not newer than the release the cluster starts at, 0.11.0"},
		"not a release": {[]string{"--upgrade-to", "0.12"}, `upgrade target "0.12": name a release, such as 0.12.0`},
		"start only":    {[]string{"--release", "0.9.4", "--upgrade-to", "0.10.1"}, "knows Rok 0.10 only as a release a cluster starts at"},
		"bad start":     {[]string{"--release", "v0.10"}, "starting release"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "sim")
			code, _, stderr := run(t, nil, append([]string{"sim", "start", "--dir", dir}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.err) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, exitUsage, tc.err, stderr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the refused start left %s behind: %v", dir, err)
			}
		})
	}
}

// TestSimStartReleases starts a simulator with the CLI's release flags in
// the background, as an operator does, and reads them back in sim status.
func TestSimStartReleases(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sim")
	code, out, stderr := runChild(t, rokflowCmd("sim", "start", "--dir", dir, "--nodes", "2",
		"--release", "0.10.2", "--upgrade-to", "0.11.0", "--upgrade-to", "0.12.0"), 2*time.Minute)
	if code != 0 {
		t.Fatalf("sim start exited %d:\n%s%s", code, out, stderr)
	}
	t.Cleanup(func() {
		if code, out, stderr := runChild(t, rokflowCmd("sim", "stop", "--dir", dir), time.Minute); code != 0 {
			t.Errorf("sim stop exited %d:\n%s%s", code, out, stderr)
		}
	})
	code, out, stderr = run(t, nil, "sim", "status", "--dir", dir, "--json")
	if code != 0 {
		t.Fatalf("sim status exited %d:\n%s", code, stderr)
	}
	var st sim.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.StartRelease != "0.10.2" || strings.Join(st.Upgrades, " ") != "0.11.0 0.12.0" || st.Finalized != "" || len(st.Nodes) != 2 {
		t.Errorf("status: start %q upgrades %q finalized %q, %d nodes", st.StartRelease, st.Upgrades, st.Finalized, len(st.Nodes))
	}
	for _, n := range st.Nodes {
		if n.Boot != "0.10.2-1" || n.NodeState != "0.10.2" {
			t.Errorf("%s: BOOT disk %s, node state %s", n.Name, n.Boot, n.NodeState)
		}
	}
	if _, text, _ := run(t, nil, "sim", "status", "--dir", dir); !strings.Contains(text, "started at 0.10.2, upgrades to 0.11.0, then 0.12.0") {
		t.Errorf("status text:\n%s", text)
	}
	// The spec, which may hold the cluster's passwords, reaches the
	// simulator through its environment, not its command line, which
	// every user of the machine can read.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.PID))
	if err != nil {
		t.Fatalf("the simulator's command line: %v", err)
	}
	if args := strings.ReplaceAll(string(cmdline), "\x00", " "); !strings.Contains(args, "rokflow-sim serve --dir") || strings.Contains(args, "password") || strings.Contains(args, "{") {
		t.Errorf("the simulator's command line: %s", args)
	}
}
