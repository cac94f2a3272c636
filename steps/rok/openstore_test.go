package rok

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/steps"
)

const oldDaemonsConf = `# v0.10-era
[composerd.0]
map-version = 3
openstore-controller = tcp://10.0.0.11:8080

[external-controller.0]
bind-http = tcp://10.0.0.12:9090
`

func TestOpenStoreEndpoints(t *testing.T) {
	const conf = "/etc/rok/daemons.conf"
	h := newFakeHost()
	h.files[conf] = oldDaemonsConf
	h.modes[conf] = 0o640
	args := decode(t, OpenStoreEndpoints{}, ``)
	ctx := context.Background()

	plan := OpenStoreEndpoints{}.Plan(ctx, steps.PlanRequest{Args: args, Host: h})
	if len(plan.Diagnostics) > 0 {
		t.Fatalf("plan: %s", plan.Diagnostics)
	}
	for _, want := range []string{"--- " + conf, "-openstore-controller = tcp://10.0.0.11:8080", "+connect = role=slave,http://10.0.0.11:8080",
		"-bind-http = tcp://10.0.0.12:9090", "+controller-listen = role=slave,http://10.0.0.12:9090"} {
		if !strings.Contains(plan.Diff, want) {
			t.Errorf("plan diff lacks %q:\n%s", want, plan.Diff)
		}
	}
	if len(h.writes) != 0 {
		t.Fatalf("plan wrote %v", h.writes)
	}

	run := OpenStoreEndpoints{}.Run(ctx, steps.RunRequest{Args: args, Host: h})
	if run.Diagnostics.HasErrors() {
		t.Fatal(run.Diagnostics)
	}
	if got := strings.Join(h.writes, " "); got != conf+backupSuffix+" "+conf {
		t.Errorf("wrote %q, want the backup then the file", got)
	}
	if h.files[conf+backupSuffix] != oldDaemonsConf {
		t.Errorf("backup holds %q", h.files[conf+backupSuffix])
	}
	if h.modes[conf] != 0o640 {
		t.Errorf("mode %v, want 0640 kept", h.modes[conf])
	}
	if strings.Contains(h.files[conf], "tcp://") || !strings.Contains(h.files[conf], "# v0.10-era\n[composerd.0]\nmap-version = 3\n") {
		t.Errorf("rewritten file:\n%s", h.files[conf])
	}
	if n := run.Outputs.GetAttr("changed").LengthInt(); n != 1 {
		t.Errorf("changed %d files, want 1", n)
	}
	if n := run.Outputs.GetAttr("changes").LengthInt(); n != 2 {
		t.Errorf("%d changes, want 2", n)
	}

	// A second run and plan change nothing.
	h.writes = nil
	plan = OpenStoreEndpoints{}.Plan(ctx, steps.PlanRequest{Args: args, Host: h})
	if plan.Diff != "" || !strings.Contains(plan.Summary, "already") {
		t.Errorf("second plan: %q\n%s", plan.Summary, plan.Diff)
	}
	run = OpenStoreEndpoints{}.Run(ctx, steps.RunRequest{Args: args, Host: h})
	if run.Diagnostics.HasErrors() {
		t.Fatal(run.Diagnostics)
	}
	if len(h.writes) != 0 || run.Outputs.GetAttr("changed").LengthInt() != 0 {
		t.Errorf("second run wrote %v", h.writes)
	}
}

func TestOpenStoreEndpointsRefusals(t *testing.T) {
	const conf = "/etc/rok/daemons.conf"
	tests := []struct {
		name  string
		src   string
		files map[string]string
		want  string
		clean bool // run succeeds
	}{
		{name: "unknown option with tcp", files: map[string]string{conf: "[x.0]\nmystery = tcp://1.2.3.4:5\n"}, want: "Cannot rewrite OpenStore endpoints"},
		{name: "missing file", files: map[string]string{}, want: "File not found"},
		{name: "missing file allowed", src: `missing_ok = true`, files: map[string]string{}, clean: true},
		{name: "one bad file blocks all", src: `daemons_conf = ["/a.conf", "/b.conf"]`,
			files: map[string]string{"/a.conf": oldDaemonsConf, "/b.conf": "[x.0]\nopenstore-controller = garbage\n"}, want: "Cannot rewrite OpenStore endpoints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost()
			for p, s := range tt.files {
				h.files[p] = s
			}
			args := decode(t, OpenStoreEndpoints{}, tt.src)
			plan := OpenStoreEndpoints{}.Plan(context.Background(), steps.PlanRequest{Args: args, Host: h})
			run := OpenStoreEndpoints{}.Run(context.Background(), steps.RunRequest{Args: args, Host: h})
			if len(h.writes) != 0 {
				t.Errorf("wrote %v", h.writes)
			}
			if tt.clean {
				if len(run.Diagnostics) != 0 || len(plan.Diagnostics) != 0 {
					t.Fatalf("plan %v, run %v", plan.Diagnostics, run.Diagnostics)
				}
				return
			}
			if !hasError(run.Diagnostics, tt.want) {
				t.Errorf("run diagnostics %v, want %q", run.Diagnostics, tt.want)
			}
			if plan.Diagnostics.HasErrors() || len(plan.Diagnostics) == 0 || plan.Diagnostics[0].Severity != hcl.DiagWarning {
				t.Errorf("plan diagnostics %v, want a warning", plan.Diagnostics)
			}
		})
	}
}

