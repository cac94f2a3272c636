package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

func TestConformance(t *testing.T) {
	for _, k := range []steps.Kind{NewReplace(), NewWrite()} {
		t.Run(k.Schema().Name, func(t *testing.T) { stepstest.CheckKind(t, k) })
	}
}

const daemonsConf = `OPENSTORE_CONTROLLER=tcp://10.0.0.1:7000
ROK_DAEMON_ARGS="-C tcp://10.0.0.1:7000 -L tcp://0.0.0.0:7001"
# unrelated line
`

// tree writes files (relative name → contents) into a new directory and
// returns it; every file gets mode 0640 to show modes are kept.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func run(t *testing.T, k steps.Kind, args cty.Value) steps.RunResponse {
	t.Helper()
	return k.Run(context.Background(), steps.RunRequest{Args: args, Host: local.New()})
}

func strs(t *testing.T, v cty.Value, dir string) []string {
	t.Helper()
	out := []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		rel, _ := filepath.Rel(dir, ev.AsString())
		out = append(out, rel)
	}
	return out
}

func TestReplaceRun(t *testing.T) {
	tests := map[string]struct {
		files       map[string]string
		src         string // %s is the directory
		wantFiles   []string
		wantChanged []string
		wantAfter   map[string]string // contents after the run
		wantError   string
		wantWarning string
	}{
		"literal replace over a glob, like sed -i s/tcp:/http:/g": {
			files: map[string]string{"kvm-ifup": "URL=tcp://h:1\n", "qemu-kvm": "no endpoint\n", "daemons.conf": daemonsConf},
			src: `paths = ["%[1]s/*kvm*", "%[1]s/daemons.conf"]
				pattern = "tcp:"
				replacement = "http:"`,
			wantFiles:   []string{"kvm-ifup", "qemu-kvm", "daemons.conf"},
			wantChanged: []string{"kvm-ifup", "daemons.conf"},
			wantAfter: map[string]string{
				"kvm-ifup":                 "URL=http://h:1\n",
				"kvm-ifup.rokflow-bak":     "URL=tcp://h:1\n",
				"qemu-kvm":                 "no endpoint\n",
				"daemons.conf":             strings.ReplaceAll(daemonsConf, "tcp:", "http:"),
				"daemons.conf.rokflow-bak": daemonsConf,
			},
		},
		"regex with groups": {
			files: map[string]string{"daemons.conf": "ARGS=--bind-http 0.0.0.0:80 -x\n"},
			src: `paths = ["%s/daemons.conf"]
				regex = true
				pattern = "--bind-http (\\S+)"
				replacement = "--controller-listen role=slave,$1"`,
			wantFiles:   []string{"daemons.conf"},
			wantChanged: []string{"daemons.conf"},
			wantAfter:   map[string]string{"daemons.conf": "ARGS=--controller-listen role=slave,0.0.0.0:80 -x\n"},
		},
		"no backup": {
			files: map[string]string{"a.conf": "tcp://x\n"},
			src: `paths = ["%s/a.conf"]
				pattern = "tcp:"
				replacement = "http:"
				backup = false`,
			wantFiles:   []string{"a.conf"},
			wantChanged: []string{"a.conf"},
			wantAfter:   map[string]string{"a.conf": "http://x\n", "a.conf.rokflow-bak": ""},
		},
		"an existing backup is kept": {
			files: map[string]string{"a.conf": "tcp://x\n", "a.conf.rokflow-bak": "original\n"},
			src: `paths = ["%s/a.*"]
				pattern = "tcp:"
				replacement = "http:"`,
			wantFiles:   []string{"a.conf"},
			wantChanged: []string{"a.conf"},
			wantAfter:   map[string]string{"a.conf": "http://x\n", "a.conf.rokflow-bak": "original\n"},
		},
		"missing files are skipped": {
			src: `paths = ["%s/nothing*"]
				pattern = "tcp:"
				replacement = "http:"`,
			wantFiles:   []string{},
			wantChanged: []string{},
		},
		"must_match refuses a glob that matches nothing": {
			files: map[string]string{"a.conf": "tcp://x\n"},
			src: `paths = ["%[1]s/a.conf", "%[1]s/nothing*"]
				pattern = "tcp:"
				replacement = "http:"
				must_match = true`,
			wantError: "No file matches path",
			wantAfter: map[string]string{"a.conf": "tcp://x\n"},
		},
		"an edit that is not idempotent is refused and nothing is written": {
			files: map[string]string{"a.conf": "port\n", "b.conf": "port port\n"},
			src: `paths = ["%s/*.conf"]
				pattern = "port"
				replacement = "port=1 port"`,
			wantError: "Replacement is not idempotent",
			wantAfter: map[string]string{"a.conf": "port\n", "b.conf": "port port\n", "a.conf.rokflow-bak": ""},
		},
		"invalid regex": {
			files: map[string]string{"a.conf": "x\n"},
			src: `paths = ["%s/a.conf"]
				regex = true
				pattern = "(unclosed"
				replacement = "x"`,
			wantError: "Invalid regular expression",
		},
		"empty pattern": {
			src: `paths = ["%s/a.conf"]
				pattern = ""
				replacement = "x"`,
			wantError: "Empty pattern",
		},
		"binary files are skipped with a warning": {
			files: map[string]string{"kvm": "\x7fELF\x00\x00tcp:", "kvm.sh": "tcp:\n"},
			src: `paths = ["%s/kvm*"]
				pattern = "tcp:"
				replacement = "http:"`,
			wantFiles:   []string{"kvm", "kvm.sh"},
			wantChanged: []string{"kvm.sh"},
			wantWarning: "Binary file skipped",
			wantAfter:   map[string]string{"kvm": "\x7fELF\x00\x00tcp:", "kvm.sh": "http:\n"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := tree(t, tc.files)
			args := stepstest.Args(t, NewReplace(), fmt.Sprintf(tc.src, dir), nil)
			resp := run(t, NewReplace(), args)
			checkDiag(t, resp.Diagnostics, tc.wantError, hcl.DiagError)
			checkDiag(t, resp.Diagnostics, tc.wantWarning, hcl.DiagWarning)
			for name, want := range tc.wantAfter {
				p := filepath.Join(dir, name)
				if want == "" {
					if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("%s exists", name)
					}
					continue
				}
				if got := readFile(t, p); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
				if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
					t.Errorf("%s mode = %v, want 0640", name, fi.Mode())
				}
			}
			if tc.wantError != "" {
				return
			}
			if got := strs(t, resp.Outputs.GetAttr("files"), dir); !reflect.DeepEqual(got, tc.wantFiles) {
				t.Errorf("files = %q, want %q", got, tc.wantFiles)
			}
			if got := strs(t, resp.Outputs.GetAttr("changed"), dir); !reflect.DeepEqual(got, tc.wantChanged) {
				t.Errorf("changed = %q, want %q", got, tc.wantChanged)
			}

			// A second run changes nothing and never matches the backups.
			again := run(t, NewReplace(), args)
			if again.Diagnostics.HasErrors() {
				t.Fatal(again.Diagnostics.Error())
			}
			if got := strs(t, again.Outputs.GetAttr("changed"), dir); len(got) != 0 {
				t.Errorf("second run changed %q", got)
			}
			if got := strs(t, again.Outputs.GetAttr("files"), dir); !reflect.DeepEqual(got, tc.wantFiles) {
				t.Errorf("second run files = %q, want %q", got, tc.wantFiles)
			}
			for name, want := range tc.wantAfter {
				if want != "" {
					if got := readFile(t, filepath.Join(dir, name)); got != want {
						t.Errorf("after second run %s = %q, want %q", name, got, want)
					}
				}
			}
		})
	}
}

