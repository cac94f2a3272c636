package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

// applyFixture is a playbook written to a temporary directory, with a
// ledger file its steps append to, and a file state backend beside it.
type applyFixture struct {
	t       testing.TB
	dir     string
	ledger  string
	backend state.Backend
	events  []runtime.Event
	// diags are the last apply's diagnostics.
	diags hcl.Diagnostics
	// refusal: the test expects apply to refuse to run (no result).
	refusal bool
	// reg, when set, replaces the built-in kinds.
	reg *steps.Registry
}

func newApplyFixture(t testing.TB, src string) *applyFixture {
	t.Helper()
	dir := t.TempDir()
	f := &applyFixture{t: t, dir: dir, ledger: filepath.Join(dir, "ledger")}
	src = strings.ReplaceAll(src, "LEDGER", f.ledger)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := state.Open(context.Background(), "file://"+filepath.Join(dir, ".rokflow"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	f.backend = b
	return f
}

func (f *applyFixture) Event(ev runtime.Event) { f.events = append(f.events, ev) }

type applyOpt func(*runtime.ApplyOptions)

func (f *applyFixture) apply(opts ...applyOpt) *runtime.Result {
	f.t.Helper()
	reg := f.reg
	if reg == nil {
		reg = registry(f.t)
	}
	return f.applyReg(reg, opts...)
}

// applyReg applies with the kinds of reg.
func (f *applyFixture) applyReg(reg *steps.Registry, opts ...applyOpt) *runtime.Result {
	f.t.Helper()
	pb, diags := lang.Load(f.dir)
	if diags.HasErrors() {
		f.t.Fatal(diags)
	}
	vals, diags := lang.BindInputs(pb.Root, lang.NewInputSet(), false)
	if diags.HasErrors() {
		f.t.Fatal(diags)
	}
	h := state.Holder{User: "tester", Host: "test", PID: os.Getpid(), Since: time.Now()}
	sess, err := f.backend.Lock(context.Background(), h)
	if err != nil {
		f.t.Fatal(err)
	}
	defer sess.Unlock(context.Background())
	o := runtime.ApplyOptions{
		Plan: runtime.Options{Inputs: vals, Hosts: func(context.Context, string, cty.Value) (steps.Host, error) {
			return local.New(), nil
		}},
		Parallelism: 4,
		Backend:     f.backend,
		Session:     sess,
		Holder:      h,
		PlanHash:    runtime.Hash(pb, vals),
		Hook:        f,
	}
	for _, opt := range opts {
		opt(&o)
	}
	res, diags := runtime.Apply(context.Background(), pb, reg, o)
	f.diags = diags
	if w, ok := o.Hook.(interface{ wait() }); ok {
		w.wait() // what the hook started on events ends with the apply
	}
	if res == nil && !f.refusal {
		f.t.Fatalf("apply returned no result: %v", diags)
	}
	return res
}

func (f *applyFixture) lines() []string {
	b, err := os.ReadFile(f.ledger)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.Fields(string(b))
}

const ledgerStep = `
step "%s" {
  uses   = "shell"
  script = "echo \"$1\" >> LEDGER"
  args   = ["%s"]
}
`

func TestApplyOrderAndNoRerun(t *testing.T) {
	f := newApplyFixture(t, `
step "a" {
  uses   = "shell"
  script = "echo a >> LEDGER"
}
step "b" {
  uses       = "shell"
  script     = "echo b >> LEDGER"
  depends_on = [step.a]
}
step "c" {
  uses   = "shell"
  script = "echo \"c-$1\" >> LEDGER"
  args   = [trimspace(step.b.outputs.stdout) == "" ? "after-b" : "x"]
}
`)
	res := f.apply()
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("status %s", res.Status)
	}
	if got := f.lines(); !slices.Equal(got, []string{"a", "b", "c-after-b"}) {
		t.Fatalf("ledger %v", got)
	}
	if res := f.apply(); res.Status != runtime.RunAlreadyDone {
		t.Fatalf("second apply: %s", res.Status)
	}
	if got := f.lines(); len(got) != 3 {
		t.Fatalf("a finished run ran again: %v", got)
	}
	if res := f.apply(func(o *runtime.ApplyOptions) { o.NewRun = true }); res.Status != runtime.RunSucceeded || len(f.lines()) != 6 {
		t.Fatalf("--new-run: %s, ledger %v", res.Status, f.lines())
	}
}

func TestApplyFailureSkipsDownstream(t *testing.T) {
	f := newApplyFixture(t, `
step "bad" {
  uses    = "exec"
  command = ["false"]
}
step "after_bad" {
  uses       = "shell"
  script     = "echo after_bad >> LEDGER"
  depends_on = [step.bad]
}
step "independent" {
  uses   = "shell"
  script = "echo independent >> LEDGER"
}
`)
	res := f.apply()
	if res.Status != runtime.RunFailed || !slices.Equal(res.Failed, []string{"step.bad"}) || !slices.Contains(res.Blocked, "step.after_bad") {
		t.Fatalf("result %+v", res)
	}
	if got := f.lines(); !slices.Equal(got, []string{"independent"}) {
		t.Fatalf("ledger %v", got)
	}
}

func TestApplyRollingStopsAfterMaxFailures(t *testing.T) {
	f := newApplyFixture(t, `
group "nodes" {
  for_each = ["n1", "n2", "n3", "n4", "n5", "n6"]
  rolling {
    batch        = 2
    max_failures = 0
  }
  step "upgrade" {
    uses   = "shell"
    script = "echo \"$1\" >> LEDGER; [ \"$1\" != n3 ]"
    args   = [each.key]
  }
}
`)
	res := f.apply()
	if res.Status != runtime.RunFailed {
		t.Fatalf("status %s", res.Status)
	}
	got := f.lines()
	slices.Sort(got)
	if !slices.Equal(got, []string{"n1", "n2", "n3", "n4"}) {
		t.Fatalf("ledger %v: the batch after the failure must not start, the failed batch finishes", got)
	}
	stopped := false
	for _, ev := range f.events {
		stopped = stopped || ev.Type == runtime.EventGroupStop
	}
	if !stopped {
		t.Error("no group_stop event")
	}
}

func TestApplyGatePausesUntilApproved(t *testing.T) {
	f := newApplyFixture(t, `
step "before" {
  uses   = "shell"
  script = "echo before >> LEDGER"
}
step "gate" {
  uses         = "manual"
  instructions = "Swap the disk."
  depends_on   = [step.before]
}
step "after" {
  uses       = "shell"
  script     = "echo after >> LEDGER"
  depends_on = [step.gate]
}
`)
	res := f.apply()
	if res.Status != runtime.RunPaused || !slices.Equal(res.Waiting, []string{"step.gate"}) {
		t.Fatalf("result %+v", res)
	}
	// Approve from "another terminal": straight into the backend, no lock.
	if err := f.backend.Approve(context.Background(), state.Record{Kind: state.KindApproval, Run: res.Run, Addr: "step.gate", Holder: &state.Holder{User: "operator"}}); err != nil {
		t.Fatal(err)
	}
	res2 := f.apply()
	if res2.Status != runtime.RunSucceeded || res2.Run != res.Run {
		t.Fatalf("after approval: %+v", res2)
	}
	if got := f.lines(); !slices.Equal(got, []string{"before", "after"}) {
		t.Fatalf("ledger %v: before must not run twice", got)
	}
}

func TestApplyApproveFlagAndPattern(t *testing.T) {
	f := newApplyFixture(t, `
group "g" {
  for_each = ["x", "y"]
  step "gate" {
    uses         = "manual"
    instructions = "Check ${each.key}."
  }
}
`)
	res := f.apply(func(o *runtime.ApplyOptions) { o.Approve = []addrs.Pattern{addrs.Compile(`group.g["x"].*`)} })
	if res.Status != runtime.RunPaused || !slices.Equal(res.Waiting, []string{`group.g["y"].step.gate`}) {
		t.Fatalf("a pattern for one element approved %+v", res)
	}
	res = f.apply(func(o *runtime.ApplyOptions) { o.AutoApprove = true })
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("auto-approve: %+v", res)
	}
}

