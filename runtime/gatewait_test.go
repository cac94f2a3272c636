package runtime_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
)

// gateHook records a run's events and calls onWait, in its own
// goroutine, when a gate starts waiting.
type gateHook struct {
	mu     sync.Mutex
	events []runtime.Event
	onWait func(runtime.Event)
	// onStart is called, in its own goroutine, at each step_start.
	onStart func(runtime.Event)
	// running counts the calls of onWait and onStart not yet returned.
	running sync.WaitGroup
}

// wait returns when every onWait and onStart call has returned.
func (h *gateHook) wait() { h.running.Wait() }

func (h *gateHook) Event(ev runtime.Event) {
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	if ev.Type == runtime.EventGateWait && h.onWait != nil {
		h.running.Go(func() { h.onWait(ev) })
	}
	if ev.Type == runtime.EventStepStart && h.onStart != nil {
		h.running.Go(func() { h.onStart(ev) })
	}
}

// gate returns the gate events (gate_wait, gate_approval, gate_end) as
// "type status by how approvals/needed" lines.
func (h *gateHook) gate() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		switch ev.Type {
		case runtime.EventGateWait, runtime.EventGateApproval, runtime.EventGateEnd:
			line := strings.Join(strings.Fields(strings.Join([]string{string(ev.Type), ev.Status, ev.By, ev.How}, " ")), " ")
			out = append(out, line+" "+strconv.Itoa(ev.Approvals)+"/"+strconv.Itoa(ev.Needed))
		}
	}
	return out
}

const gatePlaybook = `
step "gate" {
  uses         = "manual"
  instructions = "Swap the disk."
  %s
}
step "after" {
  uses       = "shell"
  script     = "echo after >> LEDGER"
  depends_on = [step.gate]
}
`

func gateFixture(t *testing.T, extra string) *applyFixture {
	return newApplyFixture(t, strings.Replace(gatePlaybook, "%s", extra, 1))
}

// approveAs records an approval of addr as rokflow approve does, from
// outside the run.
func approveAs(t *testing.T, b state.Backend, by, addr string) {
	t.Helper()
	recs, err := b.Records(context.Background())
	if err != nil {
		t.Error(err)
		return
	}
	last := state.Fold(recs).Last()
	h := state.Holder{User: by, Host: "elsewhere"}
	rec := state.Record{Kind: state.KindApproval, Run: last.ID, Addr: addr, PlanHash: last.PlanHash, Holder: &h, By: by, How: runtime.HowApprove, Time: time.Now()}
	if err := b.Approve(context.Background(), rec); err != nil {
		t.Error(err)
	}
}

func TestGateDecisionsAreEvented(t *testing.T) {
	cases := map[string]struct {
		opt    applyOpt
		status runtime.RunStatus
		want   []string
		diag   string
	}{
		"auto-approve": {
			opt:    func(o *runtime.ApplyOptions) { o.AutoApprove = true },
			status: runtime.RunSucceeded,
			want:   []string{"gate_approval tester@test auto-approve 1/1", "gate_end approved tester@test auto-approve 1/1"},
		},
		"prompt yes": {
			opt: func(o *runtime.ApplyOptions) {
				o.Prompt = func(context.Context, runtime.Gate) (bool, error) { return true, nil }
			},
			status: runtime.RunSucceeded,
			want:   []string{"gate_wait 0/1", "gate_approval tester@test prompt 1/1", "gate_end approved tester@test prompt 1/1"},
		},
		"prompt no": {
			opt: func(o *runtime.ApplyOptions) {
				o.Prompt = func(context.Context, runtime.Gate) (bool, error) { return false, nil }
			},
			status: runtime.RunFailed,
			want:   []string{"gate_wait 0/1", "gate_end declined tester@test prompt 0/0"},
			diag:   "Gate declined",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := gateFixture(t, "")
			h := &gateHook{}
			res := f.apply(tc.opt, func(o *runtime.ApplyOptions) { o.Hook = h })
			if res.Status != tc.status {
				t.Fatalf("status %s, want %s: %v", res.Status, tc.status, f.diags)
			}
			if got := h.gate(); !slices.Equal(got, tc.want) {
				t.Errorf("gate events\n%q\nwant\n%q", got, tc.want)
			}
			if tc.diag != "" && !strings.Contains(f.diags.Error(), tc.diag) {
				t.Errorf("diagnostics %v, want %q", f.diags, tc.diag)
			}
		})
	}
}

