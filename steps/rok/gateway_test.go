package rok

import (
	"context"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/steps"
)

const showMigrationsOut = `admin
 [X] 0001_initial
 [X] 0002_logentry_remove_auto_add
auth
 (no migrations)
gateway
 [X] 0001_initial
 [-] 0002_buckets_squashed (3 squashed migrations) Run 'manage.py migrate' to finish recording.
 [ ] 0003_retention_rules
 [ ] 0004_v011_endpoints
`

func TestParseShowMigrations(t *testing.T) {
	tests := []struct {
		name             string
		text             string
		applied, pending string
		apps             string
		wantErr          string
	}{
		{name: "mixed", text: showMigrationsOut,
			applied: "admin.0001_initial admin.0002_logentry_remove_auto_add gateway.0001_initial",
			pending: "gateway.0002_buckets_squashed gateway.0003_retention_rules gateway.0004_v011_endpoints",
			apps:    "admin auth gateway"},
		{name: "all applied, CRLF", text: "gateway\r\n [X] 0001_initial\r\n", applied: "gateway.0001_initial", apps: "gateway"},
		{name: "verbose applied-at suffix", text: "gw\n [X] 0001_initial (applied at 2026-01-01 10:00:00)\n", applied: "gw.0001_initial", apps: "gw"},
		{name: "empty", text: ""},
		{name: "migration before app", text: " [X] 0001_initial\n", wantErr: "before any app label"},
		{name: "unknown mark", text: "gw\n [?] 0001_initial\n", wantErr: "unknown mark"},
		{name: "garbage line", text: "gw\n  Traceback (most recent call last):\n", wantErr: "neither an app label nor a migration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseShowMigrations(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(m.Applied, " "); got != tt.applied {
				t.Errorf("applied %q, want %q", got, tt.applied)
			}
			if got := strings.Join(m.Pending, " "); got != tt.pending {
				t.Errorf("pending %q, want %q", got, tt.pending)
			}
			if got := strings.Join(m.Apps, " "); got != tt.apps {
				t.Errorf("apps %q, want %q", got, tt.apps)
			}
		})
	}
}

func TestGatewayRun(t *testing.T) {
	t.Run("showmigrations", func(t *testing.T) {
		h := newFakeHost().on(showMigrationsOut, 0, "rok-gw-manage", "showmigrations", "gateway")
		resp := GatewayShowMigrations{}.Run(context.Background(), steps.RunRequest{Args: decode(t, GatewayShowMigrations{}, `app = "gateway"`), Host: h})
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		if n := resp.Outputs.GetAttr("pending").LengthInt(); n != 3 {
			t.Errorf("%d pending, want 3", n)
		}
	})
	t.Run("migrate", func(t *testing.T) {
		out := "Operations to perform:\n  Apply all migrations: gateway\nRunning migrations:\n  Applying gateway.0003_retention_rules... OK\n  Applying gateway.0004_v011_endpoints... OK (0.120s)\n"
		h := newFakeHost().on(out, 0, "rok-gw-manage", "migrate", "--noinput", "gateway")
		var streamed []string
		resp := GatewayMigrate{}.Run(context.Background(), steps.RunRequest{
			Args: decode(t, GatewayMigrate{}, `app = "gateway"`), Host: h,
			Output: func(_, line string) { streamed = append(streamed, line) },
		})
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		var applied []string
		for _, v := range resp.Outputs.GetAttr("applied").AsValueSlice() {
			applied = append(applied, v.AsString())
		}
		if got := strings.Join(applied, " "); got != "gateway.0003_retention_rules gateway.0004_v011_endpoints" {
			t.Errorf("applied %q", got)
		}
		if len(streamed) != 5 {
			t.Errorf("streamed %d lines, want 5", len(streamed))
		}
	})
	t.Run("migrate refuses while gunicorn runs", func(t *testing.T) {
		h := newFakeHost().onStderr("CommandError: gunicorn is running", 1, "rok-gw-manage", "migrate", "--noinput")
		resp := GatewayMigrate{}.Run(context.Background(), steps.RunRequest{Args: decode(t, GatewayMigrate{}, ``), Host: h})
		if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics.Error(), "gunicorn is running") {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
	})
}

func TestUpgradeRun(t *testing.T) {
	tests := []struct {
		kind    steps.Kind
		src     string
		argv    string
		status  int
		wantErr string
	}{
		{kind: UpgradeCluster{}, argv: "rok-cluster-upgrade-v0.11.0 upgrade-cluster"},
		{kind: UpgradeNode{}, src: `release = "0.12.1"`, argv: "rok-cluster-upgrade-v0.12.1 upgrade-node"},
		{kind: EnableEtcdAuth{}, src: `script = "/opt/rok/bin/upgrade"`, argv: "/opt/rok/bin/upgrade enable-etcd-auth"},
		{kind: UpgradeNode{}, argv: "rok-cluster-upgrade-v0.11.0 upgrade-node", status: 3, wantErr: "exited with status 3"},
	}
	for _, tt := range tests {
		t.Run(tt.argv, func(t *testing.T) {
			h := newFakeHost().on("done\n", tt.status, strings.Fields(tt.argv)...)
			resp := tt.kind.Run(context.Background(), steps.RunRequest{Args: decode(t, tt.kind, tt.src), Host: h})
			if got := strings.Join(h.argvs(), "|"); got != tt.argv {
				t.Errorf("ran %q, want %q", got, tt.argv)
			}
			if tt.wantErr != "" {
				if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics.Error(), tt.wantErr) {
					t.Fatalf("diagnostics %v, want %q", resp.Diagnostics, tt.wantErr)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics)
			}
			if got := resp.Outputs.GetAttr("stdout").AsString(); got != "done\n" {
				t.Errorf("stdout %q", got)
			}
		})
	}
	t.Run("no host", func(t *testing.T) {
		resp := UpgradeNode{}.Run(context.Background(), steps.RunRequest{Args: decode(t, UpgradeNode{}, ``)})
		if !hasError(resp.Diagnostics, "No host to run on") {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
	})
}
