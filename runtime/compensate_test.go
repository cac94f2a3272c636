package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/stepstest"
)

// undoFixture is a playbook run with recording kinds: "rec" records the
// value each step gives it and fails when that value starts with "fail";
// "probe" is a read-only kind answering with what the test sets.
type undoFixture struct {
	t       *testing.T
	dir     string
	backend state.Backend
	rec     *stepstest.Recorder
	mu      sync.Mutex
	probe   string
	// failing holds values that fail while they are listed.
	failing map[string]bool
	events  []runtime.Event
}

func newUndoFixture(t *testing.T, files map[string]string) *undoFixture {
	t.Helper()
	f := &undoFixture{t: t, dir: t.TempDir(), failing: map[string]bool{}}
	for name, src := range files {
		path := filepath.Join(f.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := state.Open(context.Background(), "file://"+filepath.Join(f.dir, ".rokflow"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	f.backend = b
	f.rec = stepstest.NewRecorder("rec", func(s *steps.Schema) { s.Target = steps.TargetNone })
	f.rec.RunFunc = func(_ context.Context, req steps.RunRequest) steps.RunResponse {
		v := req.Args.GetAttr("value")
		f.mu.Lock()
		fail := v.Type() == cty.String && f.failing[v.AsString()]
		f.mu.Unlock()
		if fail {
			return steps.RunResponse{Diagnostics: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Injected failure", Detail: v.AsString() + " fails."}}}
		}
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": v})}
	}
	return f
}

// fail makes the steps given value v fail (or succeed again).
func (f *undoFixture) fail(v string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing[v] = on
}

func (f *undoFixture) setProbe(v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probe = v
}

func (f *undoFixture) Event(ev runtime.Event) { f.events = append(f.events, ev) }

func (f *undoFixture) apply() (*runtime.Result, hcl.Diagnostics) {
	f.t.Helper()
	probe := stepstest.NewRecorder("probe", func(s *steps.Schema) {
		s.Target, s.Effect = steps.TargetNone, steps.ReadOnly
	})
	probe.RunFunc = func(context.Context, steps.RunRequest) steps.RunResponse {
		f.mu.Lock()
		defer f.mu.Unlock()
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(f.probe)})}
	}
	reg, err := steps.NewRegistry(f.rec, probe)
	if err != nil {
		f.t.Fatal(err)
	}
	pb, diags := lang.Load(f.dir)
	if diags.HasErrors() {
		f.t.Fatal(diags)
	}
	vals, diags := lang.BindInputs(pb.Root, lang.NewInputSet(), false)
	if diags.HasErrors() {
		f.t.Fatal(diags)
	}
	h := state.Holder{User: "tester", Host: "test"}
	sess, err := f.backend.Lock(context.Background(), h)
	if err != nil {
		f.t.Fatal(err)
	}
	defer sess.Unlock(context.Background())
	f.events = nil
	res, diags := runtime.Apply(context.Background(), pb, reg, runtime.ApplyOptions{
		Plan: runtime.Options{Inputs: vals}, Parallelism: 2, Backend: f.backend, Session: sess, Holder: h, PlanHash: runtime.Hash(pb, vals), Hook: f,
	})
	if res == nil {
		f.t.Fatalf("apply returned no result: %v", diags)
	}
	return res, diags
}

// ran lists the values the rec kind was run with, in order.
func (f *undoFixture) ran() []string {
	var out []string
	for _, r := range f.rec.Runs() {
		if v := r.Args.GetAttr("value"); v.Type() == cty.String {
			out = append(out, v.AsString())
		}
	}
	return out
}

// obligation returns the last journal record of addr's obligation.
func (f *undoFixture) obligation(addr string) state.Record {
	f.t.Helper()
	recs, err := f.backend.Records(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	var last state.Record
	for _, r := range recs {
		if r.Kind == state.KindObligation && r.Addr == addr {
			last = r
		}
	}
	if last.Kind == "" {
		f.t.Fatalf("the journal has no obligation of %s", addr)
	}
	return last
}

func diagSummaries(diags hcl.Diagnostics, sev hcl.DiagnosticSeverity) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == sev {
			out = append(out, d.Summary+": "+d.Detail)
		}
	}
	return out
}

// TestCompensateKeyedStepInGroup fails a host's reinstall after its guests
// were evacuated by a for_each step in a module of a group element: each
// evacuated guest's own migrate_back runs, in that element.
func TestCompensateKeyedStepInGroup(t *testing.T) {
	f := newUndoFixture(t, map[string]string{
		"main.hcl": `
group "hosts" {
  for_each = { h1 = ["a", "b"], h2 = ["c"] }
  rolling {
    batch = 1
  }
  module "host" {
    source = "./host"
    host   = each.key
    guests = each.value
  }
}
`,
		"host/main.hcl": `
variable "host" {
  type = string
}
variable "guests" {
  type = list(string)
}
step "evacuate" {
  uses     = "rec"
  for_each = var.guests
  undo     = step.migrate_back
  value    = "evacuate ${each.key}@${var.host}"
}
step "reinstall" {
  uses       = "rec"
  depends_on = [step.evacuate]
  value      = "reinstall ${var.host}"
}
step "migrate_back" {
  uses       = "rec"
  for_each   = var.guests
  depends_on = [step.reinstall]
  value      = "back ${each.key}@${var.host}"
}
`,
	})
	f.fail("reinstall h1", true)
	res, diags := f.apply()
	if res.Status != runtime.RunFailed {
		t.Fatalf("status %s, want failed: %v", res.Status, diags)
	}
	got := f.ran()
	for _, want := range []string{"back a@h1", "back b@h1"} {
		if !slices.Contains(got, want) {
			t.Errorf("runs %q: the owed %q did not run after the failure", got, want)
		}
	}
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, "@h2") }) {
		t.Errorf("runs %q: the next host was touched", got)
	}
	for _, g := range []string{"a", "b"} {
		addr := `group.hosts["h1"].module.host.step.evacuate["` + g + `"]`
		o := f.obligation(addr)
		want := `group.hosts["h1"].module.host.step.migrate_back["` + g + `"]`
		if o.Status != state.Settled || !slices.Equal(o.UndoAddrs, []string{want}) {
			t.Errorf("obligation of %s: %s %v, want settled by %s", addr, o.Status, o.UndoAddrs, want)
		}
	}
}

