package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the step never started:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("apply after SIGTERM: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "step.after") && strings.Contains(out.String(), "succeeded") && !strings.Contains(out.String(), "failed") {
		t.Fatalf("the run went on after SIGTERM:\n%s", out.String())
	}
	// The journal is consistent: state show reads it.
	show := rokflowCmd("state", "show", dir)
	b, err := show.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "step.long") {
		t.Fatalf("state show after SIGTERM: %v\n%s", err, b)
	}
}
