package runtime_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

func TestApplyRefusesToResumeWithOtherInputs(t *testing.T) {
	f := newApplyFixture(t, `
variable "release" {
  type    = string
  default = "0.11.0"
}
step "before" {
  uses   = "shell"
  script = "echo \"before-$1\" >> LEDGER"
  args   = [var.release]
}
step "gate" {
  uses         = "manual"
  instructions = "Swap the disk."
  depends_on   = [step.before]
}
step "after" {
  uses       = "shell"
  script     = "echo \"after-$1\" >> LEDGER"
  args       = [var.release]
  depends_on = [step.gate]
}
`)
	res := f.apply()
	if res.Status != runtime.RunPaused {
		t.Fatalf("first apply: %+v", res)
	}
	other := func(o *runtime.ApplyOptions) {
		o.Plan.Inputs["release"] = cty.StringVal("0.12.0")
		o.AutoApprove = true
	}
	f.refusal = true
	res = f.apply(other)
	f.refusal = false
	if res != nil {
		t.Fatalf("a resume with other inputs ran: %+v", res)
	}
	if msg := f.diags.Error(); !strings.Contains(msg, "Not the run to resume") || !strings.Contains(msg, `var.release: "0.11.0" → "0.12.0"`) {
		t.Fatalf("the refusal must show what changed: %v", f.diags)
	}
	if got := f.lines(); !slices.Equal(got, []string{"before-0.11.0"}) {
		t.Fatalf("ledger %v", got)
	}
	// The same inputs resume; --new-run starts over with the new ones.
	if res := f.apply(func(o *runtime.ApplyOptions) { o.AutoApprove = true }); res.Status != runtime.RunSucceeded {
		t.Fatalf("resume with the run's inputs: %+v %v", res, f.diags)
	}
	if res := f.apply(other, func(o *runtime.ApplyOptions) { o.NewRun = true }); res.Status != runtime.RunSucceeded {
		t.Fatalf("new run: %+v %v", res, f.diags)
	}
	if got, want := f.lines(), []string{"before-0.11.0", "after-0.11.0", "before-0.12.0", "after-0.12.0"}; !slices.Equal(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

// clusterKind is a read-only kind whose outputs identify a cluster.
type clusterKind struct{ *stepstest.Recorder }

func (k clusterKind) Identity(out cty.Value) (string, bool) {
	return "cluster " + out.GetAttr("value").AsString(), true
}

func TestApplyRefusesToResumeOnAnotherCluster(t *testing.T) {
	f := newApplyFixture(t, `
step "members" {
  uses = "cluster"
}
step "pin" {
  uses       = "shell"
  script     = "echo pin >> LEDGER"
  undo       = step.unpin
  depends_on = [step.members]
}
step "gate" {
  uses         = "manual"
  instructions = "Swap the disk."
  depends_on   = [step.pin]
}
step "fails" {
  uses       = "exec"
  command    = ["false"]
  depends_on = [step.gate]
}
step "unpin" {
  uses       = "shell"
  script     = "echo unpin >> LEDGER"
  depends_on = [step.fails]
}
`)
	name, runs := "prod", 0
	rec := stepstest.NewRecorder("cluster", func(s *steps.Schema) { s.Target = steps.TargetNone; s.Effect = steps.ReadOnly })
	rec.RunFunc = func(context.Context, steps.RunRequest) steps.RunResponse {
		runs++
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(name)})}
	}
	reg := kindsWith(t, []steps.Kind{clusterKind{rec}}, "shell", "exec", "manual")
	if res := f.applyReg(reg); res.Status != runtime.RunPaused {
		t.Fatalf("first apply: %+v %v", res, f.diags)
	}
	name = "staging"
	f.refusal = true
	res := f.applyReg(reg, func(o *runtime.ApplyOptions) { o.AutoApprove = true })
	f.refusal = false
	if res != nil || runs != 2 {
		t.Fatalf("resume on another cluster: %+v (members ran %d times) %v", res, runs, f.diags)
	}
	if msg := f.diags.Error(); !strings.Contains(msg, `acted on cluster prod; step.members now finds cluster staging`) {
		t.Fatalf("the refusal must name both clusters: %v", f.diags)
	}
	if got := f.lines(); !slices.Equal(got, []string{"pin"}) {
		t.Fatalf("ledger %v: nothing may act on another cluster, not even an undo", got)
	}
	// Back on its own cluster the run goes on, and compensates there.
	name = "prod"
	res = f.applyReg(reg, func(o *runtime.ApplyOptions) { o.AutoApprove = true })
	if res.Status != runtime.RunFailed || !slices.Equal(res.Failed, []string{"step.fails"}) {
		t.Fatalf("resume on its cluster: %+v %v", res, f.diags)
	}
	if got := f.lines(); !slices.Equal(got, []string{"pin", "unpin"}) {
		t.Fatalf("ledger %v", got)
	}
}

