package rok

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

const secret = "s3cret-Val"

// evalContext offers var.secret (sensitive), var.unknown (a string unknown
// until step.find), var.later (a value of any type unknown until step.find)
// and var.name (a plain string) to sample bodies.
func evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{
			"secret":  cty.StringVal(secret).Mark(marks.Sensitive),
			"unknown": cty.UnknownVal(cty.String).Mark(marks.KnownAfter{Addr: "step.find"}),
			"later":   cty.DynamicVal.Mark(marks.KnownAfter{Addr: "step.find"}),
			"name":    cty.StringVal("rok1.prod"),
		}),
	}}
}

// decode decodes src with the kind's argument schema, as the core does, and
// marks the attributes the schema declares sensitive.
func decode(t *testing.T, k steps.Kind, src string) cty.Value {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags)
	}
	args := k.Schema().Args
	v, diags := hcldec.Decode(f.Body, args.DecoderSpec(), evalContext())
	if diags.HasErrors() {
		t.Fatalf("decode: %s", diags)
	}
	// Conversion to a type with optional attributes fills them with nulls
	// and yields the type without the optional markers.
	if want := args.ImpliedType().WithoutOptionalAttributesDeep(); !v.Type().Equals(want) {
		t.Fatalf("decoded type %s, want %s", schema.TypeString(v.Type()), schema.TypeString(want))
	}
	for _, p := range args.SensitivePaths() {
		v, _ = cty.Transform(v, func(path cty.Path, x cty.Value) (cty.Value, error) {
			if path.Equals(p) {
				return x.Mark(marks.Sensitive), nil
			}
			return x, nil
		})
	}
	return v
}

func checkSchema(t *testing.T, k steps.Kind, family string) {
	t.Helper()
	s := k.Schema()
	if s != k.Schema() {
		t.Errorf("Schema() returns a new value on each call")
	}
	if !strings.HasPrefix(s.Name, family+".") {
		t.Errorf("name %q is not in family %s", s.Name, family)
	}
	if s.Summary == "" || strings.Contains(s.Summary, "\n") {
		t.Errorf("summary must be one non-empty line: %q", s.Summary)
	}
	if len(s.Description) < len(s.Summary) {
		t.Errorf("description is shorter than the summary")
	}
	checkBlock(t, s.Args, "args")
	for _, m := range metaArguments {
		if _, clash := s.Args.Attributes[m]; clash {
			t.Errorf("argument %s clashes with the step meta-argument of that name", m)
		}
	}
	if len(s.Outputs) == 0 {
		t.Errorf("no outputs")
	}
	for n, a := range s.Outputs {
		if a.Description == "" {
			t.Errorf("output %s has no description", n)
		}
		if a.Type == cty.NilType {
			t.Errorf("output %s has no type", n)
		}
	}
	_ = s.OutputType()
	_ = s.Args.ImpliedType()
}

func checkBlock(t *testing.T, b *schema.Block, where string) {
	t.Helper()
	for n, a := range b.Attributes {
		if a.Description == "" {
			t.Errorf("%s.%s has no description", where, n)
		}
		if a.Type == cty.NilType {
			t.Errorf("%s.%s has no type", where, n)
		}
		if a.Required && a.Default != cty.NilVal && !a.Default.IsNull() {
			t.Errorf("%s.%s is required and has a default", where, n)
		}
		if a.Default != cty.NilVal && !a.Default.IsNull() {
			if _, err := convert.Convert(a.Default, a.Type); err != nil {
				t.Errorf("%s.%s default does not fit its type: %v", where, n, err)
			}
			// A default is used as is, so it must have the type a decoded
			// value has: without optional attribute markers.
			if dt := a.Default.Type(); !dt.Equals(dt.WithoutOptionalAttributesDeep()) {
				t.Errorf("%s.%s default has optional attribute markers in its type", where, n)
			}
		}
	}
	for n, nb := range b.Blocks {
		if nb.Description == "" {
			t.Errorf("%s block %s has no description", where, n)
		}
		checkBlock(t, &nb.Block, where+"."+n)
	}
}

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

// planText is everything a plan shows, for leak checks.
func planText(r steps.PlanResponse) string {
	var b strings.Builder
	b.WriteString(r.Summary + "\n" + strings.Join(r.Command, " ") + "\n" + r.Request + "\n" + r.Diff + "\n" + r.Instructions + "\n")
	for _, d := range r.Diagnostics {
		b.WriteString(d.Summary + "\n" + d.Detail + "\n")
	}
	return b.String()
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

// metaArguments are the step meta-arguments the core decodes itself
// (lang.StepMetaArguments); a kind argument must not reuse one.
var metaArguments = []string{"uses", "description", "on", "connection", "depends_on", "when", "for_each", "timeout", "once", "undo", "retry", "precondition", "postcondition"}

func hasError(diags hcl.Diagnostics, summary string) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == summary {
			return true
		}
	}
	return false
}
