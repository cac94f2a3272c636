package runtime

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang/schema"
)

// cbody is a step body taken apart by its kind's schema once, at compile
// time, so that planning each of thousands of instances only evaluates
// expressions. Structural errors (unknown or missing arguments, too many
// blocks) are reported once, here, not once per instance.
type cbody struct {
	attrs  hcl.Attributes
	blocks map[string][]*cbody
	rng    hcl.Range
	// consts holds the values of attributes that refer to nothing and call
	// no function, converted to their schema type once; elems, for list
	// literals that are not wholly constant, the constant elements (nil
	// where an element must be evaluated per instance).
	consts map[string]cty.Value
	elems  map[string][]cty.Value
}

// constValue evaluates an expression that refers to no variable and calls
// no function, which has the same value in every instance. It reports
// false for any other expression, or when evaluating it fails (the
// failure is then reported, with its context, per instance).
func constValue(expr hcl.Expression, ty cty.Type) (cty.Value, bool) {
	if len(expr.Variables()) > 0 || callsFunction(expr) {
		return cty.NilVal, false
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	v, err := convert.Convert(v, ty)
	if err != nil || v.IsNull() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

func callsFunction(expr hcl.Expression) bool {
	e, ok := expr.(hclsyntax.Expression)
	if !ok {
		// JSON syntax: templates may call functions; evaluate per instance.
		return true
	}
	found := false
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if _, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			found = true
		}
		return nil
	})
	return found
}

// foldConstants fills cb.consts and cb.elems for the attributes of b.
func (cb *cbody) foldConstants(b *schema.Block) {
	for name, attr := range cb.attrs {
		a, ok := b.Attributes[name]
		if !ok {
			continue
		}
		if v, ok := constValue(attr.Expr, a.Type); ok {
			if cb.consts == nil {
				cb.consts = map[string]cty.Value{}
			}
			cb.consts[name] = v
			continue
		}
		tc, ok := attr.Expr.(*hclsyntax.TupleConsExpr)
		if !ok || !a.Type.IsListType() || !a.Type.ElementType().IsPrimitiveType() {
			continue
		}
		elems := make([]cty.Value, len(tc.Exprs))
		some := false
		for i, e := range tc.Exprs {
			if v, ok := constValue(e, a.Type.ElementType()); ok {
				elems[i], some = v, true
			}
		}
		if some {
			if cb.elems == nil {
				cb.elems = map[string][]cty.Value{}
			}
			cb.elems[name] = elems
		}
	}
}

func bodySchema(b *schema.Block) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, n := range b.AttributeNames() {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n, Required: b.Attributes[n].Required})
	}
	for _, n := range b.BlockNames() {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: n})
	}
	return s
}

func compileBody(body hcl.Body, b *schema.Block, rng hcl.Range) (*cbody, hcl.Diagnostics) {
	content, diags := body.Content(bodySchema(b))
	cb := &cbody{attrs: content.Attributes, blocks: map[string][]*cbody{}, rng: rng}
	cb.foldConstants(b)
	for _, blk := range content.Blocks {
		nb := b.Blocks[blk.Type]
		inner, ds := compileBody(blk.Body, &nb.Block, blk.DefRange)
		diags = append(diags, ds...)
		cb.blocks[blk.Type] = append(cb.blocks[blk.Type], inner)
	}
	for _, n := range b.BlockNames() {
		nb := b.Blocks[n]
		got := cb.blocks[n]
		max := nb.MaxItems
		if nb.Nesting == schema.NestingSingle {
			max = 1
		}
		if max > 0 && len(got) > max {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Too many " + n + " blocks",
				Detail:   fmt.Sprintf("At most %d %q block(s) may appear here; remove the others.", max, n),
				Subject:  got[max].rng.Ptr(),
			})
		}
		if len(got) < nb.MinItems {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing " + n + " block",
				Detail:   fmt.Sprintf("At least %d %q block(s) are required here.", nb.MinItems, n),
				Subject:  rng.Ptr(),
			})
		}
	}
	return cb, diags
}

// decodeArgs evaluates a compiled body into an object of b's implied type,
// and reports whether anything in it is marked (sensitive), which the
// executor would otherwise find out by walking the object before every
// run.
func decodeArgs(cb *cbody, b *schema.Block, ctx *hcl.EvalContext) (cty.Value, bool, hcl.Diagnostics) {
	vals, marked, diags := decodeAttrs(cb, b, ctx)
	return cty.ObjectVal(vals), marked, diags
}