func TestApplyOnceInDoubtAfterCrash(t *testing.T) {
	f := newApplyFixture(t, `
step "migrate" {
  uses   = "shell"
  once   = true
  script = "echo migrate >> LEDGER"
}
step "after" {
  uses       = "shell"
  script     = "echo after >> LEDGER"
  depends_on = [step.migrate]
}
`)
	// A run that crashed while the once step ran: its intent is journaled.
	sess, err := f.backend.Lock(context.Background(), state.Holder{User: "crashed"})
	if err != nil {
		t.Fatal(err)
	}
	run := "20260101T000000.000Z"
	if err := sess.Append(context.Background(),
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.migrate", Status: state.Running, Attempt: 1},
	); err != nil {
		t.Fatal(err)
	}
	sess.Unlock(context.Background())

	res := f.apply()
	if res.Status != runtime.RunPaused || !slices.Equal(res.InDoubt, []string{"step.migrate"}) {
		t.Fatalf("result %+v", res)
	}
	if len(f.lines()) != 0 {
		t.Fatal("an in-doubt once step ran again")
	}
	sess, err = f.backend.Lock(context.Background(), state.Holder{User: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Append(context.Background(), state.Record{Kind: state.KindResolve, Run: run, Addr: "step.migrate", Resolution: "done"}); err != nil {
		t.Fatal(err)
	}
	sess.Unlock(context.Background())
	res = f.apply()
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("after resolve: %+v", res)
	}
	if got := f.lines(); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("ledger %v: the once step must not run, its dependents must", got)
	}
}

