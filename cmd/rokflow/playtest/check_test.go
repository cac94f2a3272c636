package playtest

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/sim"
)

// statuses are a Ganeti cluster before and after a run that upgraded two
// of three members, left a guest away and ran upgrade-node twice on one.
func statuses() (before, after sim.Status) {
	node := func(name, release string) sim.NodeStatus {
		return sim.NodeStatus{Name: name, Role: "slave", Power: "on", State: "online", Boot: release + "-1", NodeState: release,
			Services: map[string]string{"rok-daemons": "active"}, Endpoints: map[string]string{"/etc/rok/daemons.conf": "tcp"}}
	}
	before = sim.Status{Platform: "ganeti", Cluster: "sim", Master: "roke1.sim", Candidates: []string{"roke1.sim", "roke2.sim", "roke3.sim"},
		Nodes:     []sim.NodeStatus{node("roke1.sim", "0.10.2"), node("roke2.sim", "0.10.2"), node("roke3.sim", "0.10.2")},
		Instances: []sim.InstanceStatus{{Name: "vm1", Kind: "guest", PNode: "h1"}, {Name: "vm2", Kind: "guest", PNode: "h2"}},
		Counters:  map[string]sim.NodeCount{}}
	after = before
	after.Nodes = []sim.NodeStatus{node("roke1.sim", "0.11.0"), node("roke2.sim", "0.11.0"), node("roke3.sim", "0.10.2")}
	after.Candidates = []string{"roke1.sim"}
	after.Instances = []sim.InstanceStatus{{Name: "vm1", Kind: "guest", PNode: "h1"}, {Name: "vm2", Kind: "guest", PNode: "h3"}}
	after.Counters = map[string]sim.NodeCount{
		"roke1.sim": {"upgrade-cluster": {Runs: 1, OK: 1}, "upgrade-node": {Runs: 1, OK: 1}},
		"roke2.sim": {"upgrade-node": {Runs: 2, OK: 2}},
	}
	return before, after
}

func testSuite() *Suite {
	return &Suite{Playbook: &lang.Playbook{Dir: ".", Meta: &lang.Meta{Name: "t", From: "0.10", To: "0.11.0"}}}
}

func testRun() *observed {
	return &observed{Outcome: Failed, ExitCode: 1, Kinds: map[string]string{"step.pin": "rok.config_set"},
		Steps: []shownStep{
			{Address: "step.pin", Status: "succeeded", UndoOwed: "step.restore", UndoStatus: "held", UndoReason: "mixed releases",
				Outputs: []byte(`{"previous": "roke1.sim,roke2.sim,roke3.sim"}`)},
			{Address: `group.slaves["roke3.sim"].step.upgrade_node`, Status: "failed", Error: "boom"},
		}}
}

// TestConditions evaluates the usual assertions, each one line, over
// cluster, run and playbook.
func TestConditions(t *testing.T) {
	before, after := statuses()
	o := testRun()
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"cluster": clusterValue(after, before), "run": tuplify(o.runValue()), "playbook": testSuite().playbookValue(),
			"var": objectOf(map[string]cty.Value{"n": cty.NumberIntVal(3)}),
		},
		Functions: conditionFunctions("."),
	}
	for src, want := range map[string]bool{
		`cluster.release == playbook.to`:                                 false,
		`cluster.releases == ["0.10.2", "0.11.0"]`:                       true,
		`cluster.node["roke2.sim"].release == playbook.to`:               true,
		`cluster.before.release == "0.10.2"`:                             true,
		`cluster.master_candidates == [cluster.master]`:                  true,
		`cluster.candidates_restored`:                                    false,
		`cluster.before.candidates_restored`:                             true,
		`cluster.instances_home`:                                         false,
		`cluster.instances_away == ["vm2 on h3 (its host is h1)"]`:       false,
		`cluster.instances_away == ["vm2 on h3 (its host is h2)"]`:       true,
		`length(cluster.ran_twice) == 0`:                                 false,
		`cluster.ran_twice == ["upgrade-node on roke2.sim (2 times)"]`:   true,
		`alltrue([for c in cluster.once_commands : c.ok <= 1])`:          false,
		`anytrue([for n in cluster.nodes : n.boot_release == "0.11.0"])`: true,
		`alltrue([])`:        true,
		`anytrue([])`:        false,
		`!cluster.etcd_auth`: true,
		`run.failed == ["group.slaves[\"roke3.sim\"].step.upgrade_node"]`:           true,
		`contains(run.undos_held, "step.pin")`:                                      true,
		`run.steps["step.pin"].outputs.previous == "roke1.sim,roke2.sim,roke3.sim"`: true,
		`run.steps["step.pin"].kind == "rok.config_set"`:                            true,
		`run.outcome == "failed" && run.exit_code == 1`:                             true,
		`var.n == length(cluster.nodes)`:                                            true,
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags.Error())
		}
		diags = Assert{Condition: expr}.check(ctx)
		if got := !diags.HasErrors(); got != want {
			t.Errorf("%s: holds %v, want %v (%s)", src, got, want, diags.Error())
		}
		if !want && (len(diags) != 1 || diags[0].Summary != "Assertion failed" || diags[0].Expression == nil || diags[0].EvalContext == nil) {
			t.Errorf("%s: a false condition is reported %v; want one Assertion failed with the values it used", src, diags)
		}
	}
	bad, _ := hclsyntax.ParseExpression([]byte(`cluster.nodez`), "t.hcl", hcl.InitialPos)
	if diags := (Assert{Condition: bad}).check(ctx); !diags.HasErrors() || diags[0].Summary != "Unsupported attribute" {
		t.Errorf("a misspelt attribute: %v", diags)
	}
	num, _ := hclsyntax.ParseExpression([]byte(`length(cluster.nodes)`), "t.hcl", hcl.InitialPos)
	if diags := (Assert{Condition: num}).check(ctx); !diags.HasErrors() || diags[0].Summary != "Invalid condition" {
		t.Errorf("a condition that is a number: %v", diags)
	}
}

