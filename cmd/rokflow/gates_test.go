package main

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/rokflow/rokflow/internal/etcdtest"
)

const gateWaitPlaybook = `
step "gate" {
  uses         = "manual"
  instructions = "Swap the BOOT disk."
  %s
}
step "after" {
  uses       = "exec"
  command    = ["echo", "after the gate"]
  depends_on = [step.gate]
}
`

// applyProcess is an apply --json running as its own process.
type applyProcess struct {
	events chan map[string]any
	done   chan int
}

// startApply starts rokflow apply --json ARGS in a process of its own and
// reads its events.
func startApply(t *testing.T, env []string, args ...string) *applyProcess {
	t.Helper()
	cmd := rokflowCmd(append([]string{"apply", "--json"}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &applyProcess{events: make(chan map[string]any, 100), done: make(chan int, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				p.events <- ev
			}
		}
		close(p.events)
		err := cmd.Wait()
		if err != nil && exitCode(err) == -1 {
			t.Logf("apply: %v", err)
		}
		if stderr.Len() > 0 {
			t.Logf("apply stderr:\n%s", stderr.String())
		}
		p.done <- exitCode(err)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill() // the process this test started
		}
	})
	return p
}

// waitFor returns the first event of type typ, failing the test after
// timeout.
func (p *applyProcess) waitFor(t *testing.T, typ string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				t.Fatalf("apply ended before a %s event", typ)
			}
			if ev["type"] == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", typ, timeout)
		}
	}
}

func (p *applyProcess) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-p.done:
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("apply did not end")
		return -1
	}
}

// TestApproveWhileApplyWaits: an apply without a terminal waits at a gate
// (--wait-gates), and an approve from another process passes it within a
// second: the gate's events say who approved it and how.
func TestApproveWhileApplyWaits(t *testing.T) {
	dir := writePlaybook(t, strings.Replace(gateWaitPlaybook, "%s", "", 1))
	p := startApply(t, nil, dir, "--wait-gates", "1m")
	wait := p.waitFor(t, "gate_wait", 30*time.Second)
	if wait["instructions"] != "Swap the BOOT disk." || wait["needed"] != 1.0 {
		t.Errorf("gate_wait %v", wait)
	}
	code, out, stderr := run(t, nil, "approve", dir, "step.gate")
	if code != 0 {
		t.Fatalf("approve: exit %d\n%s%s", code, out, stderr)
	}
	approved := time.Now()
	ev := p.waitFor(t, "gate_approval", 10*time.Second)
	if lag := time.Since(approved); lag > time.Second {
		t.Errorf("the waiting apply saw the approval after %s, more than a second", lag)
	}
	if ev["how"] != "approve" || ev["by"] == "" {
		t.Errorf("gate_approval %v", ev)
	}
	end := p.waitFor(t, "gate_end", 10*time.Second)
	if end["status"] != "approved" {
		t.Errorf("gate_end %v", end)
	}
	if code := p.exit(t); code != 0 {
		t.Errorf("apply: exit %d after the approval", code)
	}
	code, out, _ = run(t, nil, "state", "show", dir, "step.gate")
	if code != 0 || !strings.Contains(out, "approved: "+ev["by"].(string)+" (approve) at ") {
		t.Errorf("state show does not say who approved the gate, and how:\n%s", out)
	}
}

// TestGateTimeoutExitCodes: a gate's timeout fails the run (exit 1) or,
// with on_timeout = "pause", pauses it (exit 3), without a terminal.
func TestGateTimeoutExitCodes(t *testing.T) {
	cases := map[string]struct {
		extra string
		code  int
		say   string
	}{
		"fail":  {`timeout = "200ms"`, 1, "Gate timed out"},
		"pause": {"timeout = \"200ms\"\n  on_timeout = \"pause\"", 3, "Paused at the gate step.gate"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := writePlaybook(t, strings.Replace(gateWaitPlaybook, "%s", tc.extra, 1))
			code, out, stderr := run(t, nil, "apply", dir)
			if code != tc.code || !strings.Contains(out+stderr, tc.say) {
				t.Errorf("apply: exit %d, want %d and %q\n%s%s", code, tc.code, tc.say, out, stderr)
			}
			if !strings.Contains(out, "not approved within its timeout of 200ms") {
				t.Errorf("apply does not say the gate timed out:\n%s", out)
			}
		})
	}
}

// TestValidateGateRule: the approval rule is checked at validate time, on
// its attribute.
func TestValidateGateRule(t *testing.T) {
	dir := writePlaybook(t, strings.Replace(gateWaitPlaybook, "%s", "approvals = 0\n  timeout = \"1m\"\n  on_timeout = \"wait\"", 1))
	code, out, stderr := run(t, nil, "validate", dir)
	if code != 1 || !strings.Contains(stderr, "Invalid approvals") || !strings.Contains(stderr, "Invalid on_timeout") || !strings.Contains(stderr, "main.hcl line 5") {
		t.Errorf("validate: exit %d\n%s%s", code, out, stderr)
	}
}

