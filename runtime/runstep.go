package runtime

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
)

// start begins one instance: a skip, a failure found while planning, a
// crash to recover from, a gate, or a run.
func (e *executor) start(i int, inst *plan.Instance) {
	st := e.state(inst.Address)
	x := e.p.extras[i]
	if inst.Action == plan.Skip {
		e.record(inst, state.Skipped, "", cty.NilVal, "")
		return
	}
	if errs := errorsOnly(x.diags); len(errs) > 0 {
		e.fail(inst, errs)
		return
	}
	switch e.resumeAction(inst) {
	case actDone:
		e.resolvedDone(inst)
		return
	case actHold:
		if st.status != state.InDoubt {
			e.inDoubt(inst) // else reported when the run began
		}
		return
	}
	if inst.Gate && e.startGate(inst) {
		return
	}
	e.launch(inst, x)
}

func hasCheck(inst *plan.Instance) bool {
	args := inst.Arguments()
	if args == cty.NilVal || !args.Type().IsObjectType() || !args.Type().HasAttribute("check") {
		return false
	}
	v := args.GetAttr("check")
	return !v.IsNull()
}

func errorsOnly(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// launch runs an instance in its own goroutine.
func (e *executor) launch(inst *plan.Instance, x instExtra) {
	st := e.state(inst.Address)
	// A handle belongs to one attempt: only an attempt that a crash cut
	// short re-attaches to the job it started; any other attempt (after a
	// failure, an undo, a retry resolution) acts anew.
	if !(st.recovered && st.status == state.Running) {
		st.handle = ""
	}
	st.status, st.recovered = state.Running, false
	st.running = true
	st.attempts++
	e.running++
	e.progress++
	if inst.Group != "" && inst.Batch > 0 {
		e.announceBatch(inst)
	}
	// A once step's intent is durable before it acts. Other steps may run
	// again after a crash, so their start is journaled together with their
	// end, in one write, still before any dependent starts. A gate whose
	// check runs is journaled as waiting, as any waiting gate is
	// (startGate): state show tells what it waits for.
	rec := state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: state.Running, Attempt: st.attempts, Handle: st.handle, Time: e.opts.Now()}
	if inst.Gate {
		rec = waitingRecord(e.run, inst, st.attempts)
		rec.Time = e.opts.Now()
	}
	if inst.Once || inst.Gate {
		if err := e.journal.append(context.WithoutCancel(e.ctx), rec); err != nil {
			st.running = false
			e.running--
			e.halt(err)
			e.fail(inst, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot write the journal", Detail: err.Error()}})
			return
		}
	} else {
		st.startRec = &rec
	}
	e.event(Event{Type: EventStepStart, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Group: inst.Group, Batch: inst.Batch, Attempt: st.attempts, Summary: inst.Summary, Instructions: gateText(inst)})
	handle, attempts, startRec := st.handle, st.attempts, st.startRec
	wantTarget, hadTarget := e.targetFacts[inst.Address]
	// Only what a step reads before any change identifies the system: a
	// node's own view after the run changed things describes the run's
	// doing (and the node may be down when the run resumes).
	identifies := hadTarget || !e.afterChange[e.index[inst.Address]]
	base := e.checkContext(inst)
	go func() {
		start := time.Now()
		var r result
		{
			r = e.runStepIn(base, inst, x, handle, attempts)
			if idf, ok := x.kind.(steps.Identifier); ok && identifies && !r.diags.HasErrors() {
				if got, ok := idf.Identity(r.outputs); ok {
					switch {
					case !hadTarget:
						r.newTarget = got
					case got != wantTarget:
						r.wrongTarget = true
						r.diags = append(r.diags, wrongSystem(e.run, inst.Address, wantTarget, got, "The run acts no more and compensates nothing here."))
					}
				}
			}
			if want, ok := e.opts.Facts[inst.Address]; ok && inst.ReadOnly && !r.diags.HasErrors() {
				if want, got := canonicalFact(want), factText(r.outputs); got != want {
					r.diags = append(r.diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "The cluster changed since the plan",
						Detail:   "What this step finds differs from what the saved plan was made with:\n" + factDiff(want, got) + "\nMake a new plan and review it.",
					})
				}
			}
			if x.post == nil && !r.diags.HasErrors() && e.ctx.Err() == nil {
				// The common case is journaled here, by the worker, so that
				// concurrent steps share the journal's group commit and the
				// scheduler only keeps books.
				if r.outputs == cty.NilVal {
					r.outputs = cty.EmptyObjectVal
				}
				if r.handle == "" {
					r.handle = handle
				}
				end := state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: state.Succeeded, Attempt: attempts, Handle: r.handle, Outputs: encodeOutputs(r.outputs)}
				var recs []state.Record
				if startRec != nil {
					recs = []state.Record{*startRec, end}
				} else {
					recs = []state.Record{end}
				}
				if r.newTarget != "" {
					// With the success, in one write: a crash between the
					// two would lose the identity to verify on resume.
					recs = append(recs, state.Record{Kind: state.KindTarget, Run: e.run, Facts: map[string]string{inst.Address: r.newTarget}})
				}
				r.journalErr = e.journal.append(context.WithoutCancel(e.ctx), recs...)
				r.journaled = true
			}
		}
		r.addr = inst.Address
		r.elapsed = time.Since(start)
		e.done <- r
	}()
}

