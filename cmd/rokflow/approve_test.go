package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/runtime/state"
)

// approvals returns the addresses of the approvals recorded beside the
// playbook in dir.
func approvals(t *testing.T, dir string) []string {
	t.Helper()
	b, err := state.Open(context.Background(), "file://"+filepath.Join(dir, ".rokflow"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	recs, err := b.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if r.Kind == state.KindApproval {
			out = append(out, r.Addr)
		}
	}
	return out
}

// shownSteps returns the addresses and statuses state show --json gives.
func shownSteps(t *testing.T, args ...string) map[string]string {
	t.Helper()
	code, out, stderr := run(t, nil, append([]string{"state", "show", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("state show: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Steps []struct{ Address, Status string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("state show --json: %v\n%s", err, out)
	}
	steps := map[string]string{}
	for _, s := range doc.Steps {
		steps[s.Address] = s.Status
	}
	return steps
}

// TestApproveChecksTheGates: approve refuses an address or pattern that
// matches no gate of the playbook, with the nearest gate or the list of
// them, and records nothing, not even the arguments that did match; a
// pattern over the elements of a for_each over a variable is taken,
// says what it matched, and passes every element.
func TestApproveChecksTheGates(t *testing.T) {
	dir := writePlaybook(t, `
variable "keys" {
  type    = list(string)
  default = ["a", "b"]
}
step "gate" {
  for_each     = var.keys
  uses         = "manual"
  instructions = "Check ${each.key}."
}
step "after" {
  uses       = "exec"
  command    = ["echo", "after the gates"]
  depends_on = [step.gate]
}
`)
	if code, out, stderr := run(t, nil, "apply", dir); code != 3 {
		t.Fatalf("apply: exit %d, want 3 (paused)\n%s%s", code, out, stderr)
	}
	refusals := map[string]struct {
		args []string
		code int
		err  string
	}{
		"no such step":          {[]string{"step.nosuch"}, 1, "step.nosuch matches no gate of this playbook. Its gates are step.gate[\"a\"], step.gate[\"b\"],"},
		"a near name":           {[]string{"step.gat[*]"}, 1, "Did you mean step.gate[*]?"},
		"one good, one unknown": {[]string{"step.gate[*]", "step.after"}, 1, "step.after matches no gate"},
		"an unquoted key":       {[]string{"step.gate[*]", "step.gate[a]"}, 2, `element keys are written in double quotes, as in step.gate["KEY"]`},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, nil, append([]string{"approve", dir}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.err) {
				t.Errorf("approve %q: exit %d, want %d and %q\n%s%s", tc.args, code, tc.code, tc.err, out, stderr)
			}
			if strings.Contains(out, "Approved") {
				t.Errorf("a refused approve says it approved:\n%s", out)
			}
			if got := approvals(t, dir); len(got) != 0 {
				t.Errorf("a refused approve recorded %q", got)
			}
		})
	}

	code, out, stderr := run(t, nil, "approve", dir, "step.gate[*]")
	if code != 0 {
		t.Fatalf("approve step.gate[*]: exit %d\n%s", code, stderr)
	}
	// The paused run journaled its waiting elements; the pattern names
	// them and every element to come.
	if !strings.Contains(out, "step.gate[*] matches:\n  step.gate[\"a\"]\n  step.gate[\"b\"]\n  step.gate[*]  (every element") || !strings.Contains(out, "Approved step.gate[*] for run ") {
		t.Errorf("approve does not say what step.gate[*] matched:\n%s", out)
	}
	if code, out, stderr := run(t, nil, "apply", dir); code != 0 || !strings.Contains(out, "step.after") {
		t.Fatalf("apply after approving step.gate[*]: exit %d\n%s%s", code, out, stderr)
	}
	steps := shownSteps(t, dir)
	for _, a := range []string{`step.gate["a"]`, `step.gate["b"]`, "step.after"} {
		if steps[a] != "succeeded" {
			t.Errorf("%s is %q, want succeeded (steps: %v)", a, steps[a], steps)
		}
	}
}

// TestApproveOneElement: the help's own example approves every gate of one
// element of a rolling group, and no other element's.
func TestApproveOneElement(t *testing.T) {
	dir := writePlaybook(t, `
variable "nodes" {
  type    = list(string)
  default = ["rok2.prod", "rok3.prod"]
}
group "slaves" {
  for_each = var.nodes
  step "swap_boot_disk" {
    uses         = "manual"
    instructions = "Swap the BOOT disk of ${each.key}."
  }
  step "upgrade" {
    uses       = "exec"
    command    = ["echo", each.key]
    depends_on = [step.swap_boot_disk]
  }
}
`)
	if code, out, stderr := run(t, nil, "apply", dir); code != 3 {
		t.Fatalf("apply: exit %d, want 3\n%s%s", code, out, stderr)
	}
	code, out, stderr := run(t, nil, "approve", dir, `group.slaves["rok2.prod"].*`)
	if code != 0 || !strings.Contains(out, "matches:\n  group.slaves[\"rok2.prod\"].step.swap_boot_disk\n") {
		t.Fatalf("approve: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "apply", dir)
	if code != 3 || !strings.Contains(out, `Paused at the gate group.slaves["rok3.prod"].step.swap_boot_disk.`) {
		t.Fatalf("apply after approving rok2.prod: exit %d, want 3 at rok3.prod's gate\n%s%s", code, out, stderr)
	}
	steps := shownSteps(t, dir)
	if steps[`group.slaves["rok2.prod"].step.upgrade`] != "succeeded" {
		t.Errorf("rok2.prod was not upgraded past its approved gate: %v", steps)
	}
	if _, ok := steps[`group.slaves["rok3.prod"].step.upgrade`]; ok {
		t.Errorf("rok3.prod went past a gate nobody approved: %v", steps)
	}

	// state show selects with the same patterns.
	only := shownSteps(t, dir, `group.slaves["rok2.prod"].*`)
	if _, ok := only[`group.slaves["rok2.prod"].step.upgrade`]; !ok || len(only) == 0 {
		t.Errorf("state show with the help's pattern shows %v", only)
	}
	for a := range only {
		if !strings.HasPrefix(a, `group.slaves["rok2.prod"].`) {
			t.Errorf("state show with the help's pattern shows %s", a)
		}
	}
	code, _, stderr = run(t, nil, "state", "show", dir, `group.slaves[rok2.prod].*`)
	if code != 2 || !strings.Contains(stderr, `group.slaves["KEY"]`) {
		t.Errorf("state show with an unquoted key: exit %d, want 2 and how to quote it\n%s", code, stderr)
	}
}

// TestApplyApproveChecksTheGates: apply --approve takes the same patterns
// and refuses, before running anything, one that matches no gate.
func TestApplyApproveChecksTheGates(t *testing.T) {
	dir := writePlaybook(t, `
step "first" {
  uses    = "exec"
  command = ["true"]
}
step "gate" {
  for_each     = ["a", "b"]
  uses         = "manual"
  instructions = "Check ${each.key}."
  depends_on   = [step.first]
}
`)
	code, out, stderr := run(t, nil, "apply", dir, "--approve", `step.gate["c"]`)
	if code != 1 || !strings.Contains(stderr, `step.gate["c"] matches no gate of this playbook. Did you mean step.gate["a"]?`) {
		t.Fatalf("apply --approve step.gate[\"c\"]: exit %d\n%s%s", code, out, stderr)
	}
	if steps := shownSteps(t, dir); len(steps) != 0 {
		t.Errorf("apply ran steps although an approval named no gate: %v", steps)
	}
	code, out, stderr = run(t, nil, "apply", dir, "--approve", `step.gate[*]`)
	if code != 0 {
		t.Fatalf("apply --approve step.gate[*]: exit %d\n%s%s", code, out, stderr)
	}
	if got := approvals(t, dir); !slices.Equal(got, []string{`step.gate["a"]`, `step.gate["b"]`}) {
		t.Errorf("apply --approve recorded %q, want each gate it passed", got)
	}
}
