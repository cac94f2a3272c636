package rok

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// samples holds one typical body per kind; every kind must have one.
var samples = map[string]string{
	"rok.member_list":            `format = "table"`,
	"rok.config_get":             `key = "cluster.master_candidates"`,
	"rok.config_set":             "key = \"cluster.master_candidates\"\nvalue = var.name",
	"rok.upgrade_cluster":        `release = "0.11.0"`,
	"rok.upgrade_node":           ``,
	"rok.enable_etcd_auth":       `sudo = true`,
	"rok.gateway_migrate":        `app = "gateway"`,
	"rok.gateway_showmigrations": ``,
	"rok.openstore_endpoints":    `env_files = ["/etc/default/rok"]`,
}

func TestSchemas(t *testing.T) {
	if _, err := steps.NewRegistry(Kinds()...); err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds() {
		name := k.Schema().Name
		t.Run(name, func(t *testing.T) {
			checkSchema(t, k, "rok")
			src, ok := samples[name]
			if !ok {
				t.Fatalf("no sample body for %s", name)
			}
			v := decode(t, k, src)
			resp := k.Plan(context.Background(), steps.PlanRequest{Args: v})
			if resp.Diagnostics.HasErrors() {
				t.Fatalf("plan: %s", resp.Diagnostics)
			}
			if resp.Summary == "" || strings.Contains(resp.Summary, "\n") {
				t.Errorf("plan summary must be one non-empty line: %q", resp.Summary)
			}
		})
	}
}

func TestPlanUnknownAndSensitive(t *testing.T) {
	tests := []struct {
		kind steps.Kind
		src  string
		want []string // substrings of the plan text
	}{
		{ConfigSet{}, "key = \"cluster.master_candidates\"\nvalue = var.secret",
			[]string{"set cluster.master_candidates = (sensitive) (was: known after run)", "rok-config set cluster.master_candidates=(sensitive)"}},
		{ConfigSet{}, "key = \"cluster.master_candidates\"\nvalue = var.unknown",
			[]string{"set cluster.master_candidates = (known after step.find) (was: known after run)", "cluster.master_candidates=(known after step.find)"}},
		{ConfigGet{}, "key = var.unknown", []string{"rok-config get (known after step.find)"}},
		{ConfigGet{}, "", []string{"read every Rok configuration key", "rok-config get\n"}},
		{UpgradeNode{}, "release = var.unknown", []string{"rok-cluster-upgrade-v(known after step.find) upgrade-node"}},
		{UpgradeCluster{}, "", []string{"run upgrade-cluster (rok-cluster-upgrade-v0.11.0)", "rok-cluster-upgrade-v0.11.0 upgrade-cluster"}},
		{EnableEtcdAuth{}, `script = var.secret`, []string{"(sensitive) enable-etcd-auth"}},
		{MemberList{}, "", []string{"rok-cluster-ctl member-list --output json"}},
		{MemberList{}, `format = var.unknown`, []string{"rok-cluster-ctl member-list (format (known after step.find))"}},
		{MemberList{}, `command = ["ssh-wrapper", var.secret]`, []string{"ssh-wrapper (sensitive)"}},
		{GatewayMigrate{}, "app = var.unknown", []string{"rok-gw-manage migrate --noinput (known after step.find)"}},
		{GatewayShowMigrations{}, `app = "gateway"`, []string{"rok-gw-manage showmigrations gateway"}},
		{OpenStoreEndpoints{}, `env_files = [var.unknown]`, []string{"files known after run"}},
		{OpenStoreEndpoints{}, ``, []string{"in /etc/rok/daemons.conf"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.Schema().Name+"/"+tt.src, func(t *testing.T) {
			resp := tt.kind.Plan(context.Background(), steps.PlanRequest{Args: decode(t, tt.kind, tt.src)})
			if resp.Diagnostics.HasErrors() {
				t.Fatalf("plan: %s", resp.Diagnostics)
			}
			text := planText(resp)
			if strings.Contains(text, secret) {
				t.Errorf("plan leaks the secret:\n%s", text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestPlanRejectsBadArguments(t *testing.T) {
	tests := []struct {
		kind steps.Kind
		src  string
		want string
	}{
		{UpgradeNode{}, `release = "0.11.0; rm -rf /"`, "Invalid release"},
		{UpgradeNode{}, `release = "v0.11.0"`, "Invalid release"},
		{UpgradeNode{}, `release = "0..11"`, "Invalid release"},
		{UpgradeNode{}, `script = "--help"`, "Invalid upgrade script"},
		{ConfigSet{}, "key = \"a=b\"\nvalue = \"x\"", "Invalid configuration key"},
		{ConfigSet{}, "key = \"-x\"\nvalue = \"x\"", "Invalid configuration key"},
		{MemberList{}, `format = "yaml"`, "Invalid member-list format"},
		{MemberList{}, `command = []`, "Empty command"},
		{GatewayMigrate{}, `migration = "0002_x"`, "Migration without app"},
		{GatewayMigrate{}, `app = "--fake"`, "Invalid app"},
		{OpenStoreEndpoints{}, `daemons_conf = ["etc/rok/daemons.conf"]`, "Relative path"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.Schema().Name+"/"+tt.src, func(t *testing.T) {
			args := decode(t, tt.kind, tt.src)
			resp := tt.kind.Plan(context.Background(), steps.PlanRequest{Args: args})
			if !hasError(resp.Diagnostics, tt.want) {
				t.Errorf("plan diagnostics %v, want %q", resp.Diagnostics, tt.want)
			}
			run := tt.kind.Run(context.Background(), steps.RunRequest{Args: args, Host: newFakeHost()})
			if !run.Diagnostics.HasErrors() {
				t.Errorf("run accepted the bad arguments")
			}
		})
	}
}

// The family's test helpers live in stepstest; these names keep the tests
// short.

const secret = stepstest.SampleSecret

func evalContext() *hcl.EvalContext { return stepstest.SampleContext() }

func decode(t *testing.T, k steps.Kind, src string) cty.Value { return stepstest.Decode(t, k, src) }

func checkSchema(t *testing.T, k steps.Kind, family string) { stepstest.CheckFamily(t, k, family) }

func planText(r steps.PlanResponse) string { return stepstest.PlanText(r) }

func hasError(diags hcl.Diagnostics, summary string) bool { return stepstest.HasError(diags, summary) }
