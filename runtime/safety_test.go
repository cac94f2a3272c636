package runtime_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// journalRun writes records as an earlier, crashed process would have.
func (f *applyFixture) journalRun(recs ...state.Record) {
	f.t.Helper()
	sess, err := f.backend.Lock(context.Background(), state.Holder{User: "earlier"})
	if err != nil {
		f.t.Fatal(err)
	}
	defer sess.Unlock(context.Background())
	if err := sess.Append(context.Background(), recs...); err != nil {
		f.t.Fatal(err)
	}
}

// applyWithin applies and fails the test when the run does not end in d:
// a run must never spin.
func (f *applyFixture) applyWithin(d time.Duration, opts ...applyOpt) (*runtime.Result, hcl.Diagnostics) {
	f.t.Helper()
	ch := make(chan *runtime.Result, 1)
	go func() { ch <- f.apply(opts...) }()
	select {
	case res := <-ch:
		return res, f.diags
	case <-time.After(d):
		f.t.Fatalf("apply did not end within %s", d)
		return nil, nil
	}
}

func TestApplyResolvedDoneWithoutOutputsFailsDependents(t *testing.T) {
	f := newApplyFixture(t, `
step "discover" {
  uses    = "exec"
  once    = true
  command = ["printf", "n1\nn2\n"]
}
group "nodes" {
  for_each = [for l in step.discover.outputs.lines : l if l != ""]
  step "touch" {
    uses   = "shell"
    script = "echo \"$1\" >> LEDGER"
    args   = [each.value]
  }
}
`)
	run := "20260101T000000.000Z"
	f.journalRun(
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.discover", Status: state.Running, Attempt: 1},
		state.Record{Kind: state.KindResolve, Run: run, Addr: "step.discover", Resolution: state.ResolutionDone},
	)
	res, diags := f.applyWithin(20 * time.Second)
	if res.Status != runtime.RunFailed {
		t.Fatalf("status %s, want failed: %+v", res.Status, res)
	}
	if !strings.Contains(diags.Error(), "step.discover") || !strings.Contains(diags.Error(), "resolved") {
		t.Fatalf("the error must say the outputs of the resolved step are not known: %v", diags)
	}
	if len(f.lines()) != 0 {
		t.Fatalf("ledger %v", f.lines())
	}
}

func TestApplyInDoubtHoldsRollingGroup(t *testing.T) {
	for _, maxFailures := range []int{0, 1} {
		t.Run("max_failures="+string(rune('0'+maxFailures)), func(t *testing.T) {
			f := newApplyFixture(t, `
group "nodes" {
  for_each = ["a", "b", "c"]
  rolling {
    batch        = 1
    max_failures = `+string(rune('0'+maxFailures))+`
  }
  step "prep" {
    uses   = "shell"
    script = "echo \"prep $1\" | tr ' ' - >> LEDGER"
    args   = [each.value]
  }
  # The once step is the element's last: with it in doubt, nothing else
  # of the element holds its batch open.
  step "upgrade" {
    uses       = "shell"
    once       = true
    script     = "echo \"upgrade $1\" | tr ' ' - >> LEDGER"
    args       = [each.value]
    depends_on = [step.prep]
  }
}
`)
			run := "20260101T000000.000Z"
			f.journalRun(
				state.Record{Kind: state.KindRun, Run: run},
				state.Record{Kind: state.KindStep, Run: run, Addr: `group.nodes["a"].step.prep`, Status: state.Succeeded, Attempt: 1},
				state.Record{Kind: state.KindStep, Run: run, Addr: `group.nodes["a"].step.upgrade`, Status: state.Running, Attempt: 1},
			)
			res, _ := f.applyWithin(20 * time.Second)
			if res.Status != runtime.RunPaused || !slices.Equal(res.InDoubt, []string{`group.nodes["a"].step.upgrade`}) {
				t.Fatalf("result %+v", res)
			}
			if got := f.lines(); len(got) != 0 {
				for _, ev := range f.events {
					t.Logf("%s %s %s %s", ev.Type, ev.Addr, ev.Status, ev.Summary)
				}
				t.Fatalf("a later element was touched while an earlier one is in doubt: %v", got)
			}
			// Answered, the group goes on in order.
			f.journalRun(state.Record{Kind: state.KindResolve, Run: run, Addr: `group.nodes["a"].step.upgrade`, Resolution: state.ResolutionDone})
			res, _ = f.applyWithin(20 * time.Second)
			if res.Status != runtime.RunSucceeded {
				t.Fatalf("after resolve: %+v", res)
			}
			if got, want := f.lines(), []string{"prep-b", "upgrade-b", "prep-c", "upgrade-c"}; !slices.Equal(got, want) {
				t.Fatalf("ledger %v, want %v", got, want)
			}
		})
	}
}

