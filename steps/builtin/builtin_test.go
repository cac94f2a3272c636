package builtin

import (
	"testing"

	"github.com/rokflow/rokflow/lang/schema"
)

// TestNoKindShadowsAStepMetaArgument goes over every built-in kind: none may
// declare an argument or block with the name of a step meta-argument, which
// the step would take for itself. The registry refuses such kinds, so this
// also proves the built-in registry builds.
func TestNoKindShadowsAStepMetaArgument(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Names()) < 10 {
		t.Fatalf("only %d kinds registered", len(reg.Names()))
	}
	for _, n := range reg.Names() {
		k, _ := reg.Lookup(n)
		if clashes := k.Schema().Args.MetaArgumentClashes(); len(clashes) > 0 {
			t.Errorf("%s declares %q, shadowed by the step meta-arguments %q", n, clashes, schema.StepMetaArguments)
		}
	}
}
