package playtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/sim"
)

// TestLoadErrors loads testdata/errors and compares its errors with the
// "# ERROR: <summary>" markers on the lines they point at.
func TestLoadErrors(t *testing.T) {
	path := "testdata/errors/tests/errors.rftest.hcl"
	want := markers(t, path)
	_, diags := Load("testdata/errors")
	var got []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line
			if !strings.HasSuffix(d.Subject.Filename, filepath.Join("tests", "errors.rftest.hcl")) {
				t.Errorf("%s: the error points at %s, not at the test file", d.Summary, d.Subject.Filename)
			}
		}
		if d.Detail == "" {
			t.Errorf("diagnostic %q has no detail to say how to fix it", d.Summary)
		}
		got = append(got, fmt.Sprintf("%d: %s", line, d.Summary))
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors differ\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, d := range diags {
		if d.Summary == "Unknown platform" && !strings.Contains(d.Detail, `Did you mean "appliance"?`) {
			t.Errorf("a misspelt platform gets no suggestion: %s", d.Detail)
		}
		if d.Summary == "Undeclared variable" && !strings.Contains(d.Detail, `Did you mean "gate_check_interval"?`) {
			t.Errorf("a misspelt variable gets no suggestion: %s", d.Detail)
		}
	}
}

func markers(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if _, msg, ok := strings.Cut(sc.Text(), "# ERROR: "); ok {
			want = append(want, fmt.Sprintf("%d: %s", n, strings.TrimSpace(msg)))
		}
	}
	sort.Strings(want)
	return want
}

// TestLoad decodes every attribute of a case, and finds test files in
// tests/ and beside the playbook, in that order.
func TestLoad(t *testing.T) {
	s, diags := Load("testdata/ok")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var names []string
	for _, c := range s.Cases {
		names = append(names, c.Name)
	}
	if want := []string{"defaults", "everything", "beside"}; !slices.Equal(names, want) {
		t.Fatalf("cases %v, want %v", names, want)
	}
	if _, ok := s.Playbook.Root.Steps["beside"]; ok || s.Playbook.Meta.Name != "ok" {
		t.Errorf("the playbook took a test file for code")
	}
	d := s.Cases[0]
	if d.Expect.Outcome != Succeeded || d.Timeout != defaultTimeout || d.Simulator.Platform != sim.PlatformAppliance || !d.Simulator.AutoOperator ||
		d.Simulator.OperatorDelay != defaultOperatorDelay || d.Simulator.JobDelay != defaultJobDelay {
		t.Errorf("defaults: %+v", d)
	}
	if v := d.Variables["gate_check_interval"]; v.AsString() != "100ms" {
		t.Errorf("the file's variables do not reach a case: %#v", d.Variables)
	}
	e := s.Cases[1]
	sm := e.Simulator
	if e.Description == "" || e.Timeout != 2*time.Minute || sm.Platform != "ganeti" || sm.Hosts != 4 || sm.Guests != 3 || sm.Cluster != "lab" ||
		!slices.Equal(sm.Candidates, []string{"roke1.lab"}) || sm.Release != "0.10.2" || !slices.Equal(sm.UpgradeTo, []string{"0.11.0-2"}) ||
		sm.AutoOperator || sm.OperatorDelay != time.Second || sm.JobDelay != 100*time.Millisecond {
		t.Errorf("everything: %+v", e)
	}
	f := sm.Faults
	if !slices.Equal(f.FailUpgradeNode, []string{"roke3.lab"}) || !slices.Equal(f.NoPowerOn, []string{"roke4.lab"}) ||
		f.Slow["roke2.lab"] != sim.Duration(250*time.Millisecond) || len(f.FailJobs) != 1 || f.FailJobs[0] != (sim.JobFault{Op: "reinstall", Target: "roke2.gnt.lab", Times: 1}) {
		t.Errorf("faults: %+v", f)
	}
	if v := e.Variables["slave_max_failures"]; !v.RawEquals(ctyNumber(0)) {
		t.Errorf("the case's variables do not win over the file's: %#v", e.Variables)
	}
	if e.Expect.Outcome != Failed || len(e.Expect.FailedAt) != 1 || !e.Expect.FailedAt[0].Match(`group.slaves["rok2.sim"].module.node.step.upgrade_node`) {
		t.Errorf("failed_at without an outcome expects a failure: %+v", e.Expect)
	}
	if len(e.Asserts) != 2 || e.Asserts[0].ErrorMessage == nil || e.Asserts[1].ErrorMessage != nil {
		t.Errorf("asserts: %+v", e.Asserts)
	}
	spec, err := sm.Spec()
	if err != nil || spec.FromVersion != "0.10.2-1" || !slices.Equal(spec.Upgrades, []string{"0.11.0"}) || spec.Platform != "ganeti" || spec.AutoOperator {
		t.Errorf("Spec() = %+v, %v", spec, err)
	}
	if s.Cases[2].Expect.Outcome != Refused || !strings.HasSuffix(s.Cases[2].File, "beside.rftest.hcl") {
		t.Errorf("beside: %+v", s.Cases[2])
	}
}

// TestNoTests says where tests go when a playbook has none.
func TestNoTests(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("playbook {\n  name = \"x\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(dir)
	if !diags.HasErrors() || diags[0].Summary != "No tests" || !strings.Contains(diags[0].Detail, "tests/*.rftest.hcl") {
		t.Errorf("diags = %v", diags)
	}
}

func ctyNumber(n int64) cty.Value { return cty.NumberIntVal(n) }
