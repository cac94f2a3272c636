package etcd

import (
	"context"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/steps"
)

const tlsConn = `etcd = {
  endpoints = ["https://10.0.0.11:2379", "https://10.0.0.12:2379"]
  ca_file   = "/etc/rok/etcd/ca.crt"
  cert_file = "/etc/rok/etcd/root.crt"
  key_file  = "/etc/rok/etcd/root.key"
}
`

var samples = map[string]string{
	"etcd.get":  tlsConn + `key = "/rok/cluster/version"` + "\nprefix = true",
	"etcd.put":  tlsConn + "key = \"/rokflow/flag\"\nvalue = \"1\"",
	"etcd.wait": tlsConn + "key = \"/rokflow/flag\"\nvalue = \"1\"\nwait_timeout = \"30s\"",
	"etcd.auth": tlsConn + `
roles = [{
  name = "rokflow"
  permissions = [{ key = "/rokflow/", prefix = true, access = "readwrite" },
                 { key = "/a", range_end = "/b", access = "read" }]
}]
users = [
  { name = "rokflow", roles = ["rokflow"] },
  { name = "operator", password = var.secret, roles = ["root"] },
]`,
	"etcd.auth_check": `etcd = { endpoints = ["https://10.0.0.11:2379"], ca_file = "/etc/rok/etcd/ca.crt" }
anonymous_key = "/rok/cluster/version"
as = { cert_file = "/etc/rok/etcd/rokflow.crt", key_file = "/etc/rok/etcd/rokflow.key", key = "/rokflow/x" }`,
}

func TestSchemas(t *testing.T) {
	if _, err := steps.NewRegistry(Kinds()...); err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds() {
		name := k.Schema().Name
		t.Run(name, func(t *testing.T) {
			checkSchema(t, k, "etcd")
			if k.Schema().Target != steps.TargetNone {
				t.Errorf("etcd kinds take no `on` target")
			}
			src, ok := samples[name]
			if !ok {
				t.Fatalf("no sample body for %s", name)
			}
			v := decode(t, k, src)
			resp := k.Plan(context.Background(), steps.PlanRequest{Args: v})
			if len(resp.Diagnostics) > 0 {
				t.Fatalf("plan: %s", resp.Diagnostics)
			}
			if resp.Summary == "" || strings.Contains(resp.Summary, "\n") || resp.Request == "" {
				t.Errorf("plan must have a one-line summary and a request: %+v", resp)
			}
			if text := planText(resp); strings.Contains(text, secret) {
				t.Errorf("plan leaks the secret:\n%s", text)
			}
		})
	}
}