func TestApplyExpandsDiscoveredGroup(t *testing.T) {
	f := newApplyFixture(t, `
step "discover" {
  uses    = "exec"
  command = ["printf", "n1\nn2\nn3\n"]
}
group "nodes" {
  for_each = [for l in step.discover.outputs.lines : l if l != ""]
  step "touch" {
    uses   = "shell"
    script = "echo \"$1\" >> LEDGER"
    args   = [each.value]
  }
}
step "last" {
  uses       = "shell"
  script     = "echo last >> LEDGER"
  depends_on = [group.nodes]
}
`)
	res := f.apply()
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("result %+v", res)
	}
	got := f.lines()
	if len(got) != 4 || got[3] != "last" {
		t.Fatalf("ledger %v", got)
	}
}

func TestApplyCompensatesOnFailure(t *testing.T) {
	f := newApplyFixture(t, `
step "pin" {
  uses   = "shell"
  script = "echo pin >> LEDGER"
  undo   = step.unpin
}
step "work" {
  uses       = "exec"
  command    = ["false"]
  depends_on = [step.pin]
}
step "unpin" {
  uses       = "shell"
  script     = "echo unpin >> LEDGER"
  depends_on = [step.work]
}
`)
	res := f.apply()
	if res.Status != runtime.RunFailed {
		t.Fatalf("status %s", res.Status)
	}
	if got := f.lines(); !slices.Equal(got, []string{"pin", "unpin"}) {
		t.Fatalf("ledger %v: the owed undo must run after the failure", got)
	}
}

func TestApplyRetries(t *testing.T) {
	f := newApplyFixture(t, `
step "flaky" {
  uses   = "shell"
  script = "echo try >> LEDGER; [ $(wc -l < LEDGER) -ge 2 ]"
  retry {
    attempts = 3
    delay    = "10ms"
  }
}
`)
	res := f.apply()
	if res.Status != runtime.RunSucceeded || len(f.lines()) != 2 {
		t.Fatalf("status %s, ledger %v", res.Status, f.lines())
	}
}

func TestApplyTimeout(t *testing.T) {
	f := newApplyFixture(t, `
step "slow" {
  uses    = "exec"
  command = ["sleep", "5"]
  timeout = "100ms"
}
`)
	start := time.Now()
	res := f.apply()
	if res.Status != runtime.RunFailed || time.Since(start) > 3*time.Second {
		t.Fatalf("status %s after %s", res.Status, time.Since(start))
	}
}

