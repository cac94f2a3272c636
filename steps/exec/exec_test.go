package exec

import (
	"context"
	"errors"
	"io/fs"
	"os"
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

func TestConformance(t *testing.T) {
	for _, k := range []steps.Kind{New(), NewShell()} {
		t.Run(k.Schema().Name, func(t *testing.T) { stepstest.CheckKind(t, k) })
	}
}

// hostileValues are values a shell would interpret; each names the canary
// file so that interpretation would create it.
func hostileValues(canary string) map[string]string {
	return map[string]string{
		"semicolon": "; touch " + canary + "; rm -rf /tmp/x",
		"subst":     "$(touch " + canary + ")",
		"backticks": "`touch " + canary + "`",
		"newline":   "a\ntouch " + canary,
		"quotes":    `"'` + `$HOME' "` + "&& touch " + canary,
		"var":       "${HOME}",
	}
}

func TestHostileValuesAreNotInterpreted(t *testing.T) {
	canary := filepath.Join(t.TempDir(), "canary")
	host := local.New()
	for name, value := range hostileValues(canary) {
		vars := map[string]cty.Value{"v": cty.StringVal(value)}
		tests := map[string]struct {
			kind steps.Kind
			src  string
		}{
			"exec argument": {New(), `command = ["printf", "%s", var.v]`},
			"exec env":      {New(), `command = ["printenv", "V"]` + "\n" + `env = { V = var.v }`},
			"exec stdin":    {New(), `command = ["cat"]` + "\n" + `stdin = var.v`},
			"shell args":    {NewShell(), `script = "printf '%s' \"$1\""` + "\n" + `args = [var.v]`},
			"shell env":     {NewShell(), `script = "printf '%s' \"$V\""` + "\n" + `env = { V = var.v }`},
		}
		for how, tc := range tests {
			t.Run(name+"/"+how, func(t *testing.T) {
				args := stepstest.Args(t, tc.kind, tc.src, vars)
				resp := tc.kind.Run(context.Background(), steps.RunRequest{Args: args, Host: host})
				if resp.Diagnostics.HasErrors() {
					t.Fatal(resp.Diagnostics.Error())
				}
				got := resp.Outputs.GetAttr("stdout").AsString()
				want := value
				if how == "exec env" {
					want += "\n"
				}
				if got != want {
					t.Errorf("stdout = %q, want %q", got, want)
				}
			})
		}
	}
	if _, err := os.Stat(canary); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the canary file was created: a value was interpreted by a shell")
	}
}

