package lang

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang/marks"
)

// HideSensitive rewrites, in place, the detail of every diagnostic whose
// expression reads a sensitive value: HCL's messages quote values
// ("cannot convert \"hunter2\" to number"), and a secret must never reach
// an error. It returns diags for chaining.
func HideSensitive(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		if d.Expression == nil || d.EvalContext == nil {
			continue
		}
		for _, tr := range d.Expression.Variables() {
			v, ds := tr.TraverseAbs(d.EvalContext)
			if ds.HasErrors() || !marks.IsSensitive(v) {
				continue
			}
			d.Detail = "This expression uses a sensitive value (" + traversalText(tr) + "), so the details are not shown. Check that value and how the expression uses it."
			d.Extra = nil
			break
		}
	}
	return diags
}

func traversalText(tr hcl.Traversal) string {
	s := tr.RootName()
	for _, t := range tr[1:] {
		if a, ok := t.(hcl.TraverseAttr); ok {
			s += "." + a.Name
		} else {
			s += "[…]"
		}
	}
	return s
}
