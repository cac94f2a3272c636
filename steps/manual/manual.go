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
		"by approving it (`rokflow approve` from any terminal or machine, `apply --approve NAME`, or the prompt); " +
		"the runtime records who approved, how and when, with the plan's hash, and a waiting run sees an approval " +
		"within a second. `approvals = 2` asks for two distinct people (four eyes); `timeout` with `on_timeout` " +
		"bounds the wait. With a `check` block, the gate " +
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
			"approvals": {
				Type:    cty.Number,
				Default: cty.NumberIntVal(1),
				Description: "How many approvals from distinct identities pass the gate (four eyes: 2). An identity is the state " +
					"backend's user (an etcd user name, or the common name of its client certificate), else user@host; " +
					"one identity approving twice counts once.",
			},
			"allow_self_approval": {
				Type: cty.Bool,
				Description: "Whether the identity running the apply may approve: its answer at the prompt, --approve, " +
					"--auto-approve and its own rokflow approve. Default: allowed when approvals is 1, refused when more, " +
					"so that a four-eyes gate needs others than the operator running it.",
			},
			"on_timeout": {
				Type:    cty.String,
				Default: cty.StringVal("fail"),
				Description: "What the step's `timeout` does to a gate not approved in time: \"fail\" (the run fails at the " +
					"gate) or \"pause\" (it pauses there, exit 3, for a later approve and apply). A gate with a timeout " +
					"waits for approvals until then even without a terminal; the timeout counts from when this apply " +
					"reached the gate.",
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
		"approved_by": {Type: cty.String, Description: `Who completed the gate: the approving identities, separated by ", " (four eyes: two), or "` + CheckApprover + `COMMAND" for the check.`},
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
	resp.Diagnostics = append(resp.Diagnostics, checkRule(req.Args)...)
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

// checkRule checks the approval rule's values known at plan time (the
// core checks literals earlier, on their attributes).
func checkRule(args cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if v := args.GetAttr("approvals"); v.IsKnown() && !v.IsNull() {
		v, _ = v.Unmark()
		if n, acc := v.AsBigFloat().Int64(); acc != 0 || n < 1 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid approvals",
				Detail: "approvals is how many distinct people must approve the gate: a whole number from 1, not " + v.AsBigFloat().Text('g', -1) + "."})
		}
	}
	if v := args.GetAttr("on_timeout"); v.IsKnown() && !v.IsNull() {
		v, _ = v.Unmark()
		if s := v.AsString(); s != "fail" && s != "pause" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid on_timeout",
				Detail: "on_timeout is \"fail\" or \"pause\", not \"" + s + "\"."})
		}
	}
	return diags
}
