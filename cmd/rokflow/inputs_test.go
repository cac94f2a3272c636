package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const listPlaybook = `
variable "nodes" {
  type = list(string)
}
step "hello" {
  for_each = toset(var.nodes)
  uses     = "exec"
  command  = ["echo", each.key]
}
`

// TestVarHelpExample runs the --var example that plan --help gives: an
// HCL list holds commas, which must reach the variable whole.
func TestVarHelpExample(t *testing.T) {
	code, help, stderr := run(t, nil, "plan", "--help")
	if code != 0 {
		t.Fatalf("plan --help: exit %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`--var '([^']*)'`).FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("plan --help shows no --var example:\n%s", help)
	}
	if !strings.Contains(m[1], ",") {
		t.Fatalf("the help's example %q holds no comma; it no longer shows what this test is about", m[1])
	}
	dir := writePlaybook(t, listPlaybook)
	code, out, stderr := run(t, nil, "plan", dir, "--var", m[1])
	if code != 0 {
		t.Fatalf("plan --var %s: exit %d\n%s", m[1], code, stderr)
	}
	for _, want := range []string{`step.hello["a"]`, `step.hello["b"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan has no %s:\n%s", want, out)
		}
	}
}

// TestRepeatableFlagsKeepCommas: --var (a map here), --var-file (a file
// name) and --approve (a key) take one value per flag, commas and all.
func TestRepeatableFlagsKeepCommas(t *testing.T) {
	code, out, stderr := run(t, nil, "plan", "../../examples/02-rolling", "--var", `nodes={a = "10.0.0.1", b = "10.0.0.2"}`)
	if code != 0 || !strings.Contains(out, `group.upgrade["b"]`) {
		t.Errorf("plan --var with a map: exit %d\n%s%s", code, out, stderr)
	}

	dir := writePlaybook(t, listPlaybook)
	vars := filepath.Join(t.TempDir(), "a,b.vars.hcl")
	if err := os.WriteFile(vars, []byte(`nodes = ["x", "y"]`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = run(t, nil, "plan", dir, "--var-file", vars)
	if code != 0 || !strings.Contains(out, `step.hello["y"]`) {
		t.Errorf("plan --var-file %s: exit %d\n%s%s", vars, code, out, stderr)
	}

	gated := writePlaybook(t, `
step "gate" {
  for_each     = toset(["a,b"])
  uses         = "manual"
  instructions = "Check ${each.key}."
}
step "after" {
  uses       = "exec"
  command    = ["echo", "after the gate"]
  depends_on = [step.gate]
}
`)
	code, out, stderr = run(t, nil, "apply", gated, "--approve", `step.gate["a,b"]`)
	if code != 0 {
		t.Errorf("apply --approve with a comma in the key: exit %d, want 0\n%s%s", code, out, stderr)
	}
}

// TestUndeclaredEnvironmentVariable: after `. sim.env` the environment
// holds the simulator's passwords, which examples do not declare; they
// are ignored, while the same name from --var stays an error.
func TestUndeclaredEnvironmentVariable(t *testing.T) {
	env := map[string]string{"ROKFLOW_VAR_roke_password": "s3cret", "ROKFLOW_VAR_rapi_password": "s3cret"}
	for _, cmd := range []string{"validate", "plan"} {
		code, out, stderr := run(t, env, cmd, "../../examples/01-variables")
		if code != 0 {
			t.Errorf("%s with undeclared ROKFLOW_VAR_*: exit %d\n%s%s", cmd, code, out, stderr)
		}
		if stderr != "" {
			t.Errorf("%s: want nothing on stderr, got:\n%s", cmd, stderr)
		}
	}
	code, _, stderr := run(t, map[string]string{"ROKFLOW_VAR_enviroment": "staging"}, "plan", "../../examples/01-variables")
	if code != 0 || !strings.Contains(stderr, "Warning: Environment variable for undeclared variable") || !strings.Contains(stderr, "ROKFLOW_VAR_environment?") {
		t.Errorf("a misspelt environment variable: exit %d, want 0 and a warning naming ROKFLOW_VAR_environment:\n%s", code, stderr)
	}
	code, _, stderr = run(t, nil, "plan", "../../examples/01-variables", "--var", "roke_password=x")
	if code != 1 || !strings.Contains(stderr, "Value for undeclared variable") {
		t.Errorf("--var for an undeclared variable: exit %d, want 1 and an error:\n%s", code, stderr)
	}
}

// TestVarFileDiagnostics: whatever is wrong with a --var-file is a
// diagnostic naming the file (and the line, when it has one), exit 1,
// not a usage error.
func TestVarFileDiagnostics(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.vars.hcl")
	if err := os.WriteFile(bad, []byte("environment = \"staging\"\nreplicas = = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "secret.vars.hcl")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), unreadable); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		file string
		want []string
	}{
		"missing":        {"nope.vars.hcl", []string{"Error: Cannot read variable file", "nope.vars.hcl: no such file or directory"}},
		"unreadable":     {unreadable, []string{"Error: Cannot read variable file", "secret.vars.hcl"}},
		"a directory":    {dir, []string{"Error: Not a variable file"}},
		"bad HCL":        {bad, []string{"Error: ", "on " + bad + " line 2"}},
		"wrong name":     {"../../README.md", []string{"Error: Not a variable file", "README.md is not a variable file", "*.hcl", "*.json"}},
		"a plan, say":    {"plan.out", []string{"Error: Not a variable file"}},
		"undeclared var": {"testdata/undeclared.vars.hcl", []string{"Error: Value for undeclared variable", "testdata/undeclared.vars.hcl line 1"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, nil, "plan", "../../examples/01-variables", "--var-file", tt.file)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not hold %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "--help") || strings.Contains(stderr, "stat ") {
				t.Errorf("stderr shows a raw error or usage hint:\n%s", stderr)
			}
		})
	}
}
