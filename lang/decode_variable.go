package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
		{Name: "nullable"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

func decodeVariableBlock(block *hcl.Block) (*Variable, hcl.Diagnostics) {
	v := &Variable{
		Name:      block.Labels[0],
		Type:      cty.DynamicPseudoType,
		Default:   cty.NilVal,
		DeclRange: block.DefRange,
	}
	diags := checkName(v.Name, block.LabelRanges[0])
	content, ds := block.Body.Content(variableSchema)
	diags = append(diags, ds...)

	if attr, ok := content.Attributes["type"]; ok {
		ty, defaults, ds := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			v.Type, v.TypeDefaults = ty, defaults
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &v.Description)...)
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &v.Sensitive)...)
	}
	v.Nullable = false
	if attr, ok := content.Attributes["nullable"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &v.Nullable)...)
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, ds := attr.Expr.Value(nil)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			if v.TypeDefaults != nil {
				val = v.TypeDefaults.Apply(val)
			}
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("This default does not fit the variable's type: %s. Change the default or the type.", err),
					Subject:  attr.Expr.Range().Ptr(),
				})
			} else {
				v.Default = conv
			}
		}
	}
	for _, b := range content.Blocks {
		c, ds := decodeCheckBlock(b)
		diags = append(diags, ds...)
		if c != nil {
			diags = append(diags, checkValidationRefs(v.Name, c)...)
			v.Validations = append(v.Validations, c)
		}
	}
	return v, diags
}

func decodeCheckBlock(block *hcl.Block) (*Check, hcl.Diagnostics) {
	content, diags := block.Body.Content(checkSchema)
	c := &Check{DeclRange: block.DefRange}
	if attr, ok := content.Attributes["condition"]; ok {
		c.Condition = attr.Expr
	}
	if attr, ok := content.Attributes["error_message"]; ok {
		c.ErrorMessage = attr.Expr
	}
	if c.Condition == nil || c.ErrorMessage == nil {
		return nil, diags
	}
	return c, diags
}

// checkValidationRefs makes sure a validation refers only to its own
// variable: it runs before anything else is known.
func checkValidationRefs(name string, c *Check) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, expr := range []hcl.Expression{c.Condition, c.ErrorMessage} {
		for _, tr := range expr.Variables() {
			ref, ds := ParseRef(tr)
			if ds.HasErrors() {
				diags = append(diags, ds...)
				continue
			}
			if ref.Kind != RefVar || ref.Name != name {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid reference in variable validation",
					Detail:   fmt.Sprintf("A validation of variable %q may only refer to var.%s.", name, name),
					Subject:  tr.SourceRange().Ptr(),
				})
			}
		}
	}
	return diags
}

// checkName reports a name that is not a valid identifier.
func checkName(name string, rng hcl.Range) hcl.Diagnostics {
	if !hclsyntax.ValidIdentifier(name) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid name",
			Detail:   "A name must start with a letter or underscore and may hold only letters, digits, underscores and dashes.",
			Subject:  rng.Ptr(),
		}}
	}
	return nil
}