// runStep runs an instance's kind with its timeout and retry policy.
func (e *executor) runStep(inst *plan.Instance, x instExtra, handle string, stepAttempt int) result {
	return e.runStepIn(e.ctx, inst, x, handle, stepAttempt)
}

// runStepIn is runStep under base, which ends with the run's context or
// sooner (a gate's check, when approvals pass the gate).
func (e *executor) runStepIn(base context.Context, inst *plan.Instance, x instExtra, handle string, stepAttempt int) result {
	var host steps.Host
	if x.schema.Target == steps.TargetHost {
		if e.opts.Plan.Hosts == nil {
			return result{diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No transport", Detail: "This run cannot reach hosts."}}}
		}
		conn := x.conn
		if conn == cty.NilVal {
			conn = cty.NullVal(cty.DynamicPseudoType)
		}
		host = &lazyHost{ctx: e.ctx, target: inst.Target, conn: conn, resolve: e.opts.Plan.Hosts}
	}
	attempts, delay, maxDelay := 1, 5*time.Second, time.Minute
	if inst.Retry != nil && !inst.Once {
		attempts = max(inst.Retry.Attempts, 1)
		if d, ok := inst.Retry.DelayAfter.Known(); ok {
			delay = d
		}
		if d, ok := inst.Retry.MaxDelayAfter.Known(); ok {
			maxDelay = d
		}
	}
	// Most steps' arguments carry no marks (the planner says which do);
	// unmarking walks them all. The taint keeps what the marks said.
	args, taint := inst.Arguments(), (*stepTaint)(nil)
	if x.marked {
		taint = newStepTaint(x.schema, args)
		args, _ = args.UnmarkDeep()
	}
	var last result
	for attempt := 1; attempt <= attempts; attempt++ {
		ctx := base
		var cancel context.CancelFunc = func() {}
		if d, ok := inst.TimeoutAfter.Known(); ok {
			ctx, cancel = context.WithTimeout(ctx, d)
		}
		req := steps.RunRequest{
			Args:      args,
			Target:    inst.Target,
			Host:      host,
			Handle:    handle,
			Sensitive: taint.sensitive(),
			Output: func(stream, line string) {
				if line, ok := taint.line(line); ok {
					e.event(Event{Type: EventStepOutput, Run: e.run, Addr: inst.Address, Stream: stream, Line: line})
				}
			},
			RecordHandle: func(h string) error {
				handle = h
				return e.journal.append(context.WithoutCancel(e.ctx), state.Record{Kind: state.KindStep, Run: e.run, Addr: inst.Address, Status: state.Running, Attempt: stepAttempt, Handle: h})
			},
		}
		resp := x.kind.Run(ctx, req)
		resp.Outputs = taint.outputs(resp.Outputs)
		taint.diags(resp.Diagnostics)
		if ev, ok := taint.withheldEvent(); ok {
			ev.Run, ev.Addr, ev.Attempt = e.run, inst.Address, attempt
			e.event(ev)
		}
		if ctx.Err() == context.DeadlineExceeded && !resp.Diagnostics.HasErrors() {
			resp.Diagnostics = append(resp.Diagnostics, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step timed out", Detail: "It ran longer than its timeout of " + inst.Timeout + "."})
		}
		cancel()
		last = result{outputs: resp.Outputs, diags: resp.Diagnostics, handle: handle}
		if !resp.Diagnostics.HasErrors() || base.Err() != nil || attempt == attempts {
			break
		}
		e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Status: "retrying", Attempt: attempt, Error: diagText(resp.Diagnostics)})
		select {
		case <-time.After(delay):
		case <-base.Done():
		}
		delay = min(delay*2, maxDelay)
	}
	return last
}
