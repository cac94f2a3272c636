package exec

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// commonArgs are the arguments exec and shell share besides the command.
var commonArgs = map[string]*schema.Attribute{
	"env": {
		Type:        cty.Map(cty.String),
		Description: "Environment variables added to the host's environment for the command.",
	},
	"dir": {
		Type:        cty.String,
		Description: "Working directory of the command; the transport's default when omitted.",
	},
	"sudo": {
		Type:        cty.Bool,
		Default:     cty.False,
		Description: "Run the command as root through `sudo -n` (never prompting for a password).",
	},
	"stdin": {
		Type:        cty.String,
		Description: "Text fed to the command's standard input; none when omitted.",
	},
	"expect_exit": {
		Type:        cty.List(cty.Number),
		Default:     cty.ListVal([]cty.Value{cty.Zero}),
		Description: "Exit statuses that count as success; any other fails the step.",
	},
}

// commandSecrets: a command may print what it was given in any form, so
// only its exit status is clean.
var commandSecrets = steps.Secrets{Clean: []string{"exit_status"}}

// commandOutputs are the outputs of exec and shell.
var commandOutputs = map[string]*schema.Attribute{
	"stdout":      {Type: cty.String, Description: "Everything the command wrote to standard output."},
	"stderr":      {Type: cty.String, Description: "Everything the command wrote to standard error."},
	"exit_status": {Type: cty.Number, Description: "The command's exit status."},
	"lines":       {Type: cty.List(cty.String), Description: "Standard output split into lines, without line ends."},
}

func withCommon(attrs map[string]*schema.Attribute) map[string]*schema.Attribute {
	for n, a := range commonArgs {
		attrs[n] = a
	}
	return attrs
}

// common is the decoded form of commonArgs.
type common struct {
	Env        map[string]string `cty:"env"`
	Dir        *string           `cty:"dir"`
	Sudo       bool              `cty:"sudo"`
	Stdin      *string           `cty:"stdin"`
	ExpectExit []int             `cty:"expect_exit"`
}

func decodeCommon(args cty.Value) (common, error) {
	var c common
	raw := rawValue(args)
	attrs := map[string]cty.Value{}
	for n := range commonArgs {
		attrs[n] = raw.GetAttr(n)
	}
	err := gocty.FromCtyValue(cty.ObjectVal(attrs), &c)
	return c, err
}

// checkCommon validates the shared arguments as far as they are known.
func checkCommon(args cty.Value) hcl.Diagnostics {
	return commonOf(args).check()
}

// commonVals are the shared arguments of a command, read once.
type commonVals struct {
	sudo, dir, env, stdin, expect cty.Value
}

func commonOf(args steps.Attrs) commonVals {
	return commonVals{
		sudo:   args.GetAttr("sudo"),
		dir:    args.GetAttr("dir"),
		env:    args.GetAttr("env"),
		stdin:  args.GetAttr("stdin"),
		expect: args.GetAttr("expect_exit"),
	}
}

func (c commonVals) check() hcl.Diagnostics {
	diags := checkEnv(c.env)
	if !isDefaultExit(c.expect) {
		_, more := exitStatuses(c.expect)
		diags = append(diags, more...)
	}
	return diags
}

// isDefaultExit reports whether v is expect_exit's default, [0], which
// needs no checking: most commands leave it out.
func isDefaultExit(v cty.Value) bool {
	if v.IsMarked() || !v.IsKnown() || v.IsNull() || v.LengthInt() != 1 {
		return false
	}
	e := v.Index(cty.Zero)
	if e.IsMarked() || !e.IsKnown() || e.IsNull() {
		return false
	}
	// Not RawEquals: comparing cty numbers costs more than this whole check.
	i, acc := e.AsBigFloat().Int64()
	return i == 0 && acc == big.Exact
}

// isTrue reports whether v is a known true bool. cty's True compares
// through Equals, which costs more than the rest of a plan summary; a
// known, unmarked bool compares directly.
func isTrue(v cty.Value) bool {
	v, ok := steps.KnownValue(v)
	return ok && v.Type() == cty.Bool && v == cty.True
}

// commonSummary renders the qualifiers of a command for a plan summary.
func commonSummary(args cty.Value) string {
	return commonOf(args).summary()
}

func (c commonVals) summary() string {
	var b strings.Builder
	if isTrue(c.sudo) {
		b.WriteString(" as root")
	} else if !c.sudo.IsKnown() {
		b.WriteString(" (as root: " + steps.Display(c.sudo) + ")")
	}
	if !c.dir.IsNull() {
		b.WriteString(" in " + steps.Display(c.dir))
	}
	if !c.env.IsNull() {
		if e := displayEnv(c.env); e != "" {
			b.WriteString(" with env " + e)
		}
	}
	if s := c.stdin; !s.IsNull() {
		if s.HasMark(marks.Sensitive) || !s.IsKnown() {
			b.WriteString(" with stdin " + steps.Display(s))
		} else {
			raw, _ := s.Unmark()
			b.WriteString(" with " + strconv.Itoa(len(raw.AsString())) + " bytes on stdin")
		}
	}
	return b.String()
}

