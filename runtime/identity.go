package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
)

// Identify returns what a run of pb with inputs acts for: the hash of the
// playbook's files, the hash of its inputs, and each input as shown in a
// diff. Sensitive inputs are credentials, not what the run acts on: they
// are left out, so that a password rotated between two attempts does not
// make another run, and no digest of a secret reaches the journal.
func Identify(pb *lang.Playbook, inputs map[string]cty.Value) *state.Identity {
	h := sha256.New()
	values := writeInputs(h, inputs, false)
	return &state.Identity{
		Playbook: Hash(pb, nil),
		Inputs:   "sha256:" + hex.EncodeToString(h.Sum(nil)),
		Values:   values,
	}
}

// identityDiff says how the identity of a run to resume differs from this
// apply's: the playbook changed, or inputs, each with its two values. It
// is empty when they are the same run. A run journaled before identities
// were recorded has none, and is taken as it is.
func identityDiff(was, now *state.Identity) []string {
	if was == nil || now == nil {
		return nil
	}
	var out []string
	if was.Playbook != "" && was.Playbook != now.Playbook {
		out = append(out, "  the playbook's files changed")
	}
	if was.Inputs == "" || was.Inputs == now.Inputs {
		return out
	}
	names := map[string]bool{}
	for n := range was.Values {
		names[n] = true
	}
	for n := range now.Values {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		w, wok := was.Values[n]
		g, gok := now.Values[n]
		switch {
		case wok && gok && w != g:
			out = append(out, fmt.Sprintf("  var.%s: %s → %s", n, clip(w), clip(g)))
		case wok && !gok:
			out = append(out, fmt.Sprintf("  var.%s: %s → (not given, or sensitive now)", n, clip(w)))
		case !wok && gok:
			out = append(out, fmt.Sprintf("  var.%s: (not given, or sensitive then) → %s", n, clip(g)))
		}
	}
	if len(out) == 0 {
		out = append(out, "  the inputs changed")
	}
	return out
}

// sameRun refuses to continue run with this apply's playbook and inputs
// when they are not the run's own: steps done for one set of inputs and
// steps done for another would make one run of two.
func (e *executor) sameRun(run *state.Run) hcl.Diagnostics {
	diff := identityDiff(run.Identity, e.identity)
	if len(diff) == 0 {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Not the run to resume",
		Detail: fmt.Sprintf("Run %s, which is not finished, was started with another playbook or other inputs:\n%s\n"+
			"Resume it with the playbook and inputs it was started with; or, to begin again with these "+
			"(steps already done run again), apply with --new-run.", run.ID, strings.Join(diff, "\n")),
	}}
}

// How long a resumed run keeps asking a target that does not answer for
// its identity, and how often.
const (
	verifyPatience = 30 * time.Second
	verifyRetry    = time.Second
)

// verifyTarget reads the identity of a resumed run's target again, before
// anything acts, by running the read-only steps that read it the first
// time. Their outputs are not kept: the run goes on with the values it
// was planned with, and only who the target is must not have changed.
func (e *executor) verifyTarget() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, inst := range e.p.plan.Instances {
		if !e.verify[inst.Address] {
			continue
		}
		i := e.index[inst.Address]
		x := e.p.extras[i]
		idf, ok := x.kind.(steps.Identifier)
		if !ok || !inst.ReadOnly {
			delete(e.verify, inst.Address) // not an identity any more
			continue
		}
		if !e.known(i) {
			if !e.alreadyDone {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot confirm the run's target",
					Detail: fmt.Sprintf("Run %s is resumed only once %s reads the system's identity again, and its arguments are not known before the run starts.", e.run, inst.Address)})
			}
			continue
		}
		e.event(Event{Type: EventStepStart, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Summary: "reading the target's identity again: " + inst.Summary})
		r := e.runStep(inst, x, "", e.state(inst.Address).attempts)
		// A target that does not answer may be rebooting (a resume while a
		// node is powered off for its BOOT-disk swap): ask again for a
		// while before giving up.
		for deadline := e.opts.Now().Add(verifyPatience); r.diags.HasErrors() && !e.alreadyDone && e.opts.Now().Before(deadline); {
			select {
			case <-e.ctx.Done():
			case <-e.stopCh():
			case <-time.After(verifyRetry):
				r = e.runStep(inst, x, "", e.state(inst.Address).attempts)
				continue
			}
			break
		}
		if r.diags.HasErrors() && e.alreadyDone {
			// A finished run acts no more: whether the system is reachable
			// changes nothing it says.
			continue
		}
		if r.diags.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot confirm the run's target",
				Detail: fmt.Sprintf("Run %s is resumed only once %s reads the system's identity again, and it failed: %s", e.run, inst.Address, diagText(r.diags))})
			continue
		}
		got, ok := idf.Identity(r.outputs)
		if !ok {
			continue
		}
		if want := e.targetFacts[inst.Address]; got != want {
			e.wrongTarget = true
			diags = append(diags, wrongSystem(e.run, inst.Address, want, got, "Nothing was done."))
			continue
		}
		delete(e.verify, inst.Address)
		e.event(Event{Type: EventStepEnd, Run: e.run, Addr: inst.Address, Kind: inst.Kind, Target: inst.Target, Status: string(state.Succeeded), Summary: "the same system: " + got})
	}
	return diags
}

// wrongSystem is the error of a run that finds, through the identity step
// addr, another system than the one it acted on; done says what the run
// did about it.
func wrongSystem(run, addr, want, got, done string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Another system than the run's",
		Detail: fmt.Sprintf("Run %s acted on %s; %s now finds %s. %s "+
			"Resume the run against the system it was started on, or start a new run for this one with apply --new-run.", run, want, addr, got, done),
	}
}
