package runtime_test

import (
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
)

// TestPlanSharesMatchSequential plans a step's for_each and a group of 200
// elements each once with
// one CPU (element after element) and once with four (in shares side by
// side) and checks that the plans and their diagnostics are the same:
// instance order and numbering, dependencies on steps outside the group
// and inside each element, nested for_each, modules in elements, skipped
// and erroneous elements, and a later step reading the group's value.
func TestPlanSharesMatchSequential(t *testing.T) {
	in := lang.NewInputSet()
	var nodes []string
	for i := range 200 {
		nodes = append(nodes, fmt.Sprintf("%q", fmt.Sprintf("node-%d", i)))
	}
	if ds := in.AddFlag("nodes=[" + strings.Join(nodes, ",") + "]"); ds.HasErrors() {
		t.Fatal(ds)
	}
	planWith := func(procs int) (string, string) {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(procs))
		p, diags := planPath(t, "testdata/parallel", in)
		if p == nil {
			t.Fatalf("no plan: %v", diags)
		}
		runtime.EncodeArgs(p)
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), diagText(diags)
	}
	seqPlan, seqDiags := planWith(1)
	parPlan, parDiags := planWith(4)
	if seqPlan != parPlan {
		t.Errorf("plans differ:\n%s", firstDifference(seqPlan, parPlan))
	}
	if seqDiags != parDiags {
		t.Errorf("diagnostics differ:\nsequential:\n%s\nin shares:\n%s", seqDiags, parDiags)
	}
	// The fixture is what it claims to be.
	for _, want := range []string{
		`"address":"group.g[\"node-199\"].step.c"`,
		`"address":"group.g[\"node-3\"].step.b","step":"b","kind":"exec","action":"skip"`,
		`"address":"group.g[\"node-7\"].module.m.step.per[\"y\"]"`,
		`"address":"group.g[\"node-42\"].module.m.step.say"`,
		`200 nodes`,
		`"address":"step.per_node[\"node-9\"]","step":"per_node","kind":"exec","action":"skip"`,
		`(known after step.per_node[\"node-2\"])`,
	} {
		if !strings.Contains(parPlan, want) {
			t.Errorf("plan lacks %s", want)
		}
	}
	if strings.Count(parDiags, "Empty command") != 2 || strings.Count(parDiags, "\n") != 2 {
		t.Errorf("want two Empty command errors (node-11, node-5), got:\n%s", parDiags)
	}
}

func diagText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%s: %s: %s\n", d.Subject, d.Summary, d.Detail)
	}
	return b.String()
}

func firstDifference(a, b string) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			lo := max(0, i-200)
			return fmt.Sprintf("at byte %d:\n  one by one: …%s…\n  in shares:  …%s…", i, a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}