// TestCompensateResolvesElements runs undos whose instances follow from
// the two steps' for_each: every element of the undo step, or the one
// undo owed by every element.
func TestCompensateResolvesElements(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []string // rec runs after the failure, in any order
	}{
		"single step, undo with for_each": {
			src: `
step "pin" {
  uses  = "rec"
  undo  = step.unpin
  value = "pin"
}
step "unpin" {
  uses       = "rec"
  for_each   = toset(["a", "b"])
  depends_on = [step.work]
  value      = "unpin ${each.key}"
}`,
			want: []string{"unpin a", "unpin b"},
		},
		"explicit every element": {
			src: `
step "pin" {
  uses     = "rec"
  for_each = toset(["x"])
  undo     = step.unpin[*]
  value    = "pin ${each.key}"
}
step "unpin" {
  uses       = "rec"
  for_each   = toset(["a", "b"])
  depends_on = [step.work]
  value      = "unpin ${each.key}"
}`,
			want: []string{"unpin a", "unpin b"},
		},
		"keyed step, single undo": {
			src: `
step "pin" {
  uses     = "rec"
  for_each = toset(["a", "b"])
  undo     = step.unpin
  value    = "pin ${each.key}"
}
step "unpin" {
  uses       = "rec"
  depends_on = [step.work]
  value      = "unpin"
}`,
			want: []string{"unpin"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := newUndoFixture(t, map[string]string{"main.hcl": tt.src + `
step "work" {
  uses       = "rec"
  depends_on = [step.pin]
  value      = "fail work"
}
`})
			f.fail("fail work", true)
			res, diags := f.apply()
			if res.Status != runtime.RunFailed {
				t.Fatalf("status %s: %v", res.Status, diags)
			}
			var undone []string
			for _, v := range f.ran() {
				if strings.HasPrefix(v, "unpin") {
					undone = append(undone, v)
				}
			}
			slices.Sort(undone)
			if !slices.Equal(undone, tt.want) {
				t.Errorf("undo runs %q, want %q (each once)", undone, tt.want)
			}
			if errs := diagSummaries(diags, hcl.DiagError); slices.ContainsFunc(errs, func(s string) bool { return strings.Contains(s, "undo") }) {
				t.Errorf("errors about the undo: %q", errs)
			}
		})
	}
}
