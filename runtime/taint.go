package runtime

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// This file owns the Secrets invariant of DESIGN §11: whatever derives
// from a sensitive value, including what a command prints after
// receiving one, is sensitive. Expressions carry cty's Sensitive mark by
// themselves; what a kind produces carries none (kinds get plain values),
// so the rule for it is kept here, once:
//
//   - A step taints what it produces when a sensitive value sits in one of
//     its arguments other than the kind's declared Credentials (taints).
//   - Every output of such a step is sensitive but those its kind declares
//     Clean: unknown in the plan (plannedOutputs), known after the run
//     (stepTaint.outputs). The journal stores no sensitive part
//     (encodeOutputs), so later steps, plans, events and `state show` see
//     them masked.
//   - Its streamed lines are withheld, not searched, unless the kind
//     declares its stream clean: a command may print a password
//     upper-cased or encoded, which no search for the literal value finds.
//     One event per attempt says how many lines were withheld and why.
//   - Whatever a kind produces is also searched for the literal secrets
//     among its arguments (credentials included) as a second line of
//     defence: a clean output that repeats one word for word is marked,
//     a shown line or a diagnostic has it replaced.
//   - What decides or names things that plans, events and the journal
//     show cannot be sensitive, since it would reveal the value a
//     comparison at a time: a target, a when condition, a for_each key
//     (sensitiveUse).

// taints reports whether a step whose kind has schema s taints what it
// produces when given args: whether a sensitive value sits in an argument
// the kind does not declare a credential.
func taints(s *steps.Schema, args steps.Attrs) bool {
	if v, ok := args.(cty.Value); ok && v.HasMark(marks.Sensitive) {
		return true
	}
	for _, names := range [][]string{s.Args.AttributeNames(), s.Args.BlockNames()} {
		for _, n := range names {
			if s.Secrets.IsCredential(n) {
				continue
			}
			if v := args.GetAttr(n); v != cty.NilVal && carriesSecret(v) {
				return true
			}
		}
	}
	return false
}

// plannedOutputs is the value of a tainting step's outputs before it ran:
// unknown, known after addr, and sensitive but for the clean ones, so
// that a when or for_each that would depend on them is refused at
// validate rather than half-way through a run.
func plannedOutputs(s *steps.Schema, outType cty.Type, addr string) cty.Value {
	if !outType.IsObjectType() {
		return cty.UnknownVal(outType).Mark(marks.Sensitive)
	}
	ka := marks.KnownAfter{Addr: addr}
	attrs := make(map[string]cty.Value, len(outType.AttributeTypes()))
	for n, ty := range outType.AttributeTypes() {
		v := cty.UnknownVal(ty).Mark(ka)
		if !s.Secrets.IsClean(n) {
			v = v.Mark(marks.Sensitive)
		}
		attrs[n] = v
	}
	return cty.ObjectVal(attrs)
}

// stepTaint applies the rule to one run of one step instance; nil stands
// for a step whose arguments hold nothing sensitive. Its methods may be
// called from the kind's goroutines.
type stepTaint struct {
	schema *steps.Schema
	// secrets are the sensitive strings among the arguments, longest
	// first, searched for in whatever the kind produces.
	secrets []string
	// tainted: the outputs are sensitive and the lines withheld.
	tainted  bool
	withheld atomic.Int64
}

// newStepTaint reads the marks of a step's arguments before they are
// stripped for the kind; it returns nil when none is sensitive.
func newStepTaint(s *steps.Schema, args cty.Value) *stepTaint {
	t := &stepTaint{schema: s, secrets: steps.SensitiveStrings(args), tainted: taints(s, args)}
	if !t.tainted && len(t.secrets) == 0 {
		return nil
	}
	return t
}

// sensitive is what RunRequest.Sensitive tells the kind.
func (t *stepTaint) sensitive() bool { return t != nil && t.tainted }

// outputs marks what the kind returned: every output but the clean ones
// when the step taints, and any string repeating a secret in any case.
func (t *stepTaint) outputs(out cty.Value) cty.Value {
	if t == nil || out == cty.NilVal {
		return out
	}
	out = taintOutputs(out, t.secrets)
	if !t.tainted {
		return out
	}
	raw, outMarks := out.Unmark()
	if !raw.Type().IsObjectType() || !raw.IsKnown() || raw.IsNull() {
		return out.Mark(marks.Sensitive)
	}
	attrs := raw.AsValueMap()
	for n, v := range attrs {
		if !t.schema.Secrets.IsClean(n) {
			attrs[n] = v.Mark(marks.Sensitive)
		}
	}
	if len(attrs) == 0 {
		return out
	}
	return cty.ObjectVal(attrs).WithMarks(outMarks)
}

