package rok

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

// GatewayMigrate is the kind rok.gateway_migrate: `rok-gw-manage migrate`,
// the Django migrations of the Rok Gateway's store.
type GatewayMigrate struct{}

// GatewayShowMigrations is the kind rok.gateway_showmigrations: it parses
// `rok-gw-manage showmigrations` into applied and pending migrations.
type GatewayShowMigrations struct{}

var (
	_ steps.Kind = GatewayMigrate{}
	_ steps.Kind = GatewayShowMigrations{}
)

var programArg = &schema.Attribute{
	Type:        cty.String,
	Default:     cty.StringVal("rok-gw-manage"),
	Description: "The Gateway's Django manage program.",
}

var gatewayMigrateSchema = &steps.Schema{
	Name:    "rok.gateway_migrate",
	Summary: "Apply the Rok Gateway's migrations (rok-gw-manage migrate), once.",
	Description: "Runs `rok-gw-manage migrate --noinput [APP [MIGRATION]]` on the target node. The Gateway's " +
		"gunicorn process and the Rok daemons must be stopped first (put service steps before it). " +
		"Django's migrate is not safe to run twice unattended when it stopped half-way, so the step runs " +
		"at most once and is in doubt after a crash. The migrations it applied are parsed from its " +
		"\"Applying app.name... OK\" lines. Use rok.gateway_showmigrations to list pending ones in a plan.",
	Effect: steps.Once,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"app": {
			Type:        cty.String,
			Description: "Migrate only this Django app label; omit it to migrate every app.",
		},
		"migration": {
			Type:        cty.String,
			Description: "Migrate app to this migration name (forwards or backwards; \"zero\" unapplies all); needs app.",
		},
		"no_input": {
			Type:        cty.Bool,
			Default:     cty.True,
			Description: "Pass --noinput so Django never waits for an answer on a terminal nobody watches.",
		},
		"program": programArg,
		"sudo":    sudoArg,
	}},
	Outputs: map[string]*schema.Attribute{
		"stdout":  {Type: cty.String, Description: "What migrate printed on standard output."},
		"applied": {Type: cty.List(cty.String), Description: "The migrations this run applied, as app.migration, in order."},
	},
}

var showMigrationsSchema = &steps.Schema{
	Name:    "rok.gateway_showmigrations",
	Summary: "List the Rok Gateway's applied and pending migrations (rok-gw-manage showmigrations).",
	Description: "Runs `rok-gw-manage showmigrations [APP]` on the target node and parses Django's list: an " +
		"app label line followed by \" [X] 0001_initial\" (applied) and \" [ ] 0002_name\" (pending) lines. " +
		"A \" [-] \" line (a squashed migration whose recording is not finished) counts as pending, since " +
		"migrate still has work to do. The step is read-only, so `plan --discover` shows pending migrations.",
	Effect: steps.ReadOnly,
	Target: steps.TargetHost,
	Args: &schema.Block{Attributes: map[string]*schema.Attribute{
		"app": {
			Type:        cty.String,
			Description: "List only this Django app label; omit it to list every app.",
		},
		"program": programArg,
		"sudo":    sudoArg,
	}},
	Outputs: map[string]*schema.Attribute{
		"applied": {Type: cty.List(cty.String), Description: "Applied migrations as app.migration, in listed order."},
		"pending": {Type: cty.List(cty.String), Description: "Migrations still to apply as app.migration, in listed order."},
		"apps":    {Type: cty.List(cty.String), Description: "The app labels listed."},
	},
}

// Schema implements steps.Kind.
func (GatewayMigrate) Schema() *steps.Schema { return gatewayMigrateSchema }

// Schema implements steps.Kind.
func (GatewayShowMigrations) Schema() *steps.Schema { return showMigrationsSchema }

