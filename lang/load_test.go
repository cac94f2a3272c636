package lang_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
)

// errorSummaries returns the summaries of the errors in diags, in order.
func errorSummaries(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d.Summary)
		}
	}
	return out
}

// findDiag returns the first error with the given summary, failing the
// test when there is none.
func findDiag(t *testing.T, diags hcl.Diagnostics, summary string) *hcl.Diagnostic {
	t.Helper()
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == summary {
			return d
		}
	}
	t.Fatalf("no %q error in:\n%s", summary, diagText(diags))
	return nil
}

func diagText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString("  ")
		if d.Subject != nil {
			b.WriteString(d.Subject.String() + ": ")
		}
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

func writeFile(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustLoad(t *testing.T, path string) *lang.Playbook {
	t.Helper()
	pb, diags := lang.Load(path)
	if diags.HasErrors() {
		t.Fatalf("Load(%s):\n%s", path, diagText(diags))
	}
	return pb
}

func itemNames(items []lang.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name())
	}
	return out
}

func TestLoadDirectory(t *testing.T) {
	pb := mustLoad(t, "testdata/load/multi")
	m := pb.Root

	if pb.Meta == nil || pb.Meta.Name != "multi" || pb.Meta.From != "0.10" || pb.Meta.To != "0.11.0" {
		t.Errorf("Meta = %+v, want the playbook block of a.hcl", pb.Meta)
	}
	abs, _ := filepath.Abs("testdata/load/multi")
	if pb.Dir != abs || m.Dir != abs {
		t.Errorf("Dir = %q, Root.Dir = %q, want %q", pb.Dir, m.Dir, abs)
	}
	if m.Path != nil {
		t.Errorf("root module Path = %v, want nil", m.Path)
	}
	// Items from the HCL files come in file order, then the JSON file's.
	if got, want := itemNames(m.Order), []string{"members", "slaves", "announce"}; !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	if _, ok := m.Variables["seed_node"]; !ok {
		t.Error("variable seed_node from a.hcl is missing")
	}
	if s := m.Steps["announce"]; s == nil || s.Kind != "exec" || len(s.DependsOn) != 1 {
		t.Errorf("step announce from c.hcl.json = %+v", s)
	}
	if _, ok := m.Outputs["seed"]; !ok {
		t.Error("output seed from c.hcl.json is missing")
	}
	if g := m.Groups["slaves"]; g == nil || g.Steps["upgrade"] == nil || g.Steps["upgrade"].Group != g {
		t.Errorf("group slaves = %+v, want its step upgrade pointing back at it", g)
	}

	var files []string
	for name := range pb.Files {
		files = append(files, filepath.Base(name))
	}
	slices.Sort(files)
	if want := []string{"a.hcl", "b.hcl", "c.hcl.json"}; !slices.Equal(files, want) {
		t.Errorf("parsed files = %v, want %v (variable files, test files, hidden files and others left out)", files, want)
	}
}

func TestLoadSingleFile(t *testing.T) {
	pb := mustLoad(t, "testdata/load/single.hcl")
	if pb.Meta == nil || pb.Meta.Name != "single" {
		t.Errorf("Meta = %+v, want name single", pb.Meta)
	}
	if got := itemNames(pb.Root.Order); !slices.Equal(got, []string{"hello"}) {
		t.Errorf("Order = %v, want [hello]", got)
	}
	abs, _ := filepath.Abs("testdata/load")
	if pb.Dir != abs {
		t.Errorf("Dir = %q, want the file's directory %q", pb.Dir, abs)
	}
	if len(pb.Files) != 1 {
		t.Errorf("parsed %d files, want only the one named", len(pb.Files))
	}
}

func TestLoadDefaultName(t *testing.T) {
	pb := mustLoad(t, "testdata/load/nometa")
	if pb.Meta == nil || pb.Meta.Name != "nometa" {
		t.Errorf("Meta = %+v, want the directory's name", pb.Meta)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	unreadable := filepath.Join(t.TempDir(), "broken.hcl")
	if err := os.Symlink(filepath.Join(empty, "nowhere.hcl"), unreadable); err != nil {
		t.Fatal(err)
	}
	binary := filepath.Join(t.TempDir(), "rokflow")
	if err := os.WriteFile(binary, []byte("\x7fELF\x02\x01\x01\x00"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path    string
		summary string
		detail  string
	}{
		"missing path": {
			path:    "testdata/load/does-not-exist",
			summary: "Cannot read playbook",
			detail:  "does-not-exist",
		},
		"empty directory": {
			path:    empty,
			summary: "No playbook files",
			detail:  "holds no .hcl or .hcl.json files",
		},
		"only variable files": {
			path:    "testdata/load/only-vars",
			summary: "No playbook files",
			detail:  "testdata/load/only-vars",
		},
		"a text file": {
			path:    "../README.md",
			summary: "Not a playbook",
			detail:  "A playbook is a directory of .hcl and .hcl.json files, or one such file.",
		},
		"a binary": {
			path:    binary,
			summary: "Not a playbook",
			detail:  "rokflow is not a playbook file",
		},
		"a variable file": {
			path:    "testdata/inputs/prod.vars.hcl",
			summary: "Not a playbook",
			detail:  "pass it with --var-file",
		},
		"a test file": {
			path:    "../playbooks/rok-v0.11/tests/appliance.rftest.hcl",
			summary: "Not a playbook",
			detail:  "run it with rokflow test",
		},
		"dangling symlink": {
			path:    unreadable,
			summary: "Cannot read playbook",
			detail:  "broken.hcl",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			pb, diags := lang.Load(tt.path)
			if pb == nil {
				t.Fatal("Load returned a nil playbook; callers render diagnostics with it")
			}
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1:\n%s", len(diags), diagText(diags))
			}
			d := diags[0]
			if d.Severity != hcl.DiagError || d.Summary != tt.summary {
				t.Errorf("got %q, want error %q", d.Summary, tt.summary)
			}
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail %q does not mention %q", d.Detail, tt.detail)
			}
			if strings.Contains(d.Detail, "stat ") || strings.Contains(d.Detail, "open ") {
				t.Errorf("detail %q shows the Go operation; say what is wrong instead", d.Detail)
			}
		})
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "main.hcl")); err != nil {
		t.Fatal(err)
	}
	_, diags := lang.Load(dir)
	d := findDiag(t, diags, "Cannot read file")
	if !strings.Contains(d.Detail, "main.hcl") {
		t.Errorf("detail %q does not name the file", d.Detail)
	}
}

