package runtime

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime/plan"
)

// PlanValue encodes v for a plan (plan.ValueOf).
func PlanValue(v cty.Value) plan.Value { return plan.ValueOf(v) }

// EncodeArgs fills each instance's Args from its evaluated arguments. A
// plan's JSON encoding does so itself (plan.Instance.EncodeArgs); this is
// for who reads Args without encoding the plan.
func EncodeArgs(p *plan.Plan) {
	for _, inst := range p.Instances {
		inst.EncodeArgs()
	}
}
