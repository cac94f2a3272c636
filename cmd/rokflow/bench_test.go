package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rokflow/rokflow/internal/benchgen"
	"github.com/rokflow/rokflow/sim"
)

// buildRokflow builds the rokflow command into a temporary directory: the
// process benchmarks measure the real binary, start-up included.
func buildRokflow(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "rokflow")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func benchProcess(b *testing.B, bin string, args ...string) {
	b.Helper()
	for b.Loop() {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("rokflow %v: %v\n%s", args, err, out)
		}
	}
}

// BenchmarkValidateProcess is "rokflow validate playbooks/rok-v0.11" as a
// whole process (bar: 50 ms).
func BenchmarkValidateProcess(b *testing.B) {
	bin := buildRokflow(b)
	b.ResetTimer()
	benchProcess(b, bin, "validate", "../../playbooks/rok-v0.11")
}

// BenchmarkValidateProcess1000x20 is decode, validate and plan of 20,001
// step instances (1,000 nodes × 20 steps in a rolling group) by the
// rokflow command, start-up included (bar: 100 ms).
func BenchmarkValidateProcess1000x20(b *testing.B) {
	bin := buildRokflow(b)
	dir := b.TempDir()
	if err := benchgen.Rolling(dir, 1000, 20); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	benchProcess(b, bin, "validate", dir, "--var-file", filepath.Join(dir, "nodes.vars.hcl"))
}

// benchSim starts a simulated cluster for a process benchmark and returns
// its var file and the environment holding its secrets.
func benchSim(b *testing.B, spec sim.Spec) (vars string, env []string) {
	b.Helper()
	e := startSim(b, spec)
	return e.vars, e.env
}

func benchProcessEnv(b *testing.B, bin string, env []string, args ...string) {
	b.Helper()
	for b.Loop() {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("rokflow %v: %v\n%s", args, err, out)
		}
	}
}

// BenchmarkPlanHop100 plans the v0.11 playbook with discovery against a
// simulated cluster of 100 appliances, as a whole process; the chain's
// bar is measured against it.
func BenchmarkPlanHop100(b *testing.B) {
	bin := buildRokflow(b)
	vars, env := benchSim(b, sim.Spec{Nodes: 100, NoEtcd: true, Upgrades: []string{"0.11.0", "0.12.0"}})
	b.ResetTimer()
	benchProcessEnv(b, bin, env, "plan", shipped, "--var-file", vars, "--discover")
}

// BenchmarkPlanChain100 plans the two-hop chain 0.10 → 0.11 → 0.12 on the
// same cluster: the catalogue loaded, the cluster's release discovered,
// the first hop planned with discovery and the second as far as it can be
// known (bar: at most twice BenchmarkPlanHop100).
func BenchmarkPlanChain100(b *testing.B) {
	bin := buildRokflow(b)
	vars, env := benchSim(b, sim.Spec{Nodes: 100, NoEtcd: true, Upgrades: []string{"0.11.0", "0.12.0"}})
	b.ResetTimer()
	benchProcessEnv(b, bin, env, "plan", catalogue, "--to", "0.12.0", "--var-file", vars)
}
