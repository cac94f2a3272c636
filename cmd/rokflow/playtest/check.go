package playtest

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/sim"
)

// check evaluates what the case expects of the run it observed, ending
// with the cluster st (before it: before). Each unmet expectation is an
// error diagnostic on the line that states it.
func (c *Case) check(s *Suite, o *observed, st, before sim.Status) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if o.Outcome != c.Expect.Outcome {
		subject := c.DeclRange
		if c.Expect.OutcomeRange != nil {
			subject = *c.Expect.OutcomeRange
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unexpected outcome",
			Detail:   fmt.Sprintf("The run ended %s; the case expects %s.%s", describeOutcome(o.Outcome), describeExpected(c.Expect.Outcome), o.explain()),
			Subject:  subject.Ptr(),
		})
	}
	if c.Expect.FailedAtRange != nil {
		failed := o.failed()
		var missing, extra []string
		for _, p := range c.Expect.FailedAt {
			found := false
			for _, f := range failed {
				found = found || p.Match(f)
			}
			if !found {
				missing = append(missing, p.String())
			}
		}
		for _, f := range failed {
			found := false
			for _, p := range c.Expect.FailedAt {
				found = found || p.Match(f)
			}
			if !found {
				extra = append(extra, f)
			}
		}
		if len(missing) > 0 || len(extra) > 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "The run failed at %s.", listOrNone(failed))
			if len(missing) > 0 {
				fmt.Fprintf(&b, " No failed step matches %s.", strings.Join(missing, ", "))
			}
			if len(extra) > 0 {
				fmt.Fprintf(&b, " Not expected to fail: %s.", strings.Join(extra, ", "))
			}
			b.WriteString(o.explain())
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unexpected failed steps", Detail: b.String(), Subject: c.Expect.FailedAtRange})
		}
	}
	if len(c.Asserts) == 0 {
		return diags
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"cluster":  clusterValue(st, before),
			"run":      tuplify(o.runValue()),
			"playbook": s.playbookValue(),
			"var":      objectOf(c.Variables),
		},
		Functions: conditionFunctions(s.Playbook.Dir),
	}
	for _, a := range c.Asserts {
		diags = append(diags, a.check(ctx)...)
	}
	return diags
}

// check evaluates one assertion.
func (a Assert) check(ctx *hcl.EvalContext) hcl.Diagnostics {
	v, diags := a.Condition.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	subject := a.Condition.Range()
	if v.IsNull() || !v.IsKnown() {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid condition", Detail: "The condition is null or unknown; it must be true or false.",
			Subject: &subject, Expression: a.Condition, EvalContext: ctx}}
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid condition", Detail: fmt.Sprintf("The condition must be true or false: %s.", err),
			Subject: &subject, Expression: a.Condition, EvalContext: ctx}}
	}
	if b.True() {
		return nil
	}
	msg := "The condition is false."
	if a.ErrorMessage != nil {
		m, ds := a.ErrorMessage.Value(ctx)
		if ds.HasErrors() {
			return append(diags, ds...)
		}
		if m, err := convert.Convert(m, cty.String); err == nil && m.IsKnown() && !m.IsNull() {
			msg = m.AsString()
		}
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Assertion failed", Detail: msg,
		Subject: &subject, Expression: a.Condition, EvalContext: ctx}}
}

// playbookValue is `playbook`: its name, from and to.
func (s *Suite) playbookValue() cty.Value {
	m := s.Playbook.Meta
	if m == nil {
		return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(""), "from": cty.StringVal(""), "to": cty.StringVal("")})
	}
	return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(m.Name), "from": cty.StringVal(m.From), "to": cty.StringVal(m.To)})
}

// describeExpected names an expected outcome after "the case expects".
func describeExpected(o Outcome) string {
	if o == NothingToDo {
		return "nothing to do (no step that changes something to run)"
	}
	return describeOutcome(o)
}

// describeOutcome names an outcome after "the run ended".
func describeOutcome(o Outcome) string {
	switch o {
	case Refused:
		return "refused (failed before any step that changes something began)"
	case NothingToDo:
		return "with nothing to do (no step that changes something ran)"
	case Paused:
		return "paused (at a gate or a step in doubt)"
	case Errored:
		return "in an error: apply could not run the playbook"
	}
	return string(o)
}

// explain says what the run did that an unexpected outcome is about: the
// steps that failed and the end of what apply printed on stderr.
func (o *observed) explain() string {
	var b strings.Builder
	for _, s := range o.Steps {
		if s.Status == "failed" || s.Status == "in_doubt" {
			fmt.Fprintf(&b, "\n  %s %s: %s", s.Address, s.Status, s.Error)
		}
	}
	if t := strings.TrimSpace(lastLines(withoutStateHint(o.Stderr), 12)); t != "" {
		fmt.Fprintf(&b, "\napply said:\n%s", t)
	}
	return b.String()
}

// withoutStateHint drops apply's closing "see rokflow state show --state
// …" from its output: the run's state is gone with its directory (unless
// rokflow test --keep kept it, and said where).
func withoutStateHint(stderr string) string {
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(l, "rokflow: the run failed; see rokflow state show") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "no step"
	}
	return strings.Join(s, ", ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
