package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// TestE2ESecretsNeverLeak runs the v0.11 upgrade of RokE on Ganeti, whose
// RAPI password and RokE root password are sensitive inputs, and searches
// everything rokflow printed and every file it wrote (journal, approvals,
// plan file) for either secret.
func TestE2ESecretsNeverLeak(t *testing.T) {
	e := startSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, JobDelay: sim.Duration(10 * time.Millisecond)})
	var secrets []string
	for _, kv := range e.env {
		if _, v, ok := strings.Cut(kv, "="); ok && len(v) >= 6 {
			secrets = append(secrets, v)
		}
	}
	if len(secrets) != 2 {
		t.Fatalf("want the RAPI and RokE passwords, have %d secrets", len(secrets))
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	var printed strings.Builder
	runs := [][]string{
		{"validate", shipped},
		{"plan", shipped, "--var-file", e.vars, "--discover"},
		{"plan", shipped, "--var-file", e.vars, "--json", "--out", planFile},
		{"graph", shipped, "--var-file", e.vars},
		append(e.applyArgs(shipped), "--json"),
		{"state", "show", shipped, "--state", e.state},
		{"state", "show", shipped, "--state", e.state, "--json"},
		{"state", "list", shipped, "--state", e.state, "--json"},
	}
	for _, args := range runs {
		code, out, stderr := runChild(t, e.rokflow(args...), 3*time.Minute)
		if code != 0 {
			t.Fatalf("rokflow %s exited %d:\n%s\n%s", strings.Join(args, " "), code, lastLines(out, 30), stderr)
		}
		for _, s := range secrets {
			if i := strings.Index(out+stderr, s); i >= 0 {
				ctx := (out + stderr)[max(0, i-300):i]
				t.Errorf("rokflow %s printed a secret, after: %q", args[0], ctx)
			}
		}
		printed.WriteString(out + stderr)
	}
	all := printed.String()
	if !strings.Contains(all, "(sensitive)") {
		t.Fatal("nothing was shown masked; the test would not see a leak")
	}
	files := []string{planFile}
	stateDir := strings.TrimPrefix(e.state, "file://")
	_ = filepath.WalkDir(stateDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 3 {
		t.Fatalf("found only %v; the journal was not written where expected", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds a secret", f)
			}
		}
	}
}
