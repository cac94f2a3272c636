package exec

import (
	"context"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Exec is the `exec` kind: it runs an argv on the step's host, without a
// shell, so no argument is ever interpreted.
type Exec struct{}

var _ steps.Kind = (*Exec)(nil)

// New returns the exec kind.
func New() *Exec { return &Exec{} }

var execSchema = &steps.Schema{
	Name:    "exec",
	Summary: "Run a command (an argv, never through a shell) on the step's host.",
	Description: "Runs `command` on the host named by `on`: the first element is the program, the others " +
		"its arguments, passed as they are without a shell, so quotes, `;`, `$(…)` and globs mean nothing. " +
		"The step fails unless the exit status is in `expect_exit`. It counts as idempotent; give the step " +
		"`once = true` when the command must never run twice unattended. When an argument is sensitive, " +
		"stdout, stderr and lines are sensitive and the output lines are withheld.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: withCommon(map[string]*schema.Attribute{
		"command": {
			Type:        cty.List(cty.String),
			Required:    true,
			Description: `The program and its arguments, for example ["rok-cluster-ctl", "member-list"].`,
		},
	})},
	Outputs: commandOutputs,
	Secrets: commandSecrets,
}

// Schema describes the exec kind.
func (*Exec) Schema() *steps.Schema { return execSchema }

// Plan shows the argv, with sensitive and unknown elements as placeholders.
func (k *Exec) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return k.PlanAttrs(ctx, req.Args, req)
}

// PlanAttrs is Plan reading the arguments by name (steps.AttrPlanner).
func (*Exec) PlanAttrs(_ context.Context, args steps.Attrs, _ steps.PlanRequest) steps.PlanResponse {
	argv, diags := planArgv("command", args.GetAttr("command"))
	c := commonOf(args)
	diags = append(diags, c.check()...)
	return steps.PlanResponse{
		Summary:     "run " + steps.QuoteArgv(argv) + c.summary(),
		Command:     argv,
		Diagnostics: diags,
	}
}

// Run runs the command and reports its output.
func (*Exec) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	command := req.Args.GetAttr("command")
	diags := append(checkArgv("command", command), checkCommon(req.Args)...)
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	var argv []string
	for it := rawValue(command).ElementIterator(); it.Next(); {
		_, ev := it.Element()
		argv = append(argv, ev.AsString())
	}
	inv, diags := newInvocation(req.Args, argv, steps.DisplayArgv(command))
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	return inv.run(ctx, req)
}