// line returns a streamed line as it may be shown, or false when it is
// withheld.
func (t *stepTaint) line(s string) (string, bool) {
	switch {
	case t == nil:
		return s, true
	case t.tainted && !t.schema.Secrets.CleanStream:
		t.withheld.Add(1)
		return "", false
	}
	return steps.Redact(s, t.secrets), true
}

// withheldEvent returns the event telling how many lines the attempt
// that just ended withheld, and starts counting afresh; false when none.
func (t *stepTaint) withheldEvent() (Event, bool) {
	if t == nil {
		return Event{}, false
	}
	n := t.withheld.Swap(0)
	if n == 0 {
		return Event{}, false
	}
	what := "1 output line"
	if n > 1 {
		what = fmt.Sprintf("%d output lines", n)
	}
	return Event{Type: EventOutputWithheld, Lines: int(n),
		Summary: what + " withheld: the step received a sensitive value, which it may have printed"}, true
}

// diags replaces every secret in the kind's diagnostics, in place.
func (t *stepTaint) diags(diags hcl.Diagnostics) {
	if t == nil || len(t.secrets) == 0 {
		return
	}
	for _, d := range diags {
		d.Summary = steps.Redact(d.Summary, t.secrets)
		d.Detail = steps.Redact(d.Detail, t.secrets)
	}
}

// taintOutputs marks sensitive every output string that contains one of
// the secrets word for word (a response repeating a token).
func taintOutputs(out cty.Value, secrets []string) cty.Value {
	if len(secrets) == 0 {
		return out
	}
	tainted, err := cty.Transform(out, func(_ cty.Path, v cty.Value) (cty.Value, error) {
		if !v.IsKnown() || v.IsNull() || v.IsMarked() || v.Type() != cty.String {
			return v, nil
		}
		s := v.AsString()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				return v.Mark(marks.Sensitive), nil
			}
		}
		return v, nil
	})
	if err != nil {
		return out.Mark(marks.Sensitive)
	}
	return tainted
}

// sensitiveUse is the error for a sensitive value where plans, events
// and the journal would reveal it: what is the meta-argument (a "when
// condition"), why says what it decides, fix how to restructure the
// playbook. nonsensitive() is not offered, by design.
func sensitiveUse(expr hcl.Expression, what, why, fix string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Sensitive " + what,
		Detail:   "This " + what + " depends on a sensitive value. " + why + " " + fix,
		Subject:  expr.Range().Ptr(),
	}
}

// sensitiveWhen refuses a when condition that depends on a secret.
func sensitiveWhen(expr hcl.Expression) *hcl.Diagnostic {
	return sensitiveUse(expr, "when condition",
		"Whether a step runs is shown in plans, events and the journal, so a condition on a secret would reveal it, one comparison at a time.",
		"Decide on a value that is not sensitive (a separate variable, or an output the kind declares clean), or let the step that receives the secret do the test.")
}

// sensitiveForEach refuses a for_each whose keys depend on a secret.
func sensitiveForEach(expr hcl.Expression) *hcl.Diagnostic {
	return sensitiveUse(expr, "for_each",
		"Its keys become step addresses, shown in plans, events and the journal.",
		"Iterate over values that are not sensitive, such as host names, and look the secret up inside the step (password = var.passwords[each.key]); a map's values may be sensitive, its keys may not.")
}

// sensitiveTarget refuses a step target that depends on a secret.
func sensitiveTarget(expr hcl.Expression) *hcl.Diagnostic {
	return sensitiveUse(expr, "target",
		"A step's target is shown in plans, events and the journal.",
		"Name the host with a value that is not sensitive.")
}

// hasMarks reports whether v or anything in it is marked, as
// ContainsMarked does, without cty.Walk's sorted iteration of every
// object: it runs before every step.
func hasMarks(v cty.Value) bool { return findMark(v, cty.Value.IsMarked) }

// hasSensitive reports whether v or anything in it is sensitive, as
// marks.IsSensitive does, by the same walk.
func hasSensitive(v cty.Value) bool {
	return findMark(v, func(v cty.Value) bool { return v.HasMark(marks.Sensitive) })
}

// carriesSecret reports whether v holds a sensitive value. A null one
// holds nothing: an argument the kind declares sensitive is marked even
// when the step leaves it unset.
func carriesSecret(v cty.Value) bool {
	return findMark(v, func(v cty.Value) bool { return v.HasMark(marks.Sensitive) && !v.IsNull() })
}

func findMark(v cty.Value, marked func(cty.Value) bool) bool {
	if marked(v) {
		return true
	}
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return false
	}
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		for name := range ty.AttributeTypes() {
			if findMark(v.GetAttr(name), marked) {
				return true
			}
		}
	case ty.IsListType():
		for i := range v.LengthInt() {
			if findMark(steps.ListElem(v, i), marked) {
				return true
			}
		}
	case ty.IsCollectionType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			if _, e := it.Element(); findMark(e, marked) {
				return true
			}
		}
	}
	return false
}