// decodeAttrs is decodeArgs leaving the attributes by name, for a caller
// that can put off building the object.
func decodeAttrs(cb *cbody, b *schema.Block, ctx *hcl.EvalContext) (map[string]cty.Value, bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	// Defaults and constants are never marked; list literals say whether
	// an element is; other values are looked through.
	marked := false
	vals := make(map[string]cty.Value, len(b.Attributes)+len(b.Blocks))
	for name, a := range b.Attributes {
		attr, ok := cb.attrs[name]
		if !ok {
			if a.Default != cty.NilVal && !a.Default.IsNull() {
				vals[name] = a.Default
			} else {
				vals[name] = cty.NullVal(a.Type)
			}
			continue
		}
		if v, ok := cb.consts[name]; ok {
			vals[name] = v
			continue
		}
		if lv, m, ok := evalListLiteral(attr.Expr, a.Type, cb.elems[name], ctx); ok {
			vals[name] = lv
			marked = marked || m
			continue
		}
		v, ds := attr.Expr.Value(ctx)
		diags = append(diags, ds...)
		if ds.HasErrors() {
			vals[name] = cty.UnknownVal(a.Type)
			continue
		}
		conv, err := convert.Convert(v, a.Type)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity:    hcl.DiagError,
				Summary:     "Incorrect attribute value type",
				Detail:      fmt.Sprintf("Inappropriate value for argument %q: %s.", name, err),
				Subject:     attr.Expr.Range().Ptr(),
				Expression:  attr.Expr,
				EvalContext: ctx,
			})
			conv = cty.UnknownVal(a.Type)
		}
		if conv.IsNull() && a.Default != cty.NilVal && !a.Default.IsNull() {
			conv = a.Default
		}
		vals[name] = conv
		marked = marked || hasMarks(conv)
	}
	for name, nb := range b.Blocks {
		got := cb.blocks[name]
		ty := nb.Block.ImpliedType()
		if nb.Nesting == schema.NestingSingle {
			if len(got) == 0 {
				vals[name] = cty.NullVal(ty)
				continue
			}
			v, m, ds := decodeArgs(got[0], &nb.Block, ctx)
			diags = append(diags, ds...)
			vals[name] = v
			marked = marked || m
			continue
		}
		if len(got) == 0 {
			vals[name] = cty.ListValEmpty(ty)
			continue
		}
		elems := make([]cty.Value, 0, len(got))
		for _, g := range got {
			v, m, ds := decodeArgs(g, &nb.Block, ctx)
			diags = append(diags, ds...)
			elems = append(elems, v)
			marked = marked || m
		}
		vals[name] = cty.ListVal(elems)
	}
	return vals, marked, diags
}

// evalListLiteral evaluates a list literal such as a command's argv
// straight into a list of a primitive type, without building a tuple and
// converting it, taking the elements found constant at compile time from
// consts. It reports false, leaving the general path to produce the
// diagnostics, whenever anything is out of the ordinary.
func evalListLiteral(expr hcl.Expression, ty cty.Type, consts []cty.Value, ctx *hcl.EvalContext) (v cty.Value, marked, ok bool) {
	tc, ok := expr.(*hclsyntax.TupleConsExpr)
	if !ok || !ty.IsListType() || !ty.ElementType().IsPrimitiveType() {
		return cty.NilVal, false, false
	}
	ety := ty.ElementType()
	if len(tc.Exprs) == 0 {
		return cty.ListValEmpty(ety), false, true
	}
	elems := make([]cty.Value, len(tc.Exprs))
	for i, e := range tc.Exprs {
		if consts != nil && !consts[i].IsNull() {
			elems[i] = consts[i]
			continue
		}
		v, ok := eachAttr(e, ctx)
		if !ok {
			var ds hcl.Diagnostics
			v, ds = e.Value(ctx)
			if ds.HasErrors() {
				return cty.NilVal, false, false
			}
		}
		if !v.Type().Equals(ety) {
			cv, err := convert.Convert(v, ety)
			if err != nil {
				return cty.NilVal, false, false
			}
			v = cv
		}
		if v.IsNull() {
			return cty.NilVal, false, false
		}
		marked = marked || v.IsMarked()
		elems[i] = v
	}
	return cty.ListVal(elems), marked, true
}

// The keys of each when it is a map (see eachVal), made once.
var eachKey, eachValue = cty.StringVal("key"), cty.StringVal("value")

// eachAttr evaluates each.key or each.value, the commonest expressions in
// the steps of a group, straight from the context without a traversal.
func eachAttr(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, bool) {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 2 || st.Traversal.RootName() != "each" {
		return cty.NilVal, false
	}
	attr, ok := st.Traversal[1].(hcl.TraverseAttr)
	if !ok || (attr.Name != "key" && attr.Name != "value") {
		return cty.NilVal, false
	}
	for c := ctx; c != nil; c = c.Parent() {
		if each, ok := c.Variables["each"]; ok {
			return eachField(each, attr.Name)
		}
	}
	return cty.NilVal, false
}

// eachField returns each.key or each.value of an each value (a map or an
// object, see eachVal).
func eachField(each cty.Value, name string) (cty.Value, bool) {
	switch {
	case each.Type().IsMapType() && name == "key":
		return each.Index(eachKey), true
	case each.Type().IsMapType() && name == "value":
		return each.Index(eachValue), true
	case each.Type().IsObjectType() && each.Type().HasAttribute(name):
		return each.GetAttr(name), true
	}
	return cty.NilVal, false
}
