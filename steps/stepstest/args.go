package stepstest

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// Args decodes src, the inside of a step block as a playbook author writes
// it, with k's argument schema the way the core does: omitted arguments take
// their defaults, values are converted to the declared types, and arguments
// the schema declares sensitive are marked. vars are visible to expressions
// as var.NAME, so a test can pass values marked sensitive or unknown ones
// (see Unknown). Decoding errors fail the test.
func Args(t testing.TB, k steps.Kind, src string, vars map[string]cty.Value) cty.Value {
	t.Helper()
	v, diags := DecodeArgs(k, src, vars)
	if diags.HasErrors() {
		t.Fatalf("decoding arguments of %s: %s", k.Schema().Name, diags.Error())
	}
	return v
}

// DecodeArgs is Args for tests that expect decoding to fail; the value is
// usable only when diags has no errors.
func DecodeArgs(k steps.Kind, src string, vars map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	s := k.Schema()
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}}
	if vars == nil {
		ctx.Variables["var"] = cty.EmptyObjectVal
	}
	v, more := hcldec.Decode(f.Body, s.Args.DecoderSpec(), ctx)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return v, diags
	}
	return MarkSensitive(s, v), diags
}

// MarkSensitive marks the parts of v, a decoded argument object, that s
// declares sensitive, as the core does before handing arguments to a kind.
func MarkSensitive(s *steps.Schema, v cty.Value) cty.Value {
	var pvm []cty.PathValueMarks
	for _, p := range s.Args.SensitivePaths() {
		pvm = append(pvm, cty.PathValueMarks{Path: p, Marks: cty.NewValueMarks(marks.Sensitive)})
	}
	if len(pvm) == 0 {
		return v
	}
	return v.MarkWithPaths(pvm)
}

// Unknown returns an unknown value of type ty that will be known after the
// step at addr, as the planner makes them.
func Unknown(ty cty.Type, addr string) cty.Value {
	return cty.UnknownVal(ty).Mark(marks.KnownAfter{Addr: addr})
}

// Secret returns s marked sensitive.
func Secret(s string) cty.Value { return cty.StringVal(s).Mark(marks.Sensitive) }
