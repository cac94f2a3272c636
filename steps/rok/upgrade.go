package rok

import (
	"context"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// UpgradeCluster is the kind rok.upgrade_cluster: `rok-cluster-upgrade-vX
// upgrade-cluster`, run once on the master after its BOOT disk swap.
type UpgradeCluster struct{}

// UpgradeNode is the kind rok.upgrade_node: `rok-cluster-upgrade-vX
// upgrade-node`, run once on each node after its BOOT disk swap (the master
// first, after upgrade-cluster).
type UpgradeNode struct{}

// EnableEtcdAuth is the kind rok.enable_etcd_auth: `rok-cluster-upgrade-vX
// enable-etcd-auth`, run once on the master after every node is upgraded.
type EnableEtcdAuth struct{}

var (
	_ steps.Kind = UpgradeCluster{}
	_ steps.Kind = UpgradeNode{}
	_ steps.Kind = EnableEtcdAuth{}
)

// upgradeScript is what the three upgrade-script kinds share; they differ
// only in the script's verb and their texts.
type upgradeScript struct {
	schema *steps.Schema
	verb   string
}

func newUpgradeScript(name, verb, summary, description string) upgradeScript {
	return upgradeScript{verb: verb, schema: &steps.Schema{
		Name:    name,
		Summary: summary,
		Description: description + " The program is rok-cluster-upgrade-v<release> (release defaults to 0.11.0), " +
			"run with argv and no shell; its output is streamed and kept as outputs. It runs at most once: " +
			"the scripts are not known to be safe to re-run, so after a crash in the middle the step is " +
			"in doubt and an operator decides (rokflow resolve).",
		Effect: steps.Once,
		Target: steps.TargetHost,
		Args: &schema.Block{Attributes: map[string]*schema.Attribute{
			"release": {
				Type:    cty.String,
				Default: cty.StringVal("0.11.0"),
				Description: "The release whose upgrade script runs: rok-cluster-upgrade-v<release>. " +
					"Digits and dots only (e.g. 0.11.0), without the leading v.",
			},
			"script": {
				Type:        cty.String,
				Description: "The full path of the upgrade program, overriding the name derived from release.",
			},
			"sudo": sudoArg,
		}},
		Outputs: map[string]*schema.Attribute{
			"stdout": {Type: cty.String, Description: "What the script printed on standard output."},
			"stderr": {Type: cty.String, Description: "What the script printed on standard error."},
		},
	}}
}

var (
	upgradeCluster = newUpgradeScript("rok.upgrade_cluster", "upgrade-cluster",
		"Upgrade the Rok cluster's shared state (rok-cluster-upgrade-vX upgrade-cluster), once, on the master.",
		"Runs `rok-cluster-upgrade-v0.11.0 upgrade-cluster` on the target node, which must be the "+
			"cluster's master with its new BOOT disk: it upgrades the shared state of the Rok cluster. "+
			"It must run on the master only, before any upgrade-node.")
	upgradeNode = newUpgradeScript("rok.upgrade_node", "upgrade-node",
		"Upgrade one Rok node (rok-cluster-upgrade-vX upgrade-node), once.",
		"Runs `rok-cluster-upgrade-v0.11.0 upgrade-node` on the target node after its BOOT disk was "+
			"replaced: on the master right after upgrade-cluster, then on every other node, one after "+
			"another.")
	enableEtcdAuth = newUpgradeScript("rok.enable_etcd_auth", "enable-etcd-auth",
		"Enable etcd SSL authentication and RBAC (rok-cluster-upgrade-vX enable-etcd-auth), once, on the master.",
		"Runs `rok-cluster-upgrade-v0.11.0 enable-etcd-auth` on the master after every node reports "+
			"the new version: it turns on etcd client-certificate authentication and RBAC, after which "+
			"nodes still on the old version lose access to etcd. Pair it with etcd.auth_check.")
)

// Schema implements steps.Kind.
func (UpgradeCluster) Schema() *steps.Schema { return upgradeCluster.schema }

// Plan implements steps.Kind.
func (UpgradeCluster) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return upgradeCluster.plan(req)
}

// Run implements steps.Kind.
func (UpgradeCluster) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return upgradeCluster.run(ctx, req)
}

// Schema implements steps.Kind.
func (UpgradeNode) Schema() *steps.Schema { return upgradeNode.schema }

// Plan implements steps.Kind.
func (UpgradeNode) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return upgradeNode.plan(req)
}

// Run implements steps.Kind.
func (UpgradeNode) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return upgradeNode.run(ctx, req)
}

// Schema implements steps.Kind.
func (EnableEtcdAuth) Schema() *steps.Schema { return enableEtcdAuth.schema }

// Plan implements steps.Kind.
func (EnableEtcdAuth) Plan(ctx context.Context, req steps.PlanRequest) steps.PlanResponse {
	return enableEtcdAuth.plan(req)
}

// Run implements steps.Kind.
func (EnableEtcdAuth) Run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	return enableEtcdAuth.run(ctx, req)
}

// releasePattern is a release number: digits separated by single dots.
var releasePattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// program returns the program to run and how to show it. ok is false when it
// is not known yet or invalid (then diags says why).
func (u upgradeScript) program(args cty.Value) (prog, shown string, ok bool, diags hcl.Diagnostics) {
	scriptV := steps.Attr(args, "script")
	if !scriptV.IsNull() {
		s, sok := steps.Str(scriptV)
		if sok && (s == "" || s[0] == '-') {
			diags = append(diags, steps.Errorf("Invalid upgrade script", "The script argument must be a program path, not %q.", s))
			sok = false
		}
		return s, steps.Display(scriptV), sok, diags
	}
	relV := steps.Attr(args, "release")
	rel, rok := "0.11.0", true
	if !relV.IsNull() {
		rel, rok = steps.Str(relV)
	}
	if !rok {
		return "", "rok-cluster-upgrade-v" + steps.Display(relV), false, nil
	}
	if !releasePattern.MatchString(rel) {
		return "", "", false, hcl.Diagnostics{steps.Errorf("Invalid release",
			"The release argument must be digits and dots, such as 0.11.0 (without a leading v); %q is not.", rel)}
	}
	prog = "rok-cluster-upgrade-v" + rel
	return prog, prog, true, nil
}

func (u upgradeScript) plan(req steps.PlanRequest) steps.PlanResponse {
	_, shown, _, diags := u.program(req.Args)
	return steps.PlanResponse{
		Summary:     "run " + u.verb + " (" + shown + ")",
		Command:     []string{shown, u.verb},
		Diagnostics: diags,
	}
}

func (u upgradeScript) run(ctx context.Context, req steps.RunRequest) steps.RunResponse {
	prog, shown, ok, diags := u.program(req.Args)
	if !ok {
		if !diags.HasErrors() {
			diags = append(diags, steps.Errorf("Upgrade script not known", "Kind %s needs a release or a script.", u.schema.Name))
		}
		return steps.RunResponse{Diagnostics: diags}
	}
	sudo, _ := steps.Bool(steps.Attr(req.Args, "sudo"), false)
	inv := invocation{kind: u.schema.Name, argv: []string{prog, u.verb}, shown: []string{shown, u.verb}, sudo: sudo, stream: true}
	res, rdiags := inv.run(ctx, req)
	if rdiags.HasErrors() {
		return steps.RunResponse{Diagnostics: append(diags, rdiags...)}
	}
	return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{
		"stdout": cty.StringVal(string(res.Stdout)),
		"stderr": cty.StringVal(string(res.Stderr)),
	}), Diagnostics: diags}
}
