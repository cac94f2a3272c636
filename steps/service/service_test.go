package service

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

func TestConformance(t *testing.T) { stepstest.CheckKind(t, New()) }

func TestPlan(t *testing.T) {
	vars := map[string]cty.Value{"svc": stepstest.Unknown(cty.String, "step.find")}
	tests := map[string]struct {
		src         string
		wantCommand []string
		wantSummary string
		wantError   string
		wantDetail  string
	}{
		"systemctl stop": {
			src:         `name = "gunicorn"` + "\n" + `action = "stop"` + "\n" + `manager = "systemctl"`,
			wantCommand: []string{"systemctl", "stop", "gunicorn"},
			wantSummary: "stop service gunicorn",
		},
		"auto start": {
			src:         `name = "rok-daemons.service"` + "\n" + `action = "start"` + "\n" + `sudo = true`,
			wantCommand: []string{"systemctl", "start", "rok-daemons.service"},
			wantSummary: "start service rok-daemons.service (with service(8) where systemd is not running) as root",
		},
		"service restart": {
			src:         `name = "ganeti"` + "\n" + `action = "restart"` + "\n" + `manager = "service"`,
			wantCommand: []string{"service", "ganeti", "restart"},
			wantSummary: "restart service ganeti",
		},
		"status": {
			src:         `name = var.svc` + "\n" + `action = "status"` + "\n" + `manager = "systemctl"`,
			wantCommand: []string{"systemctl", "is-active", "(known after step.find)"},
			wantSummary: "query service (known after step.find)",
		},
		"bad action lists the allowed ones": {
			src:        `name = "gunicorn"` + "\n" + `action = "reload"`,
			wantError:  "Invalid action",
			wantDetail: `"reload" is not a valid action; use one of stop, start, restart, status.`,
		},
		"bad manager": {
			src:        `name = "gunicorn"` + "\n" + `action = "stop"` + "\n" + `manager = "initctl"`,
			wantError:  "Invalid manager",
			wantDetail: "use one of systemctl, service, auto",
		},
		"option as a name": {
			src:       `name = "--all"` + "\n" + `action = "stop"`,
			wantError: "Invalid service name",
		},
		"name longer than 255": {
			src:       `name = "` + strings.Repeat("a", 256) + `"` + "\n" + `action = "stop"`,
			wantError: "Invalid service name",
		},
		"shell phrase as a name": {
			src:       `name = "x; reboot"` + "\n" + `action = "stop"`,
			wantError: "Invalid service name",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := stepstest.Args(t, New(), tc.src, vars)
			resp := New().Plan(context.Background(), steps.PlanRequest{Args: args})
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				if !strings.Contains(resp.Diagnostics[0].Detail, tc.wantDetail) {
					t.Errorf("detail = %q, want %q", resp.Diagnostics[0].Detail, tc.wantDetail)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if !reflect.DeepEqual(resp.Command, tc.wantCommand) {
				t.Errorf("Command = %q, want %q", resp.Command, tc.wantCommand)
			}
			if resp.Summary != tc.wantSummary {
				t.Errorf("Summary = %q, want %q", resp.Summary, tc.wantSummary)
			}
		})
	}
}

// fakeManagers puts a systemctl and a service first in PATH that keep each
// service's state in a file and log their arguments. "broken" fails to
// start, "sticky" ignores stop, "oneshot" is inactive once started.
func fakeManagers(t *testing.T) (state string) {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	scripts := map[string]string{
		"systemctl": `#!/bin/sh
s="$ROKFLOW_FAKE_SVC_STATE"
echo "systemctl $*" >> "$s/log"
case "$1" in
stop) [ "$2" = sticky ] || echo inactive > "$s/$2" ;;
start|restart)
	if [ "$2" = broken ]; then echo "Job for broken.service failed." >&2; exit 1; fi
	if [ "$2" = oneshot ]; then echo inactive > "$s/$2"; else echo active > "$s/$2"; fi ;;
is-active) st=$(cat "$s/$2" 2>/dev/null || echo inactive); echo "$st"; [ "$st" = active ] ;;
esac
`,
		"service": `#!/bin/sh
s="$ROKFLOW_FAKE_SVC_STATE"
echo "service $*" >> "$s/log"
case "$2" in
stop) echo inactive > "$s/$1" ;;
start|restart) echo active > "$s/$1" ;;
status) [ "$(cat "$s/$1" 2>/dev/null)" = active ] || exit 3 ;;
esac
`,
	}
	for name, script := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("ROKFLOW_FAKE_SVC_STATE", state)
	return state
}