// TestGatePromptInterrupted: Ctrl-C at the prompt neither approves nor
// declines: the gate still waits, and the run stops as an interrupt
// stops it; the next apply asks again.
func TestGatePromptInterrupted(t *testing.T) {
	f := gateFixture(t, "")
	h := &gateHook{}
	stop := make(chan struct{})
	res := f.apply(func(o *runtime.ApplyOptions) {
		o.Hook, o.Stop = h, stop
		o.Prompt = func(context.Context, runtime.Gate) (bool, error) {
			close(stop)
			return false, runtime.ErrPromptInterrupted
		}
	})
	if res.Status != runtime.RunStopped || !slices.Equal(res.Waiting, []string{"step.gate"}) {
		t.Fatalf("after Ctrl-C at the prompt: %+v %v", res, f.diags)
	}
	if strings.Contains(f.diags.Error(), "declined") {
		t.Errorf("an interrupt declined the gate: %v", f.diags)
	}
	if got, want := h.gate(), []string{"gate_wait 0/1", "gate_end interrupted 0/0"}; !slices.Equal(got, want) {
		t.Errorf("gate events %q, want %q", got, want)
	}
	res = f.apply(func(o *runtime.ApplyOptions) {
		o.Prompt = func(context.Context, runtime.Gate) (bool, error) { return true, nil }
	})
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("the resumed run: %+v %v", res, f.diags)
	}
}

// TestGateApprovedFromElsewhereWhilePrompting: an approval recorded by
// another process ends the question and passes the gate, with the file
// and the memory backends.
func TestGateApprovedFromElsewhereWhilePrompting(t *testing.T) {
	for _, backend := range []string{"file", "mem"} {
		t.Run(backend, func(t *testing.T) {
			f := gateFixture(t, "")
			if backend == "mem" {
				b, err := state.Open(context.Background(), "mem://", state.Options{})
				if err != nil {
					t.Fatal(err)
				}
				f.backend = b
			}
			h := &gateHook{onWait: func(ev runtime.Event) { approveAs(t, f.backend, "bob@laptop", ev.Addr) }}
			var asked, ended bool
			res := f.apply(func(o *runtime.ApplyOptions) {
				o.Hook = h
				o.Prompt = func(ctx context.Context, g runtime.Gate) (bool, error) {
					asked = true
					select {
					case <-ctx.Done():
						ended = true
						return false, ctx.Err()
					case <-time.After(10 * time.Second):
						return false, errors.New("the approval was not seen")
					}
				}
			})
			if res.Status != runtime.RunSucceeded || !asked || !ended {
				t.Fatalf("status %s, asked %v, question ended %v: %v", res.Status, asked, ended, f.diags)
			}
			want := []string{"gate_wait 0/1", "gate_approval bob@laptop approve 1/1", "gate_end approved bob@laptop approve 1/1"}
			if got := h.gate(); !slices.Equal(got, want) {
				t.Errorf("gate events %q, want %q", got, want)
			}
			if got := f.lines(); !slices.Equal(got, []string{"after"}) {
				t.Errorf("ledger %q", got)
			}
		})
	}
}

// TestGateFourEyes: approvals = 2 needs two distinct identities other
// than the runner's: --auto-approve and the runner's own approve do not
// count, one identity approving twice counts once.
func TestGateFourEyes(t *testing.T) {
	f := gateFixture(t, `approvals = 2`)
	h := &gateHook{onWait: func(ev runtime.Event) {
		approveAs(t, f.backend, "runner", ev.Addr) // the apply's own identity
		approveAs(t, f.backend, "alice", ev.Addr)
		approveAs(t, f.backend, "alice", ev.Addr)
		// Not a synchronisation: time for a run that wrongly passes on
		// one approval to do so before the second exists.
		time.Sleep(300 * time.Millisecond)
		approveAs(t, f.backend, "bob", ev.Addr)
	}}
	res := f.apply(func(o *runtime.ApplyOptions) {
		o.Hook, o.AutoApprove, o.Identity, o.WaitGates = h, true, "runner", 10*time.Second
	})
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("status %s: %v", res.Status, f.diags)
	}
	want := []string{"gate_wait 0/2", "gate_approval alice approve 1/2", "gate_approval bob approve 2/2", "gate_end approved alice, bob approve 2/2"}
	if got := h.gate(); !slices.Equal(got, want) {
		t.Errorf("gate events\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(f.diags.Error(), "Self-approval refused") {
		t.Errorf("--auto-approve at a four-eyes gate is not refused: %v", f.diags)
	}
}

// TestGateTimeout: a gate's timeout makes a run without a terminal wait
// for it, then fail or pause as on_timeout says; --wait-gates waits and
// pauses.
func TestGateTimeout(t *testing.T) {
	cases := map[string]struct {
		extra  string
		wait   time.Duration
		status runtime.RunStatus
		end    string
	}{
		"fail":       {extra: `timeout = "300ms"`, status: runtime.RunFailed, end: "gate_end timed_out 0/1"},
		"pause":      {extra: "timeout = \"300ms\"\n on_timeout = \"pause\"", status: runtime.RunPaused, end: "gate_end timed_out 0/1"},
		"wait-gates": {wait: 300 * time.Millisecond, status: runtime.RunPaused, end: "gate_end timed_out 0/1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := gateFixture(t, tc.extra)
			h := &gateHook{}
			start := time.Now()
			res := f.apply(func(o *runtime.ApplyOptions) { o.Hook, o.WaitGates = h, tc.wait })
			if res.Status != tc.status {
				t.Fatalf("status %s, want %s: %v", res.Status, tc.status, f.diags)
			}
			if el := time.Since(start); el < 300*time.Millisecond {
				t.Errorf("the run ended after %s, before the gate's wait", el)
			}
			if got := h.gate(); len(got) != 2 || got[1] != tc.end {
				t.Errorf("gate events %q, want the wait then %q", got, tc.end)
			}
		})
	}
}