func TestLoadSyntaxErrorsInEveryFile(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"a.hcl":      "step \"a\" {\n  uses = \n}\n",
		"b.hcl.json": "{\"step\": ",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, diags := lang.Load(dir)
	files := map[string]bool{}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			files[filepath.Base(d.Subject.Filename)] = true
		}
	}
	if !files["a.hcl"] || !files["b.hcl.json"] {
		t.Errorf("want errors in both files, got:\n%s", diagText(diags))
	}
}

func TestLoadModules(t *testing.T) {
	pb := mustLoad(t, "testdata/modules/root")
	near := pb.Root.Calls["near"]
	if near == nil || near.Module == nil {
		t.Fatalf("module near (./child) not loaded: %+v", near)
	}
	abs, _ := filepath.Abs("testdata/modules/root/child")
	if near.Module.Dir != abs {
		t.Errorf("near.Module.Dir = %q, want %q", near.Module.Dir, abs)
	}
	if !slices.Equal(near.Module.Path, []string{"near"}) {
		t.Errorf("near.Module.Path = %v, want [near]", near.Module.Path)
	}
	if near.Module.Steps["greet"] == nil || near.Module.Outputs["greeting"] == nil {
		t.Errorf("module near lacks its step or output: %+v", near.Module)
	}

	g := pb.Root.Groups["team"]
	if g == nil || g.Calls["far"] == nil || g.Calls["far"].Module == nil {
		t.Fatalf("module far (../shared/lib) inside group team not loaded: %+v", g)
	}
	far := g.Calls["far"]
	if far.Group != g {
		t.Error("module far does not point back at its group")
	}
	abs, _ = filepath.Abs("testdata/modules/shared/lib")
	if far.Module.Dir != abs {
		t.Errorf("far.Module.Dir = %q, want %q", far.Module.Dir, abs)
	}
	if far.Module.Steps["upgrade"] == nil {
		t.Error("module far lacks its step upgrade")
	}
}

func TestLoadModuleErrors(t *testing.T) {
	tests := map[string]struct {
		path string
		// want lists "summary: text in the detail" pairs, in order.
		want []string
	}{
		"module includes itself": {
			path: "testdata/modules/selfcall",
			want: []string{"Module calls itself: lib/a"},
		},
		"modules include each other": {
			path: "testdata/modules/mutual/root",
			want: []string{"Module calls itself: mutual/a"},
		},
		"root directory includes itself": {
			path: "testdata/modules/selfroot",
			want: []string{"Module calls itself: selfroot"},
		},
		"single file includes its own directory": {
			path: "testdata/modules/selfroot/main.hcl",
			want: []string{"Module calls itself: selfroot"},
		},
		"undeclared input": {
			path: "testdata/modules/badinputs",
			want: []string{
				`Unsupported argument: declares no variable named "whom". Did you mean "who"?`,
				`Missing required argument: variable "who"`,
			},
		},
		"missing input, missing module, remote source": {
			path: "testdata/modules/missing",
			want: []string{
				`Missing required argument: needs a value for its variable "who"`,
				"Module not found: does-not-exist",
				`Unsupported module source: must start with "./" or "../"`,
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			pb, diags := lang.Load(tt.path)
			if pb == nil {
				t.Fatal("Load returned a nil playbook")
			}
			var errs []*hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d)
				}
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(tt.want), diagText(diags))
			}
			for i, w := range tt.want {
				summary, detail, _ := strings.Cut(w, ": ")
				d := errs[i]
				if d.Summary != summary || !strings.Contains(d.Detail, detail) {
					t.Errorf("error %d = %q: %q, want %q containing %q", i, d.Summary, d.Detail, summary, detail)
				}
				if d.Subject == nil {
					t.Errorf("error %q has no subject to point at", d.Summary)
				}
			}
		})
	}
}

func TestLoadModuleErrorSubjects(t *testing.T) {
	_, diags := lang.Load("testdata/modules/badinputs")
	d := findDiag(t, diags, "Unsupported argument")
	if d.Subject.Start.Line != 3 || !strings.HasSuffix(d.Subject.Filename, filepath.Join("badinputs", "main.hcl")) {
		t.Errorf("subject %s, want the name of the whom argument at badinputs/main.hcl:3", d.Subject)
	}
	_, diags = lang.Load("testdata/modules/selfcall")
	d = findDiag(t, diags, "Module calls itself")
	if d.Subject.Start.Line != 6 || !strings.HasSuffix(d.Subject.Filename, filepath.Join("lib", "a", "main.hcl")) {
		t.Errorf("subject %s, want the source of the call at lib/a/main.hcl:6", d.Subject)
	}
}