func TestOpenStoreEndpointsEnvFiles(t *testing.T) {
	const env = "/etc/default/rok"
	h := newFakeHost()
	h.files["/etc/rok/daemons.conf"] = "[composerd.0]\nconnect = role=slave,http://10.0.0.11:8080\n"
	h.files[env] = "# Rok\nexport OPENSTORE_CONTROLLER=\"tcp://10.0.0.11:8080\"\nROK_CLUSTERNAME=prod\n"
	args := decode(t, OpenStoreEndpoints{}, `env_files = ["`+env+`"]`)
	plan := OpenStoreEndpoints{}.Plan(context.Background(), steps.PlanRequest{Args: args, Host: h})
	if len(plan.Diagnostics) > 0 {
		t.Fatal(plan.Diagnostics)
	}
	if !strings.Contains(plan.Diff, "+export OPENSTORE_CONTROLLER=\"http://10.0.0.11:8080\"") || strings.Contains(plan.Diff, "daemons.conf") {
		t.Errorf("diff:\n%s", plan.Diff)
	}
	if !strings.Contains(plan.Summary, "in 1 of 2 files") {
		t.Errorf("summary %q", plan.Summary)
	}
	run := OpenStoreEndpoints{}.Run(context.Background(), steps.RunRequest{Args: args, Host: h})
	if run.Diagnostics.HasErrors() {
		t.Fatal(run.Diagnostics)
	}
	if got := strings.Join(h.writes, " "); got != env+backupSuffix+" "+env {
		t.Errorf("wrote %q", got)
	}
	if h.files[env] != "# Rok\nexport OPENSTORE_CONTROLLER=\"http://10.0.0.11:8080\"\nROK_CLUSTERNAME=prod\n" {
		t.Errorf("rewritten:\n%s", h.files[env])
	}
}

