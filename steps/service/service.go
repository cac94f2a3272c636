package service

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Service is the `service` kind.
type Service struct{}

var _ steps.Kind = (*Service)(nil)

// New returns the service kind.
func New() *Service { return &Service{} }

var (
	actions  = []string{"stop", "start", "restart", "status"}
	managers = []string{"systemctl", "service", "auto"}
	// unitChars are the characters of systemd unit and SysV script
	// names; a leading '-' is refused so a name can never be read as an
	// option. (Checked by hand: a regexp with {0,254} compiles to a
	// quarter megabyte at every start.)
	unitChars = regexp.MustCompile(`^[A-Za-z0-9_@:.\\][A-Za-z0-9_@:.\\-]*$`)
)

// validUnit reports whether s is a unit name: 1 to 255 unit characters,
// not starting with '-'.
func validUnit(s string) bool {
	return len(s) <= 255 && unitChars.MatchString(s)
}

var serviceSchema = &steps.Schema{
	Name:    "service",
	Summary: "Stop, start, restart or query a system service (systemctl or service).",
	Description: "Runs `systemctl ACTION NAME` (or `service NAME ACTION` where systemd is not running) on the " +
		"step's host, then asks whether the service is active. A stop that leaves the service active fails " +
		"the step, since later steps rely on it being down; a start or restart that leaves it inactive is " +
		"a warning (a oneshot unit is inactive once done). The status action only queries. Every action " +
		"can be repeated safely, so the kind is idempotent.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"name": {
			Type:        cty.String,
			Required:    true,
			Description: `The service, for example "gunicorn" or "rok-daemons.service".`,
		},
		"action": {
			Type:        cty.String,
			Required:    true,
			Description: "One of " + strings.Join(actions, ", ") + ".",
		},
		"manager": {
			Type:        cty.String,
			Default:     cty.StringVal("auto"),
			Description: "systemctl, service, or auto: systemctl when systemd runs on the host, service otherwise.",
		},
		"sudo": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Run the commands as root through `sudo -n`.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"active": {Type: cty.Bool, Description: "Whether the service is active after the action."},
		"status": {Type: cty.String, Description: `The service's state after the action: "active", "inactive", "failed"… as systemctl is-active says, or "active"/"inactive" from service status.`},
	},
}

// Schema describes the service kind.
func (*Service) Schema() *steps.Schema { return serviceSchema }

// Plan shows the command the action runs.
func (*Service) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	diags := check(req.Args)
	name := steps.Display(req.Args.GetAttr("name"))
	action := steps.Display(req.Args.GetAttr("action"))
	manager := steps.Display(req.Args.GetAttr("manager"))
	mgr := manager
	if mgr == "auto" || !slices.Contains(managers, mgr) {
		mgr = "systemctl"
	}
	summary := action + " service " + name
	if action == "status" {
		summary = "query service " + name
	}
	if manager == "auto" {
		summary += " (with service(8) where systemd is not running)"
	}
	if s, ok := steps.KnownValue(req.Args.GetAttr("sudo")); ok && s.True() {
		summary += " as root"
	}
	return steps.PlanResponse{Summary: summary, Command: actionArgv(mgr, action, name), Diagnostics: diags}
}

// Run performs the action and reports the service's state.
func (*Service) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	if diags := check(req.Args); diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if req.Host == nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("No host to manage the service on",
			"service acts on a host, but none was given; set `on` to a host the playbook declares.")}}
	}
	args, _ := req.Args.UnmarkDeep()
	r := runner{ctx: ctx, req: req, sudo: args.GetAttr("sudo").True()}
	name := args.GetAttr("name").AsString()
	action := args.GetAttr("action").AsString()
	mgr := args.GetAttr("manager").AsString()
	if mgr == "auto" {
		res, diag := r.exec([]string{"test", "-d", "/run/systemd/system"}, false)
		if diag != nil {
			return steps.RunResponse{Diagnostics: hcl.Diagnostics{diag}}
		}
		mgr = "service"
		if res.ExitStatus == 0 {
			mgr = "systemctl"
		}
	}
	var diags hcl.Diagnostics
	if action != "status" {
		argv := actionArgv(mgr, action, name)
		res, diag := r.exec(argv, r.sudo)
		if diag == nil && res.ExitStatus != 0 {
			diag = steps.Error(fmt.Sprintf("%s %s exited with status %d", mgr, action, res.ExitStatus),
				fmt.Sprintf("%s failed on %s.%s Check the service's name and its logs (journalctl -u %s).",
					strings.Join(argv, " "), req.Host.Name(), excerpt(res), name))
		}
		if diag != nil {
			return steps.RunResponse{Diagnostics: hcl.Diagnostics{diag}}
		}
	}
	active, status, diag := r.state(mgr, name)
	if diag != nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{diag}}
	}
	switch {
	case action == "stop" && active:
		diags = append(diags, steps.Error("Service still active after stop",
			fmt.Sprintf("%s is %s on %s after it was stopped; something restarts it (a socket or timer unit, a watchdog). Stop that too, then run the step again.", name, status, req.Host.Name())))
	case (action == "start" || action == "restart") && !active:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Service not active after " + action,
			Detail: fmt.Sprintf("%s is %s on %s after %s. That is expected of a oneshot unit; otherwise check its logs.", name, status, req.Host.Name(), action)})
	}
	return steps.RunResponse{
		Outputs:     cty.ObjectVal(map[string]cty.Value{"active": cty.BoolVal(active), "status": cty.StringVal(status)}),
		Diagnostics: diags,
	}
}

