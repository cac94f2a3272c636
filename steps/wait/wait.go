package wait

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Wait is the `wait` kind.
type Wait struct{}

var _ steps.Kind = (*Wait)(nil)

// New returns the wait kind.
func New() *Wait { return &Wait{} }

var waitSchema = &steps.Schema{
	Name:    "wait",
	Summary: "Poll a command on the step's host until it succeeds.",
	Description: "Runs `command` (an argv, without a shell) on the host named by `on` every `interval` until it " +
		"exits with status 0 and, when `expect_stdout` is set, its output matches that regular expression; " +
		"fails when the step's `timeout` passes (10m when the step sets none), so `timeout = \"30m\"` " +
		"waits 30 minutes. Failures to reach the host count as failed attempts, so it can wait for a " +
		"rebooting node. The command must only look, never change anything: the kind is read-only, so " +
		"plan --discover may run it.",
	Effect:         steps.ReadOnly,
	NoDiscover:     true,
	Target:         steps.TargetHost,
	DefaultTimeout: "10m",
	Args:           &schema.Block{Attributes: CheckAttributes("2s")},
	Outputs: map[string]*schema.Attribute{
		"attempts": {Type: cty.Number, Description: "How many times the command ran, the passing attempt included."},
		"stdout":   {Type: cty.String, Description: "The standard output of the passing attempt."},
	},
	Secrets: steps.Secrets{Clean: []string{"attempts"}},
}

// Schema describes the wait kind.
func (*Wait) Schema() *steps.Schema { return waitSchema }

// Plan shows the command and how long it may be polled.
func (*Wait) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, diags := ParseCheck(req.Args)
	summary := "wait " + Summary(req.Args)
	if s, ok := steps.KnownValue(req.Args.GetAttr("sudo")); ok && s.True() {
		summary += ", as root"
	}
	return steps.PlanResponse{
		Summary:     summary,
		Command:     steps.DisplayArgv(req.Args.GetAttr("command")),
		Diagnostics: diags,
	}
}

// Run polls the command until it passes or ctx reaches its deadline, which
// the runtime sets from the step's timeout (or the kind's default). A caller
// that gives no deadline gets the default, so that a wait always ends.
func (*Wait) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	if _, ok := ctx.Deadline(); !ok {
		d, _ := time.ParseDuration(waitSchema.DefaultTimeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	c, diags := ParseCheck(req.Args)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if c == nil {
		return steps.RunResponse{Diagnostics: append(diags, steps.Error("Arguments not known",
			"The check's arguments are not all known yet; this step cannot run before the steps it depends on."))}
	}
	c.Sensitive = req.Sensitive
	res, more := c.Poll(ctx, req.Host, req.Output)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	stdout := cty.StringVal(res.Stdout)
	if len(c.Secrets) > 0 {
		stdout = stdout.Mark(marks.Sensitive)
	}
	return steps.RunResponse{
		Outputs: cty.ObjectVal(map[string]cty.Value{
			"attempts": cty.NumberIntVal(int64(res.Attempts)),
			"stdout":   stdout,
		}),
		Diagnostics: diags,
	}
}
