package ganeti

import (
	"context"
	"net/http"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

var nodeArg = &schema.Attribute{Type: cty.String, Required: true, Description: "The node's name as Ganeti knows it."}
var instanceArg = &schema.Attribute{Type: cty.String, Required: true, Description: "The instance's name as Ganeti knows it."}

var nodeEvacuate = writeKind{
	schema: writeSchema("ganeti.node_evacuate",
		"Move instances off a Ganeti node (POST /2/nodes/NAME/evacuate).",
		"Submits POST /2/nodes/NAME/evacuate?dry-run=0|1 with {\"mode\", \"iallocator\", \"remote_node\", "+
			"\"early_release\", \"ignore_soft_errors\"} (only the arguments set). Ganeti answers with one job "+
			"that submits one migration job per instance and succeeds as soon as it has submitted them, so the "+
			"step also waits for every such job and fails if any fails. Ganeti refuses, as a failed job: "+
			"remote_node with mode primary-only (\"Without the use of an iallocator only secondary instances "+
			"can be evacuated\"), and mode all with an iallocator, the cluster's default included (\"not "+
			"possible to evacuate all instances at once\"); evacuate primary-only, then secondary-only. "+
			"Without iallocator and remote_node the cluster's default iallocator chooses the targets. The "+
			"moved instances and their new nodes are outputs, so a later step can migrate them back.",
		map[string]*schema.Attribute{
			"node": nodeArg,
			"mode": {Type: cty.String, Required: true,
				Description: "Which instances to move: \"primary-only\", \"secondary-only\" or \"all\" (required by Ganeti)."},
			"iallocator":         {Type: cty.String, Description: "The iallocator choosing the new nodes (e.g. hail); omit it for the cluster default."},
			"remote_node":        {Type: cty.String, Description: "The node to move secondaries to (mode secondary-only only); excludes iallocator."},
			"early_release":      {Type: cty.Bool, Description: "Release locks early while replacing DRBD secondaries (faster, less safe on failure)."},
			"ignore_soft_errors": {Type: cty.Bool, Description: "Let the iallocator ignore soft policy violations."},
			"dry_run":            dryRunArg,
		}, movedOutputs, true),
	feature: "node-evac-res1",
	build: func(args cty.Value) (request, hcl.Diagnostics) {
		diags := checkName("node", steps.Attr(args, "node"))
		mode := steps.Attr(args, "mode")
		diags = append(diags, oneOf("mode", mode, "primary-only", "secondary-only", "all")...)
		diags = append(diags, exclusive(args, "iallocator", "remote_node")...)
		m, _ := steps.Str(mode)
		if steps.Known(steps.Attr(args, "remote_node")) && m == "primary-only" {
			diags = append(diags, steps.Errorf("remote_node needs mode secondary-only",
				"Ganeti moves primary instances only with an iallocator (it fails the job: \"Without the use of an iallocator only secondary instances can be evacuated\"); drop remote_node or use mode = \"secondary-only\"."))
		}
		if m == "all" && steps.Attr(args, "remote_node").IsNull() {
			diags = append(diags, steps.Warnf("Ganeti refuses mode all with an iallocator",
				"With an iallocator (the cluster's default included) Ganeti fails the job: \"it is not possible to evacuate all instances at once\". Evacuate primary-only, then secondary-only."))
		}
		return request{
			method:  http.MethodPost,
			path:    []any{"/2/nodes/", steps.Attr(args, "node"), "/evacuate"},
			query:   []param{{name: "dry-run", value: steps.Attr(args, "dry_run")}},
			hasBody: true,
			body:    fields(args, "mode", "iallocator", "remote_node", "early_release", "ignore_soft_errors"),
		}, diags
	},
	summary: func(args cty.Value) string {
		what := "instances"
		switch m, _ := steps.Str(steps.Attr(args, "mode")); m {
		case "primary-only":
			what = "primary instances"
		case "secondary-only":
			what = "secondary instances"
		case "all":
			what = "all instances"
		}
		return dryRunPrefix(args) + "evacuate " + what + " of node " + steps.Display(steps.Attr(args, "node")) + target(args, "remote_node")
	},
	outputs: movedValues,
}

var nodeMigrate = writeKind{
	schema: writeSchema("ganeti.node_migrate",
		"Live-migrate every primary instance of a Ganeti node (POST /2/nodes/NAME/migrate).",
		"Submits POST /2/nodes/NAME/migrate with {\"mode\", \"target_node\", \"iallocator\", "+
			"\"allow_runtime_changes\", \"ignore_ipolicy\"} (only the arguments set; the body form needs the "+
			"RAPI feature node-migrate-reqv1, checked first). Ganeti submits one migration job per primary "+
			"instance of the node and the step waits for each; an instance that is not running fails its job "+
			"(\"Can't migrate, please use failover\"). This resource has no dry run (Ganeti ignores "+
			"?dry-run there, and any query argument would make it ignore the body), so none is offered. "+
			"Migrating a node's instances to target_node is how instances come back after an evacuation.",
		map[string]*schema.Attribute{
			"node":                  nodeArg,
			"mode":                  {Type: cty.String, Description: "\"live\" or \"non-live\"; omit it for each instance's hypervisor default."},
			"target_node":           {Type: cty.String, Description: "The node to migrate to; excludes iallocator."},
			"iallocator":            {Type: cty.String, Description: "The iallocator choosing the targets; omit both it and target_node for the cluster default."},
			"allow_runtime_changes": {Type: cty.Bool, Description: "Allow Ganeti to change runtime parameters (memory) to fit the target (Ganeti's default: true)."},
			"ignore_ipolicy":        {Type: cty.Bool, Description: "Ignore instance policy violations on the target."},
		}, movedOutputs, true),
	feature: "node-migrate-reqv1",
	build: func(args cty.Value) (request, hcl.Diagnostics) {
		diags := checkName("node", steps.Attr(args, "node"))
		diags = append(diags, oneOf("mode", steps.Attr(args, "mode"), "live", "non-live")...)
		diags = append(diags, exclusive(args, "iallocator", "target_node")...)
		return request{
			method:  http.MethodPost,
			path:    []any{"/2/nodes/", steps.Attr(args, "node"), "/migrate"},
			hasBody: true,
			body:    fields(args, "mode", "target_node", "iallocator", "allow_runtime_changes", "ignore_ipolicy"),
		}, diags
	},
	summary: func(args cty.Value) string {
		return "migrate the primary instances of node " + steps.Display(steps.Attr(args, "node")) + modeText(args) + target(args, "target_node")
	},
	outputs: movedValues,
}

func modeText(args cty.Value) string {
	if m := steps.Attr(args, "mode"); !m.IsNull() {
		return " (" + steps.Display(m) + ")"
	}
	return ""
}

var instanceMigrate = writeKind{
	schema: writeSchema("ganeti.instance_migrate",
		"Migrate a Ganeti instance to another node (PUT /2/instances/NAME/migrate).",
		"Submits PUT /2/instances/NAME/migrate with {\"mode\", \"target_node\", \"iallocator\", \"cleanup\", "+
			"\"allow_failover\", \"ignore_ipolicy\", \"allow_runtime_changes\", \"ignore_hvversions\"} (only "+
			"the arguments set). Before submitting it reads the instance: its current primary node is the "+
			"previous_primary output (to migrate it back), and migrating to the node it already runs on is "+
			"refused before any job is made (Ganeti would fail the job). A stopped instance fails the job "+
			"unless allow_failover is true. cleanup = true only repairs a half-done migration. This resource "+
			"has no dry run (Ganeti ignores ?dry-run there), so none is offered.",
		map[string]*schema.Attribute{
			"instance":              instanceArg,
			"mode":                  {Type: cty.String, Description: "\"live\" or \"non-live\"; omit it for the hypervisor default."},
			"target_node":           {Type: cty.String, Description: "The node to migrate to (shared-storage templates); excludes iallocator."},
			"iallocator":            {Type: cty.String, Description: "The iallocator choosing the target; omit both it and target_node for the cluster default."},
			"cleanup":               {Type: cty.Bool, Description: "Only clean up after a failed migration; a no-op when none is pending."},
			"allow_failover":        {Type: cty.Bool, Description: "Fail over (stop, move, start) when the instance cannot be migrated, e.g. it is not running."},
			"ignore_ipolicy":        {Type: cty.Bool, Description: "Ignore instance policy violations on the target."},
			"allow_runtime_changes": {Type: cty.Bool, Description: "Allow Ganeti to change runtime parameters (memory) to fit the target."},
			"ignore_hvversions":     {Type: cty.Bool, Description: "Migrate even when the hypervisor versions differ."},
		}, map[string]*schema.Attribute{
			"previous_primary": {Type: cty.String, Description: "The instance's primary node before the step: where to migrate it back."},
		}, true),
	build: func(args cty.Value) (request, hcl.Diagnostics) {
		diags := checkName("instance", steps.Attr(args, "instance"))
		diags = append(diags, oneOf("mode", steps.Attr(args, "mode"), "live", "non-live")...)
		diags = append(diags, exclusive(args, "iallocator", "target_node")...)
		return request{
			method:  http.MethodPut,
			path:    []any{"/2/instances/", steps.Attr(args, "instance"), "/migrate"},
			hasBody: true,
			body: fields(args, "mode", "target_node", "iallocator", "cleanup", "allow_failover",
				"ignore_ipolicy", "allow_runtime_changes", "ignore_hvversions"),
		}, diags
	},
	summary: func(args cty.Value) string {
		if c, _ := steps.Bool(steps.Attr(args, "cleanup"), false); c {
			return "clean up a half-done migration of instance " + steps.Display(steps.Attr(args, "instance"))
		}
		return "migrate instance " + steps.Display(steps.Attr(args, "instance")) + modeText(args) + target(args, "target_node")
	},
	prepare: func(ctx context.Context, c *rapiClient, args cty.Value) (map[string]string, hcl.Diagnostics) {
		path, _ := get("/2/instances/", steps.Attr(args, "instance")).encode()
		var in map[string]any
		if err := c.call(ctx, http.MethodGet, path, nil, &in); err != nil {
			return nil, hcl.Diagnostics{steps.Errorf("Cannot read the instance", "%s.", err)}
		}
		pnode, _ := in["pnode"].(string)
		if t, ok := steps.Str(steps.Attr(args, "target_node")); ok && t == pnode {
			if cl, _ := steps.Bool(steps.Attr(args, "cleanup"), false); !cl {
				name, _ := steps.Str(steps.Attr(args, "instance"))
				return nil, hcl.Diagnostics{steps.Errorf("Instance already on the target",
					"Instance %s already runs on %s; Ganeti would fail the job (\"Cannot migrate instance to its primary\").", name, pnode)}
			}
		}
		return map[string]string{"previous_primary": pnode}, nil
	},
	outputs: func(_ *jobOutcome, facts map[string]string) map[string]cty.Value {
		return map[string]cty.Value{"previous_primary": cty.StringVal(facts["previous_primary"])}
	},
}

var instanceReinstall = writeKind{
	schema: writeSchema("ganeti.instance_reinstall",
		"Reinstall a Ganeti instance's OS, wiping its disks (POST /2/instances/NAME/reinstall).",
		"Submits POST /2/instances/NAME/reinstall with {\"os\", \"osparams\", \"start\"} (the body form, "+
			"RAPI feature instance-reinstall-reqv1, checked first; no query arguments, which Ganeti refuses "+
			"with a body). Ganeti makes one job: shut the instance down, reinstall its OS (destroying the "+
			"disks' contents), and start it when start is true. If the reinstall fails the job fails and the "+
			"instance stays shut down. The osparams given are stored on the instance even when the reinstall "+
			"fails; an OS parameter the OS does not declare, or an unknown OS, fails the job. Diskless "+
			"instances cannot be reinstalled. Ganeti offers no dry run for this resource.",
		map[string]*schema.Attribute{
			"instance": instanceArg,
			"os":       {Type: cty.String, Description: "The OS as name+variant (e.g. snf-image+default); omit it to keep the instance's OS."},
			"osparams": {Type: cty.Map(cty.String), Description: "OS parameters to set (stored on the instance); mark secrets sensitive, they are sent but never shown."},
			"start":    {Type: cty.Bool, Default: cty.True, Description: "Start the instance after the reinstall."},
		}, nil, false),
	feature: "instance-reinstall-reqv1",
	build: func(args cty.Value) (request, hcl.Diagnostics) {
		diags := checkName("instance", steps.Attr(args, "instance"))
		body := fields(args, "os", "osparams", "start")
		if s := steps.Attr(args, "start"); s.IsKnown() && s.IsNull() {
			// Always send start, so the body is never empty (an empty body
			// would make Ganeti read the legacy query form).
			body[2].value = cty.True
		}
		return request{
			method:  http.MethodPost,
			path:    []any{"/2/instances/", steps.Attr(args, "instance"), "/reinstall"},
			hasBody: true,
			body:    body,
		}, diags
	},
	summary: func(args cty.Value) string {
		s := "reinstall instance " + steps.Display(steps.Attr(args, "instance"))
		if os := steps.Attr(args, "os"); !os.IsNull() {
			s += " with OS " + steps.Display(os)
		}
		s += " (wipes its disks"
		if start, ok := steps.Bool(steps.Attr(args, "start"), true); ok && !start {
			s += ", leaves it stopped"
		}
		return s + ")"
	},
}

var instanceShutdown = writeKind{
	schema: writeSchema("ganeti.instance_shutdown",
		"Shut a Ganeti instance down (PUT /2/instances/NAME/shutdown).",
		"Submits PUT /2/instances/NAME/shutdown?dry-run=0|1[&no_remember=1] with {\"timeout\"}: Ganeti asks "+
			"the instance to shut down and stops it after timeout seconds (Ganeti's default 120). The "+
			"instance's admin state becomes down unless no_remember is true.",
		map[string]*schema.Attribute{
			"instance":         instanceArg,
			"shutdown_timeout": {Type: cty.Number, Description: "Seconds to wait for a clean shutdown before forcing it (Ganeti's default: 120); sent as timeout."},
			"no_remember":      {Type: cty.Bool, Default: cty.False, Description: "Do not record the instance as administratively down (the watcher may restart it)."},
			"dry_run":          dryRunArg,
		}, nil, true),
	build: func(args cty.Value) (request, hcl.Diagnostics) {
		diags := checkName("instance", steps.Attr(args, "instance"))
		t := steps.Attr(args, "shutdown_timeout")
		if steps.Known(t) {
			tv, _ := t.UnmarkDeep()
			if f := tv.AsBigFloat(); !f.IsInt() || f.Sign() < 0 {
				diags = append(diags, steps.Errorf("Invalid shutdown_timeout", "shutdown_timeout must be a whole number of seconds, 0 or more."))
			}
		}
		return request{
			method: http.MethodPut,
			path:   []any{"/2/instances/", steps.Attr(args, "instance"), "/shutdown"},
			query: []param{
				{name: "dry-run", value: steps.Attr(args, "dry_run")},
				{name: "no_remember", value: steps.Attr(args, "no_remember"), flag: true},
			},
			hasBody: true,
			body:    []param{{name: "timeout", value: t}},
		}, diags
	},
	summary: func(args cty.Value) string {
		return dryRunPrefix(args) + "shut down instance " + steps.Display(steps.Attr(args, "instance"))
	},
}

var instanceStartup = writeKind{
	schema: writeSchema("ganeti.instance_startup",
		"Start a Ganeti instance (PUT /2/instances/NAME/startup).",
		"Submits PUT /2/instances/NAME/startup?dry-run=0|1[&force=1][&no_remember=1] (no body). The "+
			"instance's admin state becomes up unless no_remember is true.",
		map[string]*schema.Attribute{
			"instance":    instanceArg,
			"force":       {Type: cty.Bool, Default: cty.False, Description: "Start even if secondary disks are failing."},
			"no_remember": {Type: cty.Bool, Default: cty.False, Description: "Do not record the instance as administratively up."},
			"dry_run":     dryRunArg,
		}, nil, true),
	build: func(args cty.Value) (request, hcl.Diagnostics) {
		return request{
			method: http.MethodPut,
			path:   []any{"/2/instances/", steps.Attr(args, "instance"), "/startup"},
			query: []param{
				{name: "dry-run", value: steps.Attr(args, "dry_run")},
				{name: "force", value: steps.Attr(args, "force"), flag: true},
				{name: "no_remember", value: steps.Attr(args, "no_remember"), flag: true},
			},
		}, checkName("instance", steps.Attr(args, "instance"))
	},
	summary: func(args cty.Value) string {
		return dryRunPrefix(args) + "start instance " + steps.Display(steps.Attr(args, "instance"))
	},
}

var nodeRole = writeKind{
	schema: writeSchema("ganeti.node_role",
		"Set a Ganeti node's role: drained, regular, master-candidate or offline (PUT /2/nodes/NAME/role).",
		"Reads the node's role (GET /2/nodes/NAME/role; the previous_role output, to restore it later), "+
			"then submits PUT /2/nodes/NAME/role[?force=1][&auto-promote=1] with the role as a bare JSON "+
			"string. The master's role cannot be changed this way (Ganeti: \"The master role can be changed "+
			"only via master-failover\"), so the step refuses before submitting. Ganeti reads the "+
			"auto-promote query argument with a hyphen and silently ignores auto_promote. This resource has "+
			"no dry run (Ganeti ignores ?dry-run there), so none is offered.",
		map[string]*schema.Attribute{
			"node":         nodeArg,
			"role":         {Type: cty.String, Required: true, Description: "\"drained\", \"regular\", \"master-candidate\" or \"offline\"."},
			"force":        {Type: cty.Bool, Default: cty.False, Description: "Force the change (e.g. demoting a master candidate below the pool size)."},
			"auto_promote": {Type: cty.Bool, Default: cty.False, Description: "Promote other nodes to master candidate to keep the pool size."},
		}, map[string]*schema.Attribute{
			"previous_role": {Type: cty.String, Description: "The node's role before the step: master-candidate, regular, drained or offline."},
		}, true),
	build: func(args cty.Value) (request, hcl.Diagnostics) {
		diags := checkName("node", steps.Attr(args, "node"))
		role := steps.Attr(args, "role")
		if s, ok := steps.Str(role); ok && s == "master" {
			diags = append(diags, steps.Errorf("Invalid role", "A node cannot be given the master role this way; use gnt-cluster master-failover on the new master."))
		} else {
			diags = append(diags, oneOf("role", role, "drained", "regular", "master-candidate", "offline")...)
		}
		return request{
			method: http.MethodPut,
			path:   []any{"/2/nodes/", steps.Attr(args, "node"), "/role"},
			query: []param{
				{name: "force", value: steps.Attr(args, "force"), flag: true},
				{name: "auto-promote", value: steps.Attr(args, "auto_promote"), flag: true},
			},
			bare: role,
		}, diags
	},
	summary: func(args cty.Value) string {
		return "set the role of node " + steps.Display(steps.Attr(args, "node")) + " to " + steps.Display(steps.Attr(args, "role"))
	},
	prepare: func(ctx context.Context, c *rapiClient, args cty.Value) (map[string]string, hcl.Diagnostics) {
		path, _ := get("/2/nodes/", steps.Attr(args, "node"), "/role").encode()
		var role string
		if err := c.call(ctx, http.MethodGet, path, nil, &role); err != nil {
			return nil, hcl.Diagnostics{steps.Errorf("Cannot read the node's role", "%s.", err)}
		}
		if role == "master" {
			name, _ := steps.Str(steps.Attr(args, "node"))
			return nil, hcl.Diagnostics{steps.Errorf("Node is the master",
				"%s is the cluster's master; Ganeti changes the master's role only through master-failover.", name)}
		}
		return map[string]string{"previous_role": role}, nil
	},
	outputs: func(_ *jobOutcome, facts map[string]string) map[string]cty.Value {
		return map[string]cty.Value{"previous_role": cty.StringVal(facts["previous_role"])}
	},
}

// NodeEvacuate is the kind ganeti.node_evacuate.
type NodeEvacuate struct{}

// NodeMigrate is the kind ganeti.node_migrate.
type NodeMigrate struct{}

// InstanceMigrate is the kind ganeti.instance_migrate.
type InstanceMigrate struct{}

// InstanceReinstall is the kind ganeti.instance_reinstall.
type InstanceReinstall struct{}

// InstanceShutdown is the kind ganeti.instance_shutdown.
type InstanceShutdown struct{}

// InstanceStartup is the kind ganeti.instance_startup.
type InstanceStartup struct{}

// NodeRole is the kind ganeti.node_role.
type NodeRole struct{}

var (
	_ steps.Kind = NodeEvacuate{}
	_ steps.Kind = NodeMigrate{}
	_ steps.Kind = InstanceMigrate{}
	_ steps.Kind = InstanceReinstall{}
	_ steps.Kind = InstanceShutdown{}
	_ steps.Kind = InstanceStartup{}
	_ steps.Kind = NodeRole{}
)

// Schema implements steps.Kind.
func (NodeEvacuate) Schema() *steps.Schema { return nodeEvacuate.Schema() }

// Plan implements steps.Kind.
func (NodeEvacuate) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return nodeEvacuate.Plan(ctx, req)
}

