package runtime

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
)

// hasMarks must agree with cty's ContainsMarked, which it replaces on the
// hot path.
func TestHasMarksAgreesWithContainsMarked(t *testing.T) {
	secret := cty.StringVal("pw").Mark(marks.Sensitive)
	for name, v := range map[string]cty.Value{
		"plain object":     cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.NullVal(cty.Number)}),
		"empty object":     cty.EmptyObjectVal,
		"marked attribute": cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": secret}),
		"marked in list":   cty.ObjectVal(map[string]cty.Value{"argv": cty.ListVal([]cty.Value{cty.StringVal("echo"), secret})}),
		"marked in map":    cty.ObjectVal(map[string]cty.Value{"env": cty.MapVal(map[string]cty.Value{"PW": secret})}),
		"marked in tuple":  cty.TupleVal([]cty.Value{cty.True, cty.ObjectVal(map[string]cty.Value{"x": secret})}),
		"marked whole":     cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x")}).Mark(marks.Sensitive),
		"unknown marked":   cty.ObjectVal(map[string]cty.Value{"a": cty.UnknownVal(cty.String).Mark(marks.KnownAfter{Addr: "step.x"})}),
		"plain list":       cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"plain set":        cty.SetVal([]cty.Value{cty.StringVal("a")}),
	} {
		if got, want := hasMarks(v), v.ContainsMarked(); got != want {
			t.Errorf("%s: hasMarks = %v, ContainsMarked = %v", name, got, want)
		}
	}
}
