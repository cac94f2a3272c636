package views

import (
	"io"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/runtime/plan"
)

// PlanJSON writes the plan as one JSON document (docs/plan-json.md).
func PlanJSON(w io.Writer, p *plan.Plan) error {
	return jsondoc.Plan.Write(w, p)
}
