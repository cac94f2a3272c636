package runtime_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rokflow/rokflow/internal/benchgen"
	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
)

// writeRollingPlaybook writes the generated playbook of benchgen.Rolling.
func writeRollingPlaybook(tb testing.TB, nodes, stepsPerNode int) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := benchgen.Rolling(dir, nodes, stepsPerNode); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// planDir does what "rokflow plan" does short of printing: decode,
// validate, bind inputs and plan.
func planDir(tb testing.TB, dir string) int {
	pb, diags := lang.Load(dir)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	in := lang.NewInputSet()
	if ds := in.AddFile(filepath.Join(dir, "nodes.vars.hcl"), hclParser()); ds.HasErrors() {
		tb.Fatal(ds)
	}
	vals, diags := lang.BindInputs(pb.Root, in, false)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	p, diags := runtime.Plan(context.Background(), pb, registry(tb), runtime.Options{Inputs: vals})
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return len(p.Instances)
}

func benchmarkPlan(b *testing.B, nodes int) {
	dir := writeRollingPlaybook(b, nodes, 20)
	want := nodes*20 + 1
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n := planDir(b, dir); n != want {
			b.Fatalf("planned %d instances, want %d", n, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(want), "ns/instance")
}

// BenchmarkPlan1000x20 is the bar of 20,000 step instances in a rolling
// group: decode, validate and plan in ≤ 100 ms and ≤ 100 MB.
func BenchmarkPlan1000x20(b *testing.B) { benchmarkPlan(b, 1000) }

// BenchmarkPlan10000x20 checks that planning grows linearly (≤ 1.5 s).
func BenchmarkPlan10000x20(b *testing.B) { benchmarkPlan(b, 10000) }

func TestPlanGeneratedPlaybook(t *testing.T) {
	dir := writeRollingPlaybook(t, 25, 4)
	if n := planDir(t, dir); n != 25*4+1 {
		t.Fatalf("planned %d instances, want %d", n, 25*4+1)
	}
}
