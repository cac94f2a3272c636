package wait

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

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
		src string
		// timeout is the step's timeout: the deadline of Run's context.
		timeout      time.Duration
		cancelOnLine bool
		wantAttempts int
		wantStdout   string
		wantError    string
		wantDetail   string
	}{
		"passes on the third attempt": {
			src:          `command = ["sh", "-c", var.counting, "sh", var.counter]` + "\n" + `interval = "1ms"`,
			timeout:      time.Minute,
			wantAttempts: 3,
			wantStdout:   "version 0.11\n",
		},
		"output must match": {
			src: `command = ["sh", "-c", "n=$(cat \"$1\" 2>/dev/null || echo 0); echo $((n+1)) > \"$1\"; echo \"version 0.1$n\"", "sh", var.counter]
				expect_stdout = "^version 0\\.11$"
				interval = "1ms"`,
			timeout:      time.Minute,
			wantAttempts: 2,
			wantStdout:   "version 0.11\n",
		},
		"gives up when the step's timeout passes": {
			src:        `command = ["sh", "-c", "echo not yet >&2; exit 1"]` + "\n" + `interval = "50ms"`,
			timeout:    300 * time.Millisecond,
			wantError:  "Check did not pass within the step's timeout",
			wantDetail: "exit status 1, output ending:\nnot yet",
		},
		"a missing program counts as a failed attempt": {
			src:        `command = ["rokflow-no-such-program"]` + "\n" + `interval = "5ms"`,
			timeout:    20 * time.Millisecond,
			wantError:  "Check did not pass within the step's timeout",
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
			if tc.timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
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
	want := `wait until rok-cluster-ctl member-list --node (known after step.master) succeeds with output matching "v0\\.11", every 2s, as root`
	if resp.Summary != want {
		t.Errorf("Summary = %q\nwant      %q", resp.Summary, want)
	}
}

// TestSensitiveRequestQuotesNoOutput gives the check a secret the way the
// core does (plain arguments, RunRequest.Sensitive): a failing attempt's
// output may carry it transformed, so the diagnostic must not quote it.
func TestSensitiveRequestQuotesNoOutput(t *testing.T) {
	args := stepstest.Args(t, New(), `command = ["sh", "-c", "echo $0 | tr a-z A-Z >&2; exit 1", "hunter2"]`+"\n"+`interval = "1ms"`, nil)
	// The step's timeout bounds the wait, through the context.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	resp := New().Run(ctx, steps.RunRequest{Args: args, Host: local.New(), Sensitive: true})
	if !resp.Diagnostics.HasErrors() {
		t.Fatal("the check passed")
	}
	d := resp.Diagnostics[0]
	if strings.Contains(d.Detail, "HUNTER2") || !strings.Contains(d.Detail, "output not quoted") {
		t.Errorf("detail = %q, want the output left out", d.Detail)
	}
}

// deadlineHost records the deadline of the context each command runs with.
type deadlineHost struct {
	*local.Host
	deadlines []time.Time
}

func (h *deadlineHost) Exec(ctx context.Context, cmd steps.Command) (steps.ExecResult, error) {
	d, _ := ctx.Deadline()
	h.deadlines = append(h.deadlines, d)
	return h.Host.Exec(ctx, cmd)
}

// TestRunIsAlwaysBounded: the step's timeout bounds a wait through the
// context; called without a deadline, Run still ends, at the default.
func TestRunIsAlwaysBounded(t *testing.T) {
	args := stepstest.Args(t, New(), `command = ["true"]`, nil)
	def, err := time.ParseDuration(New().Schema().DefaultTimeout)
	if err != nil || def <= 0 {
		t.Fatalf("DefaultTimeout %q: %v", New().Schema().DefaultTimeout, err)
	}
	for name, tc := range map[string]struct {
		timeout time.Duration // zero: no deadline
		want    time.Duration
	}{
		"the step's timeout": {timeout: 30 * time.Minute, want: 30 * time.Minute},
		"no deadline":        {want: def},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			h := &deadlineHost{Host: local.New()}
			start := time.Now()
			if resp := New().Run(ctx, steps.RunRequest{Args: args, Host: h}); resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if len(h.deadlines) != 1 || h.deadlines[0].IsZero() {
				t.Fatalf("the check ran with deadlines %v, want one", h.deadlines)
			}
			if got := h.deadlines[0].Sub(start); got > tc.want+time.Second || got < tc.want-time.Minute {
				t.Errorf("the check's deadline is %s away, want %s", got, tc.want)
			}
		})
	}
}
