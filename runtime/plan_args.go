package runtime

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/runtime/plan"
)

// target evaluates a step's on argument: the host's name, or, when
// unknown is true, what stands for it in the plan.
func (p *planner) target(st *lang.Step, on cty.Value) (target string, unknown bool) {
	if on.HasMark(marks.Sensitive) {
		p.diags = append(p.diags, sensitiveTarget(st.On))
		return marks.Masked, true
	}
	if !on.IsKnown() {
		return marks.UnknownText(on), true
	}
	on, _ = on.Unmark()
	s, err := convert.Convert(on, cty.String)
	if err != nil || s.IsNull() || s.AsString() == "" {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid target",
			Detail:   "The on argument takes a host name as a non-empty string.",
			Subject:  st.On.Range().Ptr(),
		})
		return "", false
	}
	return s.AsString(), false
}

// duration evaluates a duration argument ("90s", "10m"): its text as the
// plan shows it, and the duration a run acts on. None after an error;
// unknown, the text saying when it will be known, when it is known only
// at run time.
func (p *planner) duration(s *scope, expr hcl.Expression, what string) (string, plan.Duration) {
	v, ds := p.eval(s, expr)
	p.diags = append(p.diags, ds...)
	if ds.HasErrors() || v.v.IsNull() {
		return "", plan.Duration{}
	}
	if !v.v.IsKnown() {
		return marks.UnknownText(v.v), plan.Duration{Unknown: true}
	}
	raw, _ := v.v.Unmark()
	str, err := convert.Convert(raw, cty.String)
	if err == nil {
		if d, perr := time.ParseDuration(str.AsString()); perr == nil {
			return str.AsString(), plan.Duration{D: d, Set: true}
		}
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + what,
		Detail:   fmt.Sprintf("The %s must be a duration such as \"90s\", \"10m\" or \"1h30m\".", what),
		Subject:  expr.Range().Ptr(),
	})
	return "", plan.Duration{}
}

func (p *planner) intArg(s *scope, expr hcl.Expression, what string, def, minimum int) int {
	if expr == nil {
		return def
	}
	v, ds := p.eval(s, expr)
	p.diags = append(p.diags, ds...)
	raw, _ := v.v.Unmark()
	if ds.HasErrors() || !raw.IsKnown() || raw.IsNull() {
		return def
	}
	n, err := convert.Convert(raw, cty.Number)
	if err == nil {
		bf := n.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact && i >= int64(minimum) && i <= 1<<30 {
			return int(i)
		}
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + what,
		Detail:   fmt.Sprintf("The %s must be a whole number of at least %d.", what, minimum),
		Subject:  expr.Range().Ptr(),
	})
	return def
}

func (p *planner) retry(s *scope, r *lang.Retry) *plan.Retry {
	out := &plan.Retry{Attempts: p.intArg(s, r.Attempts, "retry attempts", 1, 1), Delay: "5s", MaxDelay: "1m",
		DelayAfter: plan.DurationOf("5s"), MaxDelayAfter: plan.DurationOf("1m")}
	if r.Delay != nil {
		out.Delay, out.DelayAfter = p.duration(s, r.Delay, "retry delay")
	}
	if r.MaxDelay != nil {
		out.MaxDelay, out.MaxDelayAfter = p.duration(s, r.MaxDelay, "retry max_delay")
	}
	return out
}

// checkCondition evaluates a precondition when it can; a known false one
// is an error in the plan, since the run would stop there.
func (p *planner) checkCondition(s *scope, chk *lang.Check, what, addr string) {
	v, ds := p.eval(s, chk.Condition)
	p.diags = append(p.diags, ds...)
	raw, _ := v.v.Unmark()
	if ds.HasErrors() || !raw.IsKnown() || raw.IsNull() {
		return
	}
	b, err := convert.Convert(raw, cty.Bool)
	if err != nil {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + what,
			Detail:   "A condition must be true or false.",
			Subject:  chk.Condition.Range().Ptr(),
		})
		return
	}
	if b.True() {
		return
	}
	msg := "the condition is false"
	if m, ds := p.eval(s, chk.ErrorMessage); !ds.HasErrors() && m.v.IsKnown() && !m.v.IsMarked() && m.v.Type() == cty.String && !m.v.IsNull() {
		msg = m.v.AsString()
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  strings.ToUpper(what[:1]) + what[1:] + " failed",
		Detail:   fmt.Sprintf("%s: %s", addr, msg),
		Subject:  chk.Condition.Range().Ptr(),
	})
}

// markSensitive marks the arguments a kind declares sensitive.
func markSensitive(args cty.Value, paths []cty.Path) cty.Value {
	if len(paths) == 0 {
		return args
	}
	pvm := make([]cty.PathValueMarks, 0, len(paths))
	for _, path := range paths {
		pvm = append(pvm, cty.PathValueMarks{Path: path, Marks: cty.NewValueMarks(marks.Sensitive)})
	}
	unmarked, existing := args.UnmarkDeepWithPaths()
	marked, err := cty.Transform(unmarked, func(path cty.Path, v cty.Value) (cty.Value, error) {
		for _, pm := range pvm {
			if path.Equals(pm.Path) {
				return v.Mark(marks.Sensitive), nil
			}
		}
		return v, nil
	})
	if err != nil {
		return args
	}
	m, others := marked.UnmarkDeepWithPaths()
	return m.MarkWithPaths(append(existing, others...))
}