// TestResumeWithoutJournaledSecrets: outputs of a step given a secret are
// not journaled, so a resumed run does not have them: a read-only step is
// run again; what needs another step's outputs fails and says why,
// instead of running with nulls in their place.
func TestResumeWithoutJournaledSecrets(t *testing.T) {
	f := newApplyFixture(t, `
variable "pw" {
  type      = string
  default   = "s3cret-canary"
  sensitive = true
}
step "probe" {
  uses  = "probe"
  value = var.pw
}
step "print" {
  uses    = "exec"
  command = ["printenv", "PW"]
  env     = { PW = var.pw }
}
step "gate" {
  uses         = "manual"
  instructions = "Look."
  depends_on   = [step.print, step.probe]
}
step "use_probe" {
  uses       = "shell"
  script     = "[ \"$1\" = s3cret-canary ] && echo probe-ok >> LEDGER"
  args       = [step.probe.outputs.value]
  depends_on = [step.gate]
}
step "use_print" {
  uses       = "shell"
  script     = "echo \"print-$1\" >> LEDGER"
  args       = [step.print.outputs.exit_status]
  depends_on = [step.gate]
}
step "use_stdout" {
  uses       = "shell"
  script     = "echo stdout >> LEDGER"
  args       = [step.print.outputs.stdout]
  depends_on = [step.gate]
}
`)
	probes := 0
	rec := stepstest.NewRecorder("probe", func(s *steps.Schema) { s.Target = steps.TargetNone; s.Effect = steps.ReadOnly })
	rec.RunFunc = func(_ context.Context, req steps.RunRequest) steps.RunResponse {
		probes++
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": req.Args.GetAttr("value")})}
	}
	reg := kindsWith(t, []steps.Kind{rec}, "shell", "exec", "manual")
	if res := f.applyReg(reg); res.Status != runtime.RunPaused {
		t.Fatalf("first apply: %+v %v", res, f.diags)
	}
	res := f.applyReg(reg, func(o *runtime.ApplyOptions) { o.AutoApprove = true })
	if res.Status != runtime.RunFailed || !slices.Equal(res.Blocked, []string{"step.use_stdout"}) {
		t.Fatalf("resume: %+v %v", res, f.diags)
	}
	if probes != 2 {
		t.Fatalf("the read-only probe ran %d times, want 2 (run again on resume)", probes)
	}
	if got := f.lines(); !slices.Equal(sorted(got), []string{"print-0", "probe-ok"}) {
		t.Fatalf("ledger %v", got)
	}
	if msg := f.diags.Error(); !strings.Contains(msg, "Outputs of step.print are not known") || !strings.Contains(msg, "sensitive") {
		t.Fatalf("diags %v", f.diags)
	}
}

// TestApplyFinishedRunIsOnlyDoneForItself: "the last run finished" is
// said only of the same playbook, inputs and system.
func TestApplyFinishedRunIsOnlyDoneForItself(t *testing.T) {
	f := newApplyFixture(t, `
variable "release" {
  type    = string
  default = "0.11.0"
}
step "members" {
  uses = "cluster"
}
step "upgrade" {
  uses       = "shell"
  script     = "echo \"upgrade-$1\" >> LEDGER"
  args       = [var.release]
  depends_on = [step.members]
}
`)
	name := "prod"
	rec := stepstest.NewRecorder("cluster", func(s *steps.Schema) { s.Target = steps.TargetNone; s.Effect = steps.ReadOnly })
	rec.RunFunc = func(context.Context, steps.RunRequest) steps.RunResponse {
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(name)})}
	}
	reg := kindsWith(t, []steps.Kind{clusterKind{rec}}, "shell")
	if res := f.applyReg(reg); res.Status != runtime.RunSucceeded {
		t.Fatalf("first apply: %+v %v", res, f.diags)
	}
	if res := f.applyReg(reg); res.Status != runtime.RunAlreadyDone {
		t.Fatalf("same run again: %+v %v", res, f.diags)
	}
	f.refusal = true
	if res := f.applyReg(reg, func(o *runtime.ApplyOptions) { o.Plan.Inputs["release"] = cty.StringVal("0.12.0") }); res != nil ||
		!strings.Contains(f.diags.Error(), `var.release: "0.11.0" → "0.12.0"`) {
		t.Fatalf("other inputs on a finished run: %+v %v", res, f.diags)
	}
	name = "staging"
	if res := f.applyReg(reg); res != nil || !strings.Contains(f.diags.Error(), "now finds cluster staging") {
		t.Fatalf("another system on a finished run: %+v %v", res, f.diags)
	}
	f.refusal = false
	if res := f.applyReg(reg, func(o *runtime.ApplyOptions) { o.NewRun = true }); res.Status != runtime.RunSucceeded {
		t.Fatalf("new run: %+v %v", res, f.diags)
	}
	if got := f.lines(); !slices.Equal(got, []string{"upgrade-0.11.0", "upgrade-0.11.0"}) {
		t.Fatalf("ledger %v", got)
	}
}

