package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func sampleDiags(t *testing.T) (map[string]*hcl.File, hcl.Diagnostics) {
	t.Helper()
	src := "step \"a\" {\n  uses = exec\n}\n"
	f, diags := hclsyntax.ParseConfig([]byte(src), "main.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	subject := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 2, Column: 10, Byte: 20}, End: hcl.Pos{Line: 2, Column: 14, Byte: 24}}
	return map[string]*hcl.File{"main.hcl": f}, hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Unknown step kind", Detail: "No kind exec; did you mean exec.run?", Subject: &subject},
		{Severity: hcl.DiagWarning, Summary: "Deprecated", Detail: "Use something else."},
	}
}

func TestDiagnosticsWritesSnippetsAndCountsErrors(t *testing.T) {
	files, diags := sampleDiags(t)
	var out, errw bytes.Buffer
	n := Diagnostics(Streams{Out: &out, Err: &errw}, files, diags)
	if n != 1 {
		t.Errorf("%d errors, want 1", n)
	}
	if out.Len() != 0 {
		t.Errorf("diagnostics went to the output stream: %q", out.String())
	}
	got := errw.String()
	for _, want := range []string{"Error: Unknown step kind", "on main.hcl line 2", "uses = exec", "Warning: Deprecated", "Use something else."} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\x1b[") {
		t.Errorf("color without Color:\n%q", got)
	}
	if n := Diagnostics(Streams{Out: &out, Err: &errw}, files, nil); n != 0 {
		t.Errorf("no diagnostics: %d errors", n)
	}
}

func TestValidateDoc(t *testing.T) {
	_, diags := sampleDiags(t)
	counts := &ValidateCounts{Steps: 3, Instances: 4}
	doc := NewValidateDoc(diags, counts)
	if doc.Valid || doc.ErrorCount != 1 || doc.WarningCount != 1 || doc.Counts != nil {
		t.Errorf("invalid playbook: %+v", doc)
	}
	d := doc.Diagnostics[0]
	if d.Severity != "error" || d.Range == nil || d.Range.Start != (PosJSON{Line: 2, Column: 10, Byte: 20}) || d.Range.Filename != "main.hcl" {
		t.Errorf("first diagnostic %+v", d)
	}
	if w := doc.Diagnostics[1]; w.Severity != "warning" || w.Range != nil {
		t.Errorf("second diagnostic %+v", w)
	}

	valid := NewValidateDoc(diags[1:], counts)
	if !valid.Valid || valid.Counts != counts {
		t.Errorf("a playbook with only warnings: %+v", valid)
	}

	var b bytes.Buffer
	if err := ValidateJSON(&b, NewValidateDoc(nil, counts)); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if ds, ok := m["diagnostics"].([]any); !ok || len(ds) != 0 {
		t.Errorf("no diagnostics encode as %v, want []", m["diagnostics"])
	}
	if m["valid"] != true || m["counts"].(map[string]any)["steps"] != float64(3) {
		t.Errorf("document %v", m)
	}
}
