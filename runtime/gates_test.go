package runtime_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/state"
)

const gatesPlaybook = "testdata/gates"

func gateAddresses(t *testing.T, seen []string) []string {
	t.Helper()
	pb, diags := lang.Load(gatesPlaybook)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	gates, diags := runtime.GateAddresses(pb, registry(t), seen)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return gates
}

func TestGateAddresses(t *testing.T) {
	tests := map[string]struct {
		seen []string
		want []string
	}{
		"without a run": {nil, []string{
			"step.gate[*]",
			`step.fixed["b"]`,
			`step.fixed["a"]`,
			"group.g[*].module.node.step.swap",
			"group.g[*].module.node.hook.after_swap.step.confirm",
		}},
		"keys the run journaled": {[]string{
			`group.g["n2"].module.node.step.other`,
			`group.g["n1"].module.node.step.other`,
			`group.g["n1"].module.node.step.swap`,
			`group.gx["n3"].module.node.step.other`, // another group
			`step.gate["k1"]`,
			"step.work",
		}, []string{
			`step.gate["k1"]`,
			"step.gate[*]",
			`step.fixed["b"]`,
			`step.fixed["a"]`,
			`group.g["n1"].module.node.step.swap`,
			`group.g["n2"].module.node.step.swap`,
			"group.g[*].module.node.step.swap",
			`group.g["n1"].module.node.hook.after_swap.step.confirm`,
			`group.g["n2"].module.node.hook.after_swap.step.confirm`,
			"group.g[*].module.node.hook.after_swap.step.confirm",
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := gateAddresses(t, tc.seen); !slices.Equal(got, tc.want) {
				t.Errorf("gates\n got: %q\nwant: %q", got, tc.want)
			}
		})
	}
}

