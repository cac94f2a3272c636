package exec

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Shell is the `shell` kind: it runs a script with `sh -c`, passing values
// as positional parameters ("$1", "$@") and environment variables, so no
// value is ever pasted into the script text.
type Shell struct{}

var _ steps.Kind = (*Shell)(nil)

// NewShell returns the shell kind.
func NewShell() *Shell { return &Shell{} }

// ShellArg0 is the script's $0, the name it reports in its error messages.
const ShellArg0 = "rokflow-shell"

var shellSchema = &steps.Schema{
	Name:    "shell",
	Summary: "Run a shell script on the step's host, with values passed as positional parameters.",
	Description: "Runs `sh -c SCRIPT " + ShellArg0 + " ARGS…` on the host named by `on`. Write the script " +
		"as a literal and pass values through `args` (read them as \"$1\", \"$2\", \"$@\") or `env` " +
		"(read them as \"$NAME\"): they reach the script as data and are never parsed as shell code. " +
		"Quote them in the script as usual. The step fails unless the exit status is in `expect_exit`. " +
		"It counts as idempotent; give the step `once = true` when the script must never run twice unattended.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: withCommon(map[string]*schema.Attribute{
		"script": {
			Type:        cty.String,
			Required:    true,
			Description: `The script run by sh -c; refer to values as "$1"… or "$NAME", not by interpolating them.`,
		},
		"args": {
			Type:        cty.List(cty.String),
			Description: `Positional parameters of the script: "$1", "$2"… and "$@".`,
		},
	})},
	Outputs: commandOutputs,
	Secrets: commandSecrets,
}

// Schema describes the shell kind.
func (*Shell) Schema() *steps.Schema { return shellSchema }

// Plan shows the sh argv: the script as one element and each positional
// parameter as its own element.
func (*Shell) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	argv := shellArgv(req.Args, steps.Display, steps.DisplayArgv)
	summary := "run a shell script"
	if n := req.Args.GetAttr("args"); n.IsKnown() && !n.IsNull() {
		raw, _ := n.Unmark()
		if raw.LengthInt() > 0 {
			summary += " with positional parameters " + steps.QuoteArgv(steps.DisplayArgv(n))
		}
	}
	return steps.PlanResponse{
		Summary:     summary + commonSummary(req.Args),
		Command:     argv,
		Diagnostics: checkShell(req.Args),
	}
}

// Run runs the script and reports its output.
func (*Shell) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	if diags := checkShell(req.Args); diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	raw := func(v cty.Value) string { return rawValue(v).AsString() }
	rawList := func(v cty.Value) []string {
		var out []string
		for it := rawValue(v).ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if ev.IsNull() {
				out = append(out, "")
				continue
			}
			out = append(out, ev.AsString())
		}
		return out
	}
	argv := shellArgv(req.Args, raw, rawList)
	inv, diags := newInvocation(req.Args, argv, shellArgv(req.Args, steps.Display, steps.DisplayArgv))
	if diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	return inv.run(ctx, req)
}

// shellArgv builds `sh -c SCRIPT rokflow-shell ARGS…` with str and list
// turning the script and the args into words (raw, or for display).
func shellArgv(args cty.Value, str func(cty.Value) string, list func(cty.Value) []string) []string {
	argv := []string{"sh", "-c", str(args.GetAttr("script")), ShellArg0}
	if a := args.GetAttr("args"); !a.IsNull() {
		argv = append(argv, list(a)...)
	}
	return argv
}

// checkShell validates the shell arguments as far as they are known.
func checkShell(args cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	script := args.GetAttr("script")
	if s, ok := steps.KnownValue(script); script.IsKnown() && (!ok || s.AsString() == "") {
		diags = append(diags, steps.Error("Empty script", "The script argument must hold the shell code to run."))
	}
	if a, ok := steps.KnownValue(args.GetAttr("args")); ok {
		i := 0
		for it := a.ElementIterator(); it.Next(); i++ {
			if _, ev := it.Element(); ev.IsKnown() && ev.IsNull() {
				diags = append(diags, steps.Error("Null element in args",
					fmt.Sprintf("Element %d of args is null; every positional parameter must be a string.", i)))
			}
		}
	}
	return append(diags, checkCommon(args)...)
}
