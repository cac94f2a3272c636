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
