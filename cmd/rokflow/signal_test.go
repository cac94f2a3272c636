package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/waitfor"
)

// TestApplySIGTERMEndsTheRun: SIGTERM cancels running steps at once, as a
// second Ctrl-C does, and the run ends with a consistent journal.
func TestApplySIGTERMEndsTheRun(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	src := `
step "long" {
  uses   = "shell"
  script = "touch \"$1\"; exec sleep 300"
  args   = ["` + started + `"]
}
step "after" {
  uses       = "exec"
  command    = ["true"]
  depends_on = [step.long]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := rokflowCmd("apply", dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	begun := false
	defer func() {
		if !begun { // timed out: stop the apply and say what it printed
			_ = cmd.Process.Kill()
			t.Logf("apply printed:\n%s", out.String())
		}
	}()
	waitfor.Condition(t, 30*time.Second, "the step to start", func() bool {
		_, err := os.Stat(started)
		begun = err == nil
		return begun
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("apply did not end after SIGTERM:\n%s", out.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("apply after SIGTERM: %v\n%s", err, out.String())
	}
	// The journal is consistent, and says what happened: the long step was
	// cancelled (not failed: nothing is compensated for an interrupt), and
	// nothing after it ran.
	show := rokflowCmd("state", "show", "--json", dir)
	b, err := show.Output()
	if err != nil {
		t.Fatalf("state show after SIGTERM: %v\n%s", err, b)
	}
	var st struct {
		Steps []struct{ Address, Status string } `json:"steps"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state show --json: %v\n%s", err, b)
	}
	got := map[string]string{}
	for _, s := range st.Steps {
		got[s.Address] = s.Status
	}
	if got["step.long"] != "cancelled" || got["step.after"] == "succeeded" {
		t.Fatalf("steps after SIGTERM: %v\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "cancelled") || strings.Contains(out.String(), "check that the program exists") {
		t.Fatalf("the output must say the step was cancelled:\n%s", out.String())
	}
	// SIGTERM cancels at once: nobody is offered a second Ctrl-C.
	if strings.Contains(out.String(), "Ctrl-C") {
		t.Fatalf("after SIGTERM the output speaks of Ctrl-C:\n%s", out.String())
	}
}

// TestStateShowListsPatternApprovals: an approval given for a pattern is
// shown as such, not as a step with no status.
func TestStateShowListsPatternApprovals(t *testing.T) {
	dir := t.TempDir()
	src := `
group "nodes" {
  for_each = ["a", "b"]
  step "swap" {
    uses         = "manual"
    instructions = "Swap the disk of ${each.value}."
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, nil, "apply", dir); code != 3 {
		t.Fatalf("apply exited %d:\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(t, nil, "approve", dir, `group.nodes["a"].*`); code != 0 {
		t.Fatalf("approve exited %d:\n%s%s", code, out, errOut)
	}
	code, out, errOut := run(t, nil, "state", "show", "--json", dir)
	if code != 0 {
		t.Fatalf("state show exited %d: %s", code, errOut)
	}
	var st struct {
		Steps []struct {
			Address string `json:"address"`
			Status  string `json:"status"`
		} `json:"steps"`
		Approvals []struct {
			Pattern string `json:"pattern"`
		} `json:"pattern_approvals"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, s := range st.Steps {
		if strings.Contains(s.Address, "*") || s.Status == "" {
			t.Errorf("state show lists %q (status %q) as a step", s.Address, s.Status)
		}
	}
	if len(st.Approvals) != 1 || st.Approvals[0].Pattern != `group.nodes["a"].*` {
		t.Errorf("pattern approvals %+v", st.Approvals)
	}
}
