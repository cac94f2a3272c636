package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// TestE2ESecretsNeverLeak runs the v0.11 upgrade of RokE on Ganeti, whose
// RAPI password and RokE root password are sensitive inputs, and searches
// everything rokflow printed and every file it wrote (journal, approvals,
// plan file) for either secret.
func TestE2ESecretsNeverLeak(t *testing.T) {
	e := startSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 1, JobDelay: sim.Duration(10 * time.Millisecond)})
	var secrets []string
	for _, kv := range e.env {
		if _, v, ok := strings.Cut(kv, "="); ok && len(v) >= 6 {
			secrets = append(secrets, v)
		}
	}
	if len(secrets) != 2 {
		t.Fatalf("want the RAPI and RokE passwords, have %d secrets", len(secrets))
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	var printed strings.Builder
	runs := [][]string{
		{"validate", shipped},
		{"plan", shipped, "--var-file", e.vars, "--discover"},
		{"plan", shipped, "--var-file", e.vars, "--json", "--out", planFile},
		{"graph", shipped, "--var-file", e.vars},
		append(e.applyArgs(shipped), "--json"),
		{"state", "show", shipped, "--state", e.state},
		{"state", "show", shipped, "--state", e.state, "--json"},
		{"state", "list", shipped, "--state", e.state, "--json"},
	}
	for _, args := range runs {
		code, out, stderr := runChild(t, e.rokflow(args...), 3*time.Minute)
		if code != 0 {
			t.Fatalf("rokflow %s exited %d:\n%s\n%s", strings.Join(args, " "), code, lastLines(out, 30), stderr)
		}
		for _, s := range secrets {
			if i := strings.Index(out+stderr, s); i >= 0 {
				ctx := (out + stderr)[max(0, i-300):i]
				t.Errorf("rokflow %s printed a secret, after: %q", args[0], ctx)
			}
		}
		printed.WriteString(out + stderr)
	}
	all := printed.String()
	if !strings.Contains(all, "(sensitive)") {
		t.Fatal("nothing was shown masked; the test would not see a leak")
	}
	files := []string{planFile}
	stateDir := strings.TrimPrefix(e.state, "file://")
	_ = filepath.WalkDir(stateDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 3 {
		t.Fatalf("found only %v; the journal was not written where expected", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds a secret", f)
			}
		}
	}
}

// TestE2ESecretsThroughOutputs applies, on this machine, a playbook whose
// first step gets a password through env and prints it as it is and
// upper-cased, and whose second step uses what the first printed; and a
// playbook whose step fails after printing the password upper-cased. It
// searches everything rokflow printed (apply as text with -V and as
// JSON, plan, state show as text and JSON) and journal.jsonl for either
// form of the password.
func TestE2ESecretsThroughOutputs(t *testing.T) {
	const secret = "hunter2-canary-8642"
	forms := []string{secret, strings.ToUpper(secret)}
	const pw = `
variable "pw" {
  type      = string
  sensitive = true
}
`
	used := writePlaybook(t, pw+`
step "login" {
  uses   = "shell"
  script = "echo \"pw=$PW\"; echo \"$PW\" | tr a-z A-Z"
  env    = { PW = var.pw }
}

step "use" {
  uses   = "shell"
  script = "printf '%s\\n' \"$1\" | tr a-z A-Z"
  args   = [step.login.outputs.stdout]
}
`)
	failing := writePlaybook(t, pw+`
step "login" {
  uses    = "exec"
  command = ["sh", "-c", "echo \"$PW\" | tr a-z A-Z; echo \"$PW\" | tr a-z A-Z >&2; exit 3"]
  env     = { PW = var.pw }
}
`)
	env := map[string]string{"ROKFLOW_VAR_pw": secret}
	runs := []struct {
		args []string
		code int
		want string // shown, so the search is not vacuous
	}{
		{[]string{"plan", used}, 0, "(sensitive)"},
		{[]string{"apply", used, "-V"}, 0, "output lines withheld"},
		{[]string{"apply", used, "--new-run", "--json"}, 0, `"type":"output_withheld"`},
		{[]string{"state", "show", used}, 0, "(sensitive)"},
		{[]string{"state", "show", used, "--json"}, 0, "(sensitive)"},
		{[]string{"apply", failing, "-V"}, 1, "output is not quoted"},
		{[]string{"apply", failing, "--json"}, 1, `"type":"output_withheld"`},
		{[]string{"state", "show", failing}, 0, "exited with status 3"},
		{[]string{"state", "show", failing, "--json"}, 0, "exited with status 3"},
	}
	for _, r := range runs {
		code, out, stderr := run(t, env, r.args...)
		what := strings.Join(r.args[:2], " ")
		if code != r.code {
			t.Fatalf("rokflow %v exited %d, want %d:\n%s\n%s", r.args, code, r.code, out, stderr)
		}
		if !strings.Contains(out+stderr, r.want) {
			t.Errorf("rokflow %v does not show %q:\n%s\n%s", r.args, r.want, out, stderr)
		}
		for _, s := range forms {
			if strings.Contains(out+stderr, s) {
				t.Errorf("rokflow %s printed %q:\n%s\n%s", what, s, out, stderr)
			}
		}
	}
	for _, dir := range []string{used, failing} {
		b, err := os.ReadFile(filepath.Join(dir, ".rokflow", "journal.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if dir == used && !strings.Contains(string(b), `"masked":true`) {
			t.Errorf("%s: no outputs were left out of the journal; the search would not see a leak", dir)
		}
		for _, s := range forms {
			if strings.Contains(string(b), s) {
				t.Errorf("%s/.rokflow/journal.jsonl holds %q", dir, s)
			}
		}
	}
}
