package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const loggedPlaybook = `
variable "token" {
  type      = string
  sensitive = true
}
step "first" {
  uses    = "exec"
  command = ["sh", "-c", "sleep 0.05; echo \"$TOKEN\""]
  env     = { TOKEN = var.token }
}
step "second" {
  uses       = "exec"
  command    = ["echo", "second"]
  depends_on = [step.first]
}
`

// TestDebugLog applies a playbook with ROKFLOW_LOG=debug into a file:
// the command, the state, the lock and each step with its time are there,
// and the secret given with --var is not.
func TestDebugLog(t *testing.T) {
	const secret = "hunter2-XYZZY"
	dir := writePlaybook(t, loggedPlaybook)
	logFile := filepath.Join(t.TempDir(), "rokflow.log")
	env := map[string]string{"ROKFLOW_LOG": "debug", "ROKFLOW_LOG_PATH": logFile}
	code, out, stderr := run(t, env, "apply", dir, "--var", "token="+secret)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, stderr)
	}
	if strings.Contains(stderr, "level=") {
		t.Errorf("the log went to stderr as well as to %s:\n%s", logFile, stderr)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{
		`level=INFO msg=rokflow version=test`, `command="apply <path>"`,
		`msg="state opened" state=file://` + filepath.Join(dir, ".rokflow"),
		`msg="lock taken"`, `msg=run_start`,
		`msg=step_start run=`, `address=step.first kind=exec target=local attempt=1`,
		`msg=step_end run=`, `address=step.second kind=exec target=local status=succeeded attempt=1 elapsed=`,
		`msg=run_end`, `msg="lock released"`, `msg=exit code=0`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not hold %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, secret) || strings.Contains(log, "token=") {
		t.Errorf("the log holds the sensitive input:\n%s", log)
	}

	// Appended to, not replaced.
	if code, _, stderr := run(t, env, "validate", dir); code != 0 {
		t.Fatalf("validate: exit %d\n%s", code, stderr)
	}
	b, _ = os.ReadFile(logFile)
	if !strings.HasPrefix(string(b), log) || !strings.Contains(string(b)[len(log):], `command="validate <path>"`) {
		t.Errorf("the second command did not append to the log:\n%s", b)
	}
}

func TestDebugLogLevels(t *testing.T) {
	dir := writePlaybook(t, loggedPlaybook)
	tests := map[string]struct {
		level string
		want  []string
		not   []string
	}{
		"off":        {"", nil, []string{"level="}},
		"info":       {"info", []string{"level=INFO msg=rokflow", `msg="lock taken"`}, []string{"level=DEBUG"}},
		"debug":      {"DEBUG", []string{"level=DEBUG msg=step_start"}, nil},
		"error":      {"error", nil, []string{"level="}},
		"not a word": {"verbose", []string{"ROKFLOW_LOG=verbose is not a level", "level=DEBUG msg=step_start"}, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, map[string]string{"ROKFLOW_LOG": tt.level}, "apply", dir, "--var", "token=x", "--new-run")
			if code != 0 {
				t.Fatalf("apply: exit %d\n%s%s", code, out, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not hold %q:\n%s", w, stderr)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr holds %q:\n%s", n, stderr)
				}
			}
		})
	}
	code, _, stderr := run(t, map[string]string{"ROKFLOW_LOG": "debug", "ROKFLOW_LOG_PATH": "/does/not/exist/rokflow.log"}, "validate", dir)
	if code != 1 || !strings.Contains(stderr, "cannot open the log file ROKFLOW_LOG_PATH=/does/not/exist/rokflow.log: no such file or directory") {
		t.Errorf("a log file that cannot be opened: exit %d, want 1 and why\n%s", code, stderr)
	}
}
