package rok

import (
	"context"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/steps"
)

// invocation is one command a kind runs on its target host: the argv to run,
// the same argv as shown to people (secrets masked), and the secrets to scrub
// from any output quoted back in a diagnostic.
type invocation struct {
	kind    string
	argv    []string
	shown   []string
	sudo    bool
	secrets []string
	// stream sends output lines to the run's output as they come; commands
	// whose output is parsed data (member-list JSON) are not streamed.
	stream bool
}

// run executes inv on req.Host. A failure to run and a non-zero exit status
// are both errors; the result is usable only when there are none.
func (inv invocation) run(ctx context.Context, req steps.RunRequest) (steps.ExecResult, hcl.Diagnostics) {
	if req.Host == nil {
		return steps.ExecResult{}, hcl.Diagnostics{steps.Errorf("No host to run on",
			"Kind %s runs a command on the host named by the step's `on` argument, but the step has no host.", inv.kind)}
	}
	cmd := steps.Command{Argv: inv.argv, Sudo: inv.sudo}
	if inv.stream && req.Output != nil {
		cmd.Output = req.Output
	}
	res, err := req.Host.Exec(ctx, cmd)
	shown := strings.Join(inv.shown, " ")
	if err != nil {
		return res, hcl.Diagnostics{steps.Errorf("Command could not run",
			"Running %q on %s failed: %s", shown, req.Host.Name(), steps.Redact(err.Error(), inv.secrets))}
	}
	if res.ExitStatus != 0 {
		detail := steps.Redact(tail(string(res.Stderr), 20), inv.secrets)
		if strings.TrimSpace(detail) == "" {
			detail = steps.Redact(tail(string(res.Stdout), 20), inv.secrets)
		}
		return res, hcl.Diagnostics{steps.Errorf("Command failed",
			"%q on %s exited with status %d:\n%s", shown, req.Host.Name(), res.ExitStatus, detail)}
	}
	return res, nil
}
