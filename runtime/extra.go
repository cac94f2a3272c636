package runtime

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/steps"
)

// instExtra is what the executor needs of a planned instance beyond the
// plan's data: the kind itself, the evaluated connection, the
// postconditions bound to the instance's scope, and the diagnostics that
// planning the instance produced.
type instExtra struct {
	kind   steps.Kind
	schema *steps.Schema
	conn   cty.Value
	post   func(outputs cty.Value) hcl.Diagnostics
	diags  hcl.Diagnostics
	// marked is set when the arguments hold a marked (sensitive) value.
	marked bool
	// undo is the instance's owed undo, or the step it belongs to when an
	// undo lists that step's instances.
	undo *undoPlan
}

// checkPost evaluates a step's postconditions with self.outputs bound to
// the outputs of its run.
func (p *planner) checkPost(s *scope, st *lang.Step, addr string, out cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	self := cty.ObjectVal(map[string]cty.Value{"outputs": out})
	for _, chk := range st.Post {
		v, ds := p.evalWithSelf(s, chk.Condition, self)
		diags = append(diags, ds...)
		raw, _ := v.Unmark()
		if ds.HasErrors() || !raw.IsKnown() || raw.IsNull() {
			continue
		}
		b, err := convert.Convert(raw, cty.Bool)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid postcondition",
				Detail:   "A condition must be true or false.",
				Subject:  chk.Condition.Range().Ptr(),
			})
			continue
		}
		if b.True() {
			continue
		}
		msg := "the condition is false"
		if m, ds := p.evalWithSelf(s, chk.ErrorMessage, self); !ds.HasErrors() && m.IsKnown() && !m.IsMarked() && m.Type() == cty.String && !m.IsNull() {
			msg = m.AsString()
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Postcondition failed",
			Detail:   fmt.Sprintf("%s: %s", addr, strings.TrimSpace(msg)),
			Subject:  chk.Condition.Range().Ptr(),
		})
	}
	return diags
}

func (p *planner) evalWithSelf(s *scope, expr hcl.Expression, self cty.Value) (cty.Value, hcl.Diagnostics) {
	refs, diags := lang.References(expr)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	ctx, _ := p.evalContext(s, refs)
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{"self": self}
	return expr.Value(child)
}