// TestGateAddressesCoverThePlan checks the listing against the planner:
// with the inputs of a run, every gate the plan has is selected by a
// listed address, and every address listed without a hole is in the plan.
func TestGateAddressesCoverThePlan(t *testing.T) {
	in := lang.NewInputSet()
	for _, v := range []string{`keys=["k1", "k2"]`, `nodes=["n1", "n2"]`} {
		if diags := in.AddFlag(v); diags.HasErrors() {
			t.Fatal(diags)
		}
	}
	p, diags := planPath(t, gatesPlaybook, in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	gates := gateAddresses(t, nil)
	planned := map[string]bool{}
	for _, inst := range p.Instances {
		if !inst.Gate {
			continue
		}
		planned[inst.Address] = true
		if !slices.ContainsFunc(gates, func(g string) bool { return addrs.Compile(inst.Address).MatchTemplate(g) }) {
			t.Errorf("the plan's gate %s is not among the listed gates %q", inst.Address, gates)
		}
	}
	for _, g := range gates {
		if !addrs.IsTemplate(g) && !planned[g] {
			t.Errorf("listed gate %s is not in the plan", g)
		}
	}
	if len(planned) != 8 {
		t.Errorf("the plan has %d gates, want 8", len(planned))
	}
}

func TestMatchGates(t *testing.T) {
	gates := gateAddresses(t, []string{`group.g["n1"].module.node.step.other`})
	tests := map[string]struct {
		pattern string
		want    []string // the gates matched; nil for a refusal
		err     string   // part of the refusal's detail
	}{
		"exact":                {`step.fixed["a"]`, []string{`step.fixed["a"]`}, ""},
		"every element":        {"step.gate[*]", []string{"step.gate[*]"}, ""},
		"literal elements":     {"step.fixed[*]", []string{`step.fixed["b"]`, `step.fixed["a"]`}, ""},
		"an element not known": {`step.gate["k9"]`, []string{`step.gate["k9"]`}, ""},
		"the help's example":   {`group.g["n1"].*`, []string{`group.g["n1"].module.node.step.swap`, `group.g["n1"].module.node.hook.after_swap.step.confirm`}, ""},
		"an element not seen":  {`group.g["n7"].*`, []string{`group.g["n7"].module.node.step.swap`, `group.g["n7"].module.node.hook.after_swap.step.confirm`}, ""},
		"every group element": {"group.g[*].*", []string{
			`group.g["n1"].module.node.step.swap`,
			"group.g[*].module.node.step.swap",
			`group.g["n1"].module.node.hook.after_swap.step.confirm`,
			"group.g[*].module.node.hook.after_swap.step.confirm",
		}, ""},
		"elements by a star in the key": {`group.g["n*"].*`, []string{
			`group.g["n1"].module.node.step.swap`,
			`group.g["n1"].module.node.hook.after_swap.step.confirm`,
		}, ""},
		"elements by a star, none seen": {`group.g["x*"].*`, []string{"group.g[*].module.node.step.swap", "group.g[*].module.node.hook.after_swap.step.confirm"}, ""},
		"a gate a caller put in a hook": {`group.g["n2"].module.node.hook.after_swap.step.confirm`, []string{`group.g["n2"].module.node.hook.after_swap.step.confirm`}, ""},
		"no such step":                  {"step.nosuch", nil, `Its gates are step.gate[*], step.fixed["b"]`},
		"not a gate":                    {"step.work", nil, "matches no gate"},
		"a literal key not there":       {`step.fixed["c"]`, nil, `Did you mean step.fixed["b"]?`},
		"a typo in a name":              {`step.fxed["a"]`, nil, `Did you mean step.fixed["a"]?`},
		"a typo in an element's step":   {`group.g["n7"].module.node.step.swp`, nil, `Did you mean group.g["n7"].module.node.step.swap?`},
		"a typo in a group's name":      {`group.h["n1"].*`, nil, `Did you mean group.g["n1"].*?`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := addrs.ParsePattern(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			ms, diags := runtime.MatchGates(gates, []addrs.Pattern{p})
			if tc.want == nil {
				if !diags.HasErrors() || len(ms[0].Gates) != 0 {
					t.Fatalf("%s was taken, matching %q", tc.pattern, ms[0].Gates)
				}
				if d := diags[0]; d.Summary != "No such gate" || !strings.Contains(d.Detail, tc.err) {
					t.Errorf("refusal %q: %s; want it to say %q", d.Summary, d.Detail, tc.err)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("%s refused: %v", tc.pattern, diags)
			}
			if !slices.Equal(ms[0].Gates, tc.want) {
				t.Errorf("%s matches\n %q\nwant %q", tc.pattern, ms[0].Gates, tc.want)
			}
		})
	}
}

// TestApplyApproveUsesAddressPatterns: a pattern given to apply and one
// recorded in the journal select the elements of a step's for_each, which
// path.Match (reading [*] as a character class) never did.
func TestApplyApproveUsesAddressPatterns(t *testing.T) {
	const src = `
step "gate" {
  for_each     = ["a", "b"]
  uses         = "manual"
  instructions = "Check ${each.key}."
}
`
	f := newApplyFixture(t, src)
	res := f.apply()
	if res.Status != runtime.RunPaused || len(res.Waiting) != 2 {
		t.Fatalf("first apply: %+v", res)
	}
	if err := f.backend.Approve(context.Background(), state.Record{Kind: state.KindApproval, Run: res.Run, Addr: "step.gate[*]", Holder: &state.Holder{User: "operator"}}); err != nil {
		t.Fatal(err)
	}
	if res := f.apply(); res.Status != runtime.RunSucceeded {
		t.Fatalf("the journal's step.gate[*] did not pass the gates: %+v", res)
	}

	f = newApplyFixture(t, src)
	res = f.apply(func(o *runtime.ApplyOptions) { o.Approve = []addrs.Pattern{addrs.Compile(`step.gate["b"]`)} })
	if res.Status != runtime.RunPaused || !slices.Equal(res.Waiting, []string{`step.gate["a"]`}) {
		t.Fatalf("--approve step.gate[\"b\"]: %+v", res)
	}
}