func TestOpenStoreEndpointsUnitsAndOptions(t *testing.T) {
	const (
		conf   = "/etc/rok/daemons.conf"
		env    = "/etc/default/rok"
		dropIn = "/etc/systemd/system/rok-external-controller.service.d/override.conf"
		unit   = "/etc/systemd/system/rok-daemons.service"
	)
	h := newFakeHost()
	h.files[conf] = "[openstored.0]\nlisten = tcp://10.0.0.11:8080\nopenstore-master-connect = tcp://10.0.0.12:9090\n"
	h.files[env] = "OPENSTORE_CONTROLLER=tcp://10.0.0.11:8080\nROK_EXTERNAL_CONTROLLER_OPTS='--openstore-controller=tcp://10.0.0.11:8080 --verbose'\n"
	h.files[dropIn] = "[Service]\nExecStart=\nExecStart=/usr/bin/rok-external-controller --bind-http \"tcp://10.0.0.12:9090\" $ROK_EXTERNAL_CONTROLLER_OPTS\n"
	h.files[dropIn+backupSuffix] = "[Service]\nExecStart=/usr/bin/rok-external-controller --bind-http tcp://very.old:1\n"
	h.files[unit] = "[Service]\nEnvironmentFile=/etc/default/rok\nExecStart=/usr/bin/rok-daemons\n"
	h.on("", 0, "systemctl", "daemon-reload")
	args := decode(t, OpenStoreEndpoints{}, `env_files = ["`+env+`"]`)
	ctx := context.Background()

	plan := OpenStoreEndpoints{}.Plan(ctx, steps.PlanRequest{Args: args, Host: h})
	if len(plan.Diagnostics) > 0 {
		t.Fatalf("plan: %s", plan.Diagnostics)
	}
	for _, want := range []string{
		"+connect = role=master,http://10.0.0.12:9090",
		"+ROK_EXTERNAL_CONTROLLER_OPTS='--connect=role=slave,http://10.0.0.11:8080 --verbose'",
		"--- " + dropIn,
		"+ExecStart=/usr/bin/rok-external-controller --controller-listen \"role=slave,http://10.0.0.12:9090\" $ROK_EXTERNAL_CONTROLLER_OPTS",
	} {
		if !strings.Contains(plan.Diff, want) {
			t.Errorf("plan diff lacks %q:\n%s", want, plan.Diff)
		}
	}
	if strings.Contains(plan.Diff, backupSuffix) || strings.Contains(plan.Diff, unit) {
		t.Errorf("plan diff shows a backup or an unchanged unit:\n%s", plan.Diff)
	}
	if !strings.Contains(plan.Summary, "in 3 of 4 files") {
		t.Errorf("summary %q", plan.Summary)
	}

	run := OpenStoreEndpoints{}.Run(ctx, steps.RunRequest{Args: args, Host: h})
	if run.Diagnostics.HasErrors() {
		t.Fatal(run.Diagnostics)
	}
	changes := run.Outputs.GetAttr("changes")
	var lines []string
	for it := changes.ElementIterator(); it.Next(); {
		_, v := it.Element()
		lines = append(lines, v.AsString())
	}
	if want := dropIn + ": line 3 [Service] ExecStart argument 2: --bind-http = tcp://10.0.0.12:9090 -> --controller-listen = role=slave,http://10.0.0.12:9090"; !slices.Contains(lines, want) {
		t.Errorf("changes %q lack %q", lines, want)
	}
	if len(lines) != 5 {
		t.Errorf("%d changes, want 5: %q", len(lines), lines)
	}
	if h.files[dropIn+backupSuffix] != "[Service]\nExecStart=/usr/bin/rok-external-controller --bind-http tcp://very.old:1\n" {
		t.Errorf("the oldest backup was replaced: %q", h.files[dropIn+backupSuffix])
	}
	if got := strings.Join(h.argvs(), "; "); got != "systemctl daemon-reload" {
		t.Errorf("ran %q, want one daemon-reload", got)
	}

	// Idempotent: nothing more to do.
	h.writes = nil
	plan = OpenStoreEndpoints{}.Plan(ctx, steps.PlanRequest{Args: args, Host: h})
	run = OpenStoreEndpoints{}.Run(ctx, steps.RunRequest{Args: args, Host: h})
	if plan.Diff != "" || !strings.Contains(plan.Summary, "already") || run.Diagnostics.HasErrors() || len(h.writes) != 0 {
		t.Errorf("second pass: %q, %v, wrote %v\n%s", plan.Summary, run.Diagnostics, h.writes, plan.Diff)
	}
	if n := len(h.commands); n != 2 {
		t.Errorf("%d commands after the second run, want a second daemon-reload", n)
	}

	// Without daemon_reload, or when reloading fails.
	h.commands = nil
	args = decode(t, OpenStoreEndpoints{}, `daemon_reload = false`)
	if run := (OpenStoreEndpoints{}).Run(ctx, steps.RunRequest{Args: args, Host: h}); run.Diagnostics.HasErrors() || len(h.commands) != 0 {
		t.Errorf("daemon_reload = false: %v, ran %q", run.Diagnostics, h.argvs())
	}
	h.onStderr("Failed to reload daemon: Access denied", 1, "systemctl", "daemon-reload")
	h.files[dropIn] = "[Service]\nExecStart=/x --bind-http tcp://h:1\n"
	run = OpenStoreEndpoints{}.Run(ctx, steps.RunRequest{Args: decode(t, OpenStoreEndpoints{}, ``), Host: h})
	if !hasError(run.Diagnostics, "Command failed") || !strings.Contains(run.Diagnostics[0].Detail, "The files were rewritten ("+dropIn+")") {
		t.Errorf("failed reload: %v", run.Diagnostics)
	}
}

func TestOpenStoreEndpointsUnitFileArguments(t *testing.T) {
	h := newFakeHost()
	h.files["/etc/rok/daemons.conf"] = "[x.0]\nconnect = http://h:1\n"
	for src, want := range map[string]string{
		`unit_files = ["/etc/[x"]`:                  "Invalid path pattern",
		`unit_files = ["rok.service"]`:              "Relative path",
		`unit_files = ["/lib/rok.service"]`:         "File not found",
		`unit_files = ["/a.service", "/a.service"]`: "File listed twice",
	} {
		args := decode(t, OpenStoreEndpoints{}, src)
		run := OpenStoreEndpoints{}.Run(context.Background(), steps.RunRequest{Args: args, Host: h})
		if !hasError(run.Diagnostics, want) {
			t.Errorf("%s: diagnostics %v, want %q", src, run.Diagnostics, want)
		}
	}
	// A pattern that matches nothing is no error, missing_ok or not.
	args := decode(t, OpenStoreEndpoints{}, `unit_files = ["/etc/systemd/system/nothing*.service"]`)
	if run := (OpenStoreEndpoints{}).Run(context.Background(), steps.RunRequest{Args: args, Host: h}); run.Diagnostics.HasErrors() {
		t.Error(run.Diagnostics)
	}
}
