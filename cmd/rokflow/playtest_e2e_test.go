package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/jsondoc"
)

// shippedCases are the cases of playbooks/rok-v0.11/tests that make test
// runs: every one.
const shippedCases = `^(appliance|appliance_single|ganeti|failing_slave|from_0_9_refused|already_upgraded)$`

// TestPlaybookTests runs `rokflow test` on the shipped playbook's tests, as
// an operator would: rokflow starts a simulator per case and runs apply
// against it as a child of its own binary (this test binary, acting as
// rokflow).
func TestPlaybookTests(t *testing.T) {
	if testing.Short() {
		t.Skip("the playbook's tests run the v0.11 upgrade on six simulated clusters")
	}
	code, out, stderr := runChild(t, rokflowCmd("test", shipped, "--run", shippedCases), 5*time.Minute)
	if code != 0 {
		t.Fatalf("rokflow test exited %d:\n%s\n%s", code, out, stderr)
	}
	for _, name := range []string{"appliance", "appliance_single", "ganeti", "failing_slave", "from_0_9_refused", "already_upgraded"} {
		if !strings.Contains(out, "PASS  "+name+" ") {
			t.Errorf("no PASS line for %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "\n6 passed in ") || strings.Contains(out, "FAIL") {
		t.Errorf("the summary:\n%s", out)
	}
}

// TestPlaybookTestFails checks that a case whose expectations do not hold
// fails the command, with its diagnostics on the line that states them
// and the values an assertion used.
func TestPlaybookTestFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulator")
	}
	dir := filepath.Join(t.TempDir(), "gateway")
	for _, f := range []string{"main.hcl", "tests/gateway.rftest.hcl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "playtest", "gateway", f))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(dir, f), string(data))
	}
	writeTestFile(t, filepath.Join(dir, "tests", "wrong.rftest.hcl"), `case "wrong" {
  simulator {
    nodes = 1
  }

  expect {
    outcome = "refused"
  }

  assert {
    condition     = cluster.etcd_auth
    error_message = "etcd auth is ${cluster.etcd_auth ? "on" : "off"}."
  }
}
`)
	code, out, stderr := runChild(t, rokflowCmd("test", dir, "--json"), 3*time.Minute)
	if code != 1 {
		t.Fatalf("rokflow test exited %d, want 1:\n%s\n%s", code, out, stderr)
	}
	var doc struct {
		Passed bool `json:"passed"`
		Cases  []struct {
			Name, Outcome string
			Passed        bool
			Failures      []struct {
				Summary, Detail string
				Range           struct {
					Filename string
					Start    struct{ Line int }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("rokflow test --json: %v\n%s", err, out)
	}
	validDoc(t, jsondoc.TestReport, "rokflow test --json", []byte(out))
	if doc.Passed || len(doc.Cases) != 2 {
		t.Fatalf("the document: %+v", doc)
	}
	for _, c := range doc.Cases {
		if c.Name == "migrate" && !c.Passed {
			t.Errorf("migrate failed: %+v", c)
		}
		if c.Name != "wrong" {
			continue
		}
		if c.Passed || c.Outcome != "succeeded" || len(c.Failures) != 2 {
			t.Fatalf("wrong: %+v", c)
		}
		f := c.Failures
		if f[0].Summary != "Unexpected outcome" || f[0].Range.Start.Line != 7 || !strings.Contains(f[0].Detail, "The run ended succeeded; the case expects refused") {
			t.Errorf("the outcome's failure: %+v", f[0])
		}
		if f[1].Summary != "Assertion failed" || f[1].Range.Start.Line != 11 || f[1].Detail != "etcd auth is off." || !strings.HasSuffix(f[1].Range.Filename, "wrong.rftest.hcl") {
			t.Errorf("the assertion's failure: %+v", f[1])
		}
	}
	code, out, stderr = runChild(t, rokflowCmd("test", dir, "--run", "wrong"), 3*time.Minute)
	if code != 1 || !strings.Contains(out, "FAIL  wrong") || !strings.Contains(stderr, "Error: Assertion failed") ||
		!strings.Contains(stderr, "with cluster.etcd_auth as false") || !strings.Contains(stderr, `11:     condition     = cluster.etcd_auth`) {
		t.Errorf("rokflow test exited %d:\n%s\n%s", code, out, stderr)
	}
}

// TestPlaybookTestsCrash runs a small case with --crash: apply is killed
// at every step boundary of a fresh run, resumed, its once step in doubt
// resolved from the simulator's counters, and the case checked again.
func TestPlaybookTestsCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulator a dozen times")
	}
	code, out, stderr := runChild(t, rokflowCmd("test", filepath.Join("testdata", "playtest", "gateway"), "--crash", "--json"), 5*time.Minute)
	if code != 0 {
		t.Fatalf("rokflow test --crash exited %d:\n%s\n%s", code, out, stderr)
	}
	var doc struct {
		Passed bool
		Cases  []struct {
			Crash struct {
				Boundaries, Kills, Missed, Applies int
				Done                               int `json:"resolved_done"`
				Retried                            int `json:"resolved_retry"`
				Failed                             int `json:"failed_runs"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Cases) != 1 {
		t.Fatalf("rokflow test --json: %v\n%s", err, out)
	}
	validDoc(t, jsondoc.TestReport, "rokflow test --crash --json", []byte(out))
	k := doc.Cases[0].Crash
	// members, the two stops, migrate, the two starts: six steps that
	// start and end.
	if !doc.Passed || k.Boundaries != 12 || k.Kills+k.Missed != k.Boundaries || k.Kills < 10 || k.Failed != 0 || k.Applies <= k.Kills {
		t.Errorf("crash report %+v of %s", k, out)
	}
	// Killed once the migration's intent is journaled, the step is in
	// doubt, and the simulator's counter answers.
	if k.Done+k.Retried < 1 {
		t.Errorf("no step in doubt was resolved: %+v", k)
	}
	t.Logf("%d boundaries: %d kills, %d missed, %d applies, %d resolved --done, %d --retry", k.Boundaries, k.Kills, k.Missed, k.Applies, k.Done, k.Retried)
}

func writeTestFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