// TestExpectations compares the run with what a case expects of it.
func TestExpectations(t *testing.T) {
	before, after := statuses()
	r := hcl.Range{Filename: "t.rftest.hcl"}
	pattern := func(s string) addrs.Pattern {
		p, err := addrs.ParsePattern(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	msg, _ := hclsyntax.ParseTemplate([]byte(`${length(cluster.nodes)} nodes`), "t.hcl", hcl.InitialPos)
	cond, _ := hclsyntax.ParseExpression([]byte(`cluster.etcd_auth`), "t.hcl", hcl.InitialPos)
	for name, tc := range map[string]struct {
		expect Expect
		want   []string
	}{
		"met":           {Expect{Outcome: Failed, FailedAt: []addrs.Pattern{pattern("group.slaves[*].step.upgrade_node")}, FailedAtRange: &r}, nil},
		"outcome":       {Expect{Outcome: Succeeded, OutcomeRange: &r}, []string{"Unexpected outcome"}},
		"other step":    {Expect{Outcome: Failed, FailedAt: []addrs.Pattern{pattern("step.pin")}, FailedAtRange: &r}, []string{"Unexpected failed steps"}},
		"and one more":  {Expect{Outcome: Failed, FailedAt: []addrs.Pattern{pattern("group.slaves[*].step.upgrade_node"), pattern("step.x")}, FailedAtRange: &r}, []string{"Unexpected failed steps"}},
		"not a failure": {Expect{Outcome: Failed, FailedAtRange: &r}, []string{"Unexpected failed steps"}},
	} {
		c := &Case{Name: name, Expect: tc.expect, Asserts: []Assert{{Condition: cond, ErrorMessage: msg}}}
		diags := c.check(testSuite(), testRun(), after, before)
		var got []string
		for _, d := range diags {
			got = append(got, d.Summary)
		}
		want := append(tc.want, "Assertion failed")
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		if last := diags[len(diags)-1]; last.Detail != "3 nodes" {
			t.Errorf("%s: the error message is %q", name, last.Detail)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		code     int
		changing []string
		want     Outcome
	}{
		{0, []string{"step.x"}, Succeeded}, {0, nil, NothingToDo}, {1, []string{"step.x"}, Failed}, {1, nil, Refused},
		{3, nil, Paused}, {2, nil, Errored}, {-1, []string{"step.x"}, Errored},
	} {
		if got := classify(tc.code, tc.changing); got != tc.want {
			t.Errorf("classify(%d, %v) = %s, want %s", tc.code, tc.changing, got, tc.want)
		}
	}
}

func TestBoundaries(t *testing.T) {
	got := boundaries([]event{
		{Type: "run_start"},
		{Type: "step_end", Address: "step.skipped", Status: "skipped"},
		{Type: "step_start", Address: "step.a", Attempt: 1},
		{Type: "step_output", Address: "step.a", Attempt: 1},
		{Type: "step_end", Address: "step.a", Attempt: 1, Status: "retrying"},
		{Type: "step_start", Address: "step.a", Attempt: 2},
		{Type: "step_end", Address: "step.a", Attempt: 2, Status: "succeeded"},
		{Type: "run_end"},
	})
	var s []string
	for _, b := range got {
		s = append(s, b.String())
	}
	want := "step.a started; step.a ended; step.a started (attempt 2); step.a ended (attempt 2)"
	if strings.Join(s, "; ") != want {
		t.Errorf("boundaries: %s\nwant %s", strings.Join(s, "; "), want)
	}
	if !got[1].is(event{Type: "step_end", Address: "step.a", Attempt: 1, Status: "retrying", Time: time.Now()}) || got[1].is(event{Type: "step_end", Address: "step.a", Attempt: 2}) {
		t.Error("a boundary is its event's type, step and attempt")
	}
}