// labelPattern is what Django accepts as an app label or a migration name.
var labelPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.]*$`)

// manageArgv builds `PROGRAM VERB [options] [positional...]` from arguments
// that may be unknown; argv is nil unless every part is known and valid.
func manageArgv(args cty.Value, verb string, options []string, positional ...string) (argv, shown []string, diags hcl.Diagnostics) {
	progV := steps.Attr(args, "program")
	prog, ok := "rok-gw-manage", true
	if !progV.IsNull() {
		prog, ok = steps.Str(progV)
		if ok && (prog == "" || prog[0] == '-') {
			diags = append(diags, steps.Errorf("Invalid program", "The program argument must be a program name or path, not %q.", prog))
			ok = false
		}
	}
	shown = append([]string{steps.Display(progV), verb}, options...)
	if progV.IsNull() {
		shown[0] = prog
	}
	argv = append([]string{prog, verb}, options...)
	for _, name := range positional {
		v := steps.Attr(args, name)
		if v.IsNull() {
			continue
		}
		shown = append(shown, steps.Display(v))
		s, sok := steps.Str(v)
		if !sok {
			ok = false
			continue
		}
		if !labelPattern.MatchString(s) {
			diags = append(diags, steps.Errorf("Invalid "+name, "The %s argument must be a Django label (letters, digits, underscores), not %q.", name, s))
			ok = false
			continue
		}
		argv = append(argv, s)
	}
	if !ok {
		argv = nil
	}
	return argv, shown, diags
}

func migrateArgv(args cty.Value) (argv, shown []string, diags hcl.Diagnostics) {
	var opts []string
	if noInput, _ := steps.Bool(steps.Attr(args, "no_input"), true); noInput {
		opts = append(opts, "--noinput")
	}
	if !steps.Attr(args, "migration").IsNull() && steps.Attr(args, "app").IsNull() {
		diags = append(diags, steps.Errorf("Migration without app", "The migration argument names a migration of one app, so app must be set too."))
	}
	argv, shown, mdiags := manageArgv(args, "migrate", opts, "app", "migration")
	diags = append(diags, mdiags...)
	if diags.HasErrors() {
		argv = nil
	}
	return argv, shown, diags
}

// Plan implements steps.Kind.
func (GatewayMigrate) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, shown, diags := migrateArgv(req.Args)
	summary := "apply the Rok Gateway migrations"
	if app := steps.Attr(req.Args, "app"); !app.IsNull() {
		summary = "apply the Rok Gateway migrations of " + steps.Display(app)
	}
	return steps.PlanResponse{Summary: summary, Command: shown, Diagnostics: diags}
}

// Run implements steps.Kind.
func (GatewayMigrate) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	argv, shown, diags := migrateArgv(req.Args)
	if argv == nil {
		return steps.RunResponse{Diagnostics: diags}
	}
	sudo, _ := steps.Bool(steps.Attr(req.Args, "sudo"), false)
	res, rdiags := invocation{kind: gatewayMigrateSchema.Name, argv: argv, shown: shown, sudo: sudo, stream: true}.run(ctx, req)
	if rdiags.HasErrors() {
		return steps.RunResponse{Diagnostics: append(diags, rdiags...)}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"stdout":  cty.StringVal(string(res.Stdout)),
		"applied": stringList(ParseMigrateApplied(string(res.Stdout))),
	}), Diagnostics: diags}
}

// Plan implements steps.Kind.
func (GatewayShowMigrations) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	_, shown, diags := manageArgv(req.Args, "showmigrations", nil, "app")
	return steps.PlanResponse{Summary: "list the Rok Gateway migrations", Command: shown, Diagnostics: diags}
}

// Run implements steps.Kind.
func (GatewayShowMigrations) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	argv, shown, diags := manageArgv(req.Args, "showmigrations", nil, "app")
	if argv == nil {
		return steps.RunResponse{Diagnostics: diags}
	}
	sudo, _ := steps.Bool(steps.Attr(req.Args, "sudo"), false)
	res, rdiags := invocation{kind: showMigrationsSchema.Name, argv: argv, shown: shown, sudo: sudo}.run(ctx, req)
	if rdiags.HasErrors() {
		return steps.RunResponse{Diagnostics: append(diags, rdiags...)}
	}
	m, err := ParseShowMigrations(string(res.Stdout))
	if err != nil {
		return steps.RunResponse{Diagnostics: append(diags, steps.Errorf("Cannot read showmigrations output",
			"The output of %q: %s.", strings.Join(shown, " "), err))}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"applied": stringList(m.Applied),
		"pending": stringList(m.Pending),
		"apps":    stringList(m.Apps),
	}), Diagnostics: diags}
}

// Migrations is the parsed output of showmigrations.
type Migrations struct {
	Apps    []string
	Applied []string // app.migration
	Pending []string // app.migration
}

// ParseShowMigrations parses Django's `showmigrations` list format:
//
//	gateway
//	 [X] 0001_initial
//	 [ ] 0002_buckets (2 squashed migrations)
//	auth
//	 (no migrations)
//
// "[-]" (applied but not fully recorded) counts as pending.
func ParseShowMigrations(text string) (*Migrations, error) {
	m := &Migrations{}
	app := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			app = strings.TrimSpace(line)
			m.Apps = append(m.Apps, app)
			continue
		}
		body := strings.TrimSpace(line)
		if body == "(no migrations)" {
			continue
		}
		if len(body) < 4 || body[0] != '[' || body[2] != ']' {
			return nil, fmt.Errorf("line %d is neither an app label nor a migration: %q", i+1, line)
		}
		if app == "" {
			return nil, fmt.Errorf("line %d lists a migration before any app label", i+1)
		}
		fields := strings.Fields(body[3:])
		if len(fields) == 0 {
			return nil, fmt.Errorf("line %d has no migration name", i+1)
		}
		name := app + "." + fields[0]
		switch body[1] {
		case 'X':
			m.Applied = append(m.Applied, name)
		case ' ', '-':
			m.Pending = append(m.Pending, name)
		default:
			return nil, fmt.Errorf("line %d has an unknown mark [%c]", i+1, body[1])
		}
	}
	return m, nil
}

// applyingLine matches migrate's "  Applying gateway.0002_x... OK".
var applyingLine = regexp.MustCompile(`^\s*Applying (\S+?)\.{3}\s*OK`)

// ParseMigrateApplied returns the migrations a `migrate` run reports as
// applied, as app.migration.
func ParseMigrateApplied(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if m := applyingLine.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}
