package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOwedUndoShown fails a run that owes two undos: one held back by its
// condition (the probe finds mixed releases), one that fails. apply says
// what stays in place and why, and what was not done; state show lists
// both as still owed, with their reasons.
func TestOwedUndoShown(t *testing.T) {
	dir := t.TempDir()
	releases := filepath.Join(dir, "releases")
	if err := os.WriteFile(releases, []byte("mixed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
step "probe" {
  uses    = "wait"
  command = ["cat", "` + releases + `"]
}
step "pin" {
  uses       = "exec"
  command    = ["true"]
  depends_on = [step.probe]

  undo {
    step   = step.unpin
    when   = trimspace(step.probe.outputs.stdout) == "one"
    reason = "nodes run ${trimspace(step.probe.outputs.stdout)} releases"
  }
}
step "mark" {
  uses    = "exec"
  command = ["true"]
  undo    = step.unmark
}
step "work" {
  uses       = "exec"
  command    = ["false"]
  depends_on = [step.pin, step.mark]
}
step "unpin" {
  uses       = "exec"
  command    = ["true"]
  depends_on = [step.work]
}
step "unmark" {
  uses       = "exec"
  command    = ["false"]
  depends_on = [step.work]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	stateURL := "file://" + filepath.Join(dir, "state")
	code, out, stderr := run(t, nil, "apply", dir, "--state", stateURL, "--no-color")
	if code != 1 {
		t.Fatalf("apply exited %d, want 1:\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"step.unpin held back, step.pin stays in place: nodes run mixed releases",
		"step.unmark not done (step.mark owes it): step.unmark failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply's progress does not say %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"Warning: Undo held back", "Error: Owed undo not done"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("apply's diagnostics do not say %q:\n%s", want, stderr)
		}
	}
	code, show, stderr := run(t, nil, "state", "show", "--state", stateURL, dir)
	if code != 0 {
		t.Fatalf("state show exited %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		"undo held: step.unpin\n      because: nodes run mixed releases",
		// Begun and failed: a resumed run finishes it before anything acts.
		"undo begun, unfinished: step.unmark\n      because: step.unmark failed",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("state show does not say %q:\n%s", want, show)
		}
	}
}
