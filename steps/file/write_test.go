package file

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

func TestWriteRun(t *testing.T) {
	tests := map[string]struct {
		existing    *string // contents of the file before, nil for none
		src         string
		wantContent string
		wantMode    fs.FileMode
		wantBackup  *string
		wantError   string
	}{
		"creates a file with the given mode": {
			src:         `content = "a=1\n"` + "\n" + `mode = "0600"`,
			wantContent: "a=1\n",
			wantMode:    0o600,
		},
		"creates a file with 0644 by default": {
			src:         `content = "a=1\n"`,
			wantContent: "a=1\n",
			wantMode:    0o644,
		},
		"replaces a file, keeps its mode and backs it up": {
			existing:    ptr("old\n"),
			src:         `content = "new\n"`,
			wantContent: "new\n",
			wantMode:    0o640,
			wantBackup:  ptr("old\n"),
		},
		"changes only the mode": {
			existing:    ptr("same\n"),
			src:         `content = "same\n"` + "\n" + `mode = "0600"`,
			wantContent: "same\n",
			wantMode:    0o600,
		},
		"sensitive content is written": {
			existing:    ptr("old\n"),
			src:         `content = var.secret` + "\n" + `backup = false`,
			wantContent: "hunter2",
			wantMode:    0o640,
		},
		"invalid mode": {
			src:       `content = "x"` + "\n" + `mode = "rw-r--r--"`,
			wantError: "Invalid file mode",
		},
	}
	vars := map[string]cty.Value{"secret": stepstest.Secret("hunter2")}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f.conf")
			if tc.existing != nil {
				if err := os.WriteFile(p, []byte(*tc.existing), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			vars["path"] = cty.StringVal(p)
			args := stepstest.Args(t, NewWrite(), "path = var.path\n"+tc.src, vars)
			resp := run(t, NewWrite(), args)
			if tc.wantError != "" {
				checkDiag(t, resp.Diagnostics, tc.wantError, hcl.DiagError)
				return
			}
			if resp.Diagnostics.HasErrors() {
				t.Fatal(resp.Diagnostics.Error())
			}
			if !resp.Outputs.GetAttr("changed").True() {
				t.Errorf("changed = false on the first run")
			}
			if got := readFile(t, p); got != tc.wantContent {
				t.Errorf("contents = %q, want %q", got, tc.wantContent)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != tc.wantMode {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tc.wantMode)
			}
			bak, err := os.ReadFile(p + BackupSuffix)
			switch {
			case tc.wantBackup == nil && err == nil:
				t.Errorf("unexpected backup %q", bak)
			case tc.wantBackup != nil && string(bak) != *tc.wantBackup:
				t.Errorf("backup = %q (%v), want %q", bak, err, *tc.wantBackup)
			}
			again := run(t, NewWrite(), args)
			if again.Diagnostics.HasErrors() || again.Outputs.GetAttr("changed").True() {
				t.Errorf("second run changed the file: %v", again.Diagnostics)
			}
			plan := NewWrite().Plan(context.Background(), steps.PlanRequest{Args: args, Host: local.New()})
			if !strings.HasPrefix(plan.Summary, "no change: ") || plan.Diff != "" {
				t.Errorf("plan after the run = %q, diff %q", plan.Summary, plan.Diff)
			}
		})
	}
}

func TestWritePlan(t *testing.T) {
	dir := tree(t, map[string]string{"f.conf": "a=1\nb=2\n"})
	vars := map[string]cty.Value{
		"dir":    cty.StringVal(dir),
		"secret": stepstest.Secret("hunter2"),
		"later":  stepstest.Unknown(cty.String, "step.gen"),
	}
	tests := map[string]struct {
		src         string
		host        bool
		wantSummary string
		wantDiff    []string
	}{
		"without a host": {
			src:         `path = "/etc/rok/x.conf"` + "\n" + `content = "x"` + "\n" + `mode = "0600"`,
			wantSummary: "write /etc/rok/x.conf with mode 0600",
		},
		"unknown content": {
			src:         `path = "${var.dir}/f.conf"` + "\n" + `content = var.later`,
			host:        true,
			wantSummary: "write " + dir + "/f.conf",
		},
		"diff of a change": {
			src:         `path = "${var.dir}/f.conf"` + "\n" + `content = "a=1\nb=3\n"`,
			host:        true,
			wantSummary: "write " + dir + "/f.conf",
			wantDiff:    []string{"--- a" + dir + "/f.conf", "+++ b" + dir + "/f.conf", " a=1", "-b=2", "+b=3"},
		},
		"diff of a new file": {
			src:         `path = "${var.dir}/new.conf"` + "\n" + `content = "x\n"` + "\n" + `mode = "0600"`,
			host:        true,
			wantSummary: "create " + dir + "/new.conf with mode 0600",
			wantDiff:    []string{"--- /dev/null", "+++ b" + dir + "/new.conf", "+x"},
		},
		"sensitive content is masked on both sides": {
			src:         `path = "${var.dir}/f.conf"` + "\n" + `content = var.secret`,
			host:        true,
			wantSummary: "write " + dir + "/f.conf",
			wantDiff:    []string{"-(sensitive)", "+(sensitive)"},
		},
		"mode change": {
			src:         `path = "${var.dir}/f.conf"` + "\n" + `content = "a=1\nb=2\n"` + "\n" + `mode = "0600"`,
			host:        true,
			wantSummary: "change mode of " + dir + "/f.conf from 0640 to 0600",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := steps.PlanRequest{Args: stepstest.Args(t, NewWrite(), tc.src, vars)}
			if tc.host {
				req.Host = local.New()
			}
			resp := NewWrite().Plan(context.Background(), req)
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
			if len(tc.wantDiff) == 0 && resp.Diff != "" {
				t.Errorf("unexpected diff:\n%s", resp.Diff)
			}
			for _, bad := range []string{"hunter2", "b=2"} {
				if tc.wantDiff != nil && tc.wantDiff[0] == "-(sensitive)" && strings.Contains(resp.Diff, bad) {
					t.Errorf("masked diff shows %q:\n%s", bad, resp.Diff)
				}
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	tests := map[string]struct {
		in   string
		want fs.FileMode
		bad  bool
	}{
		"four digits":  {in: "0644", want: 0o644},
		"three digits": {in: "600", want: 0o600},
		"0o prefix":    {in: "0o755", want: 0o755},
		"setuid":       {in: "4755", want: 0o755 | fs.ModeSetuid},
		"not octal":    {in: "0789", bad: true},
		"too large":    {in: "17777", bad: true},
		"symbolic":     {in: "u+x", bad: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseMode(tc.in)
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v", err)
			}
			if !tc.bad && (got != tc.want || octal(got) != octal(tc.want)) {
				t.Errorf("parseMode(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
