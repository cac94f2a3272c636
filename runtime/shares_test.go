package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/builtin"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// TestConnectionPerModuleInstance checks that a connection is evaluated in
// its own module instance: the module called once per group element gives
// each element's steps that element's connection, planned one by one or
// in shares side by side.
func TestConnectionPerModuleInstance(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	pb, diags := lang.Load("testdata/parallel")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	in := lang.NewInputSet()
	var nodes []string
	for i := range 100 {
		nodes = append(nodes, fmt.Sprintf("%q", fmt.Sprintf("node-%d", i)))
	}
	if ds := in.AddFlag("nodes=[" + strings.Join(nodes, ",") + "]"); ds.HasErrors() {
		t.Fatal(ds)
	}
	vals, diags := lang.BindInputs(pb.Root, in, false)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, procs := range []int{1, 4} {
		prev := goruntime.GOMAXPROCS(procs)
		c, diags := compile(pb, reg)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		p := walk(context.Background(), pb, c, Options{Inputs: vals, Pure: true}, nil)
		goruntime.GOMAXPROCS(prev)
		seen := 0
		for i, inst := range p.plan.Instances {
			if inst.Step != "say" {
				continue
			}
			seen++
			want := "u-" + strings.TrimSuffix(strings.TrimPrefix(inst.Address, `group.g["`), `"].module.m.step.say`)
			conn := p.extras[i].conn
			if conn.IsNull() || !conn.Type().IsObjectType() || conn.GetAttr("user").AsString() != want {
				t.Fatalf("procs %d: %s has connection %#v, want user %s", procs, inst.Address, conn, want)
			}
		}
		if seen != 100 {
			t.Errorf("procs %d: %d say steps, want 100", procs, seen)
		}
	}
}

// TestPanicInShareKeepsItsStack checks that a kind panicking while a share
// plans it reaches the caller with the stack where it happened.
func TestPanicInShareKeepsItsStack(t *testing.T) {
	rec := stepstest.NewRecorder("boom", func(s *steps.Schema) { s.Target = steps.TargetNone })
	rec.PlanFunc = func(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
		if v := req.Args.GetAttr("value"); v.IsKnown() && !v.IsNull() && v.AsString() == "k77" {
			panic("kind exploded")
		}
		return steps.PlanResponse{Summary: "fine"}
	}
	reg, err := steps.NewRegistry(rec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var keys []string
	for i := range 100 {
		keys = append(keys, fmt.Sprintf("%q", fmt.Sprintf("k%d", i)))
	}
	src := "step \"s\" {\n  uses     = \"boom\"\n  for_each = toset([" + strings.Join(keys, ",") + "])\n  value    = each.key\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, diags := lang.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(4))
	defer func() {
		r := recover()
		sp, ok := r.(*SharePanic)
		if !ok {
			t.Fatalf("recovered %#v, want a *SharePanic", r)
		}
		if sp.Error() != "kind exploded" || !strings.Contains(string(sp.PanicStack()), "TestPanicInShareKeepsItsStack.func2") {
			t.Errorf("panic %q with stack:\n%s", sp.Error(), sp.PanicStack())
		}
	}()
	Plan(context.Background(), pb, reg, Options{})
	t.Fatal("planning did not panic")
}