// TestCompensationRespectsDoubt: an undo that a crash cut short is in
// doubt like any once step: the next failed run does not run it again.
func TestCompensationRespectsDoubt(t *testing.T) {
	f := newApplyFixture(t, `
step "a" {
  uses   = "shell"
  script = "echo a >> LEDGER"
  undo   = step.u
}
step "x" {
  uses       = "exec"
  command    = ["false"]
  depends_on = [step.a]
}
step "u" {
  uses       = "shell"
  once       = true
  script     = "echo u >> LEDGER"
  depends_on = [step.x]
}
`)
	run := "20260101T000000.000Z"
	f.journalRun(
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.a", Status: state.Succeeded, Attempt: 1},
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.a", Undo: "step.u", UndoAddrs: []string{"step.u"}, Status: state.Owed},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.x", Status: state.Failed, Attempt: 1},
		// The failed run was compensating when it died.
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.a", Undo: "step.u", UndoAddrs: []string{"step.u"}, Status: state.Undoing},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.u", Status: state.Running, Attempt: 1},
	)
	// Whether the pin is still in effect is unknown: nothing acts, not even
	// the failed step's retry, until an operator answers.
	res := f.apply()
	if res.Status != runtime.RunPaused || !slices.Equal(res.InDoubt, []string{"step.u"}) {
		t.Fatalf("result %+v", res)
	}
	if got := f.lines(); len(got) != 0 {
		t.Fatalf("ledger %v: the undo in doubt ran again, or the run went on", got)
	}
	if msg := diagsText(f.diags); !strings.Contains(msg, "step.u is in doubt") {
		t.Fatalf("diags %s", msg)
	}
	doubt := false
	for _, ev := range f.events {
		doubt = doubt || (ev.Type == runtime.EventInDoubt && ev.Addr == "step.u")
	}
	if !doubt {
		t.Fatal("no in_doubt event for the undo")
	}
	// Answered --retry, the compensation is finished first, then both
	// halves are done again in their place (and x fails again, so u runs
	// once more, owed by the new a).
	f.journalRun(state.Record{Kind: state.KindResolve, Run: run, Addr: "step.u", Resolution: state.ResolutionRetry})
	f.apply()
	if got := f.lines(); !slices.Equal(got, []string{"u", "a", "u"}) {
		t.Fatalf("ledger %v after --retry", got)
	}
}

// TestNewRunRefusesToLeaveWorkBehind: --new-run does not silently drop
// the last run's steps in doubt and owed undos.
func TestNewRunRefusesToLeaveWorkBehind(t *testing.T) {
	f := newApplyFixture(t, `
step "a" {
  uses   = "shell"
  once   = true
  script = "echo a >> LEDGER"
}
`)
	run := "20260101T000000.000Z"
	f.journalRun(
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.a", Status: state.InDoubt, Attempt: 1},
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.p", Undo: "step.u", UndoAddrs: []string{"step.u"}, Status: state.Held, Reason: "members run mixed releases"},
		state.Record{Kind: state.KindEnd, Run: run, Status: state.Paused},
	)
	f.refusal = true
	res := f.apply(func(o *runtime.ApplyOptions) { o.NewRun = true })
	f.refusal = false
	msg := diagsText(f.diags)
	if res != nil || !strings.Contains(msg, "step.a is in doubt") || !strings.Contains(msg, "step.p owes its undo step.u (held): members run mixed releases") {
		t.Fatalf("result %+v, diags %s", res, msg)
	}
	if res := f.apply(func(o *runtime.ApplyOptions) { o.NewRun, o.Abandon = true, true }); res.Status != runtime.RunSucceeded {
		t.Fatalf("--abandon: %+v %v", res, f.diags)
	}
	if got := f.lines(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("ledger %v", got)
	}
}

// TestResumeFinishesCompensationCutShort: a crash during an idempotent
// undo leaves the first half undone or not: the resumed run finishes the
// undo before anything acts, then does both halves again in their place,
// instead of carrying on as if the first half were still in effect.
func TestResumeFinishesCompensationCutShort(t *testing.T) {
	f := newApplyFixture(t, pinUpgradeUnpin)
	run := "20260101T000000.000Z"
	f.journalRun(
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.pin", Status: state.Succeeded, Attempt: 1},
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.pin", Undo: "step.unpin", UndoAddrs: []string{"step.unpin"}, Status: state.Owed},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.upgrade", Status: state.Failed, Attempt: 1},
		// The failed run died while it unpinned.
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.pin", Undo: "step.unpin", UndoAddrs: []string{"step.unpin"}, Status: state.Undoing},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.unpin", Status: state.Running, Attempt: 1},
	)
	res := f.apply()
	if res.Status != runtime.RunSucceeded {
		t.Fatalf("result %+v %v", res, f.diags)
	}
	if got, want := f.lines(), []string{"unpin", "pin", "upgrade", "unpin"}; !slices.Equal(got, want) {
		t.Fatalf("ledger %v, want %v: the upgrade must not go on unpinned", got, want)
	}
}

