package stepstest

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Helpers shared by the tests of the step kind families (etcd, ganeti,
// rok): sample bodies decoded as the core decodes them, schema checks,
// plans of wholly unknown arguments, and plan text to search for leaked
// secrets.

// SampleSecret is the value of var.secret in SampleContext.
const SampleSecret = "s3cret-Val"

// SampleContext offers var.secret (sensitive), var.unknown (a string unknown
// until step.find), var.later (a value of any type unknown until step.find)
// and var.name (a plain string) to sample bodies.
func SampleContext() *hcl.EvalContext {
	return &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{
			"secret":  cty.StringVal(SampleSecret).Mark(marks.Sensitive),
			"unknown": cty.UnknownVal(cty.String).Mark(marks.KnownAfter{Addr: "step.find"}),
			"later":   cty.DynamicVal.Mark(marks.KnownAfter{Addr: "step.find"}),
			"name":    cty.StringVal("rok1.prod"),
		}),
	}}
}

// Decode decodes src with the kind's argument schema, as the core does, and
// marks the attributes the schema declares sensitive.
func Decode(t *testing.T, k steps.Kind, src string) cty.Value {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags)
	}
	args := k.Schema().Args
	v, diags := hcldec.Decode(f.Body, args.DecoderSpec(), SampleContext())
	if diags.HasErrors() {
		t.Fatalf("Decode: %s", diags)
	}
	// Conversion to a type with optional attributes fills them with nulls
	// and yields the type without the optional markers.
	if want := args.ImpliedType().WithoutOptionalAttributesDeep(); !v.Type().Equals(want) {
		t.Fatalf("decoded type %s, want %s", schema.TypeString(v.Type()), schema.TypeString(want))
	}
	for _, p := range args.SensitivePaths() {
		v, _ = cty.Transform(v, func(path cty.Path, x cty.Value) (cty.Value, error) {
			if path.Equals(p) {
				return x.Mark(marks.Sensitive), nil
			}
			return x, nil
		})
	}
	return v
}

func CheckFamily(t *testing.T, k steps.Kind, family string) {
	t.Helper()
	s := k.Schema()
	if s != k.Schema() {
		t.Errorf("Schema() returns a new value on each call")
	}
	if !strings.HasPrefix(s.Name, family+".") {
		t.Errorf("name %q is not in family %s", s.Name, family)
	}
	if s.Summary == "" || strings.Contains(s.Summary, "\n") {
		t.Errorf("summary must be one non-empty line: %q", s.Summary)
	}
	if len(s.Description) < len(s.Summary) {
		t.Errorf("description is shorter than the summary")
	}
	checkFamilyBlock(t, s.Args, "args")
	for _, m := range s.Args.MetaArgumentClashes() {
		t.Errorf("argument %s clashes with the step meta-argument of that name", m)
	}
	if len(s.Outputs) == 0 {
		t.Errorf("no outputs")
	}
	for n, a := range s.Outputs {
		if a.Description == "" {
			t.Errorf("output %s has no description", n)
		}
		if a.Type == cty.NilType {
			t.Errorf("output %s has no type", n)
		}
	}
	_ = s.OutputType()
	_ = s.Args.ImpliedType()
}

func checkFamilyBlock(t *testing.T, b *schema.Block, where string) {
	t.Helper()
	for n, a := range b.Attributes {
		if a.Description == "" {
			t.Errorf("%s.%s has no description", where, n)
		}
		if a.Type == cty.NilType {
			t.Errorf("%s.%s has no type", where, n)
		}
		if a.Required && a.Default != cty.NilVal && !a.Default.IsNull() {
			t.Errorf("%s.%s is required and has a default", where, n)
		}
		if a.Default != cty.NilVal && !a.Default.IsNull() {
			if _, err := convert.Convert(a.Default, a.Type); err != nil {
				t.Errorf("%s.%s default does not fit its type: %v", where, n, err)
			}
			// A default is used as is, so it must have the type a decoded
			// value has: without optional attribute markers.
			if dt := a.Default.Type(); !dt.Equals(dt.WithoutOptionalAttributesDeep()) {
				t.Errorf("%s.%s default has optional attribute markers in its type", where, n)
			}
		}
	}
	for n, nb := range b.Blocks {
		if nb.Description == "" {
			t.Errorf("%s block %s has no description", where, n)
		}
		checkFamilyBlock(t, &nb.Block, where+"."+n)
	}
}

// PlanText is everything a plan shows, for leak checks.
func PlanText(r steps.PlanResponse) string {
	var b strings.Builder
	b.WriteString(r.Summary + "\n" + strings.Join(r.Command, " ") + "\n" + r.Request + "\n" + r.Diff + "\n" + r.Instructions + "\n")
	for _, d := range r.Diagnostics {
		b.WriteString(d.Summary + "\n" + d.Detail + "\n")
	}
	return b.String()
}

func HasError(diags hcl.Diagnostics, summary string) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == summary {
			return true
		}
	}
	return false
}

// CheckPlanWhollyUnknown plans every kind with arguments that are entirely
// unknown (a for_each instance whose collection is not known yet): the
// plan must neither panic nor report errors, and must say something.
func CheckPlanWhollyUnknown(t *testing.T, kinds []steps.Kind) {
	t.Helper()
	for _, k := range kinds {
		t.Run(k.Schema().Name, func(t *testing.T) {
			ty := k.Schema().Args.ImpliedType().WithoutOptionalAttributesDeep()
			for _, args := range []cty.Value{
				cty.UnknownVal(ty).Mark(marks.KnownAfter{Addr: "step.find"}),
				cty.DynamicVal,
			} {
				resp := k.Plan(context.Background(), steps.PlanRequest{Args: args})
				if resp.Diagnostics.HasErrors() {
					t.Errorf("plan of %#v: %s", args, resp.Diagnostics)
				}
				if resp.Summary == "" {
					t.Errorf("no summary")
				}
			}
		})
	}
}
