package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// releasePlaybook is a two-node upgrade whose release facts are given:
// a step with no dependency that changes something, the module upgrading
// n1 with a step of the caller's in its hook, and a group upgrading the
// rest the same way.
const releasePlaybook = `
playbook {
  name = "t"
  from = "0.10"
  to   = "0.11.0"
  release {
    nodes = step.facts.outputs.value
  }
}
step "facts" {
  uses  = "facts"
  value = RELEASES
}
step "before" {
  uses   = "shell"
  script = "echo before >> LEDGER"
}
module "first" {
  source   = "./node"
  upgrades = "n1"
  node     = "n1"
  hook "after_boot" {
    step "mid" {
      uses   = "shell"
      script = "echo mid-n1 >> LEDGER"
    }
  }
}
group "rest" {
  for_each   = ["n2"]
  upgrades   = each.value
  depends_on = [module.first]
  module "node" {
    source = "./node"
    node   = each.value
    hook "after_boot" {
      step "mid" {
        uses   = "shell"
        script = "echo mid-${each.value} >> LEDGER"
      }
    }
  }
}
`

const releaseNodeModule = `
variable "node" {
  type = string
}
step "boot" {
  uses   = "shell"
  script = "echo boot-${var.node} >> LEDGER"
}
hook "after_boot" {
  description = "Between the BOOT swap and the upgrade."
  depends_on  = [step.boot]
}
step "upgrade" {
  uses       = "shell"
  script     = "echo upgrade-${var.node} >> LEDGER"
  depends_on = [hook.after_boot]
}
`

func TestApplyReleaseModel(t *testing.T) {
	for _, c := range []struct {
		name     string
		releases string
		status   runtime.RunStatus
		ledger   []string
		diag     string
		event    string
	}{
		{"every node to upgrade", `{ n1 = "0.10.2", n2 = "0.10.2" }`, runtime.RunSucceeded,
			[]string{"before", "boot-n1", "mid-n1", "upgrade-n1", "boot-n2", "mid-n2", "upgrade-n2"}, "", "0.10.2 → 0.11.0, 2 of 2 nodes to upgrade"},
		{"half upgraded", `{ n1 = "0.11.0", n2 = "0.10.2" }`, runtime.RunSucceeded,
			[]string{"before", "boot-n2", "mid-n2", "upgrade-n2"}, "", "0.10.2 → 0.11.0, 1 of 2 nodes to upgrade"},
		{"an unknown release counts as to upgrade", `{ n1 = "0.11", n2 = "" }`, runtime.RunSucceeded,
			[]string{"before", "boot-n2", "mid-n2", "upgrade-n2"}, "", "1 of 2 nodes to upgrade"},
		{"already upgraded", `{ n1 = "0.11.0", n2 = "0.11.1" }`, runtime.RunSucceeded,
			nil, "", "already at 0.11.0: nothing to do (2 nodes)"},
		{"too old", `{ n1 = "0.9.4", n2 = "0.10.2" }`, runtime.RunFailed,
			nil, "found n1 0.9.4. Nothing was changed", "refused"},
		{"too new", `{ n1 = "0.12.0", n2 = "0.11.0" }`, runtime.RunFailed,
			nil, "found n1 0.12.0", "refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newApplyFixture(t, strings.Replace(releasePlaybook, "RELEASES", c.releases, 1))
			if err := os.MkdirAll(filepath.Join(f.dir, "node"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(f.dir, "node", "main.hcl"), []byte(strings.ReplaceAll(releaseNodeModule, "LEDGER", f.ledger)), 0o644); err != nil {
				t.Fatal(err)
			}
			facts := stepstest.NewRecorder("facts", func(s *steps.Schema) { s.Target = steps.TargetNone; s.Effect = steps.ReadOnly })
			res := f.applyReg(kindsWith(t, []steps.Kind{facts}, "shell"))
			if res.Status != c.status {
				t.Fatalf("status %s, want %s: %v", res.Status, c.status, f.diags)
			}
			// "before" runs beside the others; the rest keeps its order.
			got := f.lines()
			without := func(l []string) []string {
				return slices.DeleteFunc(slices.Clone(l), func(s string) bool { return s == "before" })
			}
			if !slices.Equal(without(got), without(c.ledger)) || slices.Contains(got, "before") != slices.Contains(c.ledger, "before") {
				t.Fatalf("ran %v, want %v", got, c.ledger)
			}
			if c.diag != "" && !strings.Contains(diagsText(f.diags), c.diag) {
				t.Fatalf("diagnostics %q do not say %q", diagsText(f.diags), c.diag)
			}
			var seen []string
			for _, ev := range f.events {
				if ev.Type == runtime.EventRelease {
					seen = append(seen, ev.Status+": "+ev.Summary)
				}
			}
			if len(seen) != 1 || !strings.Contains(seen[0], c.event) {
				t.Fatalf("release events %q, want one saying %q", seen, c.event)
			}
		})
	}
}

func TestPlaybookBlockChecks(t *testing.T) {
	for _, c := range []struct{ meta, want string }{
		{`from = "0.10"` + "\n" + `to = "0.11.0"` + "\n" + `requires_rokflow = ">= 99.0"`, "The playbook requires rokflow >= 99.0; this is rokflow 0.1.0-dev"},
		{`from = "0.12"` + "\n" + `to = "0.11.0"`, `from = "0.12" starts at or after to = "0.11.0"`},
		{`from = "0.11"` + "\n" + `to = "0.11.0"`, "starts at or after"},
		{`from = "latest"` + "\n" + `to = "0.11.0"`, `"latest" is not a release constraint`},
		{`from = "0.10"` + "\n" + `to = "eleven"`, `to = "eleven": write the release`},
		{`requires_rokflow = ">= 0.1, < 1"`, ""},
	} {
		dir := t.TempDir()
		src := "playbook {\n  name = \"t\"\n" + c.meta + "\n}\nstep \"s\" {\n  uses = \"exec\"\n  command = [\"true\"]\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		pb, diags := lang.Load(dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		_, diags = runtime.Plan(context.Background(), pb, registry(t), runtime.Options{Version: "0.1.0-dev"})
		switch got := diagsText(diags); {
		case c.want == "" && diags.HasErrors():
			t.Errorf("%s: %s", c.meta, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%s: diagnostics %q, want %q", c.meta, got, c.want)
		}
	}
}

// TestModuleOutputCarriesInputDependencies: a module output that passes an
// input through depends on what the input came from, so a step using it
// comes after that step even when the module has no step of its own.
func TestModuleOutputCarriesInputDependencies(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"main.hcl": `
step "members" {
  uses    = "exec"
  command = ["echo", "rok1"]
}
module "discovery" {
  source = "./discovery"
  master = step.members.outputs.stdout
}
step "pin" {
  uses    = "exec"
  command = ["echo", module.discovery.master]
}
`,
		"discovery/main.hcl": `
variable "master" {
  type = string
}
output "master" {
  value = var.master
}
`,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, diags := planPath(t, dir, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, inst := range p.Instances {
		if inst.Address == "step.pin" && !slices.Contains(inst.DependsOn, "step.members") {
			t.Fatalf("step.pin depends on %v, not on step.members", inst.DependsOn)
		}
	}
}
