package ganeti

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// The family's test helpers live in stepstest; these names keep the tests
// short.

const secret = stepstest.SampleSecret

func evalContext() *hcl.EvalContext { return stepstest.SampleContext() }

func decode(t *testing.T, k steps.Kind, src string) cty.Value { return stepstest.Decode(t, k, src) }

func checkSchema(t *testing.T, k steps.Kind, family string) { stepstest.CheckFamily(t, k, family) }

func planText(r steps.PlanResponse) string { return stepstest.PlanText(r) }

func hasError(diags hcl.Diagnostics, summary string) bool { return stepstest.HasError(diags, summary) }
