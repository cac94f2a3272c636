package runtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/exec"
	"github.com/rokflow/rokflow/steps/wait"
)

// quickWait is the wait kind with a default timeout of 200ms instead of
// 10m, so that a test can show which bound a step gets without waiting
// minutes.
type quickWait struct {
	*wait.Wait
	schema *steps.Schema
}

func newQuickWait() quickWait {
	s := *wait.New().Schema()
	s.DefaultTimeout = "200ms"
	return quickWait{Wait: wait.New(), schema: &s}
}

func (k quickWait) Schema() *steps.Schema { return k.schema }

// TestWaitStepTimeoutIsTheBound runs wait steps through the executor: the
// step's `timeout` is how long the wait polls (a playbook's `timeout =
// "30m"` once polled for the kind's own 10m), and the kind's default
// applies only when the step sets none. The check counts its attempts in
// the ledger; "passes late" passes on its 4th attempt, 100ms apart, later
// than the default of 200ms.
func TestWaitStepTimeoutIsTheBound(t *testing.T) {
	const never = `["sh", "-c", "echo try >> LEDGER; exit 1"]`
	const passesLate = `["sh", "-c", "echo try >> LEDGER; [ $(wc -l < LEDGER) -ge 4 ]"]`
	tests := map[string]struct {
		command    string
		timeout    string // the step's; empty: none
		quick      bool   // the wait kind with the 200ms default
		wantStatus runtime.RunStatus
		wantError  string
		minElapsed time.Duration
	}{
		"the step's timeout ends a check that never passes": {
			command: never, timeout: "300ms",
			wantStatus: runtime.RunFailed, wantError: "Check did not pass within the step's timeout",
			minElapsed: 300 * time.Millisecond,
		},
		"a step timeout longer than the kind's default is the bound": {
			command: passesLate, timeout: "20s", quick: true,
			wantStatus: runtime.RunSucceeded,
			minElapsed: 300 * time.Millisecond,
		},
		"without a step timeout the kind's default is the bound": {
			command: never, quick: true,
			wantStatus: runtime.RunFailed, wantError: "Check did not pass within the step's timeout",
			minElapsed: 200 * time.Millisecond,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			timeout := ""
			if tc.timeout != "" {
				timeout = `timeout = "` + tc.timeout + `"`
			}
			f := newApplyFixture(t, `
step "back" {
  uses     = "wait"
  command  = `+tc.command+`
  interval = "100ms"
  `+timeout+`
}
`)
			if tc.quick {
				reg, err := steps.NewRegistry(newQuickWait(), exec.NewShell())
				if err != nil {
					t.Fatal(err)
				}
				f.reg = reg
			}
			start := time.Now()
			res := f.apply()
			elapsed := time.Since(start)
			if res.Status != tc.wantStatus {
				t.Fatalf("status %s, want %s; events %+v", res.Status, tc.wantStatus, f.events)
			}
			if elapsed < tc.minElapsed || elapsed > 15*time.Second {
				t.Errorf("the run took %s, want at least %s", elapsed, tc.minElapsed)
			}
			if n := len(f.lines()); n < 2 {
				t.Errorf("the check ran %d times, want several", n)
			}
			if tc.wantError == "" {
				return
			}
			var errs []string
			for _, ev := range f.events {
				if ev.Type == runtime.EventStepEnd && ev.Error != "" {
					errs = append(errs, ev.Error)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], tc.wantError) {
				t.Errorf("step errors %q, want one saying %q", errs, tc.wantError)
			}
		})
	}
}

// TestWaitPlanShowsItsBound: the plan shows the bound a wait step will
// have, the step's timeout or the kind's default, and the summary does not
// contradict it.
func TestWaitPlanShowsItsBound(t *testing.T) {
	for name, tc := range map[string]struct{ timeout, want string }{
		"the step's timeout": {timeout: `timeout = "30m"`, want: "30m"},
		"the kind's default": {want: "10m"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newApplyFixture(t, `
step "back" {
  uses    = "wait"
  command = ["true"]
  `+tc.timeout+`
}
`)
			p, diags := planPath(t, f.dir, nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			inst := p.Instances[0]
			if inst.Timeout != tc.want {
				t.Errorf("plan timeout %q, want %q", inst.Timeout, tc.want)
			}
			if strings.Contains(inst.Summary, "at most") {
				t.Errorf("summary %q states a bound of its own", inst.Summary)
			}
		})
	}
}
