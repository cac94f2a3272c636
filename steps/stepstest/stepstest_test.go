package stepstest

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/marks"
	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

func TestRecorderConforms(t *testing.T) {
	CheckKind(t, NewRecorder("test.recorder"))
}

func TestRecorder(t *testing.T) {
	r := NewRecorder("test.recorder", func(s *steps.Schema) { s.Effect = steps.Once })
	if r.Schema().Effect != steps.Once || r.Schema().Name != "test.recorder" {
		t.Fatalf("schema edits not applied: %+v", r.Schema())
	}
	args := Args(t, r, `value = "a"`, nil)
	ctx := context.Background()

	if got := r.Plan(ctx, steps.PlanRequest{Args: args, Target: "n1"}).Summary; got != `test.recorder {value = "a"}` {
		t.Errorf("plan summary = %q", got)
	}
	fail := steps.RunResponse{Diagnostics: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "boom"}}}
	r.Respond(fail)
	r.RunFunc = func(ctx context.Context, req steps.RunRequest) steps.RunResponse {
		return steps.RunResponse{Outputs: cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal("from func")})}
	}
	tests := []struct {
		name string
		want string
	}{
		{"queued response first", "boom"},
		{"then RunFunc", "from func"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := r.Run(ctx, steps.RunRequest{Args: args, Target: "n1"})
			got := resp.Diagnostics.Error()
			if !resp.Diagnostics.HasErrors() {
				got = resp.Outputs.GetAttr("value").AsString()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("run = %q, want %q", got, tc.want)
			}
		})
	}
	r.RunFunc = nil
	if got := r.Run(ctx, steps.RunRequest{Args: args}).Outputs.GetAttr("value"); !got.RawEquals(cty.StringVal("a")) {
		t.Errorf("echoed output = %#v", got)
	}
	if n := len(r.Runs()); n != 3 {
		t.Errorf("recorded %d runs, want 3", n)
	}
	if p := r.Plans(); len(p) != 1 || p[0].Target != "n1" {
		t.Errorf("recorded plans = %+v", p)
	}
}

func TestArgsMarksSensitive(t *testing.T) {
	k := NewRecorder("test.secret", func(s *steps.Schema) {
		s.Args.Attributes["password"] = &schema.Attribute{Type: cty.String, Sensitive: true, Description: "A password."}
		s.Args.Attributes["port"] = &schema.Attribute{Type: cty.Number, Default: cty.NumberIntVal(22), Description: "A port."}
	})
	v := Args(t, k, `
		password = "hunter2"
		value    = var.later
	`, map[string]cty.Value{"later": Unknown(cty.String, "step.a")})
	if !v.GetAttr("password").HasMark(marks.Sensitive) {
		t.Errorf("password not marked sensitive")
	}
	if got := v.GetAttr("port"); !got.RawEquals(cty.NumberIntVal(22)) {
		t.Errorf("default not applied: %#v", got)
	}
	if got := steps.Display(v.GetAttr("value")); got != "(known after step.a)" {
		t.Errorf("unknown shown as %q", got)
	}
	if _, diags := DecodeArgs(k, `nope = 1`, nil); !diags.HasErrors() {
		t.Errorf("unsupported argument accepted")
	}
}

// leaky shows its arguments in clear and has an incomplete schema.
type leaky struct{ s *steps.Schema }

func (l leaky) Schema() *steps.Schema { return l.s }
func (l leaky) Plan(_ context.Context, req steps.PlanRequest) steps.PlanResponse {
	v := req.Args.GetAttr("value")
	if !v.IsKnown() {
		return steps.PlanResponse{Diagnostics: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "unknown"}}}
	}
	v, _ = v.Unmark()
	return steps.PlanResponse{Summary: v.AsString()}
}
func (l leaky) Run(context.Context, steps.RunRequest) steps.RunResponse { return steps.RunResponse{} }

func TestProblemsFindsFaults(t *testing.T) {
	s := RecorderSchema("Bad Name")
	s.Args.Attributes["value"] = &schema.Attribute{Type: cty.String}
	s.Args.Attributes["req"] = &schema.Attribute{Type: cty.String, Required: true, Default: cty.StringVal("x"), Description: "d"}
	s.Outputs["x"] = &schema.Attribute{Description: "untyped"}
	s.Summary = "two\nlines"
	s.Secrets = steps.Secrets{Credentials: []string{"rapi"}, Clean: []string{"exit_code"}}
	got := strings.Join(Problems(leaky{s}), "\n")
	for _, want := range []string{
		"is not dotted lower-case",
		"Summary must be one non-empty line",
		`argument "value" has no Description`,
		`argument "req" is required and has a default`,
		`output "x" has no type`,
		"plan with unknown arguments reported an error",
		"plan Summary shows a sensitive value",
		`Secrets.Credentials names "rapi", which is not an argument`,
		`Secrets.Clean names "exit_code", which is not an output`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems do not mention %q:\n%s", want, got)
		}
	}
}

// TestMetaArgumentClashIsRefused is the guard against a kind argument that
// a step meta-argument shadows (wait's `timeout = "30m"` once ran for the
// kind's default of 10m): the conformance check reports it and the
// registry refuses the kind.
func TestMetaArgumentClashIsRefused(t *testing.T) {
	tests := map[string]struct {
		edit func(*steps.Schema)
		want string
	}{
		"an argument named timeout": {
			edit: func(s *steps.Schema) {
				s.Args.Attributes["timeout"] = &schema.Attribute{Type: cty.String, Description: "How long to wait."}
			},
			want: `argument "timeout" has the name of a step meta-argument`,
		},
		"a block named retry": {
			edit: func(s *steps.Schema) {
				s.Args.Blocks = map[string]*schema.NestedBlock{"retry": {Description: "Retries.", Block: schema.Block{}}}
			},
			want: `argument "retry" has the name of a step meta-argument`,
		},
		"a default timeout that is no duration": {
			edit: func(s *steps.Schema) { s.DefaultTimeout = "soon" },
			want: `DefaultTimeout "soon" is not a positive duration`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k := NewRecorder("test.clash", tc.edit)
			if got := strings.Join(Problems(k), "\n"); !strings.Contains(got, tc.want) {
				t.Errorf("problems do not mention %q:\n%s", tc.want, got)
			}
			if _, err := steps.NewRegistry(k); err == nil {
				t.Errorf("the registry accepted the kind")
			}
		})
	}
	if _, err := steps.NewRegistry(NewRecorder("test.fine", func(s *steps.Schema) { s.DefaultTimeout = "10m" })); err != nil {
		t.Errorf("the registry refused a kind without clashes: %v", err)
	}
}
