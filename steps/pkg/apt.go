package pkg

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// Apt is the `apt` kind: `apt-get install -y` of a list of packages.
type Apt struct{}

var _ steps.Kind = (*Apt)(nil)

// NewApt returns the apt kind.
func NewApt() *Apt { return &Apt{} }

var (
	// packageName is Debian policy §5.6.1 (lower-case letters, digits, + - .,
	// at least two characters, starting alphanumeric), with an optional
	// :architecture qualifier as apt-get accepts it.
	packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?$`)
	// packageVersion is policy §5.6.12: [epoch:]upstream[-revision], the
	// upstream part starting with a digit.
	packageVersion = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$`)
	// dpkgOption is a long option such as --force-confold or
	// --force-confdef, optionally with a plain value.
	dpkgOption = regexp.MustCompile(`^--[a-z][a-z0-9-]*(=[A-Za-z0-9,._/:+-]+)?$`)
)

var aptSchema = &steps.Schema{
	Name:    "apt",
	Summary: "Install Debian packages with apt-get, non-interactively.",
	Description: "Runs `apt-get [-o Dpkg::Options::=OPTION]… install -y PACKAGE…` on the step's host with " +
		"DEBIAN_FRONTEND=noninteractive, after `apt-get update` when `update = true`. Package names must follow " +
		"Debian policy and dpkg options must be long options (--force-confold), so no value can turn into " +
		"another apt-get option. Installing packages that are already installed changes nothing, so the kind " +
		"is idempotent.",
	Effect: steps.Idempotent,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"packages": {
			Type:        cty.List(cty.String),
			Required:    true,
			Description: `Packages to install, for example ["rok-common", "rok-base"].`,
		},
		"dpkg_options": {
			Type:        cty.List(cty.String),
			Description: `dpkg options passed as -o Dpkg::Options::=OPTION, for example ["--force-confdef", "--force-confold"].`,
		},
		"update": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Run apt-get update first.",
		},
		"version": {
			Type:        cty.String,
			Description: "A version every package is pinned to (installed as NAME=VERSION).",
		},
		"sudo": {
			Type:        cty.Bool,
			Default:     cty.False,
			Description: "Run apt-get as root through `sudo -n`.",
		},
	}},
	Outputs: map[string]*schema.Attribute{
		"stdout": {Type: cty.String, Description: "What apt-get install wrote to standard output."},
		"stderr": {Type: cty.String, Description: "What apt-get install wrote to standard error."},
	},
}

// env is the environment apt-get always gets: no prompt may ever wait for
// an answer nobody will give.
var env = map[string]string{"DEBIAN_FRONTEND": "noninteractive"}

// Schema describes the apt kind.
func (*Apt) Schema() *steps.Schema { return aptSchema }

// Plan shows the apt-get install command.
func (*Apt) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	diags := check(req.Args)
	opts := steps.DisplayArgv(req.Args.GetAttr("dpkg_options"))
	if req.Args.GetAttr("dpkg_options").IsNull() {
		opts = nil
	}
	pkgs := steps.DisplayArgv(req.Args.GetAttr("packages"))
	if v := req.Args.GetAttr("version"); !v.IsNull() {
		for i := range pkgs {
			pkgs[i] += "=" + steps.Display(v)
		}
	}
	argv := installArgv(opts, pkgs)
	summary := "install " + strings.Join(pkgs, ", ") + " with apt-get"
	if u, ok := steps.KnownValue(req.Args.GetAttr("update")); ok && u.True() {
		summary = "apt-get update, then " + summary
	}
	if s, ok := steps.KnownValue(req.Args.GetAttr("sudo")); ok && s.True() {
		summary += " as root"
	}
	return steps.PlanResponse{
		Summary:     summary + " (DEBIAN_FRONTEND=noninteractive)",
		Command:     argv,
		Diagnostics: diags,
	}
}

