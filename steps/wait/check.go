package wait

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// CheckAttributes returns the arguments that describe a Check, with the
// given default interval (a duration string). They hold no timeout: the wait
// kind's bound is its step's own `timeout`, a step meta-argument that a kind
// argument of that name could never receive. A check nested in a block,
// where the name is free, adds TimeoutAttribute.
func CheckAttributes(interval string) map[string]*schema.Attribute {
	return map[string]*schema.Attribute{
		"command": {
			Type:        cty.List(cty.String),
			Required:    true,
			Description: `The check to run, an argv without a shell, for example ["rok-cluster-ctl", "member-list"]. It passes when it exits with status 0.`,
		},
		"expect_stdout": {
			Type:        cty.String,
			Description: "A regular expression (Go RE2 syntax) the check's standard output must also match to pass; ^ and $ match at line boundaries.",
		},
		"interval": {
			Type:        cty.String,
			Default:     cty.StringVal(interval),
			Description: `Time between the end of one attempt and the start of the next, such as "2s" or "1m".`,
		},
		"sudo": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Run the check as root through `sudo -n`.",
		},
	}
}

// TimeoutAttribute is the `timeout` of a check nested in a block (the
// manual gate's `check`), with the given default duration string.
func TimeoutAttribute(def string) *schema.Attribute {
	return &schema.Attribute{
		Type:        cty.String,
		Default:     cty.StringVal(def),
		Description: `How long to keep trying before failing, such as "10m" or "2h".`,
	}
}

// Check is a command polled on a host until it passes.
type Check struct {
	Argv     []string
	Sudo     bool
	Expect   *regexp.Regexp // nil: the exit status alone decides
	Interval time.Duration
	// Timeout bounds the polling when the check has a timeout argument;
	// zero leaves the bound to the context's deadline (the step's timeout).
	Timeout time.Duration
	// Shown is the command as people may see it: sensitive parts masked.
	Shown string
	// Secrets are redacted from streamed lines and diagnostics.
	Secrets []string
	// Sensitive is RunRequest.Sensitive: the command received a secret,
	// so its output is not quoted in diagnostics.
	Sensitive bool
}

// Result is the outcome of a Check that passed.
type Result struct {
	Attempts int
	Stdout   string
}

// ParseCheck validates v, an object with CheckAttributes' attributes and,
// possibly, TimeoutAttribute's. The check is nil when diags has errors or
// some attribute is still unknown; diags then covers what is known.
func ParseCheck(v cty.Value) (*Check, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	c := &Check{}
	cmd := v.GetAttr("command")
	c.Shown = steps.QuoteArgv(steps.DisplayArgv(cmd))
	if l, ok := steps.KnownValue(cmd); ok {
		if l.LengthInt() == 0 {
			diags = append(diags, steps.Error("Empty command", `command must hold at least the program to run, for example ["systemctl", "is-active", "rok"].`))
		}
		for it := l.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if ev.IsKnown() && ev.IsNull() {
				diags = append(diags, steps.Error("Null element in command", "Every element of command must be a string."))
			} else if s, ok := steps.KnownValue(ev); ok {
				c.Argv = append(c.Argv, s.AsString())
			}
		}
		if len(c.Argv) > 0 && c.Argv[0] == "" {
			diags = append(diags, steps.Error("Empty program name in command", "The first element of command names the program to run and must not be empty."))
		}
	}
	ev := v.GetAttr("expect_stdout")
	if s, ok := steps.KnownValue(ev); ok {
		// Multi-line mode: output ends with a newline, and "^v0\.11$" is
		// meant to match a line, not the whole text.
		re, err := regexp.Compile("(?m)" + s.AsString())
		if err != nil {
			detail := "expect_stdout is not a valid regular expression (Go RE2 syntax)"
			if !ev.HasMark(marks.Sensitive) {
				detail += ": " + err.Error()
			}
			diags = append(diags, steps.Error("Invalid expect_stdout", detail+"."))
		}
		c.Expect = re
	}
	var d *hcl.Diagnostic
	c.Interval, d = duration(v.GetAttr("interval"), "interval")
	diags = appendDiag(diags, d)
	if hasTimeout(v) {
		c.Timeout, d = duration(v.GetAttr("timeout"), "timeout")
		diags = appendDiag(diags, d)
	}
	if s, ok := steps.KnownValue(v.GetAttr("sudo")); ok {
		c.Sudo = s.True()
	}
	c.Secrets = steps.SensitiveStrings(v)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return nil, diags
	}
	return c, diags
}

// Summary describes the check for a plan: what passes, how often and, when
// the check has its own timeout, how long. (A step's timeout is shown by the
// plan beside the summary.)
func Summary(v cty.Value) string {
	s := "until " + steps.QuoteArgv(steps.DisplayArgv(v.GetAttr("command"))) + " succeeds"
	if e := v.GetAttr("expect_stdout"); !e.IsNull() {
		s += " with output matching " + steps.Quoted(e)
	}
	s += ", every " + steps.Display(v.GetAttr("interval"))
	if hasTimeout(v) {
		s += " for at most " + steps.Display(v.GetAttr("timeout"))
	}
	return s
}