// TestResumeAfterCrashInUndoStepsNormalPlace: an undo step that a crash
// cut short in its own place in the run (restore at the end), not during
// compensation, is resumed like any step: no compensation is made up.
func TestResumeAfterCrashInUndoStepsNormalPlace(t *testing.T) {
	f := newApplyFixture(t, pinUpgradeUnpin)
	run := "20260101T000000.000Z"
	f.journalRun(
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.pin", Status: state.Succeeded, Attempt: 1},
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.pin", Undo: "step.unpin", UndoAddrs: []string{"step.unpin"}, Status: state.Owed},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.upgrade", Status: state.Succeeded, Attempt: 1},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.unpin", Status: state.Running, Attempt: 1},
	)
	if res := f.apply(); res.Status != runtime.RunSucceeded {
		t.Fatalf("result %+v %v", res, f.diags)
	}
	if got := f.lines(); !slices.Equal(got, []string{"unpin"}) {
		t.Fatalf("ledger %v, want only the unpin run again", got)
	}
}

// TestUnfinishedCompensationHoldsTheRun: when a resumed run cannot finish
// a compensation a crash cut short (its undo fails), nothing else acts.
func TestUnfinishedCompensationHoldsTheRun(t *testing.T) {
	f := newApplyFixture(t, `
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
  script     = "[ -e LEDGER.unpin-ok ] && echo unpin >> LEDGER"
  depends_on = [step.upgrade]
}
`)
	run := "20260101T000000.000Z"
	f.journalRun(
		state.Record{Kind: state.KindRun, Run: run},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.pin", Status: state.Succeeded, Attempt: 1},
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.pin", Undo: "step.unpin", UndoAddrs: []string{"step.unpin"}, Status: state.Owed},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.upgrade", Status: state.Failed, Attempt: 1},
		state.Record{Kind: state.KindObligation, Run: run, Addr: "step.pin", Undo: "step.unpin", UndoAddrs: []string{"step.unpin"}, Status: state.Undoing},
		state.Record{Kind: state.KindStep, Run: run, Addr: "step.unpin", Status: state.Running, Attempt: 1},
	)
	if res := f.apply(); res.Status != runtime.RunFailed {
		t.Fatalf("result %+v", res)
	}
	if got := f.lines(); len(got) != 0 {
		t.Fatalf("ledger %v: the upgrade went on with the compensation unfinished", got)
	}
	if err := os.WriteFile(f.ledger+".unpin-ok", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := f.apply(); res.Status != runtime.RunSucceeded {
		t.Fatalf("after the undo can run: %+v %v", res, f.diags)
	}
	if got, want := f.lines(), []string{"unpin", "pin", "upgrade", "unpin"}; !slices.Equal(got, want) {
		t.Fatalf("ledger %v, want %v", got, want)
	}
}

// TestSettlementCarriesItsRedoMarks: an undo's settlement and the marks
// that have both halves done again are one journal write, so no crash
// can leave a settled obligation whose first half is not redone.
func TestSettlementCarriesItsRedoMarks(t *testing.T) {
	f := newApplyFixture(t, `
step "drain" {
  uses   = "shell"
  script = "echo drain >> LEDGER"
  undo   = step.undrain
}
step "fail" {
  uses       = "exec"
  command    = ["false"]
  depends_on = [step.drain]
}
step "undrain" {
  uses       = "shell"
  script     = "echo undrain >> LEDGER"
  depends_on = [step.fail]
}
`)
	if res := f.apply(); res.Status != runtime.RunFailed {
		t.Fatalf("result %+v", res)
	}
	recs, err := f.backend.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.Kind != state.KindObligation || r.Status != state.Settled {
			continue
		}
		var marks []string
		for _, n := range recs[i+1:] {
			if n.Kind != state.KindStep || n.Status != state.Pending || n.Seq != recs[i].Seq+uint64(len(marks))+1 {
				break
			}
			marks = append(marks, n.Addr)
		}
		if !slices.Equal(marks, []string{"step.drain", "step.undrain"}) {
			t.Fatalf("the settlement of %s is followed by redo marks %v, want both halves in the same write", r.Addr, marks)
		}
		return
	}
	t.Fatal("no settled obligation in the journal")
}