func TestShellPositionalParameters(t *testing.T) {
	args := stepstest.Args(t, NewShell(), `
		script = "printf '[%s]' \"$0\" \"$@\""
		args   = ["a b", "", "c"]
	`, nil)
	resp := NewShell().Run(context.Background(), steps.RunRequest{Args: args, Host: local.New()})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics.Error())
	}
	if got, want := resp.Outputs.GetAttr("stdout").AsString(), "[rokflow-shell][a b][][c]"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestPlan(t *testing.T) {
	vars := map[string]cty.Value{
		"secret": stepstest.Secret("hunter2"),
		"later":  stepstest.Unknown(cty.String, "step.master"),
	}
	tests := map[string]struct {
		kind        steps.Kind
		src         string
		wantCommand []string
		wantSummary string
		wantError   string
	}{
		"exec argv": {
			kind:        New(),
			src:         `command = ["rok-cluster-ctl", "member-list", "--format", "json"]`,
			wantCommand: []string{"rok-cluster-ctl", "member-list", "--format", "json"},
			wantSummary: "run rok-cluster-ctl member-list --format json",
		},
		"exec sensitive and unknown elements": {
			kind:        New(),
			src:         `command = ["rok-config", "set", "password=${var.secret}", var.later]`,
			wantCommand: []string{"rok-config", "set", "(sensitive)", "(known after step.master)"},
			wantSummary: "run rok-config set (sensitive) (known after step.master)",
		},
		"exec qualifiers": {
			kind: New(),
			src: `
				command = ["rok-gw-manage", "migrate"]
				sudo    = true
				dir     = "/srv/gw"
				env     = { B = var.secret, A = "x y" }
				stdin   = "yes\n"`,
			wantCommand: []string{"rok-gw-manage", "migrate"},
			wantSummary: `run rok-gw-manage migrate as root in /srv/gw with env A=x y B=(sensitive) with 4 bytes on stdin`,
		},
		"exec quotes words with spaces": {
			kind:        New(),
			src:         `command = ["echo", "it's here"]`,
			wantCommand: []string{"echo", "it's here"},
			wantSummary: `run echo 'it'\''s here'`,
		},
		"shell script and args apart": {
			kind:        NewShell(),
			src:         `script = "echo \"$1\""` + "\n" + `args = ["; rm -rf /", var.secret]`,
			wantCommand: []string{"sh", "-c", `echo "$1"`, "rokflow-shell", "; rm -rf /", "(sensitive)"},
			wantSummary: `run a shell script with positional parameters '; rm -rf /' (sensitive)`,
		},
		"summary stays on one line": {
			kind:        New(),
			src:         `command = ["printf", "a\nb"]`,
			wantCommand: []string{"printf", "a\nb"},
			wantSummary: `run printf "a\nb"`,
		},
		"empty command": {
			kind:      New(),
			src:       `command = []`,
			wantError: "Empty command",
		},
		"empty program": {
			kind:      New(),
			src:       `command = ["", "x"]`,
			wantError: "Empty program name in command",
		},
		"bad env name": {
			kind:      New(),
			src:       `command = ["true"]` + "\n" + `env = { "A-B" = "x" }`,
			wantError: "Invalid environment variable name",
		},
		"bad exit status": {
			kind:      New(),
			src:       `command = ["true"]` + "\n" + `expect_exit = [1.5]`,
			wantError: "Invalid exit status in expect_exit",
		},
		"empty script": {
			kind:      NewShell(),
			src:       `script = ""`,
			wantError: "Empty script",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := stepstest.Args(t, tc.kind, tc.src, vars)
			resp := tc.kind.Plan(context.Background(), steps.PlanRequest{Args: args})
			if ap, ok := tc.kind.(steps.AttrPlanner); ok && !args.IsMarked() {
				// The core plans exec from its arguments by name: the
				// answer must be Plan's, to the letter.
				byName := ap.PlanAttrs(context.Background(), steps.AttrMap(args.AsValueMap()), steps.PlanRequest{})
				if !reflect.DeepEqual(byName, resp) {
					t.Errorf("PlanAttrs answers %#v,\nPlan answers %#v", byName, resp)
				}
			}
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				if resp.Diagnostics[0].Detail == "" {
					t.Errorf("diagnostic has no detail")
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

func TestRun(t *testing.T) {
	vars := map[string]cty.Value{"secret": stepstest.Secret("hunter2")}
	tests := map[string]struct {
		kind       steps.Kind
		src        string
		wantStdout string
		wantLines  []string
		wantStatus int
		wantError  string // a diagnostic summary
		wantDetail string
		sensitive  bool
		// reqSensitive is RunRequest.Sensitive: the core says the plain
		// arguments held a secret; notDetail must then not be quoted.
		reqSensitive bool
		notDetail    string
	}{
		"lines": {
			kind:       New(),
			src:        `command = ["printf", "a\nb\n\nc\n"]`,
			wantStdout: "a\nb\n\nc\n",
			wantLines:  []string{"a", "b", "", "c"},
		},
		"no output": {
			kind:      New(),
			src:       `command = ["true"]`,
			wantLines: []string{},
		},
		"unexpected exit status": {
			kind:       NewShell(),
			src:        `script = "echo upgrade-node failed >&2; exit 3"`,
			wantStatus: 3,
			wantError:  "Command exited with status 3",
			wantDetail: "upgrade-node failed",
			wantLines:  []string{},
		},
		"accepted exit status": {
			kind:       New(),
			src:        `command = ["sh", "-c", "exit 3"]` + "\n" + `expect_exit = [0, 3]`,
			wantStatus: 3,
			wantLines:  []string{},
		},
		"missing program": {
			kind:       New(),
			src:        `command = ["rokflow-no-such-program"]`,
			wantError:  "Command could not run",
			wantDetail: "rokflow-no-such-program",
		},
		"sensitive input marks outputs and is redacted from diagnostics": {
			kind:       NewShell(),
			src:        `script = "echo \"token=$PW\"; echo \"bad $PW\" >&2; exit 1"` + "\n" + `env = { PW = var.secret }`,
			wantStdout: "token=hunter2\n",
			wantLines:  []string{"token=hunter2"},
			wantStatus: 1,
			wantError:  "Command exited with status 1",
			wantDetail: "bad (sensitive)",
			sensitive:  true,
		},
		"a request with a secret quotes no output in diagnostics": {
			kind:         NewShell(),
			src:          `script = "echo \"$PW\" | tr a-z A-Z >&2; exit 1"` + "\n" + `env = { PW = "hunter2" }`,
			wantStatus:   1,
			wantError:    "Command exited with status 1",
			wantDetail:   "output is not quoted",
			wantLines:    []string{},
			reqSensitive: true,
			notDetail:    "HUNTER2",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := stepstest.Args(t, tc.kind, tc.src, vars)
			var streamed []string
			resp := tc.kind.Run(context.Background(), steps.RunRequest{
				Args: args, Host: local.New(), Sensitive: tc.reqSensitive,
				Output: func(stream, line string) { streamed = append(streamed, stream+": "+line) },
			})
			for _, d := range resp.Diagnostics {
				if strings.Contains(d.Summary+d.Detail, "hunter2") {
					t.Errorf("diagnostic leaks the secret: %s: %s", d.Summary, d.Detail)
				}
			}
			for _, l := range streamed {
				if strings.Contains(l, "hunter2") {
					t.Errorf("streamed line leaks the secret: %q", l)
				}
			}
			if tc.wantError != "" {
				if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.wantError {
					t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.wantError)
				}
				if !strings.Contains(resp.Diagnostics[0].Detail, tc.wantDetail) {
					t.Errorf("detail %q does not mention %q", resp.Diagnostics[0].Detail, tc.wantDetail)
				}
				if tc.notDetail != "" && strings.Contains(resp.Diagnostics[0].Detail, tc.notDetail) {
					t.Errorf("detail %q quotes the output, which may carry a secret", resp.Diagnostics[0].Detail)
				}
			} else if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if resp.Outputs == cty.NilVal {
				return
			}
			if got := resp.Outputs.GetAttr("stdout").HasMark(marks.Sensitive); got != tc.sensitive {
				t.Errorf("stdout sensitive = %v, want %v", got, tc.sensitive)
			}
			outs, _ := resp.Outputs.UnmarkDeep()
			if got := outs.GetAttr("stdout").AsString(); got != tc.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tc.wantStdout)
			}
			var lines []string
			for it := outs.GetAttr("lines").ElementIterator(); it.Next(); {
				_, v := it.Element()
				lines = append(lines, v.AsString())
			}
			if lines == nil {
				lines = []string{}
			}
			if !reflect.DeepEqual(lines, tc.wantLines) {
				t.Errorf("lines = %q, want %q", lines, tc.wantLines)
			}
			if got, _ := outs.GetAttr("exit_status").AsBigFloat().Int64(); int(got) != tc.wantStatus {
				t.Errorf("exit_status = %d, want %d", got, tc.wantStatus)
			}
		})
	}
}

func TestRunWithoutHost(t *testing.T) {
	args := stepstest.Args(t, New(), `command = ["true"]`, nil)
	resp := New().Run(context.Background(), steps.RunRequest{Args: args})
	if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != "No host to run on" {
		t.Fatalf("diagnostics = %v", resp.Diagnostics)
	}
}

// TestRunStoppedIsNotMissing: a command that an interrupt or the step's
// timeout ended is said to be cancelled or timed out, never to be a
// program that may not exist.
func TestRunStoppedIsNotMissing(t *testing.T) {
	args := stepstest.Args(t, New(), `command = ["sleep", "30"]`, nil)
	cancelled, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	timedOut, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	for name, tc := range map[string]struct {
		ctx  context.Context
		want string
	}{
		"cancelled": {cancelled, "Command cancelled"},
		"timed out": {timedOut, "Command timed out"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := New().Run(tc.ctx, steps.RunRequest{Args: args, Host: local.New()})
			if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tc.want {
				t.Fatalf("diagnostics = %v, want %q", resp.Diagnostics, tc.want)
			}
			if strings.Contains(resp.Diagnostics.Error(), "program exists") {
				t.Errorf("a stopped command is said to be missing: %v", resp.Diagnostics)
			}
		})
	}
}