// jobCluster is a tiny model of a Ganeti cluster for handle tests: a job
// kind submits a job (recording its id as the step's handle) that shuts
// an instance down or starts it, reinstalling needs it down, and a handle
// given back re-attaches to the finished job without acting again.
type jobCluster struct {
	mu      sync.Mutex
	up      bool
	jobs    []string // the actions of the jobs submitted, in order
	healed  bool
	reattch int
}

func (c *jobCluster) kind() *stepstest.Recorder {
	rec := stepstest.NewRecorder("job", func(s *steps.Schema) { s.Target = steps.TargetNone })
	rec.RunFunc = func(_ context.Context, req steps.RunRequest) steps.RunResponse {
		c.mu.Lock()
		defer c.mu.Unlock()
		action := req.Args.GetAttr("value").AsString()
		if req.Handle != "" {
			c.reattch++
			return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(req.Handle)})}
		}
		fail := func(msg string) steps.RunResponse {
			return steps.RunResponse{Diagnostics: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: msg}}}
		}
		switch action {
		case "reinstall":
			if !c.healed {
				return fail("reinstall failed")
			}
			if c.up {
				return fail("instance is running; shut it down first")
			}
		}
		c.jobs = append(c.jobs, action)
		id := fmt.Sprintf("job-%d", len(c.jobs))
		if err := req.RecordHandle(id); err != nil {
			return fail(err.Error())
		}
		switch action {
		case "shutdown":
			c.up = false
		case "startup":
			c.up = true
		}
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(id)})}
	}
	return rec
}

// TestApplyRetiresHandlesOfUndoneSteps: after a failed reinstall whose
// shutdown was undone by a startup, a new apply must submit new jobs, not
// re-attach to the old ones and report work that was not done.
func TestApplyRetiresHandlesOfUndoneSteps(t *testing.T) {
	f := newApplyFixture(t, `
step "shutdown" {
  uses  = "job"
  value = "shutdown"
  undo  = step.startup
}
step "reinstall" {
  uses       = "job"
  value      = "reinstall"
  depends_on = [step.shutdown]
}
step "startup" {
  uses       = "job"
  value      = "startup"
  depends_on = [step.reinstall]
}
`)
	c := &jobCluster{up: true}
	reg, err := steps.NewRegistry(c.kind())
	if err != nil {
		t.Fatal(err)
	}
	if res := f.applyReg(reg); res.Status != runtime.RunFailed {
		t.Fatalf("first apply: %+v", res)
	}
	if !c.up || !slices.Equal(c.jobs, []string{"shutdown", "startup"}) {
		t.Fatalf("after compensation: up=%v jobs %v", c.up, c.jobs)
	}
	c.healed = true
	if res := f.applyReg(reg); res.Status != runtime.RunSucceeded {
		t.Fatalf("second apply: %+v %v", res, f.diags)
	}
	if want := []string{"shutdown", "startup", "shutdown", "reinstall", "startup"}; !slices.Equal(c.jobs, want) || c.reattch != 0 {
		t.Fatalf("jobs %v (re-attached %d times), want %v and no re-attachment", c.jobs, c.reattch, want)
	}
	if !c.up {
		t.Fatal("the instance is down after a successful run")
	}
}

func TestApplyRollingPauseWithNothingRunning(t *testing.T) {
	f := newApplyFixture(t, `
group "nodes" {
  for_each = ["a", "b"]
  rolling {
    batch = 1
    pause = "300ms"
  }
  step "upgrade" {
    uses   = "shell"
    script = "echo \"$1\" >> LEDGER"
    args   = [each.value]
  }
}
`)
	start := time.Now()
	res, _ := f.applyWithin(20 * time.Second)
	if res.Status != runtime.RunSucceeded || !slices.Equal(f.lines(), []string{"a", "b"}) {
		t.Fatalf("result %+v, ledger %v, diags %v", res, f.lines(), f.diags)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Fatalf("the pause between batches was not kept (%s)", time.Since(start))
	}
}

