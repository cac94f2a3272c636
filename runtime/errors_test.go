package runtime_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/plan"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/builtin"
)

func registry(t testing.TB) *steps.Registry {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// planPath runs the whole static pipeline the CLI runs: load, bind inputs
// (required ones unknown, as validate does), plan.
func planPath(t testing.TB, path string, in *lang.InputSet) (*plan.Plan, hcl.Diagnostics) {
	t.Helper()
	pb, diags := lang.Load(path)
	if diags.HasErrors() {
		return nil, diags
	}
	if in == nil {
		in = lang.NewInputSet()
	}
	vals, ds := lang.BindInputs(pb.Root, in, true)
	diags = append(diags, ds...)
	if diags.HasErrors() {
		return nil, diags
	}
	p, ds := runtime.Plan(context.Background(), pb, registry(t), runtime.Options{Inputs: vals, Pure: true})
	return p, append(diags, ds...)
}

// TestErrorFiles plans every file in testdata/errors and compares the
// errors with the "# ERROR: <summary>" markers on the lines they point at.
func TestErrorFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no error fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := expectedErrors(t, f)
			if len(want) == 0 {
				t.Fatalf("%s has no # ERROR: markers", f)
			}
			_, diags := planPath(t, f, nil)
			var got []string
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				line := 0
				if d.Subject != nil {
					line = d.Subject.Start.Line
				}
				got = append(got, fmt.Sprintf("%d: %s", line, d.Summary))
				if strings.Contains(d.Summary+d.Detail, "hunter2") {
					t.Errorf("diagnostic %q shows a sensitive value: %s", d.Summary, d.Detail)
				}
				if d.Detail == "" {
					t.Errorf("diagnostic %q has no detail to say how to fix it", d.Summary)
				}
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors differ\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func expectedErrors(t *testing.T, path string) []string {
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