// hasTimeout reports whether v, a check's arguments, has its own timeout.
// A value still wholly unknown has none to read.
func hasTimeout(v cty.Value) bool {
	ty := v.Type()
	return ty.IsObjectType() && ty.HasAttribute("timeout")
}

// Poll runs the check on host until it passes, its timeout passes or ctx
// ends; the first attempt starts at once. Transport errors count as failed
// attempts, since waiting for a host to come back is what checks are for.
// output, when set, receives the check's output lines, secrets redacted.
// A ctx that reaches its deadline is the step's timeout passing: the check
// then failed, as when its own timeout passes; a ctx cancelled otherwise
// interrupted it.
func (c *Check) Poll(ctx context.Context, host steps.Host, output func(stream, line string)) (Result, hcl.Diagnostics) {
	if host == nil {
		return Result{}, hcl.Diagnostics{steps.Error("No host to run the check on",
			"The check runs a command on a host, but none was given; set `on` to a host the playbook declares.")}
	}
	start := time.Now()
	pctx, cancel := ctx, context.CancelFunc(func() {})
	if c.Timeout > 0 {
		pctx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	defer cancel()
	cmd := steps.Command{Argv: c.Argv, Sudo: c.Sudo}
	if output != nil {
		cmd.Output = func(stream, line string) { output(stream, steps.Redact(line, c.Secrets)) }
	}
	var last string
	for attempt := 1; ; attempt++ {
		res, err := host.Exec(pctx, cmd)
		switch {
		case err != nil:
			// An attempt cut short by the deadline says less than the
			// one before it.
			if pctx.Err() == nil || last == "" {
				last = "could not run: " + err.Error()
			}
			if output != nil && pctx.Err() == nil {
				// The command printed nothing: say why this attempt
				// failed, so that a view of the check's last result does
				// not keep showing the attempt before (a node that went
				// down answers no more).
				output("stderr", steps.Redact(last, c.Secrets))
			}
		case res.ExitStatus != 0:
			last = fmt.Sprintf("exit status %d%s", res.ExitStatus, c.excerpt(res.Stderr, res.Stdout))
		case c.Expect != nil && !c.Expect.Match(res.Stdout):
			last = "output did not match expect_stdout" + c.excerpt(nil, res.Stdout)
		default:
			return Result{Attempts: attempt, Stdout: strings.ToValidUTF8(string(res.Stdout), "\uFFFD")}, nil
		}
		if pctx.Err() == nil {
			timer := time.NewTimer(c.Interval)
			select {
			case <-pctx.Done():
				timer.Stop()
			case <-timer.C:
				continue
			}
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Result{Attempts: attempt}, hcl.Diagnostics{steps.Error("Check did not pass within the step's timeout",
				fmt.Sprintf("%s did not succeed on %s in %d attempts over %s; the last attempt: %s. Fix what it checks, or give the step a longer timeout.",
					c.Shown, host.Name(), attempt, roundDuration(time.Since(start)), steps.Redact(last, c.Secrets)))}
		}
		if ctx.Err() != nil {
			return Result{Attempts: attempt}, hcl.Diagnostics{steps.Error("Wait interrupted",
				fmt.Sprintf("Waiting until %s succeeds on %s was stopped after %d attempts (%s).", c.Shown, host.Name(), attempt, ctx.Err()))}
		}
		return Result{Attempts: attempt}, hcl.Diagnostics{steps.Error(fmt.Sprintf("Check did not pass within %s", c.Timeout),
			fmt.Sprintf("%s did not succeed on %s in %d attempts over %s; the last attempt: %s. Fix what it checks, or give it a longer timeout.",
				c.Shown, host.Name(), attempt, c.Timeout, steps.Redact(last, c.Secrets)))}
	}
}

// roundDuration shortens d for people: whole seconds, or milliseconds
// under a second.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

func duration(v cty.Value, name string) (time.Duration, *hcl.Diagnostic) {
	s, ok := steps.KnownValue(v)
	if !ok {
		if v.IsKnown() {
			return 0, steps.Error("Invalid "+name, name+" must not be null.")
		}
		return 0, nil
	}
	d, err := time.ParseDuration(s.AsString())
	if err != nil || d <= 0 {
		return 0, steps.Error("Invalid "+name,
			fmt.Sprintf("%s is not a positive duration: write a number and a unit, such as \"500ms\", \"2s\", \"10m\" or \"2h\".", steps.Quoted(v)))
	}
	return d, nil
}

func appendDiag(diags hcl.Diagnostics, d *hcl.Diagnostic) hcl.Diagnostics {
	if d != nil {
		diags = append(diags, d)
	}
	return diags
}

func (c *Check) excerpt(stderr, stdout []byte) string {
	if c.Sensitive {
		return " (output not quoted: the command received a sensitive value, which it may carry)"
	}
	text := string(stderr)
	if strings.TrimSpace(text) == "" {
		text = string(stdout)
	}
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return ", output ending:\n" + strings.Join(lines, "\n") + "\n"
}
