package runtime_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestSensitiveDecisionsRefused plans playbooks where a sensitive value
// would decide whether a step runs, name its instances or its target:
// each is an error on the expression (the line marked HERE) with a detail
// saying how to restructure, while a map's sensitive values and the clean
// outputs of a step that received a secret stay usable.
func TestSensitiveDecisionsRefused(t *testing.T) {
	const received = `
step "a" {
  uses   = "shell"
  script = "echo \"$PW\""
  env    = { PW = var.pw }
}
`
	tests := map[string]struct {
		src  string
		want string // the error's summary; "" when the playbook is fine
	}{
		"when on a sensitive variable": {src: `
step "b" {
  uses    = "exec"
  when    = var.pw == "hunter2" # HERE
  command = ["true"]
}`, want: "Sensitive when condition"},
		"when on what a step printed after receiving a secret": {src: received + `
step "b" {
  uses    = "exec"
  when    = startswith(step.a.outputs.stdout, "h") # HERE
  command = ["true"]
}`, want: "Sensitive when condition"},
		"when on a group": {src: `
group "g" {
  for_each = ["x"]
  when     = length(var.pw) > 8 # HERE
  step "s" {
    uses    = "exec"
    command = ["true"]
  }
}`, want: "Sensitive when condition"},
		"when on a clean output of such a step": {src: received + `
step "b" {
  uses    = "exec"
  when    = step.a.outputs.exit_status == 0
  command = ["true"]
}`},
		"for_each over a sensitive set": {src: `
step "b" {
  uses     = "exec"
  for_each = toset([var.pw]) # HERE
  command  = ["true"]
}`, want: "Sensitive for_each"},
		"for_each over the lines a secret reached": {src: received + `
step "b" {
  uses     = "exec"
  for_each = toset(step.a.outputs.lines) # HERE
  command  = ["echo", each.key]
}`, want: "Sensitive for_each"},
		"for_each keys made from sensitive values": {src: `
step "b" {
  uses     = "exec"
  for_each = { for k, v in { a = var.pw } : v => k } # HERE
  command  = ["true"]
}`, want: "Sensitive for_each"},
		"for_each over a map whose values are sensitive": {src: `
step "b" {
  uses     = "exec"
  for_each = { db = var.pw }
  command  = ["login", each.key]
  env      = { PW = each.value }
}`},
		"target printed by a step that received a secret": {src: received + `
step "b" {
  uses    = "exec"
  on      = trimspace(step.a.outputs.stdout) # HERE
  command = ["true"]
}`, want: "Sensitive target"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := pwVariable + tc.src
			path := filepath.Join(t.TempDir(), "main.hcl")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			p, diags := planPath(t, path, nil)
			var errs hcl.Diagnostics
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d)
				}
				for _, s := range secretForms {
					if strings.Contains(d.Summary+d.Detail, s) {
						t.Errorf("diagnostic shows the secret: %s: %s", d.Summary, d.Detail)
					}
				}
			}
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %v", errs)
				}
				for _, inst := range p.Instances {
					b, _ := json.Marshal(inst)
					if strings.Contains(string(b), pwSecret) {
						t.Errorf("the plan shows the secret: %s", b)
					}
				}
				return
			}
			if len(errs) != 1 || errs[0].Summary != tc.want {
				t.Fatalf("errors %v, want one %q", errs, tc.want)
			}
			line := 1 + strings.Count(src[:strings.Index(src, "# HERE")], "\n")
			if d := errs[0]; d.Subject == nil || d.Subject.Start.Line != line {
				t.Errorf("error points at %v, want line %d", d.Subject, line)
			}
			if !strings.Contains(errs[0].Detail, "sensitive") || len(errs[0].Detail) < 80 {
				t.Errorf("detail %q does not say why and how to fix it", errs[0].Detail)
			}
		})
	}
}
