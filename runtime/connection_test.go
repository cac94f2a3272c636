package runtime_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/local"
)

// TestConnectionDiagnostics checks what the connection fixtures in
// testdata/errors say beyond their summaries: the nearest attribute name
// or transport, and the target a step cannot reach.
func TestConnectionDiagnostics(t *testing.T) {
	tests := map[string][]string{
		"testdata/errors/connection-attrs.hcl": {
			`An argument named "trasnport" is not expected here. Did you mean "transport"?`,
			`An argument named "usr" is not expected here. Did you mean "user"?`,
		},
		"testdata/errors/connection-values.hcl": {
			`The transport "shh" is not one rokflow knows. The transport is "ssh" (the default) or "local". Did you mean "ssh"?`,
			`Inappropriate value for argument "port": a number is required.`,
			`The port must be a whole number from 1 to 65535`,
		},
		"testdata/errors/connection-target.hcl": {
			`The step runs on "db1", which is not this machine, but names no connection`,
			`The step runs on "db2", which is not this machine, but its connection has transport = "local".`,
			`The step's connection has transport = "ssh" but the step runs on "local" (or has no on)`,
		},
	}
	for path, wants := range tests {
		t.Run(path, func(t *testing.T) {
			_, diags := planPath(t, path, nil)
			text := diagText(diags)
			for _, want := range wants {
				if !strings.Contains(text, want) {
					t.Errorf("no diagnostic says %q; got:\n%s", want, text)
				}
			}
		})
	}
}

// TestRemoteTargetKnownOnlyAtPlan checks that a target given as an input
// is checked once it is known: validate (inputs unknown) passes, a plan
// with the input fails on the step's on.
func TestRemoteTargetKnownOnlyAtPlan(t *testing.T) {
	const path = "testdata/connection/input-target"
	if _, diags := planPath(t, path, nil); diags.HasErrors() {
		t.Fatalf("validate: %v", diags)
	}
	in := lang.NewInputSet()
	if ds := in.AddFlag("node=rok2.prod"); ds.HasErrors() {
		t.Fatal(ds)
	}
	_, diags := planPath(t, path, in)
	var got []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			got = append(got, d.Summary+" at "+d.Subject.String())
		}
	}
	want := []string{"Remote target without a connection at " + path + "/main.hcl:8,10-18"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// recordingHosts is a host resolver that runs everything locally and
// records the targets it was asked for.
type recordingHosts struct {
	mu      sync.Mutex
	targets []string
}

func (r *recordingHosts) resolve(_ context.Context, target string, _ cty.Value) (steps.Host, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.targets = append(r.targets, target)
	return local.New(), nil
}

// TestApplyRefusesUnreachableDiscoveredTarget runs a step whose target is
// discovered at run time and that names no connection: it must fail
// before its host is asked for, so nothing runs on this machine in its
// place, and its dependents must not run.
func TestApplyRefusesUnreachableDiscoveredTarget(t *testing.T) {
	f := newApplyFixture(t, `
step "find" {
  uses    = "exec"
  command = ["printf", "db1"]
}

step "remote" {
  uses   = "shell"
  on     = step.find.outputs.stdout
  script = "echo remote >> LEDGER"
}

step "after" {
  uses       = "shell"
  script     = "echo after >> LEDGER"
  depends_on = [step.remote]
}
`)
	hosts := &recordingHosts{}
	res := f.apply(func(o *runtime.ApplyOptions) { o.Plan.Hosts = hosts.resolve })
	if res.Status != runtime.RunFailed || len(res.Failed) != 1 || res.Failed[0] != "step.remote" {
		t.Fatalf("result %+v, want step.remote failed", res)
	}
	if got := f.lines(); len(got) != 0 {
		t.Errorf("ran on this machine in the remote host's place: ledger %v", got)
	}
	for _, target := range hosts.targets {
		if target == "db1" {
			t.Errorf("the host db1 was resolved although no connection reaches it")
		}
	}
	failed := false
	for _, ev := range f.events {
		if ev.Addr == "step.remote" && strings.Contains(ev.Error, "Remote target without a connection") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no event says why step.remote failed: %+v", f.events)
	}
}