// TestSavedPlanBindsOnlyFactsReadBeforeChanges: a discovery that runs
// after a change it depends on is a preview, read again at apply; a
// discovery before any change is bound, and checked before the first
// change.
func TestSavedPlanBindsOnlyFactsReadBeforeChanges(t *testing.T) {
	f := newApplyFixture(t, `
step "members" {
  uses = "probe"
  value = "members"
}
step "upgrade" {
  uses       = "shell"
  script     = "echo upgrade >> LEDGER"
  depends_on = [step.members]
}
step "migrations" {
  uses       = "probe"
  value      = "migrations"
  depends_on = [step.upgrade]
}
step "migrate" {
  uses       = "shell"
  script     = "echo migrate >> LEDGER"
  depends_on = [step.migrations]
}
# A change that depends on no discovery must still wait for the bound
# facts to be checked.
step "other" {
  uses   = "shell"
  script = "echo other >> LEDGER"
}
`)
	found := map[string]string{"members": "rok1", "migrations": "2 pending"}
	rec := stepstest.NewRecorder("probe", func(s *steps.Schema) { s.Target = steps.TargetNone; s.Effect = steps.ReadOnly })
	rec.RunFunc = func(_ context.Context, req steps.RunRequest) steps.RunResponse {
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(found[req.Args.GetAttr("value").AsString()])})}
	}
	reg := kindsWith(t, []steps.Kind{rec}, "shell")
	pb, diags := lang.Load(f.dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, diags := runtime.Plan(context.Background(), pb, reg, runtime.Options{Discover: true, Inputs: map[string]cty.Value{}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, ok := p.Facts["step.members"]; !ok || len(p.Facts) != 1 {
		t.Fatalf("facts %v: only step.members is read before any change", p.Facts)
	}
	withFacts := func(o *runtime.ApplyOptions) { o.Facts = p.Facts }

	// After the upgrade the migrations differ from the preview: that is
	// the upgrade's own doing, not a moved cluster.
	found["migrations"] = "3 pending"
	if res := f.applyReg(reg, withFacts); res.Status != runtime.RunSucceeded {
		t.Fatalf("apply of the saved plan: %+v %v", res, f.diags)
	}
	if got := f.lines(); !slices.Equal(sorted(got), []string{"migrate", "other", "upgrade"}) {
		t.Fatalf("ledger %v", got)
	}

	// A moved master is caught before the first change.
	found["members"] = "rok2"
	if res := f.applyReg(reg, withFacts, func(o *runtime.ApplyOptions) { o.NewRun = true }); res.Status != runtime.RunFailed {
		t.Fatalf("apply on a moved cluster: %+v", res)
	}
	if !strings.Contains(f.diags.Error(), "The cluster changed since the plan") {
		t.Fatalf("diags %v", f.diags)
	}
	if got := f.lines(); len(got) != 3 {
		t.Fatalf("ledger %v: nothing may change once a bound fact differs", got)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestApplyReportsEveryStepInDoubt: every apply says which steps are in
// doubt, not only the one that found them so.
func TestApplyReportsEveryStepInDoubt(t *testing.T) {
	f := newApplyFixture(t, `
step "a" {
  uses   = "shell"
  once   = true
  script = "echo a >> LEDGER"
}
step "b" {
  uses   = "shell"
  once   = true
  script = "echo b >> LEDGER"
}
`)
	run := "20260101T000000.000Z"
	f.journalRun(
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.a", Status: state.Running, Attempt: 1},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.b", Status: state.InDoubt, Attempt: 1},
	)
	for range 2 {
		f.events = nil
		res := f.apply()
		if res.Status != runtime.RunPaused || !slices.Equal(res.InDoubt, []string{"step.a", "step.b"}) {
			t.Fatalf("result %+v", res)
		}
		var got []string
		for _, ev := range f.events {
			if ev.Type == runtime.EventInDoubt {
				got = append(got, ev.Addr)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"step.a", "step.b"}) {
			t.Fatalf("in_doubt events for %v, want both steps", got)
		}
	}
	if len(f.lines()) != 0 {
		t.Fatalf("ledger %v", f.lines())
	}
}

// diagsText is every diagnostic's summary and detail.
func diagsText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

// TestApplyMaxFailuresWithSeveralStepsPerElement: a failed element that
// max_failures allows does not hold the next batch back, though its later
// steps never finish.
func TestApplyMaxFailuresWithSeveralStepsPerElement(t *testing.T) {
	f := newApplyFixture(t, `
group "nodes" {
  for_each = ["n1", "n2", "n3"]
  rolling {
    batch        = 1
    max_failures = 1
  }
  step "first" {
    uses   = "shell"
    script = "[ \"$1\" != n1 ] && echo \"first-$1\" >> LEDGER"
    args   = [each.value]
  }
  step "second" {
    uses       = "shell"
    script     = "echo \"second-$1\" >> LEDGER"
    args       = [each.value]
    depends_on = [step.first]
  }
}
`)
	res, _ := f.applyWithin(20 * time.Second)
	if res.Status != runtime.RunFailed || !slices.Equal(res.Failed, []string{`group.nodes["n1"].step.first`}) {
		t.Fatalf("result %+v", res)
	}
	if got, want := f.lines(), []string{"first-n2", "second-n2", "first-n3", "second-n3"}; !slices.Equal(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

// TestApplyInterruptDuringRollingPause: an interrupt while a rolling
// group pauses between batches ends the run at once.
func TestApplyInterruptDuringRollingPause(t *testing.T) {
	f := newApplyFixture(t, `
group "nodes" {
  for_each = ["a", "b"]
  rolling {
    batch = 1
    pause = "1h"
  }
  step "upgrade" {
    uses   = "shell"
    script = "echo \"$1\" >> LEDGER"
    args   = [each.value]
  }
}
`)
	stop := make(chan struct{})
	var once sync.Once
	res, _ := f.applyWithin(20*time.Second, func(o *runtime.ApplyOptions) {
		o.Stop = stop
		prev := o.Hook
		o.Hook = hookFunc(func(ev runtime.Event) {
			prev.Event(ev)
			if ev.Type == runtime.EventStepEnd && ev.Status == "succeeded" {
				once.Do(func() { close(stop) })
			}
		})
	})
	if res.Status != runtime.RunStopped || !slices.Equal(f.lines(), []string{"a"}) {
		t.Fatalf("result %+v, ledger %v", res, f.lines())
	}
}

// TestMaxFailuresCountsElements: an element whose two steps fail is one
// failed element.
func TestMaxFailuresCountsElements(t *testing.T) {
	f := newApplyFixture(t, `
group "nodes" {
  for_each = ["n1", "n2"]
  rolling {
    batch        = 1
    max_failures = 1
  }
  step "backup" {
    uses   = "shell"
    script = "[ \"$1\" != n1 ] && echo \"backup-$1\" >> LEDGER"
    args   = [each.value]
  }
  step "drain" {
    uses   = "shell"
    script = "[ \"$1\" != n1 ] && echo \"drain-$1\" >> LEDGER"
    args   = [each.value]
  }
}
`)
	res, _ := f.applyWithin(20 * time.Second)
	if res.Status != runtime.RunFailed || len(res.Failed) != 2 {
		t.Fatalf("result %+v", res)
	}
	if got := sorted(f.lines()); !slices.Equal(got, []string{"backup-n2", "drain-n2"}) {
		t.Fatalf("ledger %v: one failed element is within max_failures = 1", got)
	}
}

// pinUpgradeUnpin pins, upgrades, and unpins at the end; the pin owes the
// unpin.
const pinUpgradeUnpin = `
step "pin" {
  uses   = "shell"
  script = "echo pin >> LEDGER"
  undo   = step.unpin
}
step "upgrade" {
  uses       = "shell"
  script     = "echo upgrade >> LEDGER"
  depends_on = [step.pin]
}
step "unpin" {
  uses       = "shell"
  script     = "echo unpin >> LEDGER"
  depends_on = [step.upgrade]
}
`

// kindsWith builds a registry of extra kinds and the named built-in ones.
func kindsWith(t *testing.T, extra []steps.Kind, builtins ...string) *steps.Registry {
	t.Helper()
	all := registry(t)
	kinds := append([]steps.Kind(nil), extra...)
	for _, n := range builtins {
		k, ok := all.Lookup(n)
		if !ok {
			t.Fatalf("no built-in kind %q", n)
		}
		kinds = append(kinds, k)
	}
	reg, err := steps.NewRegistry(kinds...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