func TestApplyResumeRetriesWhatFailed(t *testing.T) {
	f := newApplyFixture(t, `
step "first" {
  uses   = "shell"
  script = "echo first >> LEDGER"
}
step "flaky" {
  uses       = "shell"
  once       = true
  script     = "[ -e LEDGER.healed ] && echo flaky >> LEDGER"
  depends_on = [step.first]
}
step "last" {
  uses       = "shell"
  script     = "echo last >> LEDGER"
  depends_on = [step.flaky]
}
`)
	if res := f.apply(); res.Status != runtime.RunFailed {
		t.Fatalf("first apply: %s", res.Status)
	}
	if err := os.WriteFile(f.ledger+".healed", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res := f.apply()
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("apply after healing: %+v", res)
	}
	if got := f.lines(); !slices.Equal(got, []string{"first", "flaky", "last"}) {
		t.Fatalf("ledger %v: the failed step runs again, what succeeded does not", got)
	}
}

// TestKindsGetUnmarkedArguments runs a kind with a sensitive value in a
// list literal, in a general expression and nowhere: the planner says
// which instances hold marks and the executor must unmark exactly those,
// so the kind always receives plain values (it would panic reading a
// marked one) and the run knows the secret to scrub.
func TestKindsGetUnmarkedArguments(t *testing.T) {
	const secret = "hunter2-canary-7731"
	dir := t.TempDir()
	src := `
variable "pw" {
  type      = string
  sensitive = true
  default   = "` + secret + `"
}

step "literal" {
  uses = "rec"
  argv = ["login", "pw=${var.pw}"]
}

step "general" {
  uses  = "rec"
  value = { pw = var.pw }
}

step "plain" {
  uses = "rec"
  argv = ["echo", "nothing to hide"]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := stepstest.NewRecorder("rec", func(s *steps.Schema) {
		s.Target = steps.TargetNone
		s.Args.Attributes["argv"] = &schema.Attribute{Type: cty.List(cty.String), Description: "Words."}
		// Its lines are shown, so the literal secret must be replaced.
		s.Secrets.CleanStream = true
	})
	var lines []string
	rec.RunFunc = func(_ context.Context, req steps.RunRequest) steps.RunResponse {
		if req.Args.ContainsMarked() {
			t.Errorf("the kind got marked arguments: %#v", req.Args)
		}
		raw, _ := req.Args.UnmarkDeep()
		req.Output("stdout", steps.Display(raw))
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.NullVal(cty.DynamicPseudoType)})}
	}
	reg, err := steps.NewRegistry(rec)
	if err != nil {
		t.Fatal(err)
	}
	pb, diags := lang.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vals, diags := lang.BindInputs(pb.Root, lang.NewInputSet(), false)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	backend, err := state.Open(context.Background(), "mem://", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := backend.Lock(context.Background(), state.Holder{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	hook := hookFunc(func(ev runtime.Event) {
		if ev.Type == runtime.EventStepOutput {
			lines = append(lines, ev.Addr+": "+ev.Line)
		}
	})
	res, diags := runtime.Apply(context.Background(), pb, reg, runtime.ApplyOptions{
		Plan: runtime.Options{Inputs: vals}, Parallelism: 1, Backend: backend, Session: sess, Hook: hook,
	})
	if res == nil || res.Status != runtime.RunSucceeded {
		t.Fatalf("run: %v %v", res, diags)
	}
	if len(rec.Runs()) != 3 || len(lines) != 3 {
		t.Fatalf("%d runs, output lines %q", len(rec.Runs()), lines)
	}
	for _, l := range lines {
		switch {
		case strings.Contains(l, secret):
			t.Errorf("an output line shows the secret: %q", l)
		case strings.HasPrefix(l, "step.plain") && !strings.Contains(l, "nothing to hide"):
			t.Errorf("step.plain's line was changed: %q", l)
		case !strings.HasPrefix(l, "step.plain") && !strings.Contains(l, "(sensitive)"):
			t.Errorf("a secret was not replaced: %q", l)
		}
	}
}

type hookFunc func(runtime.Event)

func (h hookFunc) Event(ev runtime.Event) { h(ev) }
