package pkg

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

func TestConformance(t *testing.T) { stepstest.CheckKind(t, NewApt()) }

func TestPlan(t *testing.T) {
	vars := map[string]cty.Value{"v": stepstest.Unknown(cty.String, "step.release")}
	tests := map[string]struct {
		src         string
		wantCommand []string
		wantSummary string
		wantError   string
	}{
		"the seed's install": {
			src: `packages = ["rok-common", "rok-base"]
				dpkg_options = ["--force-confdef", "--force-confold"]`,
			wantCommand: strings.Fields("apt-get -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install -y rok-common rok-base"),
			wantSummary: "install rok-common, rok-base with apt-get (DEBIAN_FRONTEND=noninteractive)",
		},
		"pinned version, update, sudo": {
			src: `packages = ["rok-common", "libc6:amd64"]
				version = "1:0.11.0-1+deb12u1~rc1"
				update = true
				sudo = true`,
			wantCommand: strings.Fields("apt-get install -y rok-common=1:0.11.0-1+deb12u1~rc1 libc6:amd64=1:0.11.0-1+deb12u1~rc1"),
			wantSummary: "apt-get update, then install rok-common=1:0.11.0-1+deb12u1~rc1, libc6:amd64=1:0.11.0-1+deb12u1~rc1 with apt-get as root (DEBIAN_FRONTEND=noninteractive)",
		},
		"unknown version": {
			src:         `packages = ["rok-base"]` + "\n" + `version = var.v`,
			wantCommand: []string{"apt-get", "install", "-y", "rok-base=(known after step.release)"},
			wantSummary: "install rok-base=(known after step.release) with apt-get (DEBIAN_FRONTEND=noninteractive)",
		},
		"an option as a package":      {src: `packages = ["-o"]`, wantError: "Invalid package name"},
		"a command as a package":      {src: `packages = ["foo;bar"]`, wantError: "Invalid package name"},
		"upper case package":          {src: `packages = ["Rok"]`, wantError: "Invalid package name"},
		"one letter package":          {src: `packages = ["a"]`, wantError: "Invalid package name"},
		"no packages":                 {src: `packages = []`, wantError: "No packages"},
		"short dpkg option":           {src: `packages = ["rok-base"]` + "\n" + `dpkg_options = ["-i"]`, wantError: "Invalid dpkg option"},
		"dpkg option with spaces":     {src: `packages = ["rok-base"]` + "\n" + `dpkg_options = ["--force-confold --x"]`, wantError: "Invalid dpkg option"},
		"version that is an option":   {src: `packages = ["rok-base"]` + "\n" + `version = "--reinstall"`, wantError: "Invalid package version"},
		"version with a shell phrase": {src: `packages = ["rok-base"]` + "\n" + `version = "1.0 ; reboot"`, wantError: "Invalid package version"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := stepstest.Args(t, NewApt(), tc.src, vars)
			resp := NewApt().Plan(context.Background(), steps.PlanRequest{Args: args})
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				logPath := fakeAptGet(t) // never the real apt-get, should validation regress
				run := NewApt().Run(context.Background(), steps.RunRequest{Args: args, Host: local.New()})
				if log, _ := os.ReadFile(logPath); len(log) > 0 {
					t.Errorf("apt-get ran with refused arguments:\n%s", log)
				}
				if !run.Diagnostics.HasErrors() {
					t.Errorf("Run accepted what Plan refused")
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

// fakeAptGet puts an apt-get first in PATH that logs its environment and
// arguments, one per line, and fails for the package "broken".
func fakeAptGet(t *testing.T) (logPath string) {
	t.Helper()
	dir := t.TempDir()
	logPath = filepath.Join(dir, "log")
	script := `#!/bin/sh
{ echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND"; printf '%s\n' "$@"; echo --; } >> "$ROKFLOW_FAKE_APT_LOG"
for a in "$@"; do
	if [ "$a" = broken ]; then echo "E: Unable to locate package broken" >&2; exit 100; fi
done
echo "Setting up $*"
`
	if err := os.WriteFile(filepath.Join(dir, "apt-get"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("ROKFLOW_FAKE_APT_LOG", logPath)
	return logPath
}

func TestRun(t *testing.T) {
	tests := map[string]struct {
		src       string
		wantLog   string
		wantError string
	}{
		"install with dpkg options": {
			src: `packages = ["rok-common", "rok-base"]
				dpkg_options = ["--force-confdef", "--force-confold"]`,
			wantLog: "DEBIAN_FRONTEND=noninteractive\n-o\nDpkg::Options::=--force-confdef\n-o\nDpkg::Options::=--force-confold\ninstall\n-y\nrok-common\nrok-base\n--\n",
		},
		"update first, pinned": {
			src:     `packages = ["rok-base"]` + "\n" + `update = true` + "\n" + `version = "0.11.0"`,
			wantLog: "DEBIAN_FRONTEND=noninteractive\nupdate\n--\nDEBIAN_FRONTEND=noninteractive\ninstall\n-y\nrok-base=0.11.0\n--\n",
		},
		"failure names the status and the error": {
			src:       `packages = ["broken"]`,
			wantLog:   "DEBIAN_FRONTEND=noninteractive\ninstall\n-y\nbroken\n--\n",
			wantError: "apt-get install exited with status 100",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			logPath := fakeAptGet(t)
			args := stepstest.Args(t, NewApt(), tc.src, nil)
			resp := NewApt().Run(context.Background(), steps.RunRequest{Args: args, Host: local.New()})
			if log, _ := os.ReadFile(logPath); string(log) != tc.wantLog {
				t.Errorf("apt-get ran as\n%s\nwant\n%s", log, tc.wantLog)
			}
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				if !strings.Contains(resp.Diagnostics[0].Detail, "Unable to locate package broken") {
					t.Errorf("detail lacks apt's error: %s", resp.Diagnostics[0].Detail)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if got := resp.Outputs.GetAttr("stdout").AsString(); !strings.HasPrefix(got, "Setting up ") {
				t.Errorf("stdout = %q", got)
			}
		})
	}
}
