package runtime_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/state"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/exec"
	"github.com/rokflow/rokflow/steps/stepstest"
	"github.com/rokflow/rokflow/steps/transport/local"
)

// pwSecret is the value of var.pw in these tests; no form of it may be
// found in what a run shows or stores.
const pwSecret = "hunter2-canary-5150"

// secretForms are pwSecret and what the playbooks below turn it into.
var secretForms = []string{pwSecret, strings.ToUpper(pwSecret)}

const pwVariable = `
variable "pw" {
  type      = string
  sensitive = true
  default   = "` + pwSecret + `"
}
`

// secretKinds are the kinds the tests below run: exec and shell, which
// prove nothing clean but exit_status, and two probes: probe.clean
// declares its stream and its output code clean, probe.cred takes its
// secret only as a credential.
func secretKinds(t *testing.T) *steps.Registry {
	clean := stepstest.NewRecorder("probe.clean", func(s *steps.Schema) {
		s.Target = steps.TargetNone
		s.Outputs["code"] = &schema.Attribute{Type: cty.Number, Description: "A code the probe makes up."}
		s.Secrets = steps.Secrets{CleanStream: true, Clean: []string{"code"}}
	})
	clean.RunFunc = func(_ context.Context, req steps.RunRequest) steps.RunResponse {
		req.Output("stdout", "job 42 submitted")
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": req.Args.GetAttr("value"), "code": cty.NumberIntVal(42)})}
	}
	cred := stepstest.NewRecorder("probe.cred", func(s *steps.Schema) {
		s.Target = steps.TargetNone
		s.Args.Attributes["conn"] = &schema.Attribute{Type: cty.DynamicPseudoType, Description: "Credentials."}
		s.Args.Attributes["token"] = &schema.Attribute{Type: cty.String, Sensitive: true, Description: "A token."}
		s.Secrets = steps.Secrets{Credentials: []string{"conn"}}
	})
	cred.RunFunc = func(_ context.Context, req steps.RunRequest) steps.RunResponse {
		req.Output("stdout", "connected")
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal("node-1")})}
	}
	reg, err := steps.NewRegistry(exec.New(), exec.NewShell(), clean, cred)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// secretRun is what one apply showed and stored.
type secretRun struct {
	res     *runtime.Result
	events  []runtime.Event
	stored  string // every byte under the state directory
	outputs map[string]json.RawMessage
}

