package runtime

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// secretsOf returns the string values marked sensitive inside v.
func secretsOf(v cty.Value) []string { return steps.SensitiveStrings(v) }

// taintOutputs marks sensitive every output string that contains one of
// the step's secret arguments word for word: kinds receive plain values,
// so the core carries the taint from arguments to outputs (a command that
// echoes a password, a response that repeats a token).
func taintOutputs(out cty.Value, secrets []string) cty.Value {
	if len(secrets) == 0 || out == cty.NilVal {
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

// scrub replaces every secret in a line a kind printed: kinds receive
// plain values, so the core keeps their secrets out of events.
func scrub(s string, secrets []string) string { return steps.Redact(s, secrets) }

// scrubDiags does the same to a kind's diagnostics, in place.
func scrubDiags(diags hcl.Diagnostics, secrets []string) {
	if len(secrets) == 0 {
		return
	}
	for _, d := range diags {
		d.Summary = scrub(d.Summary, secrets)
		d.Detail = scrub(d.Detail, secrets)
	}
}

// hasMarks reports whether v or anything in it is marked, as
// ContainsMarked does, without cty.Walk's sorted iteration of every
// object: it runs before every step.
func hasMarks(v cty.Value) bool {
	if v.IsMarked() {
		return true
	}
	if !v.IsKnown() || v.IsNull() {
		return false
	}
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		for name := range ty.AttributeTypes() {
			if hasMarks(v.GetAttr(name)) {
				return true
			}
		}
	case ty.IsListType():
		for i := range v.LengthInt() {
			if hasMarks(steps.ListElem(v, i)) {
				return true
			}
		}
	case ty.IsCollectionType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			if _, e := it.Element(); hasMarks(e) {
				return true
			}
		}
	}
	return false
}
