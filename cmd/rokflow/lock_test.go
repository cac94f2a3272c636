package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/etcdtest"
	"github.com/rokflow/rokflow/internal/waitfor"
)

func writePlaybook(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitLocked polls until the playbook's lock has a holder.
func waitLocked(t *testing.T, dir string, stateArgs []string) {
	t.Helper()
	waitfor.Condition(t, 20*time.Second, "the first apply to take the lock", func() bool {
		out, _ := rokflowCmd(append([]string{"state", "list", dir}, stateArgs...)...).CombinedOutput()
		return bytes.Contains(out, []byte("Locked by"))
	})
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func testLocks(t *testing.T, stateArgs []string) {
	dir := writePlaybook(t, `
step "slow" {
  uses    = "exec"
  command = ["sleep", "3"]
}
`)
	first := rokflowCmd(append([]string{"apply", dir}, stateArgs...)...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	t.Cleanup(func() { _ = first.Process.Kill() })
	waitLocked(t, dir, stateArgs)

	out, err := rokflowCmd(append([]string{"apply", dir}, stateArgs...)...).CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "pid") || !strings.Contains(string(out), "apply") {
		t.Fatalf("second apply: exit %d\n%s", exitCode(err), out)
	}

	// A SIGKILLed holder's lock is free (at once for files; within the
	// lease TTL for etcd).
	_ = first.Process.Signal(syscall.SIGKILL)
	<-done
	var listed []byte
	free := false
	defer func() {
		if !free { // timed out: say what state list says
			t.Logf("state list says:\n%s", listed)
		}
	}()
	waitfor.Condition(t, 20*time.Second, "the killed holder's lock to be free", func() bool {
		var err error
		listed, err = rokflowCmd(append([]string{"state", "list", dir}, stateArgs...)...).CombinedOutput()
		free = err == nil && !bytes.Contains(listed, []byte("Locked by"))
		return free
	})
}

func TestLocksFile(t *testing.T) { testLocks(t, nil) }

func TestLocksEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a lease to expire")
	}
	srv := etcdtest.Start(t)
	testLocks(t, []string{"--state", "etcd://" + srv.Endpoint + "/rokflow/locks"})
}

// TestGateApprovedFromAnotherProcess: apply pauses at a gate with exit code
// 3, rokflow approve (another process) records the approval, and apply
// resumes the same run past the gate.
func TestGateApprovedFromAnotherProcess(t *testing.T) {
	dir := writePlaybook(t, `
step "gate" {
  uses         = "manual"
  instructions = "Replace the BOOT disk."
}
step "after" {
  uses       = "exec"
  command    = ["echo", "after the gate"]
  depends_on = [step.gate]
}
`)
	out, err := rokflowCmd("apply", dir).CombinedOutput()
	if exitCode(err) != 3 || !strings.Contains(string(out), "Replace the BOOT disk.") || !strings.Contains(string(out), "rokflow approve") {
		t.Fatalf("apply: exit %d\n%s", exitCode(err), out)
	}
	if out, err := rokflowCmd("approve", dir, "step.gate").CombinedOutput(); err != nil {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	out, err = rokflowCmd("apply", dir).CombinedOutput()
	if exitCode(err) != 0 || !strings.Contains(string(out), "step.after") {
		t.Fatalf("apply after approve: exit %d\n%s", exitCode(err), out)
	}
	show, _ := rokflowCmd("state", "show", dir, "step.gate").CombinedOutput()
	if !strings.Contains(string(show), "approved: ") {
		t.Fatalf("state show does not say who approved:\n%s", show)
	}
}

// TestApplyHintsNameTheState checks that the command apply suggests after
// a failure names the state backend the run used: without it, state show
// would read the default journal and find nothing.
func TestApplyHintsNameTheState(t *testing.T) {
	dir := t.TempDir()
	src := "step \"fails\" {\n  uses    = \"exec\"\n  command = [\"false\"]\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	stateURL := "file://" + filepath.Join(t.TempDir(), "journal dir")
	code, _, stderr := run(t, nil, "apply", dir, "--state", stateURL, "--no-color")
	if code != 1 {
		t.Fatalf("apply exited %d, want 1:\n%s", code, stderr)
	}
	want := "rokflow state show --state '" + stateURL + "' " + dir
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not suggest %q:\n%s", want, stderr)
	}
	code, out, stderr := run(t, nil, "state", "show", "--state", stateURL, dir)
	if code != 0 || !strings.Contains(out, "step.fails") {
		t.Errorf("the suggested command (exit %d) does not show the failed step:\n%s%s", code, out, stderr)
	}
}
