package runtime_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime/plan"
)

// planned is what TestPlanning expects of one instance; a field left zero
// is not checked, but for TargetUnknown.
type planned struct {
	action        plan.Action
	target        string
	targetUnknown bool
	timeout       string
	timeoutAfter  time.Duration
	reason        string // a part of the reason
}

// TestPlanning plans small playbooks and checks each instance: for_each
// over known and unknown collections, modules, unknown targets, when, and
// groups whose elements are planned in shares.
func TestPlanning(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		want  map[string]planned
	}{
		"for_each over a known list": {
			files: map[string]string{"main.hcl": `
connection "n" {
  transport = "ssh"
}

step "per" {
  uses       = "exec"
  for_each   = ["a", "b"]
  on         = each.value
  connection = connection.n
  timeout  = "90s"
  command  = ["echo", each.key]
}
`},
			want: map[string]planned{
				`step.per["a"]`: {action: plan.Run, target: "a", timeout: "90s", timeoutAfter: 90 * time.Second},
				`step.per["b"]`: {action: plan.Run, target: "b", timeout: "90s", timeoutAfter: 90 * time.Second},
			},
		},
		"for_each over outputs known after a step": {
			files: map[string]string{"main.hcl": `
step "list" {
  uses    = "exec"
  command = ["ls"]
}

step "per" {
  uses     = "exec"
  for_each = toset(split("\n", step.list.outputs.stdout))
  on       = each.value
  command  = ["echo", each.key]
}
`},
			want: map[string]planned{
				"step.list":   {action: plan.Run, target: "local"},
				"step.per[*]": {action: plan.Deferred, targetUnknown: true, reason: "known after step.list"},
			},
		},
		"a target and a timeout known only at run time": {
			files: map[string]string{"main.hcl": `
step "find" {
  uses    = "exec"
  command = ["hostname"]
}

step "on" {
  uses    = "exec"
  on      = step.find.outputs.stdout
  timeout = step.find.outputs.stdout
  command = ["true"]
}
`},
			want: map[string]planned{
				"step.on": {action: plan.Run, targetUnknown: true, timeout: "(known after step.find)"},
			},
		},
		"when": {
			files: map[string]string{"main.hcl": `
variable "go" {
  type    = bool
  default = false
}

step "find" {
  uses    = "exec"
  command = ["hostname"]
}

step "never" {
  uses    = "exec"
  when    = var.go
  command = ["true"]
}

step "maybe" {
  uses    = "exec"
  when    = step.find.outputs.stdout != ""
  command = ["true"]
}
`},
			want: map[string]planned{
				"step.never": {action: plan.Skip, reason: "its when condition is false"},
				"step.maybe": {action: plan.Conditional, target: "local", reason: "runs if its when condition holds"},
			},
		},
		"a module, called for each element of a group": {
			files: map[string]string{
				"main.hcl": `
group "g" {
  for_each = ["n1", "n2", "n3"]
  rolling {
    batch = 2
    pause = "90s"
  }

  module "m" {
    source = "./mod"
    node   = each.value
  }
}
`,
				"mod/main.hcl": `
variable "node" {
  type = string
}

connection "n" {
  transport = "ssh"
}

step "say" {
  uses       = "wait"
  on         = var.node
  connection = connection.n
  command = ["true"]
}
`},
			want: map[string]planned{
				`group.g["n1"].module.m.step.say`: {action: plan.Run, target: "n1", timeout: "10m", timeoutAfter: 10 * time.Minute},
				`group.g["n3"].module.m.step.say`: {action: plan.Run, target: "n3", timeout: "10m", timeoutAfter: 10 * time.Minute},
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tc.files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, diags := planPath(t, dir, nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got := map[string]*plan.Instance{}
			for _, inst := range p.Instances {
				got[inst.Address] = inst
			}
			for addr, w := range tc.want {
				inst := got[addr]
				if inst == nil {
					t.Errorf("%s is not in the plan", addr)
					continue
				}
				if w.action != "" && inst.Action != w.action {
					t.Errorf("%s: action %s, want %s", addr, inst.Action, w.action)
				}
				if w.target != "" && inst.Target != w.target {
					t.Errorf("%s: target %q, want %q", addr, inst.Target, w.target)
				}
				if inst.TargetUnknown != w.targetUnknown {
					t.Errorf("%s: target %q unknown %v, want %v", addr, inst.Target, inst.TargetUnknown, w.targetUnknown)
				}
				if w.timeout != "" && inst.Timeout != w.timeout {
					t.Errorf("%s: timeout %q, want %q", addr, inst.Timeout, w.timeout)
				}
				if d, ok := inst.TimeoutAfter.Known(); w.timeoutAfter != 0 && (!ok || d != w.timeoutAfter) {
					t.Errorf("%s: timeout %v (known %v), want %v", addr, d, ok, w.timeoutAfter)
				}
				if w.timeout != "" && w.timeoutAfter == 0 && !inst.TimeoutAfter.Unknown {
					t.Errorf("%s: timeout %q is not unknown", addr, inst.Timeout)
				}
				if !strings.Contains(inst.Reason, w.reason) {
					t.Errorf("%s: reason %q, want it to say %q", addr, inst.Reason, w.reason)
				}
			}
		})
	}
}

// TestPlanGroupPause: a rolling pause is shown as written and acted on as
// a duration.
func TestPlanGroupPause(t *testing.T) {
	f := newApplyFixture(t, `
group "g" {
  for_each = ["a", "b"]
  rolling {
    pause = "90s"
  }

  step "s" {
    uses    = "exec"
    command = ["true"]
  }
}
`)
	p, diags := planPath(t, f.dir, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g := p.Groups[0]
	if d, ok := g.PauseAfter.Known(); g.Pause != "90s" || !ok || d != 90*time.Second {
		t.Errorf("pause %q (%v, %v), want 90s", g.Pause, d, ok)
	}
}