// TestGateWaitsWithoutTerminal: with --wait-gates, an approval given
// meanwhile passes the gate; without it the run pauses at once, as
// before.
func TestGateWaitsWithoutTerminal(t *testing.T) {
	f := gateFixture(t, "")
	if res := f.apply(); res.Status != runtime.RunPaused {
		t.Fatalf("without a wait: %s", res.Status)
	}
	h := &gateHook{onWait: func(ev runtime.Event) { approveAs(t, f.backend, "carol", ev.Addr) }}
	if res := f.apply(func(o *runtime.ApplyOptions) { o.Hook, o.WaitGates = h, time.Minute }); res.Status != runtime.RunSucceeded {
		t.Fatalf("with --wait-gates: %s %v", res.Status, f.diags)
	}
	// On resume the journal's approvals are told too.
	f2 := gateFixture(t, "")
	f2.apply()
	approveAs(t, f2.backend, "dave", "step.gate")
	h2 := &gateHook{}
	if res := f2.apply(func(o *runtime.ApplyOptions) { o.Hook = h2 }); res.Status != runtime.RunSucceeded {
		t.Fatalf("after approve: %s", res.Status)
	}
	if got, want := h2.gate(), []string{"gate_approval dave approve 1/1", "gate_end approved dave approve 1/1"}; !slices.Equal(got, want) {
		t.Errorf("resumed gate events %q, want %q", got, want)
	}
}

// TestGateWithCheckApprovedFromElsewhere: approvals pass a gate whose
// check is still polling, and end the check.
func TestGateWithCheckApprovedFromElsewhere(t *testing.T) {
	f := gateFixture(t, `check {
    command  = ["false"]
    interval = "50ms"
  }`)
	h := &gateHook{}
	h.onStart = func(ev runtime.Event) {
		if ev.Addr == "step.gate" {
			approveAs(t, f.backend, "erin", ev.Addr)
		}
	}
	res := f.apply(func(o *runtime.ApplyOptions) { o.Hook = h })
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("status %s: %v", res.Status, f.diags)
	}
	want := []string{"gate_approval erin approve 1/1", "gate_end approved erin approve 1/1"}
	if got := h.gate(); !slices.Equal(got, want) {
		t.Errorf("gate events %q, want %q", got, want)
	}
	if got := f.lines(); !slices.Equal(got, []string{"after"}) {
		t.Errorf("ledger %q", got)
	}
}

// TestGateWithCheckInterrupted: the first interrupt ends a gate's check
// (waiting for a node is not work to let finish): the run stops at once
// with the gate still waiting, neither failed nor compensated, and the
// next apply waits at it again.
func TestGateWithCheckInterrupted(t *testing.T) {
	f := gateFixture(t, `check {
    command  = ["false"]
    interval = "50ms"
  }`)
	h := &gateHook{}
	stop := make(chan struct{})
	h.onStart = func(ev runtime.Event) {
		if ev.Addr == "step.gate" {
			close(stop)
		}
	}
	done := make(chan *runtime.Result, 1)
	go func() { done <- f.apply(func(o *runtime.ApplyOptions) { o.Hook, o.Stop = h, stop }) }()
	var res *runtime.Result
	select {
	case res = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not stop at the interrupt: the gate's check kept it waiting")
	}
	h.wait()
	if res.Status != runtime.RunStopped || !slices.Equal(res.Waiting, []string{"step.gate"}) || len(res.Failed) != 0 {
		t.Fatalf("after the interrupt: %+v %v", res, f.diags)
	}
	if got, want := h.gate(), []string{"gate_end interrupted 0/0"}; !slices.Equal(got, want) {
		t.Errorf("gate events %q, want %q", got, want)
	}
	recs, err := f.backend.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s := state.Fold(recs).Last().Step("step.gate"); s == nil || s.Status != state.Waiting {
		t.Errorf("the journal says the gate is %+v, want waiting", s)
	}
	h2 := &gateHook{}
	h2.onStart = func(ev runtime.Event) {
		if ev.Addr == "step.gate" {
			approveAs(t, f.backend, "erin", ev.Addr)
		}
	}
	if res := f.apply(func(o *runtime.ApplyOptions) { o.Hook = h2 }); res.Status != runtime.RunSucceeded {
		t.Fatalf("the resumed run: %+v %v", res, f.diags)
	}
	h2.wait()
}
