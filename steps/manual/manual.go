package manual

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/wait"
)

// Manual is the `manual` gate kind.
type Manual struct {
	// Now gives the approval time of a passing check; tests set it.
	Now func() time.Time
}

var _ steps.Kind = (*Manual)(nil)

// New returns the manual kind.
func New() *Manual { return &Manual{Now: time.Now} }

// CheckApprover prefixes approved_by when the automated check completed
// the gate, followed by the check's command.
const CheckApprover = "check: "

var manualSchema = &steps.Schema{
	Name:    "manual",
	Summary: "A gate: wait for an operator to do something by hand and approve, or for a check to pass.",
	Description: "Pauses the run at this step and shows `instructions` to the operator, who completes the step " +
		"by approving it (`rokflow approve`, `apply --approve NAME`, or the prompt); the runtime records who " +
		"approved and when, and the run resumes even from another machine. With a `check` block, the gate " +
		"also completes by itself as soon as the check command succeeds on the step's host (for example " +
		"\"the node is back and reports v0.11\"), polled every `interval` for at most the check's `timeout`.",
	Effect: steps.Idempotent,
	Gate:   true,
	Target: steps.TargetHost,
	Args: &schema.Block{
		Attributes: map[string]*schema.Attribute{
			"instructions": {
				Type:        cty.String,
				Required:    true,
				Description: "What the operator must do, shown in the plan and when the run reaches the gate.",
			},
		},
		Blocks: map[string]*schema.NestedBlock{
			"check": {
				Nesting:     schema.NestingSingle,
				MaxItems:    1,
				Description: "An automated completion check: a command on the step's host that succeeds once the manual work is done.",
				Block:       schema.Block{Attributes: checkAttributes()},
			},
		},
	},
	Outputs: map[string]*schema.Attribute{
		"approved_by": {Type: cty.String, Description: `Who completed the gate: the approving operator, or "` + CheckApprover + `COMMAND" for the check.`},
		"approved_at": {Type: cty.String, Description: "When the gate was completed, in RFC 3339 UTC."},
	},
}

// checkAttributes are the check block's arguments: a wait check with its
// own timeout, a name free inside a block, bounding how long the gate polls.
func checkAttributes() map[string]*schema.Attribute {
	attrs := wait.CheckAttributes("5s")
	attrs["timeout"] = wait.TimeoutAttribute("2h")
	return attrs
}

// Schema describes the manual kind.
func (*Manual) Schema() *steps.Schema { return manualSchema }

// Plan returns the instructions and, with a check, the check's command.
func (*Manual) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	resp := steps.PlanResponse{
		Summary:      "gate: wait for an operator",
		Instructions: steps.Display(req.Args.GetAttr("instructions")),
	}
	check := req.Args.GetAttr("check")
	if !check.IsKnown() || !check.IsNull() {
		_, resp.Diagnostics = wait.ParseCheck(check)
		resp.Summary += ", or " + wait.Summary(check)
		resp.Command = steps.DisplayArgv(check.GetAttr("command"))
	}
	return resp
}

// Run polls the check until it passes; without a check the gate can only be
// completed by an approval, which the runtime records.
func (m *Manual) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	check := req.Args.GetAttr("check")
	if check.IsNull() {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Gate needs an approval",
			Detail: "This manual step has no check, so only an operator can complete it: do what its instructions say, " +
				"then approve it with `rokflow approve` or `rokflow apply --approve NAME`. (The runtime completes " +
				"approved gates itself; reaching this message means it ran the gate's kind instead.)",
		}}}
	}
	c, diags := wait.ParseCheck(check)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if c == nil {
		return steps.RunResponse{Diagnostics: append(diags, &hcl.Diagnostic{Severity: hcl.DiagError,
			Summary: "Check not known", Detail: "The gate's check is not wholly known yet; it cannot run before the steps it depends on."})}
	}
	c.Sensitive = req.Sensitive
	if _, more := c.Poll(ctx, req.Host, req.Output); more.HasErrors() {
		return steps.RunResponse{Diagnostics: append(diags, more...)}
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	return steps.RunResponse{
		Outputs: cty.ObjectVal(map[string]cty.Value{
			"approved_by": cty.StringVal(CheckApprover + c.Shown),
			"approved_at": cty.StringVal(now().UTC().Format(time.RFC3339)),
		}),
		Diagnostics: diags,
	}
}
