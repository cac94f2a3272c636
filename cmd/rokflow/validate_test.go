package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/sim"
)

// TestValidateCounts: validate says how many steps the playbook has and
// how many of their instances it knows, and the steps it counts are the
// ones plan shows, with discovery too: templates stand for the elements
// of a for_each over a discovered list, which plan --discover expands.
func TestValidateCounts(t *testing.T) {
	const rok = "../../playbooks/rok-v0.11"
	tests := map[string]string{
		"../../examples/02-rolling": "rolling is valid: 5 steps, planned as 21 step instances.\n",
		rok:                         "rok-v0.11 is valid: 42 steps, planned as 25 step instances and 17 templates for elements known only at run time (plan --discover lists each element).\n",
	}
	for path, want := range tests {
		code, out, stderr := run(t, nil, "validate", path)
		if code != 0 || out != want {
			t.Errorf("validate %s: exit %d\n got: %s want: %s%s", path, code, out, want, stderr)
		}
	}
	code, out, stderr := run(t, nil, "validate", "--json", rok)
	if code != 0 {
		t.Fatalf("validate --json: exit %d\n%s", code, stderr)
	}
	var doc views.ValidateDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Counts == nil {
		t.Fatalf("validate --json: %v\n%s", err, out)
	}
	if got := (views.ValidateCounts{Steps: 42, Instances: 25, Templates: 17}); *doc.Counts != got {
		t.Errorf("validate --json counts %+v, want %+v", *doc.Counts, got)
	}

	e := startSim(t, sim.Spec{})
	env := map[string]string{}
	for _, kv := range e.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, args := range [][]string{
		{"plan", "--json", rok, "--var-file", rok + "/example.vars.hcl"},
		{"plan", "--json", rok, "--var-file", e.vars, "--discover"},
	} {
		code, out, stderr := run(t, env, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, code, stderr)
		}
		var p struct{ Instances []struct{ Address string } }
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		steps := map[string]bool{}
		for _, i := range p.Instances {
			steps[keyed.ReplaceAllString(i.Address, "[*]")] = true
		}
		if len(steps) != doc.Counts.Steps {
			t.Errorf("%q: validate counts %d steps, the plan has %d", args, doc.Counts.Steps, len(steps))
		}
	}
}

func TestValidateJSON(t *testing.T) {
	tests := map[string]struct {
		args     []string
		env      map[string]string
		code     int
		errors   int
		warnings int
		summary  string
		file     string
		line     int
	}{
		"valid": {args: []string{"../../examples/02-rolling"}},
		"a cycle": {
			args: []string{"../../runtime/testdata/errors/cycle.hcl"}, code: 1, errors: 1,
			summary: "Dependency cycle", file: "../../runtime/testdata/errors/cycle.hcl", line: 1,
		},
		"not a playbook": {args: []string{"../../README.md"}, code: 1, errors: 1, summary: "Not a playbook"},
		"a bad variable file": {
			args: []string{"../../examples/01-variables", "--var-file", "testdata/undeclared.vars.hcl"}, code: 1, errors: 1,
			summary: "Value for undeclared variable", file: "testdata/undeclared.vars.hcl", line: 1,
		},
		"a warning": {
			args: []string{"../../examples/01-variables"}, env: map[string]string{"ROKFLOW_VAR_enviroment": "staging"}, warnings: 1,
			summary: "Environment variable for undeclared variable",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, tt.env, append([]string{"validate", "--json"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if stderr != "" {
				t.Errorf("stderr is not empty:\n%s", stderr)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("not one JSON document: %v\n%s", err, out)
			}
			if doc["format_version"] != "1.0" || doc["valid"] != (tt.errors == 0) ||
				doc["error_count"] != float64(tt.errors) || doc["warning_count"] != float64(tt.warnings) {
				t.Errorf("format_version, valid, error_count, warning_count = %v, %v, %v, %v", doc["format_version"], doc["valid"], doc["error_count"], doc["warning_count"])
			}
			diags, ok := doc["diagnostics"].([]any)
			if !ok || len(diags) != tt.errors+tt.warnings {
				t.Fatalf("diagnostics = %v, want %d", doc["diagnostics"], tt.errors+tt.warnings)
			}
			if _, counted := doc["counts"]; counted != (tt.errors == 0) {
				t.Errorf("counts present = %v for a valid = %v playbook", counted, tt.errors == 0)
			}
			if tt.summary == "" {
				return
			}
			d := diags[0].(map[string]any)
			if d["summary"] != tt.summary || d["detail"] == "" {
				t.Errorf("diagnostic %v, want %q with a detail", d, tt.summary)
			}
			wantSeverity := "error"
			if tt.errors == 0 {
				wantSeverity = "warning"
			}
			if d["severity"] != wantSeverity {
				t.Errorf("severity %v, want %s", d["severity"], wantSeverity)
			}
			r, _ := d["range"].(map[string]any)
			if tt.file == "" {
				if r != nil {
					t.Errorf("range %v, want none", r)
				}
				return
			}
			start, _ := r["start"].(map[string]any)
			end, _ := r["end"].(map[string]any)
			if r["filename"] != tt.file || start["line"] != float64(tt.line) || start["column"] == nil || start["byte"] == nil || end["byte"] == nil {
				t.Errorf("range %v, want %s line %d with columns and bytes", r, tt.file, tt.line)
			}
		})
	}
	if code, out, _ := run(t, nil, "validate", "--json", "../../examples/02-rolling"); code != 0 || !strings.Contains(out, `"templates": 0`) {
		t.Errorf("the counts of a valid playbook: %s", out)
	}
}