func actionArgv(mgr, action, name string) []string {
	switch {
	case mgr == "service":
		return []string{"service", name, action}
	case action == "status":
		return []string{"systemctl", "is-active", name}
	}
	return []string{"systemctl", action, name}
}

type runner struct {
	ctx  context.Context
	req  steps.RunRequest
	sudo bool
}

func (r runner) exec(argv []string, sudo bool) (steps.ExecResult, *hcl.Diagnostic) {
	res, err := r.req.Host.Exec(r.ctx, steps.Command{Argv: argv, Sudo: sudo, Output: r.req.Output})
	if err != nil {
		return res, steps.Error("Command could not run",
			fmt.Sprintf("Running %s on %s failed: %s. Check that the host is reachable and has %s.", strings.Join(argv, " "), r.req.Host.Name(), err, argv[0]))
	}
	return res, nil
}

// state asks the manager whether the service is active.
func (r runner) state(mgr, name string) (bool, string, *hcl.Diagnostic) {
	res, diag := r.exec(actionArgv(mgr, "status", name), r.sudo)
	if diag != nil {
		return false, "", diag
	}
	if mgr == "systemctl" {
		status := strings.TrimSpace(string(res.Stdout))
		if status == "" {
			status = "unknown"
		}
		return res.ExitStatus == 0, status, nil
	}
	// LSB init scripts: 0 running, 3 not running, 1–2 dead with a pid or
	// lock file left, 4 unknown.
	switch res.ExitStatus {
	case 0:
		return true, "active", nil
	case 1, 2:
		return false, "failed", nil
	case 3:
		return false, "inactive", nil
	}
	return false, "unknown", nil
}

// check validates the arguments as far as they are known.
func check(args cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if v := args.GetAttr("name"); v.IsKnown() {
		if n, ok := steps.KnownValue(v); !ok || !validUnit(n.AsString()) {
			shown := "null"
			if ok {
				shown = steps.Quoted(v)
			}
			diags = append(diags, steps.Error("Invalid service name",
				fmt.Sprintf("%s is not a service name: use letters, digits and _ @ : . - \\, not starting with '-'.", shown)))
		}
	}
	diags = append(diags, oneOf(args.GetAttr("action"), "action", actions)...)
	diags = append(diags, oneOf(args.GetAttr("manager"), "manager", managers)...)
	return diags
}

func oneOf(v cty.Value, name string, allowed []string) hcl.Diagnostics {
	if !v.IsKnown() {
		return nil
	}
	if s, ok := steps.KnownValue(v); ok && slices.Contains(allowed, s.AsString()) {
		return nil
	}
	shown := "null"
	if !v.IsNull() {
		shown = steps.Quoted(v)
	}
	return hcl.Diagnostics{steps.Error(fmt.Sprintf("Invalid %s", name),
		fmt.Sprintf("%s is not a valid %s; use one of %s.", shown, name, strings.Join(allowed, ", ")))}
}

// excerpt returns the last lines of stderr, or stdout, to explain a failure.
func excerpt(res steps.ExecResult) string {
	text := string(res.Stderr)
	if strings.TrimSpace(text) == "" {
		text = string(res.Stdout)
	}
	text = strings.TrimRight(strings.ToValidUTF8(text, "\uFFFD"), "\n")
	if strings.TrimSpace(text) == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return " Last lines of its output:\n" + strings.Join(lines, "\n") + "\n"
}
