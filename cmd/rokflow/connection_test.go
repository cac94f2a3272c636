package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/steps/transport/connect"
)

// TestValidateRefusesConnectionTypos checks that a misspelt connection
// attribute fails validate with the nearest name, on its line.
func TestValidateRefusesConnectionTypos(t *testing.T) {
	code, _, stderr := run(t, nil, "validate", "../../runtime/testdata/errors/connection-attrs.hcl")
	if code != exitFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitFailed, stderr)
	}
	for _, want := range []string{
		`connection-attrs.hcl line 5`, `Did you mean "transport"?`,
		`connection-attrs.hcl line 6`, `Did you mean "user"?`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
}

// TestPlanRefusesRemoteWithoutConnection checks that a target given as an
// input is checked once it is known: validate passes, plan fails.
func TestPlanRefusesRemoteWithoutConnection(t *testing.T) {
	const dir = "../../runtime/testdata/connection/input-target"
	if code, _, stderr := run(t, nil, "validate", dir); code != exitOK {
		t.Fatalf("validate: exit code %d; stderr:\n%s", code, stderr)
	}
	code, _, stderr := run(t, nil, "plan", dir, "--var", "node=rok2.prod")
	if code != exitFailed || !strings.Contains(stderr, "Remote target without a connection") || !strings.Contains(stderr, `"rok2.prod"`) {
		t.Fatalf("plan: exit code %d; stderr:\n%s", code, stderr)
	}
}

// TestApplyNeverRunsARemoteStepHere applies a playbook whose step targets a
// host discovered at run time with no connection to it: the step must
// fail, not run on this machine.
func TestApplyNeverRunsARemoteStepHere(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran-here")
	src := `
step "find" {
  uses    = "exec"
  command = ["printf", "db1"]
}

step "remote" {
  uses    = "exec"
  on      = step.find.outputs.stdout
  command = ["touch", "` + marker + `"]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, nil, "apply", "--auto-approve", dir)
	if code != exitFailed || !strings.Contains(stderr, "Remote target without a connection") {
		t.Errorf("apply: exit code %d; stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the step for db1 ran on this machine")
	}
}

// TestStepsConnection checks that `rokflow steps connection` documents
// every attribute of the connection block, as text and as JSON.
func TestStepsConnection(t *testing.T) {
	code, out, _ := run(t, nil, "steps", "connection")
	if code != exitOK {
		t.Fatalf("steps connection: exit code %d", code)
	}
	for _, name := range connect.Schema.AttributeNames() {
		if !strings.Contains(out, "\n  "+name+" ") || connect.Schema.Attributes[name].Description == "" {
			t.Errorf("steps connection does not document %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, `"localhost"`) {
		t.Errorf("steps connection does not say what this machine is:\n%s", out)
	}
	if _, list, _ := run(t, nil, "steps"); !strings.Contains(list, `"rokflow steps connection"`) {
		t.Errorf("the kind list does not point at the connection topic:\n%s", list)
	}
	code, out, _ = run(t, nil, "steps", "--json")
	var doc struct {
		Blocks map[string]struct {
			Block struct {
				Attributes map[string]struct {
					TypeText string `json:"type_text"`
				}
			}
		}
	}
	if code != exitOK || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("steps --json: exit code %d", code)
	}
	if got := doc.Blocks["connection"].Block.Attributes["port"].TypeText; got != "number" {
		t.Errorf("steps --json: connection port type %q, want number", got)
	}
}
