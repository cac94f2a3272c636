package wait

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

func TestConformance(t *testing.T) { stepstest.CheckKind(t, New()) }

// counting is a script that counts its runs in the file $1 and prints
// "version 0.10" until its third run, then "version 0.11".
const counting = `n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; ` +
	`if [ $n -ge 3 ]; then echo "version 0.11"; else echo "version 0.10"; exit 1; fi`

func TestRun(t *testing.T) {
	tests := map[string]struct {
		src          string
		cancelOnLine bool
		wantAttempts int
		wantStdout   string
		wantError    string
		wantDetail   string
	}{
		"passes on the third attempt": {
			src:          `command = ["sh", "-c", var.counting, "sh", var.counter]` + "\n" + `interval = "1ms"` + "\n" + `timeout = "1m"`,
			wantAttempts: 3,
			wantStdout:   "version 0.11\n",
		},
		"output must match": {
			src: `command = ["sh", "-c", "n=$(cat \"$1\" 2>/dev/null || echo 0); echo $((n+1)) > \"$1\"; echo \"version 0.1$n\"", "sh", var.counter]
				expect_stdout = "^version 0\\.11$"
				interval = "1ms"
				timeout = "1m"`,
			wantAttempts: 2,
			wantStdout:   "version 0.11\n",
		},
		"gives up after the timeout": {
			src:        `command = ["sh", "-c", "echo not yet >&2; exit 1"]` + "\n" + `interval = "50ms"` + "\n" + `timeout = "300ms"`,
			wantError:  "Check did not pass within 300ms",
			wantDetail: "exit status 1, output ending:\nnot yet",
		},
		"a missing program counts as a failed attempt": {
			src:        `command = ["rokflow-no-such-program"]` + "\n" + `interval = "5ms"` + "\n" + `timeout = "20ms"`,
			wantError:  "Check did not pass within 20ms",
			wantDetail: "could not run",
		},
		"stops when the context ends": {
			src:          `command = ["echo", "tick"]` + "\n" + `expect_stdout = "never"` + "\n" + `interval = "1h"`,
			cancelOnLine: true,
			wantError:    "Wait interrupted",
			wantDetail:   "after 1 attempts",
		},
		"bad interval": {
			src:       `command = ["true"]` + "\n" + `interval = "2x"`,
			wantError: "Invalid interval",
		},
		"negative timeout": {
			src:       `command = ["true"]` + "\n" + `timeout = "-1s"`,
			wantError: "Invalid timeout",
		},
		"bad regex": {
			src:       `command = ["true"]` + "\n" + `expect_stdout = "("`,
			wantError: "Invalid expect_stdout",
		},
		"empty command": {
			src:       `command = []`,
			wantError: "Empty command",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			vars := map[string]cty.Value{
				"counting": cty.StringVal(counting),
				"counter":  cty.StringVal(filepath.Join(t.TempDir(), "n")),
			}
			args := stepstest.Args(t, New(), tc.src, vars)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var lines []string
			resp := New().Run(ctx, steps.RunRequest{Args: args, Host: local.New(), Output: func(stream, line string) {
				lines = append(lines, line)
				if tc.cancelOnLine {
					cancel()
				}
			}})
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				if !strings.Contains(resp.Diagnostics[0].Detail, tc.wantDetail) {
					t.Errorf("detail = %q, want it to hold %q", resp.Diagnostics[0].Detail, tc.wantDetail)
				}
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if got, _ := resp.Outputs.GetAttr("attempts").AsBigFloat().Int64(); int(got) != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
			}
			if got := resp.Outputs.GetAttr("stdout").AsString(); got != tc.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tc.wantStdout)
			}
			if len(lines) != tc.wantAttempts {
				t.Errorf("streamed %q, want one line per attempt", lines)
			}
		})
	}
}

func TestSensitiveCommand(t *testing.T) {
	args := stepstest.Args(t, New(), `command = ["echo", "token", var.secret]`,
		map[string]cty.Value{"secret": stepstest.Secret("hunter2")})
	var lines []string
	resp := New().Run(context.Background(), steps.RunRequest{Args: args, Host: local.New(),
		Output: func(_, line string) { lines = append(lines, line) }})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics.Error())
	}
	if !resp.Outputs.GetAttr("stdout").HasMark(marks.Sensitive) {
		t.Errorf("stdout not marked sensitive")
	}
	if want := []string{"token (sensitive)"}; !reflect.DeepEqual(lines, want) {
		t.Errorf("streamed %q, want %q", lines, want)
	}
	plan := New().Plan(context.Background(), steps.PlanRequest{Args: args})
	if want := []string{"echo", "token", "(sensitive)"}; !reflect.DeepEqual(plan.Command, want) {
		t.Errorf("Command = %q, want %q", plan.Command, want)
	}
}

func TestPlan(t *testing.T) {
	args := stepstest.Args(t, New(), `
		command = ["rok-cluster-ctl", "member-list", "--node", var.node]
		expect_stdout = "v0\\.11"
		sudo = true`, map[string]cty.Value{"node": stepstest.Unknown(cty.String, "step.master")})
	resp := New().Plan(context.Background(), steps.PlanRequest{Args: args})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics.Error())
	}
	want := `wait until rok-cluster-ctl member-list --node (known after step.master) succeeds with output matching "v0\\.11", every 2s for at most 10m, as root`
	if resp.Summary != want {
		t.Errorf("Summary = %q\nwant      %q", resp.Summary, want)
	}
}

// TestSensitiveRequestQuotesNoOutput gives the check a secret the way the
// core does (plain arguments, RunRequest.Sensitive): a failing attempt's
// output may carry it transformed, so the diagnostic must not quote it.
func TestSensitiveRequestQuotesNoOutput(t *testing.T) {
	args := stepstest.Args(t, New(), `command = ["sh", "-c", "echo $0 | tr a-z A-Z >&2; exit 1", "hunter2"]`+"\n"+`interval = "1ms"`+"\n"+`timeout = "300ms"`, nil)
	resp := New().Run(context.Background(), steps.RunRequest{Args: args, Host: local.New(), Sensitive: true})
	if !resp.Diagnostics.HasErrors() {
		t.Fatal("the check passed")
	}
	d := resp.Diagnostics[0]
	if strings.Contains(d.Detail, "HUNTER2") || !strings.Contains(d.Detail, "output not quoted") {
		t.Errorf("detail = %q, want the output left out", d.Detail)
	}
}
