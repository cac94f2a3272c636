package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// undoBlockSchema is the undo block of a step:
//
//	undo {
//	  step   = step.restore_candidates
//	  when   = <condition under which the undo may run>
//	  reason = "why it is held back otherwise"
//	}
//
// In HCL's JSON syntax the same block is the object "undo": {"step": …}.
var undoBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "step", Required: true},
		{Name: "when"},
		{Name: "reason"},
	},
}

var undoBlockHeader = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "undo"}}}

const undoForms = "Name the step that reverses this one: undo = step.restore_candidates; " +
	"step.NAME[each.key] for the instance with this element's key, step.NAME[*] for every instance; " +
	"or an undo block with step, when and reason."

// decodeUndo reads a step's undo, written as the attribute undo = step.NAME
// or as an undo block, and returns the kind's body with the block taken
// out.
func decodeUndo(s *Step, attr *hcl.Attribute, rest hcl.Body, diags hcl.Diagnostics) (hcl.Body, hcl.Diagnostics) {
	// Native syntax keeps blocks apart from attributes, so an undo block is
	// still in the rest of the body; in JSON the attribute took it.
	content, rest, ds := rest.PartialContent(undoBlockHeader)
	diags = append(diags, ds...)
	var prev *hcl.Range
	if attr != nil {
		if _, native := attr.Expr.(hclsyntax.Expression); !native {
			if pairs, ds := hcl.ExprMap(attr.Expr); !ds.HasErrors() {
				s.Undo, diags = decodeUndoPairs(pairs, attr.Expr.Range(), diags)
				prev = attr.NameRange.Ptr()
			}
		}
		if prev == nil {
			s.Undo, diags = undoRef(attr.Expr, diags)
			prev = attr.NameRange.Ptr()
		}
	}
	for _, b := range content.Blocks {
		if prev != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate undo",
				Detail:   fmt.Sprintf("This step's undo was already given at %s. A step has one undo; keep one of them.", *prev),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		prev = b.DefRange.Ptr()
		bc, ds := b.Body.Content(undoBlockSchema)
		diags = append(diags, ds...)
		a, ok := bc.Attributes["step"]
		if !ok {
			continue
		}
		s.Undo, diags = undoRef(a.Expr, diags)
		if s.Undo == nil {
			continue
		}
		if w, ok := bc.Attributes["when"]; ok {
			s.Undo.When = w.Expr
		}
		if r, ok := bc.Attributes["reason"]; ok {
			s.Undo.Reason = r.Expr
			diags = checkReason(s.Undo, r.NameRange, diags)
		}
	}
	return rest, diags
}

// decodeUndoPairs reads the JSON form of an undo block.
func decodeUndoPairs(pairs []hcl.KeyValuePair, rng hcl.Range, diags hcl.Diagnostics) (*Undo, hcl.Diagnostics) {
	var u *Undo
	var when, reason hcl.Expression
	var reasonRange hcl.Range
	for _, p := range pairs {
		key := hcl.ExprAsKeyword(p.Key)
		if key == "" {
			if v, ds := p.Key.Value(nil); !ds.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				key = v.AsString()
			}
		}
		switch key {
		case "step":
			u, diags = undoRef(p.Value, diags)
		case "when":
			when = p.Value
		case "reason":
			reason, reasonRange = p.Value, p.Key.Range()
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument",
				Detail:   "An undo block takes step, when and reason." + didYouMean(key, []string{"step", "when", "reason"}),
				Subject:  p.Key.Range().Ptr(),
			})
		}
	}
	if u == nil {
		if !diags.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   `The undo block needs "step", the step that reverses this one.`,
				Subject:  rng.Ptr(),
			})
		}
		return nil, diags
	}
	u.When, u.Reason = when, reason
	if reason != nil {
		diags = checkReason(u, reasonRange, diags)
	}
	return u, diags
}

func checkReason(u *Undo, rng hcl.Range, diags hcl.Diagnostics) hcl.Diagnostics {
	if u.When != nil {
		return diags
	}
	return append(diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Undo reason without a condition",
		Detail:   "reason says why an undo is held back, which happens only while its when condition is false. Add when, or remove reason.",
		Subject:  rng.Ptr(),
	})
}

// undoRef reads a reference to an undo step: step.NAME, step.NAME[*] or
// step.NAME[each.key]. In JSON the reference is a string of native syntax.
func undoRef(expr hcl.Expression, diags hcl.Diagnostics) (*Undo, hcl.Diagnostics) {
	bad := func() (*Undo, hcl.Diagnostics) {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid undo",
			Detail:   undoForms,
			Subject:  expr.Range().Ptr(),
		})
	}
	native, ok := expr.(hclsyntax.Expression)
	if !ok {
		v, ds := expr.Value(nil)
		if ds.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
			return bad()
		}
		rng := expr.Range()
		e, ds := hclsyntax.ParseExpression([]byte(v.AsString()), rng.Filename, rng.Start)
		if ds.HasErrors() {
			return bad()
		}
		native = e
	}
	u := &Undo{DeclRange: expr.Range()}
	var src hclsyntax.Expression
	switch e := native.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		src = e
	case *hclsyntax.SplatExpr:
		// Only the full splat with nothing after it: step.NAME[*].
		if e.Each != e.Item {
			return bad()
		}
		src, u.Elements = e.Source, UndoAll
	case *hclsyntax.IndexExpr:
		key, ok := e.Key.(*hclsyntax.ScopeTraversalExpr)
		if !ok || !isEachKey(key.Traversal) {
			return bad()
		}
		src, u.Elements = e.Collection, UndoSameKey
	default:
		return bad()
	}
	st, ok := src.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 2 || st.Traversal.RootName() != "step" {
		return bad()
	}
	name, isName := traverseName(st.Traversal[1]) // not step["x"]
	if !isName {
		return bad()
	}
	u.Step = name
	return u, diags
}

func isEachKey(tr hcl.Traversal) bool {
	if len(tr) != 2 || tr.RootName() != "each" {
		return false
	}
	name, ok := traverseName(tr[1])
	return ok && name == "key"
}
