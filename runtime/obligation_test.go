package runtime_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
)

// TestCompensateUnmet owes undos that cannot be done: the failed run
// says so as an error naming the owing step and the undo, and the journal
// records the obligation as unmet, with the reason, still owed.
func TestCompensateUnmet(t *testing.T) {
	tests := map[string]struct {
		src, owing, reason string
		status             state.Status
	}{
		"arguments not known": {
			src: `
step "pin" {
  uses  = "rec"
  undo  = step.unpin
  value = "pin"
}
step "work" {
  uses       = "rec"
  depends_on = [step.pin]
  value      = "fail work"
}
step "unpin" {
  uses  = "rec"
  value = step.work.outputs.value
}`,
			owing: "step.pin", reason: "step.unpin cannot run yet",
		},
		"no instance with the key": {
			src: `
step "pin" {
  uses     = "rec"
  for_each = toset(["a", "z"])
  undo     = step.unpin[each.key]
  value    = "pin ${each.key}"
}
step "work" {
  uses       = "rec"
  depends_on = [step.pin]
  value      = "fail work"
}
step "unpin" {
  uses       = "rec"
  for_each   = toset(["a", "b"])
  depends_on = [step.work]
  value      = "unpin ${each.key}"
}`,
			owing: `step.pin["z"]`, reason: `step.unpin["z"] is not in this run's plan`,
		},
		"the undo fails": {
			src: `
step "pin" {
  uses  = "rec"
  undo  = step.unpin
  value = "pin"
}
step "work" {
  uses       = "rec"
  depends_on = [step.pin]
  value      = "fail work"
}
step "unpin" {
  uses       = "rec"
  depends_on = [step.work]
  value      = "fail unpin"
}`,
			owing: "step.pin", reason: "step.unpin failed: Injected failure: fail unpin fails.",
			// Begun: a resumed run finishes it before anything else acts.
			status: state.Undoing,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := newUndoFixture(t, map[string]string{"main.hcl": tt.src})
			f.fail("fail work", true)
			f.fail("fail unpin", true)
			res, diags := f.apply()
			if res.Status != runtime.RunFailed {
				t.Fatalf("status %s", res.Status)
			}
			var found bool
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Summary == "Owed undo not done" {
					found = strings.Contains(d.Detail, tt.owing+" succeeded") && strings.Contains(d.Detail, tt.reason)
					if d.Subject == nil || d.Subject.Start.Line == 0 {
						t.Errorf("the error does not point at the undo: %+v", d.Subject)
					}
				}
			}
			if !found {
				t.Errorf("no error names %s and %q: %q", tt.owing, tt.reason, diagSummaries(diags, hcl.DiagError))
			}
			want := tt.status
			if want == "" {
				want = state.Unmet
			}
			if o := f.obligation(tt.owing); o.Status != want || !strings.Contains(o.Reason, tt.reason) {
				t.Errorf("journal: obligation of %s is %s (%q), want %s with %q", tt.owing, o.Status, o.Reason, want, tt.reason)
			}
		})
	}
}

// heldSource pins, works and unpins; the pin's undo may run only when the
// read-only probe finds one release.
const heldSource = `
step "probe" {
  uses = "probe"
}
step "pin" {
  uses       = "rec"
  depends_on = [step.probe]
  value      = "pin"

  undo {
    step   = step.unpin
    when   = step.probe.outputs.value == "one"
    reason = "nodes run ${step.probe.outputs.value} releases"
  }
}
step "work" {
  uses       = "rec"
  depends_on = [step.pin]
  value      = "work"
}
step "unpin" {
  uses       = "rec"
  depends_on = [step.work]
  value      = "unpin"
}
`

// TestCompensateHeld holds the pin's undo back while its condition is
// false: the failed run says what stays in place and why, the journal
// keeps the undo owed as held, and a later run that fails again runs it
// once the condition holds, read afresh from the probe; the run after
// that pins again and completes.
func TestCompensateHeld(t *testing.T) {
	f := newUndoFixture(t, map[string]string{"main.hcl": heldSource})
	f.setProbe("mixed")
	f.fail("work", true)
	res, diags := f.apply()
	if res.Status != runtime.RunFailed {
		t.Fatalf("status %s", res.Status)
	}
	if slices.Contains(f.ran(), "unpin") {
		t.Fatalf("runs %q: the held undo ran", f.ran())
	}
	warns := diagSummaries(diags, hcl.DiagWarning)
	if !slices.ContainsFunc(warns, func(w string) bool {
		return strings.HasPrefix(w, "Undo held back") && strings.Contains(w, "nodes run mixed releases") && strings.Contains(w, "step.pin succeeded") && strings.Contains(w, "What it did stays in place")
	}) {
		t.Errorf("no warning says what is kept and why: %q", warns)
	}
	if !slices.ContainsFunc(f.events, func(ev runtime.Event) bool {
		return ev.Type == runtime.EventUndoHeld && ev.Addr == "step.unpin" && strings.Contains(ev.Summary, "nodes run mixed releases")
	}) {
		t.Errorf("no undo_held event: %+v", f.events)
	}
	if o := f.obligation("step.pin"); o.Status != state.Held || o.Reason != "nodes run mixed releases" {
		t.Errorf("journal: obligation %s (%q), want held with the reason", o.Status, o.Reason)
	}

	// The cluster is on one release now; the probe already ran in this
	// run, so only reading it again tells.
	f.setProbe("one")
	if res, _ := f.apply(); res.Status != runtime.RunFailed {
		t.Fatalf("second run %s, want failed again", res.Status)
	}
	// Failed runs of work are recorded too.
	if got := f.ran(); !slices.Equal(got, []string{"pin", "work", "work", "unpin"}) {
		t.Fatalf("runs %q: the second failed run must run the held undo, and pin nothing again", got)
	}
	if o := f.obligation("step.pin"); o.Status != state.Settled {
		t.Errorf("journal: obligation %s (%q), want settled", o.Status, o.Reason)
	}

	f.fail("work", false)
	if res, diags := f.apply(); res.Status != runtime.RunSucceeded {
		t.Fatalf("third run %s: %v", res.Status, diags)
	}
	if got := f.ran(); !slices.Equal(got, []string{"pin", "work", "work", "unpin", "pin", "work", "unpin"}) {
		t.Errorf("runs %q: after the undo, the resumed run pins again before it works", got)
	}
}
