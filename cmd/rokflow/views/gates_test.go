package views

import (
	"testing"
	"time"

	"github.com/rokflow/rokflow/runtime"
)

func TestGateLine(t *testing.T) {
	deadline := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	until := deadline.Local().Format(time.TimeOnly)
	tests := map[string]struct {
		ev   runtime.Event
		want string
		ok   bool
	}{
		"waits": {
			runtime.Event{Type: runtime.EventGateWait, Addr: "gate.boot", Instructions: "Check the BOOT disk.\nThen approve."},
			"  ⏸ gate.boot waits for an approval\n             Check the BOOT disk.\n             Then approve.", true},
		"waits for two, until": {
			runtime.Event{Type: runtime.EventGateWait, Addr: "gate.boot", Needed: 2, Approvals: 1, Deadline: deadline, Summary: "two people"},
			"  ⏸ gate.boot waits for an approval (1 of 2), until " + until + "\n             two people", true},
		"one of several approvals": {
			runtime.Event{Type: runtime.EventGateApproval, Addr: "gate.boot", Needed: 2, Approvals: 1, By: "alice", How: runtime.HowApprove},
			"  + gate.boot approved by alice (rokflow approve): 1 of 2", true},
		"the only approval is not news": {
			runtime.Event{Type: runtime.EventGateApproval, Addr: "gate.boot", Needed: 1, By: "alice"}, "", false},
		"approved at the prompt": {
			runtime.Event{Type: runtime.EventGateEnd, Addr: "gate.boot", Status: runtime.GateApproved, By: "bob", How: runtime.HowPrompt},
			"  ✓ gate.boot approved by bob (at the prompt); the run continues", true},
		"approved by two, each told how before": {
			runtime.Event{Type: runtime.EventGateEnd, Addr: "gate.boot", Status: runtime.GateApproved, By: "alice, bob", How: runtime.HowApprove, Needed: 2, Approvals: 2},
			"  ✓ gate.boot approved by alice, bob; the run continues", true},
		"completed by its check": {
			runtime.Event{Type: runtime.EventGateEnd, Addr: "gate.boot", Status: runtime.GateApproved, How: runtime.HowCheck},
			"  ✓ gate.boot completed by its check; the run continues", true},
		"interrupted": {
			runtime.Event{Type: runtime.EventGateEnd, Addr: "gate.boot", Status: runtime.GateInterrupted, Summary: "interrupted: the gate still waits"},
			"  ⏸ gate.boot interrupted: the gate still waits", true},
		"timed out": {
			runtime.Event{Type: runtime.EventGateEnd, Addr: "gate.boot", Status: runtime.GateTimedOut, Summary: "not approved within 1h"},
			"  ✗ gate.boot not approved within 1h", true},
		"another event": {runtime.Event{Type: runtime.EventStepStart, Addr: "step.a"}, "", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := gateLine(newPalette(false), tt.ev)
			if got != tt.want || ok != tt.ok {
				t.Errorf("gateLine = %q, %t; want %q, %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestHowText(t *testing.T) {
	for how, want := range map[string]string{
		runtime.HowPrompt:      "at the prompt",
		runtime.HowAutoApprove: "--auto-approve",
		runtime.HowApproveFlag: "apply --approve",
		runtime.HowApprove:     "rokflow approve",
		runtime.HowCheck:       "its check",
		"telepathy":            "telepathy",
	} {
		if got := howText(how); got != want {
			t.Errorf("howText(%q) = %q, want %q", how, got, want)
		}
	}
}
