package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rokflow/rokflow/internal/jsondoc"
)

// factPlaybook writes a playbook whose discovery reads a fact (the body
// of an HTTP endpoint on loopback) that a later step uses, and returns
// its directory and a function that changes the fact.
func factPlaybook(t *testing.T) (dir string, setMaster func(string)) {
	t.Helper()
	var mu sync.Mutex
	master := "rok1"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		// A fixed date: the headers are part of the fact.
		w.Header().Set("Date", "Mon, 01 Jun 2026 10:00:00 GMT")
		fmt.Fprint(w, master)
	}))
	t.Cleanup(srv.Close)
	dir = filepath.Join(t.TempDir(), "pb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`
step "discover" {
  uses = "http.get"
  url  = %q
}
step "act" {
  uses    = "exec"
  command = ["echo", "master is", step.discover.outputs.body]
}
`, srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, func(m string) {
		mu.Lock()
		defer mu.Unlock()
		master = m
	}
}

// editPlanFile rewrites the top-level fields of a saved plan.
func editPlanFile(t *testing.T, path string, edit func(doc map[string]json.RawMessage)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	if b, err = json.MarshalIndent(doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestApplyRefusesPlanFileOfUnknownFormat: a plan file whose
// format_version this rokflow does not read is refused before anything
// runs, in one line naming the file, the version found and the versions
// read.
func TestApplyRefusesPlanFileOfUnknownFormat(t *testing.T) {
	dir, _ := factPlaybook(t)
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if code, _, stderr := run(t, nil, "plan", dir, "--discover", "--out", planFile); code != 0 {
		t.Fatalf("plan --out exited %d:\n%s", code, stderr)
	}
	saved, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	cur := jsondoc.Plan.Version.String()
	tests := map[string]struct {
		version json.RawMessage // nil: the field is removed
		want    string
	}{
		"newer major": {json.RawMessage(`"2.0"`), planFile + " is a plan of format 2.0, and this rokflow reads format " + cur + " at most: use a newer rokflow"},
		"older major": {json.RawMessage(`"0.9"`), planFile + " is a plan of format 0.9, and this rokflow reads formats 1.0 to " + cur + ": make it again with this rokflow"},
		"none":        {nil, planFile + " is not a rokflow plan: it has no format_version"},
		"a number":    {json.RawMessage(`1.3`), planFile + ` is not a rokflow plan: its format_version is 1.3, not a string "MAJOR.MINOR"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(planFile, saved, 0o600); err != nil {
				t.Fatal(err)
			}
			editPlanFile(t, planFile, func(doc map[string]json.RawMessage) {
				if tc.version == nil {
					delete(doc, "format_version")
				} else {
					doc["format_version"] = tc.version
				}
			})
			code, out, stderr := run(t, nil, "apply", planFile)
			if code != 1 || stderr != "rokflow: "+tc.want+"\n" {
				t.Fatalf("apply exited %d, stderr %q; want 1 and %q", code, stderr, "rokflow: "+tc.want+"\n")
			}
			if out != "" {
				t.Errorf("apply printed %q; nothing should run", out)
			}
		})
	}
	// The same file, unedited, applies.
	if err := os.WriteFile(planFile, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := run(t, nil, "apply", planFile); code != 0 || !strings.Contains(out, "step.act") {
		t.Fatalf("apply of the plan as saved exited %d:\n%s%s", code, out, stderr)
	}
}

// TestPlanFileFactsAreJSON: a saved plan keeps the facts it is bound to
// as JSON values; apply re-checks them; and a plan file of format 1.2,
// whose facts were JSON text in strings, is still read and re-checked
// the same way.
func TestPlanFileFactsAreJSON(t *testing.T) {
	dir, setMaster := factPlaybook(t)
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if code, _, stderr := run(t, nil, "plan", dir, "--discover", "--out", planFile); code != 0 {
		t.Fatalf("plan --out exited %d:\n%s", code, stderr)
	}
	b, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Facts map[string]map[string]json.RawMessage `json:"facts"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the facts of the plan file are not JSON objects: %v", err)
	}
	if got := string(doc.Facts["step.discover"]["body"]); got != `"rok1"` {
		t.Fatalf("facts %s: want step.discover's body \"rok1\"", b)
	}
	// Downgrade the file to format 1.2: each fact as compact JSON text
	// in a string, as rokflow wrote them before 1.3.
	old := filepath.Join(filepath.Dir(planFile), "plan-1.2.json")
	if err := os.WriteFile(old, b, 0o600); err != nil {
		t.Fatal(err)
	}
	editPlanFile(t, old, func(doc map[string]json.RawMessage) {
		doc["format_version"] = json.RawMessage(`"1.2"`)
		var facts map[string]json.RawMessage
		if err := json.Unmarshal(doc["facts"], &facts); err != nil {
			t.Fatal(err)
		}
		texts := map[string]string{}
		for addr, raw := range facts {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			compact, _ := json.Marshal(v)
			texts[addr] = string(compact)
		}
		doc["facts"], _ = json.Marshal(texts)
	})
	if b, _ := os.ReadFile(old); !strings.Contains(string(b), `"step.discover": "{\"body\":\"rok1\"`) {
		t.Fatalf("the 1.2 plan file does not hold its facts as text:\n%s", b)
	}
	for _, file := range []string{planFile, old} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			setMaster("rok1")
			if code, out, stderr := run(t, nil, "apply", file, "--new-run"); code != 0 || !strings.Contains(out, "step.act") {
				t.Fatalf("apply with the facts unchanged exited %d:\n%s%s", code, out, stderr)
			}
			setMaster("rok2")
			code, out, stderr := run(t, nil, "apply", file, "--new-run")
			if code != 1 || !strings.Contains(stderr, "The cluster changed since the plan") || !strings.Contains(stderr, `"rok1" → "rok2"`) {
				t.Fatalf("apply with a changed fact exited %d:\n%s%s", code, out, stderr)
			}
		})
	}
}

// TestPlanFileHintsNameThePlaybook: the hints of an apply given a plan
// file name the playbook, which state show and unlock read, not the file.
func TestPlanFileHintsNameThePlaybook(t *testing.T) {
	dir := writePlaybook(t, "step \"a\" {\n  uses    = \"exec\"\n  command = [\"false\"]\n}\n")
	planPath := filepath.Join(t.TempDir(), "my.plan")
	if code, out, stderr := run(t, nil, "plan", dir, "--out", planPath); code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr := run(t, nil, "apply", planPath, "--yes")
	if code != 1 || !strings.Contains(stderr, "see rokflow state show "+dir) || strings.Contains(stderr, "my.plan") {
		t.Errorf("apply of a plan file: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr := run(t, nil, "state", "show", dir); code != 0 || !strings.Contains(out, "step.a  FAILED") {
		t.Errorf("the hint's state show: exit %d\n%s%s", code, out, stderr)
	}
}
