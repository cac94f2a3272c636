package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/plan"
)

// TestProgressFoldsSkipsAndRecaps: a stretch of skipped steps is one line
// with its reasons, a batch names its place and nodes, and the recap
// counts per node what ran, failed and was cancelled, the undos owed and
// the run's time.
func TestProgressFoldsSkipsAndRecaps(t *testing.T) {
	var out bytes.Buffer
	p := NewProgress(&out, false)
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for _, ev := range []runtime.Event{
		{Time: at(0), Type: runtime.EventRunStart, Run: "r1"},
		{Time: at(0), Type: runtime.EventStepEnd, Addr: "step.a", Status: "skipped", Summary: "platform ganeti not chosen"},
		{Time: at(0), Type: runtime.EventStepEnd, Addr: "step.b", Status: "skipped", Summary: "platform ganeti not chosen"},
		{Time: at(0), Type: runtime.EventStepEnd, Addr: "step.c", Status: "skipped", Summary: "already on 0.11"},
		{Time: at(1), Type: runtime.EventBatchStart, Group: "group.slaves", Batch: 1, Batches: 2, Nodes: []string{"rok2.sim", "rok3.sim"}},
		{Time: at(1), Type: runtime.EventStepStart, Addr: "step.up2", Target: "rok2.sim"},
		{Time: at(1), Type: runtime.EventStepStart, Addr: "step.up3", Target: "rok3.sim"},
		{Time: at(4), Type: runtime.EventStepEnd, Addr: "step.up2", Target: "rok2.sim", Status: "succeeded", Elapsed: 3 * time.Second},
		{Time: at(5), Type: runtime.EventStepEnd, Addr: "step.up3", Target: "rok3.sim", Status: "failed", Error: "exit status 1"},
		{Time: at(5), Type: runtime.EventUndoUnmet, Addr: "step.pin", Summary: "undo step.unpin", Error: "rok1.sim is down"},
		{Time: at(6), Type: runtime.EventStepStart, Addr: "step.x", Target: "rok2.sim"},
		{Time: at(7), Type: runtime.EventStepEnd, Addr: "step.x", Target: "rok2.sim", Status: "cancelled"},
		{Time: at(8), Type: runtime.EventRunEnd, Run: "r1", Status: "failed", Counts: map[string]int{"succeeded": 1, "failed": 1, "skipped": 3, "cancelled": 1}},
	} {
		p.Event(ev)
	}
	got := out.String()
	for _, want := range []string{
		"- 3 steps skipped (platform ganeti not chosen; already on 0.11)\n",
		"slaves: batch 1/2: rok2.sim, rok3.sim\n",
		"⊘ step.x cancelled: apply again to run it\n",
		"\nRecap\n",
		"  rok2.sim    1 ok  0 failed  1 cancelled  6s\n",
		"  rok3.sim    0 ok  1 failed  4s\n",
		"  1 undo owed: kept in the journal (rokflow state show)\n",
		"run r1 failed in 8s: 1 cancelled, 1 failed, 3 skipped, 1 succeeded\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("progress lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "step.a") || strings.Contains(got, "program exists") {
		t.Errorf("a skipped step has a line of its own, or a cancelled one is said to be missing:\n%s", got)
	}
}

// TestPlanBrief: what apply asks about names the release path, the groups
// that run, and per node its steps and gates.
func TestPlanBrief(t *testing.T) {
	p := &plan.Plan{
		Playbook: plan.Playbook{Name: "rok-v0.11", From: "0.10", To: "0.11.0"},
		Groups: []*plan.Group{
			{Address: "group.slaves", Keys: []string{"rok2.sim", "rok3.sim"}, Batches: 2},
			{Address: "group.ganeti", Keys: []string{"h1"}, Batches: 1},
		},
		Instances: []*plan.Instance{
			{Address: "step.pin", Action: plan.Run, Target: "rok1.sim"},
			{Address: "step.swap", Action: plan.Gate, Gate: true, Target: "rok1.sim"},
			{Address: `group.slaves["rok2.sim"].step.up`, Action: plan.Run, Target: "rok2.sim", Group: "group.slaves"},
			{Address: `group.ganeti["h1"].step.evacuate`, Action: plan.Skip, Group: "group.ganeti"},
		},
	}
	var out bytes.Buffer
	PlanBrief(&out, p, false)
	got := out.String()
	for _, want := range []string{
		"Apply: rok-v0.11 (0.10 → 0.11.0)\n",
		"4 step instances: 2 run, 1 gate, 1 skip\n",
		"group.slaves 2 elements in 2 batches\n",
		"rok1.sim  2 steps, 1 gate\n",
		"rok2.sim  1 step\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the brief lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "group.ganeti") {
		t.Errorf("a group whose every step is skipped is listed:\n%s", got)
	}
}

// TestProgressOneLinePerPassedGate: a gate that passes is one line (who,
// how, how long), whether its gate_end comes after its step_end or
// before; a gate whose end is never told still gets its success line at
// the run's end.
func TestProgressOneLinePerPassedGate(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	start := runtime.Event{Time: t0, Type: runtime.EventStepStart, Addr: "step.gate", Target: "rok1.sim", Instructions: "Swap the disk."}
	end := runtime.Event{Time: t0, Type: runtime.EventStepEnd, Addr: "step.gate", Target: "rok1.sim", Status: "succeeded", Elapsed: 12 * time.Second}
	passed := runtime.Event{Time: t0, Type: runtime.EventGateEnd, Addr: "step.gate", Status: runtime.GateApproved, By: "bob", How: runtime.HowApprove}
	runEnd := runtime.Event{Time: t0, Type: runtime.EventRunEnd, Run: "r1", Status: "succeeded"}
	for name, tt := range map[string]struct {
		events []runtime.Event
		want   string
	}{
		"end then gate_end": {[]runtime.Event{start, end, passed, runEnd}, "✓ step.gate approved by bob (rokflow approve); the run continues 12s\n"},
		"gate_end then end": {[]runtime.Event{start, passed, end, runEnd}, "✓ step.gate approved by bob (rokflow approve); the run continues\n"},
		"no gate_end":       {[]runtime.Event{start, end, runEnd}, "✓ step.gate 12s\n"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			p := NewProgress(&out, false)
			for _, ev := range tt.events {
				p.Event(ev)
			}
			got := out.String()
			if !strings.Contains(got, tt.want) || strings.Count(got, "✓ step.gate") != 1 {
				t.Errorf("want one line %q:\n%s", tt.want, got)
			}
		})
	}
}