// Run implements steps.Kind.
func (NodeEvacuate) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return nodeEvacuate.Run(ctx, req)
}

// Schema implements steps.Kind.
func (NodeMigrate) Schema() *steps.Schema { return nodeMigrate.Schema() }

// Plan implements steps.Kind.
func (NodeMigrate) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return nodeMigrate.Plan(ctx, req)
}

// Run implements steps.Kind.
func (NodeMigrate) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return nodeMigrate.Run(ctx, req)
}

// Schema implements steps.Kind.
func (InstanceMigrate) Schema() *steps.Schema { return instanceMigrate.Schema() }

// Plan implements steps.Kind.
func (InstanceMigrate) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return instanceMigrate.Plan(ctx, req)
}

// Run implements steps.Kind.
func (InstanceMigrate) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return instanceMigrate.Run(ctx, req)
}

// Schema implements steps.Kind.
func (InstanceReinstall) Schema() *steps.Schema { return instanceReinstall.Schema() }

// Plan implements steps.Kind.
func (InstanceReinstall) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return instanceReinstall.Plan(ctx, req)
}

// Run implements steps.Kind.
func (InstanceReinstall) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return instanceReinstall.Run(ctx, req)
}

// Schema implements steps.Kind.
func (InstanceShutdown) Schema() *steps.Schema { return instanceShutdown.Schema() }

// Plan implements steps.Kind.
func (InstanceShutdown) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return instanceShutdown.Plan(ctx, req)
}

// Run implements steps.Kind.
func (InstanceShutdown) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return instanceShutdown.Run(ctx, req)
}

// Schema implements steps.Kind.
func (InstanceStartup) Schema() *steps.Schema { return instanceStartup.Schema() }

// Plan implements steps.Kind.
func (InstanceStartup) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return instanceStartup.Plan(ctx, req)
}

// Run implements steps.Kind.
func (InstanceStartup) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return instanceStartup.Run(ctx, req)
}

// Schema implements steps.Kind.
func (NodeRole) Schema() *steps.Schema { return nodeRole.Schema() }

// Plan implements steps.Kind.
func (NodeRole) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return nodeRole.Plan(ctx, req)
}

// Run implements steps.Kind.
func (NodeRole) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return nodeRole.Run(ctx, req)
}
