package lang

import (
	"slices"
	"testing"

	"github.com/rokflow/rokflow/lang/schema"
)

// TestStepMetaSchemaNames keeps the names the decoder takes out of a step
// body the same as the names kinds are forbidden to use: a name only the
// decoder knew would silently shadow a kind argument again.
func TestStepMetaSchemaNames(t *testing.T) {
	var got []string
	for _, a := range stepMetaSchema.Attributes {
		got = append(got, a.Name)
	}
	for _, b := range stepMetaSchema.Blocks {
		got = append(got, b.Type)
	}
	want := slices.Clone(schema.StepMetaArguments)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the step decoder takes %q out of step bodies, but schema.StepMetaArguments is %q", got, want)
	}
}