// etcdUsers starts an etcd with auth on and the users given, each
// allowed everything, with the password "pw-" + name.
func etcdUsers(t *testing.T, users ...string) string {
	t.Helper()
	srv := etcdtest.Start(t)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, u := range append([]string{"root"}, users...) {
		if _, err := cli.UserAdd(ctx, u, "pw-"+u); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.UserGrantRole(ctx, u, "root"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	return "etcd://" + srv.Endpoint + "/rokflow"
}

// TestApproveFourEyes: a gate with approvals = 2 needs two etcd users
// other than the one running the apply: the runner's approve is refused,
// one user approving twice counts once, and the second user's approval
// passes the gate.
func TestApproveFourEyes(t *testing.T) {
	url := etcdUsers(t, "runner", "alice", "bob")
	dir := writePlaybook(t, strings.Replace(gateWaitPlaybook, "%s", "approvals = 2", 1))
	as := func(user string) map[string]string { return map[string]string{"ROKFLOW_STATE_PASSWORD": "pw-" + user} }
	p := startApply(t, []string{"ROKFLOW_STATE_PASSWORD=pw-runner"}, dir, "--state", url, "--state-user", "runner", "--wait-gates", "1m")
	if ev := p.waitFor(t, "gate_wait", 30*time.Second); ev["needed"] != 2.0 {
		t.Fatalf("gate_wait %v", ev)
	}
	approve := func(user string) (int, string, string) {
		return run(t, as(user), "approve", dir, "step.gate", "--state", url, "--state-user", user)
	}
	if code, out, stderr := approve("runner"); code != 1 || !strings.Contains(stderr, "refuses self-approval") || strings.Contains(out, "Approved") {
		t.Errorf("approve by the runner: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr := approve("alice"); code != 0 || !strings.Contains(out, "as alice") {
		t.Fatalf("approve by alice: exit %d\n%s%s", code, out, stderr)
	}
	if ev := p.waitFor(t, "gate_approval", 10*time.Second); ev["by"] != "alice" || ev["approvals"] != 1.0 {
		t.Errorf("alice's gate_approval %v", ev)
	}
	if code, out, stderr := approve("alice"); code != 0 || !strings.Contains(out, "counts once") {
		t.Errorf("alice again: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr := approve("bob"); code != 0 {
		t.Fatalf("approve by bob: exit %d\n%s%s", code, out, stderr)
	}
	if ev := p.waitFor(t, "gate_approval", 10*time.Second); ev["by"] != "bob" || ev["approvals"] != 2.0 {
		t.Errorf("bob's gate_approval %v", ev)
	}
	if ev := p.waitFor(t, "gate_end", 10*time.Second); ev["status"] != "approved" || ev["by"] != "alice, bob" {
		t.Errorf("gate_end %v", ev)
	}
	if code := p.exit(t); code != 0 {
		t.Errorf("apply: exit %d", code)
	}
}

// TestPausedGateInState: a run that pauses at a four-eyes gate says who
// may approve it, state show tells the gate waits and for how many
// approvals, an address of no step is refused with the nearest one, and
// the run resumed waits at the gate again.
func TestPausedGateInState(t *testing.T) {
	dir := writePlaybook(t, strings.Replace(gateWaitPlaybook, "%s", "approvals = 2", 1))
	for range 2 { // the second apply resumes the paused run
		code, out, stderr := run(t, nil, "apply", dir, "--yes")
		if code != 3 || !strings.Contains(out, "it needs 2 approvals from people other than") || !strings.Contains(out, "Each of them runs: rokflow approve "+dir+" step.gate") {
			t.Fatalf("apply: exit %d\n%s%s", code, out, stderr)
		}
		if got := shownSteps(t, dir)["step.gate"]; got != "waiting" {
			t.Errorf("state show: step.gate is %q, want waiting", got)
		}
	}
	code, out, stderr := run(t, nil, "state", "show", dir)
	if code != 0 || !strings.Contains(out, "step.gate  WAITING") || !strings.Contains(out, "waits for: 2 approvals from distinct people (0 given)") {
		t.Errorf("state show: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "state", "show", dir, "--json")
	if code != 0 || !strings.Contains(out, `"needed": 2`) {
		t.Errorf("state show --json: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = run(t, nil, "state", "show", dir, "step.gat")
	if code != 1 || out != "" || !strings.Contains(stderr, "no step of run") || !strings.Contains(stderr, "Did you mean step.gate?") {
		t.Errorf("state show of no step: exit %d\n%s%s", code, out, stderr)
	}
}