func checkDiag(t *testing.T, diags hcl.Diagnostics, summary string, sev hcl.DiagnosticSeverity) {
	t.Helper()
	var got []string
	for _, d := range diags {
		if d.Severity == sev {
			got = append(got, d.Summary)
			if d.Detail == "" {
				t.Errorf("diagnostic %q has no detail", d.Summary)
			}
		}
	}
	if summary == "" {
		if len(got) > 0 {
			t.Fatalf("unexpected diagnostics: %s", diags.Error())
		}
		return
	}
	for _, s := range got {
		if s == summary {
			return
		}
	}
	t.Fatalf("diagnostics %q, want %q", got, summary)
}

func TestReplacePlan(t *testing.T) {
	dir := tree(t, map[string]string{"daemons.conf": daemonsConf, "kvm": "up to date http:\n"})
	vars := map[string]cty.Value{
		"dir":    cty.StringVal(dir),
		"secret": stepstest.Secret("hunter2"),
		"later":  stepstest.Unknown(cty.String, "step.find"),
	}
	tests := map[string]struct {
		src         string
		host        bool
		wantSummary string
		wantDiff    []string // lines the diff must hold
		noDiff      []string // strings the diff must not hold
	}{
		"without a host the summary names the globs": {
			src:         `paths = ["/usr/bin/*kvm*", "/etc/ganeti/rok/rok.conf"]` + "\n" + `pattern = "tcp:"` + "\n" + `replacement = "http:"`,
			wantSummary: `replace "tcp:" with "http:" in /usr/bin/*kvm*, /etc/ganeti/rok/rok.conf`,
		},
		"unknown paths": {
			src:         `paths = [var.later]` + "\n" + `pattern = "a"` + "\n" + `replacement = "b"` + "\n" + `regex = true`,
			host:        true,
			wantSummary: `replace regex "a" with "b" in (known after step.find)`,
		},
		"with a host the plan shows a unified diff": {
			src:         `paths = ["${var.dir}/*"]` + "\n" + `pattern = "tcp:"` + "\n" + `replacement = "http:"`,
			host:        true,
			wantSummary: `replace "tcp:" with "http:" in 1 of 2 files`,
			wantDiff: []string{
				"--- a" + dir + "/daemons.conf",
				"+++ b" + dir + "/daemons.conf",
				"-OPENSTORE_CONTROLLER=tcp://10.0.0.1:7000",
				"+OPENSTORE_CONTROLLER=http://10.0.0.1:7000",
				" # unrelated line",
			},
		},
		"nothing to do": {
			src:         `paths = ["${var.dir}/kvm"]` + "\n" + `pattern = "tcp:"` + "\n" + `replacement = "http:"`,
			host:        true,
			wantSummary: `no change: replace "tcp:" with "http:" (1 files up to date)`,
		},
		"a sensitive replacement masks the diff": {
			src:         `paths = ["${var.dir}/daemons.conf"]` + "\n" + `pattern = "10.0.0.1"` + "\n" + `replacement = var.secret`,
			host:        true,
			wantSummary: `replace "10.0.0.1" with (sensitive) in 1 of 1 files`,
			wantDiff:    []string{"-(sensitive)", "+(sensitive)"},
			noDiff:      []string{"hunter2", "10.0.0.1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := steps.PlanRequest{Args: stepstest.Args(t, NewReplace(), tc.src, vars)}
			if tc.host {
				req.Host = local.New()
			}
			resp := NewReplace().Plan(context.Background(), req)
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if resp.Summary != tc.wantSummary {
				t.Errorf("Summary = %q, want %q", resp.Summary, tc.wantSummary)
			}
			lines := strings.Split(resp.Diff, "\n")
			for _, want := range tc.wantDiff {
				if !contains(lines, want) {
					t.Errorf("diff lacks %q:\n%s", want, resp.Diff)
				}
			}
			for _, bad := range tc.noDiff {
				if strings.Contains(resp.Diff, bad) {
					t.Errorf("plan shows %q:\n%s", bad, resp.Diff)
				}
			}
			if strings.Contains(resp.Summary, "hunter2") {
				t.Errorf("summary shows the secret: %q", resp.Summary)
			}
			if len(tc.wantDiff) == 0 && resp.Diff != "" {
				t.Errorf("unexpected diff:\n%s", resp.Diff)
			}
		})
	}
	if got := readFile(t, filepath.Join(dir, "daemons.conf")); got != daemonsConf {
		t.Errorf("plan changed a file: %q", got)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