func TestRun(t *testing.T) {
	_, err := os.Stat("/run/systemd/system")
	autoManager := "service"
	if err == nil {
		autoManager = "systemctl"
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	tests := map[string]struct {
		src         string
		before      map[string]string // service → state
		wantLog     []string
		wantActive  bool
		wantStatus  string
		wantError   string
		wantWarning string
	}{
		"systemctl stop": {
			src:        `name = "gunicorn"` + "\n" + `action = "stop"` + "\n" + `manager = "systemctl"`,
			before:     map[string]string{"gunicorn": "active"},
			wantLog:    []string{"systemctl stop gunicorn", "systemctl is-active gunicorn"},
			wantStatus: "inactive",
		},
		"systemctl status only queries": {
			src:        `name = "gunicorn"` + "\n" + `action = "status"` + "\n" + `manager = "systemctl"`,
			before:     map[string]string{"gunicorn": "active"},
			wantLog:    []string{"systemctl is-active gunicorn"},
			wantActive: true,
			wantStatus: "active",
		},
		"service start": {
			src:        `name = "ganeti"` + "\n" + `action = "start"` + "\n" + `manager = "service"`,
			wantLog:    []string{"service ganeti start", "service ganeti status"},
			wantActive: true,
			wantStatus: "active",
		},
		"auto picks the host's manager": {
			src:        `name = "rok"` + "\n" + `action = "restart"`,
			wantLog:    []string{"LOG " + autoManager},
			wantActive: true,
			wantStatus: "active",
		},
		"failed start": {
			src:       `name = "broken"` + "\n" + `action = "start"` + "\n" + `manager = "systemctl"`,
			wantLog:   []string{"systemctl start broken"},
			wantError: "systemctl start exited with status 1",
		},
		"a stop that does not stop fails": {
			src:        `name = "sticky"` + "\n" + `action = "stop"` + "\n" + `manager = "systemctl"`,
			before:     map[string]string{"sticky": "active"},
			wantLog:    []string{"systemctl stop sticky", "systemctl is-active sticky"},
			wantActive: true,
			wantStatus: "active",
			wantError:  "Service still active after stop",
		},
		"an inactive oneshot after start is a warning": {
			src:         `name = "oneshot"` + "\n" + `action = "start"` + "\n" + `manager = "systemctl"`,
			wantLog:     []string{"systemctl start oneshot", "systemctl is-active oneshot"},
			wantStatus:  "inactive",
			wantWarning: "Service not active after start",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			state := fakeManagers(t)
			for svc, st := range tc.before {
				if err := os.WriteFile(filepath.Join(state, svc), []byte(st+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := stepstest.Args(t, New(), tc.src, nil)
			resp := New().Run(context.Background(), steps.RunRequest{Args: args, Host: local.New()})
			log, _ := os.ReadFile(filepath.Join(state, "log"))
			gotLog := strings.Split(strings.TrimSpace(string(log)), "\n")
			if len(tc.wantLog) == 1 && strings.HasPrefix(tc.wantLog[0], "LOG ") {
				if !strings.HasPrefix(gotLog[0], strings.TrimPrefix(tc.wantLog[0], "LOG ")) {
					t.Errorf("ran %q, want %s", gotLog, tc.wantLog[0])
				}
			} else if !reflect.DeepEqual(gotLog, tc.wantLog) {
				t.Errorf("ran %q, want %q", gotLog, tc.wantLog)
			}
			var errs, warns []string
			for _, d := range resp.Diagnostics {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d.Summary)
				} else {
					warns = append(warns, d.Summary)
				}
			}
			if tc.wantError != "" || len(errs) > 0 {
				if len(errs) != 1 || errs[0] != tc.wantError {
					t.Fatalf("errors = %q, want %q", errs, tc.wantError)
				}
			}
			if tc.wantWarning != "" && (len(warns) != 1 || warns[0] != tc.wantWarning) {
				t.Errorf("warnings = %q, want %q", warns, tc.wantWarning)
			}
			if resp.Outputs == cty.NilVal {
				return
			}
			if got := resp.Outputs.GetAttr("active").True(); got != tc.wantActive {
				t.Errorf("active = %v, want %v", got, tc.wantActive)
			}
			if got := resp.Outputs.GetAttr("status").AsString(); got != tc.wantStatus {
				t.Errorf("status = %q, want %q", got, tc.wantStatus)
			}
		})
	}
}