func TestPlans(t *testing.T) {
	const plainConn = `etcd = { endpoints = ["http://127.0.0.1:2379"] }` + "\n"
	tests := []struct {
		kind  steps.Kind
		src   string
		want  []string
		error string // summary of an expected error diagnostic
	}{
		{kind: Get{}, src: plainConn + `key = var.unknown`, want: []string{"read key (known after step.find) from etcd http://127.0.0.1:2379 anonymously", "GET (known after step.find)"}},
		{kind: Put{}, src: plainConn + "key = \"/k\"\nvalue = var.secret", want: []string{"set /k = (sensitive) in etcd", "PUT /k (sensitive)"}},
		{kind: Put{}, src: `etcd = { endpoints = ["http://127.0.0.1:2379"], user = "root", password = var.secret }` + "\nkey = \"/k\"\nvalue = \"v\"",
			want: []string{"as user root"}},
		{kind: Wait{}, src: plainConn + "key = \"/k\"", want: []string{"wait up to 10m0s until /k exists"}},
		{kind: Wait{}, src: plainConn + "key = \"/k\"\nvalue = var.unknown", want: []string{"until /k = (known after step.find)"}},
		{kind: Auth{}, src: plainConn + "root_password = var.secret\nusers = var.later",
			want: []string{"ensure user root (password (sensitive))", "ensure users (known after step.find)", "enable auth"}},
		{kind: Auth{}, src: plainConn + "enable = false\nusers = [{ name = \"rok\", password = var.unknown }]",
			want: []string{"ensure user root (certificate only)", "ensure user rok (password (known after step.find))"}},
		{kind: AuthCheck{}, src: plainConn + "anonymous_key = \"/x\"\nas = { user = \"rokflow\", password = var.secret }",
			want: []string{"anonymous read of /x refused, user rokflow allowed to read /x"}},

		{kind: Get{}, src: `etcd = { endpoints = [] }` + "\nkey = \"/k\"", error: "No etcd endpoints"},
		{kind: Get{}, src: `etcd = { endpoints = ["10.0.0.1:2379"] }` + "\nkey = \"/k\"", error: "Invalid etcd endpoint"},
		{kind: Get{}, src: `etcd = { endpoints = ["http://a:1", "https://b:1"] }` + "\nkey = \"/k\"", error: "Mixed etcd endpoint schemes"},
		{kind: Get{}, src: `etcd = { endpoints = ["http://a:1"], ca_file = "/ca.pem" }` + "\nkey = \"/k\"", error: "TLS files with http:// endpoints"},
		{kind: Get{}, src: `etcd = { endpoints = ["https://a:1"], cert_file = "/c.pem" }` + "\nkey = \"/k\"", error: "Incomplete client certificate"},
		{kind: Get{}, src: `etcd = { endpoints = ["https://a:1"], user = "root" }` + "\nkey = \"/k\"", error: "Incomplete etcd credentials"},
		{kind: Get{}, src: `etcd = { endpoints = ["https://a:1"], dial_timeout = "soon" }` + "\nkey = \"/k\"", error: "Invalid dial_timeout"},
		{kind: Get{}, src: plainConn + `key = ""`, error: "Empty etcd key"},
		{kind: Wait{}, src: plainConn + "key = \"/k\"\nwait_timeout = \"-1s\"", error: "Invalid wait_timeout"},
		{kind: Auth{}, src: plainConn + `users = [{ name = "root" }]`, error: "Invalid user"},
		{kind: Auth{}, src: plainConn + `users = [{ name = "a", password = "" }]`, error: "Empty password"},
		{kind: Auth{}, src: plainConn + `users = [{ name = "a", roles = ["nosuch"] }]`, error: "Unknown role"},
		{kind: Auth{}, src: plainConn + `roles = [{ name = "r", permissions = [{ key = "/a", access = "all" }] }]`, error: "Invalid permission"},
		{kind: Auth{}, src: plainConn + `roles = [{ name = "r", permissions = [{ key = "/a", prefix = true, range_end = "/b", access = "read" }] }]`, error: "Invalid permission"},
		{kind: Auth{}, src: plainConn + `roles = [{ name = "r", permissions = [] }, { name = "r", permissions = [] }]`, error: "Duplicate role"},
		{kind: AuthCheck{}, src: plainConn + "anonymous_key = \"/x\"\nas = { key = \"/y\" }", error: "No identity to check"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.Schema().Name+"/"+tt.src, func(t *testing.T) {
			args := decode(t, tt.kind, tt.src)
			resp := tt.kind.Plan(context.Background(), steps.PlanRequest{Args: args})
			text := planText(resp)
			if strings.Contains(text, secret) {
				t.Errorf("plan leaks the secret:\n%s", text)
			}
			if tt.error != "" {
				if !hasError(resp.Diagnostics, tt.error) {
					t.Errorf("diagnostics %v, want %q", resp.Diagnostics, tt.error)
				}
				run := tt.kind.Run(context.Background(), steps.RunRequest{Args: args})
				if !hasError(run.Diagnostics, tt.error) {
					t.Errorf("run diagnostics %v, want %q", run.Diagnostics, tt.error)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatalf("plan: %s", resp.Diagnostics)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan lacks %q:\n%s", w, text)
				}
			}
		})
	}
}