func applyWithSecret(t *testing.T, src string) secretRun {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(pwVariable+src), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, diags := lang.Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vals, diags := lang.BindInputs(pb.Root, lang.NewInputSet(), false)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	stateDir := filepath.Join(dir, "state")
	backend, err := state.Open(context.Background(), "file://"+stateDir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	sess, err := backend.Lock(context.Background(), state.Holder{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	var r secretRun
	r.res, diags = runtime.Apply(context.Background(), pb, secretKinds(t), runtime.ApplyOptions{
		Plan: runtime.Options{Inputs: vals, Hosts: func(context.Context, string, cty.Value) (steps.Host, error) {
			return local.New(), nil
		}},
		Parallelism: 2, Backend: backend, Session: sess,
		Hook: hookFunc(func(ev runtime.Event) { r.events = append(r.events, ev) }),
	})
	if r.res == nil || r.res.Status != runtime.RunSucceeded {
		t.Fatalf("run: %+v %v", r.res, diags)
	}
	if err := sess.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err := backend.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.outputs = map[string]json.RawMessage{}
	for _, rec := range recs {
		if rec.Kind == state.KindStep && rec.Status == state.Succeeded {
			r.outputs[rec.Addr] = rec.Outputs
		}
	}
	var stored strings.Builder
	_ = filepath.WalkDir(stateDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			stored.Write(b)
		}
		return nil
	})
	r.stored = stored.String()
	return r
}

// TestSecretsThroughOutputs runs steps that receive a secret and print it,
// as it is or transformed, and steps that use what they printed: no form
// of the secret may reach events or the journal, the lines of such steps
// are withheld (one event says how many), and their outputs are stored
// masked. Kinds that prove their stream or outputs clean keep them.
func TestSecretsThroughOutputs(t *testing.T) {
	tests := map[string]struct {
		src string
		// withheld are the steps whose lines must be withheld; shown are
		// lines that must be streamed; masked and plain are stored outputs
		// ("step.a.stdout") that must be left out and kept.
		withheld      []string
		shown         []string
		masked, plain []string
	}{
		"a secret printed through env, then used by a second step": {
			src: `
step "a" {
  uses   = "shell"
  script = "echo \"pw=$PW\"; echo \"$PW\" | tr a-z A-Z"
  env    = { PW = var.pw }
}
step "b" {
  uses   = "shell"
  script = "printf '%s\n' \"$1\" | tr a-z A-Z"
  args   = [step.a.outputs.stdout]
}
`,
			withheld: []string{"step.a", "step.b"},
			masked:   []string{"step.a.stdout", "step.a.lines", "step.b.stdout", "step.b.lines"},
			plain:    []string{"step.a.exit_status", "step.b.exit_status"},
		},
		"upper(var.pw) printed in another form": {
			src: `
step "a" {
  uses    = "exec"
  command = ["sh", "-c", "echo \"$0\" | tr A-Z a-z", upper(var.pw)]
}
`,
			withheld: []string{"step.a"},
			masked:   []string{"step.a.stdout"},
		},
		"a kind that proves its stream and an output clean": {
			src: `
step "a" {
  uses  = "probe.clean"
  value = var.pw
}
step "after" {
  uses   = "shell"
  when   = step.a.outputs.code == 42
  script = "echo after"
}
`,
			shown:  []string{"step.a: job 42 submitted", "step.after: after"},
			masked: []string{"step.a.value"},
			plain:  []string{"step.a.code"},
		},
		"a secret given as a credential taints nothing": {
			src: `
step "a" {
  uses  = "probe.cred"
  conn  = { password = var.pw }
}
step "each" {
  uses     = "shell"
  for_each = toset([step.a.outputs.value])
  script   = "echo \"on $1\""
  args     = [each.key]
}
`,
			shown: []string{"step.a: connected", `step.each["node-1"]: on node-1`},
			plain: []string{"step.a.value"},
		},
		"an unset argument the kind declares sensitive taints nothing": {
			src: `
step "a" {
  uses  = "probe.cred"
}
`,
			shown: []string{"step.a: connected"},
			plain: []string{"step.a.value"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := applyWithSecret(t, tc.src)
			shown, streamed, withheld := map[string]bool{}, map[string]bool{}, map[string]int{}
			for _, ev := range r.events {
				b, _ := json.Marshal(ev)
				for _, s := range secretForms {
					if strings.Contains(string(b), s) {
						t.Errorf("event shows a form of the secret: %s", b)
					}
				}
				switch ev.Type {
				case runtime.EventStepOutput:
					shown[ev.Addr+": "+ev.Line] = true
					streamed[ev.Addr] = true
				case runtime.EventOutputWithheld:
					withheld[ev.Addr] += ev.Lines
					if !strings.Contains(ev.Summary, "sensitive") {
						t.Errorf("withheld event does not say why: %q", ev.Summary)
					}
				}
			}
			for _, addr := range tc.withheld {
				if withheld[addr] == 0 {
					t.Errorf("%s: no output_withheld event", addr)
				}
				if streamed[addr] {
					t.Errorf("%s streamed lines though it received a secret", addr)
				}
			}
			for _, l := range tc.shown {
				if !shown[l] {
					t.Errorf("line %q was not streamed; streamed: %v", l, shown)
				}
			}
			for _, s := range secretForms {
				if strings.Contains(r.stored, s) {
					t.Errorf("the journal holds a form of the secret: %q", s)
				}
			}
			for _, want := range tc.masked {
				if v, ok := storedOutput(t, r.outputs, want); ok && string(v) != "null" {
					t.Errorf("journal stores %s = %s, want it left out", want, v)
				}
			}
			for _, want := range tc.plain {
				if v, ok := storedOutput(t, r.outputs, want); !ok || string(v) == "null" {
					t.Errorf("journal left out %s, a clean output", want)
				}
			}
		})
	}
}

// storedOutput returns one output ("step.a.stdout") as the journal has it.
func storedOutput(t *testing.T, outs map[string]json.RawMessage, path string) (json.RawMessage, bool) {
	t.Helper()
	i := strings.LastIndexByte(path, '.')
	raw, ok := outs[path[:i]]
	if !ok {
		t.Errorf("no succeeded record of %s", path[:i])
		return nil, false
	}
	var so struct {
		Value  map[string]json.RawMessage `json:"value"`
		Masked bool                       `json:"masked"`
	}
	if err := json.Unmarshal(raw, &so); err != nil {
		t.Fatalf("outputs of %s: %v", path[:i], err)
	}
	v, ok := so.Value[path[i+1:]]
	return v, ok
}