// Run runs apt-get update when asked, then apt-get install.
func (*Apt) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	if diags := check(req.Args); diags.HasErrors() {
		return steps.RunResponse{Diagnostics: diags}
	}
	if req.Host == nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{steps.Error("No host to install on",
			"apt installs packages on a host, but none was given; set `on` to a host the playbook declares.")}}
	}
	args, _ := req.Args.UnmarkDeep()
	sudo := args.GetAttr("sudo").True()
	pkgs := stringsOf(args.GetAttr("packages"))
	if v := args.GetAttr("version"); !v.IsNull() {
		for i := range pkgs {
			pkgs[i] += "=" + v.AsString()
		}
	}
	if args.GetAttr("update").True() {
		if _, diag := runApt(ctx, req, "apt-get update", steps.Command{Argv: []string{"apt-get", "update"}, Env: env, Sudo: sudo}); diag != nil {
			return steps.RunResponse{Diagnostics: hcl.Diagnostics{diag}}
		}
	}
	argv := installArgv(stringsOf(args.GetAttr("dpkg_options")), pkgs)
	res, diag := runApt(ctx, req, "apt-get install", steps.Command{Argv: argv, Env: env, Sudo: sudo})
	if res == nil {
		return steps.RunResponse{Diagnostics: hcl.Diagnostics{diag}}
	}
	resp := steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"stdout": cty.StringVal(strings.ToValidUTF8(string(res.Stdout), "\uFFFD")),
		"stderr": cty.StringVal(strings.ToValidUTF8(string(res.Stderr), "\uFFFD")),
	})}
	if diag != nil {
		resp.Diagnostics = hcl.Diagnostics{diag}
	}
	return resp
}

// runApt runs one apt-get command. The result is nil when it could not run;
// the diagnostic is set when it failed.
func runApt(ctx context.Context, req steps.RunRequest, what string, cmd steps.Command) (*steps.ExecResult, *hcl.Diagnostic) {
	cmd.Output = req.Output
	shown := strings.Join(cmd.Argv, " ")
	res, err := req.Host.Exec(ctx, cmd)
	if err != nil {
		return nil, steps.Error("apt-get could not run",
			fmt.Sprintf("Running %s on %s failed: %s. Check that the host is reachable and runs Debian or Ubuntu.", shown, req.Host.Name(), err))
	}
	if res.ExitStatus != 0 {
		return &res, steps.Error(fmt.Sprintf("%s exited with status %d", what, res.ExitStatus),
			fmt.Sprintf("%s failed on %s.%s Fix the cause (a missing repository, a held package, a dpkg lock), then run the step again.",
				shown, req.Host.Name(), excerpt(res.Stderr)))
	}
	return &res, nil
}

func installArgv(opts, pkgs []string) []string {
	argv := []string{"apt-get"}
	for _, o := range opts {
		argv = append(argv, "-o", "Dpkg::Options::="+o)
	}
	argv = append(argv, "install", "-y")
	return append(argv, pkgs...)
}

// check validates the arguments as far as they are known.
func check(args cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	pkgs := args.GetAttr("packages")
	if l, ok := steps.KnownValue(pkgs); ok && l.LengthInt() == 0 {
		diags = append(diags, steps.Error("No packages", "packages must list at least one package to install."))
	}
	diags = append(diags, eachKnown(pkgs, func(s string, shown string) *hcl.Diagnostic {
		if packageName.MatchString(s) {
			return nil
		}
		return steps.Error("Invalid package name",
			fmt.Sprintf("%s is not a Debian package name: use lower-case letters, digits, '+', '-' and '.', at least two characters, starting with a letter or digit (an architecture may follow as :amd64).", shown))
	})...)
	diags = append(diags, eachKnown(args.GetAttr("dpkg_options"), func(s string, shown string) *hcl.Diagnostic {
		if dpkgOption.MatchString(s) {
			return nil
		}
		return steps.Error("Invalid dpkg option",
			fmt.Sprintf("%s is not a dpkg long option: write options such as \"--force-confold\" or \"--force-confdef\".", shown))
	})...)
	if v := args.GetAttr("version"); v.IsKnown() && !v.IsNull() {
		raw, _ := v.Unmark()
		if !packageVersion.MatchString(raw.AsString()) {
			diags = append(diags, steps.Error("Invalid package version",
				fmt.Sprintf("%s is not a Debian version: write [epoch:]upstream[-revision], starting with a digit, such as \"0.11.0-1\".", steps.Quoted(v))))
		}
	}
	return diags
}
