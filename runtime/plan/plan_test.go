package plan_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/plan"
)

func TestDurationOf(t *testing.T) {
	for text, want := range map[string]plan.Duration{
		"":                        {},
		"90s":                     {D: 90 * time.Second, Set: true},
		"0s":                      {Set: true},
		"(known after step.find)": {Unknown: true},
	} {
		if got := plan.DurationOf(text); got != want {
			t.Errorf("DurationOf(%q) = %+v, want %+v", text, got, want)
		}
	}
}

func samplePlan() *plan.Plan {
	return &plan.Plan{
		FormatVersion: "1.3",
		Playbook:      plan.Playbook{Name: "p", Path: "p", Dir: "/abs/p"},
		Hash:          "sha256:00",
		Variables:     map[string]plan.Value{},
		Outputs:       map[string]plan.Value{},
		// The planner's encoder masks secrets; this one shows strings.
		Args: func(v cty.Value) map[string]plan.Value {
			out := map[string]plan.Value{}
			for n, av := range v.AsValueMap() {
				b, _ := json.Marshal(av.AsString())
				out[n] = plan.Value{JSON: b}
			}
			return out
		},
		Groups: []*plan.Group{{Address: "group.g", Keys: []string{}, Batch: 1, Pause: "90s", PauseAfter: plan.DurationOf("90s")}},
		Instances: []*plan.Instance{
			{
				Address: "step.a", Action: plan.Run, Target: "n1", Timeout: "90s", TimeoutAfter: plan.DurationOf("90s"),
				Retry:     &plan.Retry{Attempts: 3, Delay: "5s", MaxDelay: "1m", DelayAfter: plan.DurationOf("5s"), MaxDelayAfter: plan.DurationOf("1m")},
				ArgValues: cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("echo"), "user": cty.StringVal("root")}),
			},
			{
				Address: "step.b", Action: plan.Run, Target: "(known after step.a)", TargetUnknown: true,
				Timeout: "(known after step.a)", TimeoutAfter: plan.DurationOf("(known after step.a)"),
			},
		},
	}
}

// TestPlanJSONRoundTrip: a plan's JSON encodes its arguments with the
// plan's encoder, leaves the playbook's directory to plan files, and a plan file
// read back has the typed fields the plan had.
func TestPlanJSONRoundTrip(t *testing.T) {
	p := samplePlan()
	shown, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"timeout":"90s"`, `"delay":"5s","max_delay":"1m"`, `"pause":"90s"`, `"target":"(known after step.a)"`, `"args":{"command":{"value":"echo"},"user":{"value":"root"}}`, `"args":{}`} {
		if !strings.Contains(string(shown), want) {
			t.Errorf("plan JSON lacks %s:\n%s", want, shown)
		}
	}
	if strings.Contains(string(shown), "/abs/p") {
		t.Errorf("plan JSON shows the directory:\n%s", shown)
	}
	if p.Playbook.Dir != "/abs/p" {
		t.Errorf("encoding changed the plan's directory to %q", p.Playbook.Dir)
	}

	saved, err := json.Marshal((*plan.File)(samplePlan()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved), `"dir":"/abs/p"`) {
		t.Errorf("plan file lacks the directory:\n%s", saved)
	}
	var back plan.Plan
	if err := json.Unmarshal(saved, &back); err != nil {
		t.Fatal(err)
	}
	want := samplePlan()
	for i, inst := range back.Instances {
		w := want.Instances[i]
		if inst.TargetUnknown != w.TargetUnknown || inst.TimeoutAfter != w.TimeoutAfter {
			t.Errorf("%s read back: target unknown %v, timeout %+v; want %v, %+v", inst.Address, inst.TargetUnknown, inst.TimeoutAfter, w.TargetUnknown, w.TimeoutAfter)
		}
	}
	if r := back.Instances[0].Retry; r.DelayAfter != plan.DurationOf("5s") || r.MaxDelayAfter != plan.DurationOf("1m") {
		t.Errorf("retry read back as %+v", r)
	}
	if back.Groups[0].PauseAfter != plan.DurationOf("90s") || back.Playbook.Dir != "/abs/p" {
		t.Errorf("group pause %+v, directory %q read back", back.Groups[0].PauseAfter, back.Playbook.Dir)
	}
	again, err := json.Marshal((*plan.File)(&back))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, saved) {
		t.Errorf("plan file does not round-trip:\n%s\n%s", saved, again)
	}
}