// invocation is one command ready to run.
type invocation struct {
	argv    []string
	shown   string // the argv as a reader may see it: sensitive parts masked
	secrets []string
	c       common
}

// newInvocation decodes args around argv; shown is the displayable argv.
func newInvocation(args cty.Value, argv []string, shown []string) (*invocation, hcl.Diagnostics) {
	c, err := decodeCommon(args)
	if err != nil {
		return nil, hcl.Diagnostics{steps.Error("Invalid arguments", fmt.Sprintf("The arguments could not be decoded: %s.", err))}
	}
	return &invocation{argv: argv, shown: steps.QuoteArgv(shown), secrets: steps.SensitiveStrings(args), c: c}, nil
}

// run executes the invocation on the request's host and builds the outputs.
// Outputs are marked sensitive when any argument was, since a command can
// print what it was given in any form.
func (inv *invocation) run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	if req.Host == nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("No host to run on",
			"This step runs a command on a host, but none was given; set `on` to a host the playbook declares.")}}
	}
	cmd := steps.Command{Argv: inv.argv, Env: inv.c.Env, Sudo: inv.c.Sudo}
	if inv.c.Dir != nil {
		cmd.Dir = *inv.c.Dir
	}
	if inv.c.Stdin != nil {
		cmd.Stdin = []byte(*inv.c.Stdin)
	}
	if req.Output != nil {
		cmd.Output = func(stream, line string) { req.Output(stream, steps.Redact(line, inv.secrets)) }
	}
	res, err := req.Host.Exec(ctx, cmd)
	if err != nil && ctx.Err() != nil {
		// The command was stopped, not missing: an interrupt or the
		// step's timeout ended it.
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{stoppedDiag(ctx, inv.shown, req.Host.Name())}}
	}
	if err != nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("Command could not run",
			fmt.Sprintf("Running %s on %s failed: %s. Check that the program exists on the host and the host is reachable.",
				inv.shown, req.Host.Name(), steps.Redact(err.Error(), inv.secrets)))}}
	}
	resp := steps.RunResponse{Outputs: outputs(res, len(inv.secrets) > 0)}
	if !slices.Contains(inv.c.ExpectExit, res.ExitStatus) {
		tail := excerpt(res.Stderr, res.Stdout, inv.secrets)
		if req.Sensitive && tail != "" {
			// The output may carry the secret in a form no redaction finds.
			tail = " Its output is not quoted: the step received a sensitive value, which the output may carry."
		}
		resp.Diagnostics = append(resp.Diagnostics, steps.Error(
			fmt.Sprintf("Command exited with status %d", res.ExitStatus),
			fmt.Sprintf("%s exited with status %d on %s; the step accepts %v.%s Fix the cause, or list the status in expect_exit if it means success.",
				inv.shown, res.ExitStatus, req.Host.Name(), inv.c.ExpectExit, tail)))
	}
	return resp
}

// excerpt returns the last lines of stderr (or stdout when stderr is empty),
// redacted, to explain a failure.
func excerpt(stderr, stdout []byte, secrets []string) string {
	text, name := string(stderr), "stderr"
	if strings.TrimSpace(text) == "" {
		text, name = string(stdout), "stdout"
	}
	text = strings.TrimRight(text, "\n")
	if strings.TrimSpace(text) == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return fmt.Sprintf(" Last lines of %s:\n%s\n", name, steps.Redact(strings.Join(lines, "\n"), secrets))
}

func outputs(res steps.ExecResult, sensitive bool) cty.Value {
	stdout := strings.ToValidUTF8(string(res.Stdout), "\uFFFD")
	stderr := strings.ToValidUTF8(string(res.Stderr), "\uFFFD")
	lines := cty.ListValEmpty(cty.String)
	if trimmed := strings.TrimSuffix(stdout, "\n"); trimmed != "" {
		var ls []cty.Value
		for _, l := range strings.Split(trimmed, "\n") {
			ls = append(ls, cty.StringVal(strings.TrimSuffix(l, "\r")))
		}
		lines = cty.ListVal(ls)
	}
	out := map[string]cty.Value{
		"stdout":      cty.StringVal(stdout),
		"stderr":      cty.StringVal(stderr),
		"exit_status": cty.NumberIntVal(int64(res.ExitStatus)),
		"lines":       lines,
	}
	if sensitive {
		for _, n := range []string{"stdout", "stderr", "lines"} {
			out[n] = out[n].Mark(marks.Sensitive)
		}
	}
	return cty.ObjectVal(out)
}

// stoppedDiag says that a command ctx ended was stopped: cancelled (an
// interrupt) or timed out (the step's timeout).
func stoppedDiag(ctx context.Context, shown, host string) *hcl.Diagnostic {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return steps.Error("Command timed out", fmt.Sprintf("Running %s on %s was stopped: the step's timeout passed before it finished.", shown, host))
	}
	return steps.Error("Command cancelled", fmt.Sprintf("Running %s on %s was cancelled before it finished.", shown, host))
}
