package state

import (
	"testing"
	"time"
)

func TestFold(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	recs := []Record{
		{Kind: KindRun, Run: "r1", PlanHash: "h1", Playbook: "pb", Time: at(0), Identity: &Identity{Inputs: "i1"}},
		{Kind: KindStep, Run: "r1", Addr: "step.a", Status: Running, Attempt: 1, Time: at(1)},
		{Kind: KindStep, Run: "r1", Addr: "step.a", Status: Running, Attempt: 1, Handle: "job-16", Time: at(2)},
		{Kind: KindStep, Run: "r1", Addr: "step.a", Status: Succeeded, Attempt: 1, Handle: "job-16", Outputs: []byte(`{}`), Time: at(3)},
		{Kind: KindObligation, Run: "r1", Addr: "step.a", Undo: "step.u", Status: Owed},
		{Kind: KindStep, Run: "r1", Addr: "step.b", Status: Running, Attempt: 1, Time: at(4)},
		{Kind: KindTarget, Run: "r1", Facts: map[string]string{"step.members": `{"cluster":"c"}`}},
		{Kind: KindEnd, Run: "r1", Status: Failed, Time: at(5)},
		// Compensation set step.a back: its handle must not survive.
		{Kind: KindStep, Run: "r1", Addr: "step.a", Status: Pending, Time: at(6)},
		{Kind: KindObligation, Run: "r1", Addr: "step.a", Undo: "step.u", Status: Settled},
		{Kind: KindResolve, Run: "r1", Addr: "step.b", Resolution: ResolutionRetry},
		{Kind: KindStep, Run: "r0", Addr: "step.z", Status: Running}, // no run record: ignored
		{Kind: KindApproval, Run: "r1", Addr: "step.g"},
		{Kind: KindApproval, Run: "", Addr: "step.h"},
		{Kind: KindApproval, Run: "r2", Addr: "step.i"},
		{Kind: KindRun, Run: "r2", Time: at(7)},
	}
	h := Fold(recs)
	if len(h.Runs) != 2 || h.Last().ID != "r2" || h.Run("r1") == nil || h.Run("r0") != nil {
		t.Fatalf("runs: %+v", h.Runs)
	}
	r1 := h.Run("r1")
	if r1.Ended != Failed || !r1.Resumable() || r1.PlanHash != "h1" || r1.Identity.Inputs != "i1" {
		t.Fatalf("r1: %+v", r1)
	}
	if r1.Identity.Target["step.members"] != `{"cluster":"c"}` {
		t.Fatalf("target facts: %+v", r1.Identity)
	}
	a := r1.Step("step.a")
	if a.Status != Pending || !a.Redo || a.Handle != "" || a.Outputs != nil {
		t.Fatalf("step.a after its undo: %+v (a pending step keeps no handle of an earlier attempt)", a)
	}
	b := r1.Step("step.b")
	if b.Status != Running || b.Resolution != ResolutionRetry {
		t.Fatalf("step.b: %+v", b)
	}
	if len(r1.Obligations) != 1 || r1.Obligations[0].Status != Settled {
		t.Fatalf("obligations: %+v", r1.Obligations)
	}
	if got := h.ApprovalsFor("r1"); len(got) != 2 || got[0].Addr != "step.g" || got[1].Addr != "step.h" {
		t.Fatalf("approvals for r1: %+v", got)
	}
	// A resolution is spent once the step moves again.
	h = Fold(append(recs[:len(recs):len(recs)], Record{Kind: KindStep, Run: "r1", Addr: "step.b", Status: Running, Attempt: 2}))
	if got := h.Run("r1").Step("step.b"); got.Resolution != "" || got.Attempt != 2 {
		t.Fatalf("step.b after it moved: %+v", got)
	}
	// A handle recorded while the attempt runs is the one to re-attach to.
	h = Fold([]Record{
		{Kind: KindRun, Run: "r"},
		{Kind: KindStep, Run: "r", Addr: "step.x", Status: Running, Attempt: 2},
		{Kind: KindStep, Run: "r", Addr: "step.x", Status: Running, Attempt: 2, Handle: "job-18"},
	})
	if got := h.Run("r").Step("step.x"); got.Handle != "job-18" {
		t.Fatalf("running step's handle: %+v", got)
	}
}
