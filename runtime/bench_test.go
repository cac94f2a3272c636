package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
)

// writeRollingPlaybook writes a playbook with one discovery step and a
// rolling group of steps over nodes nodes.
func writeRollingPlaybook(tb testing.TB, nodes, stepsPerNode int) string {
	tb.Helper()
	dir := tb.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "playbook {\n  name = \"generated\"\n}\n\n")
	fmt.Fprintf(&b, "variable \"nodes\" {\n  type = list(string)\n}\n\n")
	fmt.Fprintf(&b, "step \"discover\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n\n")
	fmt.Fprintf(&b, "group \"nodes\" {\n  for_each   = var.nodes\n  depends_on = [step.discover]\n\n  rolling {\n    batch        = 10\n    max_failures = 2\n  }\n")
	for i := 0; i < stepsPerNode; i++ {
		fmt.Fprintf(&b, "\n  step \"s%02d\" {\n    uses    = \"exec\"\n    on      = each.value\n    command = [\"echo\", \"step %d\", each.key]\n", i, i)
		if i > 0 {
			fmt.Fprintf(&b, "    depends_on = [step.s%02d]\n", i-1)
		}
		fmt.Fprintf(&b, "  }\n")
	}
	fmt.Fprintf(&b, "}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	var vars strings.Builder
	vars.WriteString("nodes = [")
	for i := 0; i < nodes; i++ {
		if i > 0 {
			vars.WriteString(", ")
		}
		fmt.Fprintf(&vars, "\"node%05d\"", i)
	}
	vars.WriteString("]\n")
	if err := os.WriteFile(filepath.Join(dir, "nodes.vars.hcl"), []byte(vars.String()), 0o644); err != nil {
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
