package ganeti

import (
	"context"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
)

// TestPlanWhollyUnknown plans every kind with arguments that are entirely
// unknown (a for_each instance whose collection is not known yet): the
// plan must neither panic nor report errors.
func TestPlanWhollyUnknown(t *testing.T) {
	for _, k := range Kinds() {
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
