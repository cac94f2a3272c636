package steps

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
)

// fakeKind is a kind that only has a schema.
type fakeKind struct{ s *Schema }

var _ Kind = fakeKind{}

func (k fakeKind) Schema() *Schema                              { return k.s }
func (fakeKind) Plan(context.Context, PlanRequest) PlanResponse { return PlanResponse{} }
func (fakeKind) Run(context.Context, RunRequest) RunResponse    { return RunResponse{} }

func kind(name string, args ...string) fakeKind {
	b := &schema.Block{Attributes: map[string]*schema.Attribute{}}
	for _, a := range args {
		b.Attributes[a] = &schema.Attribute{Type: cty.String}
	}
	return fakeKind{&Schema{Name: name, Args: b}}
}

func TestRegistryLooksUpAndNames(t *testing.T) {
	r, err := NewRegistry(kind("exec"), kind("file.write", "path"), kind("apt.install"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Names(), []string{"apt.install", "exec", "file.write"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	k, ok := r.Lookup("file.write")
	if !ok || k.Schema().Name != "file.write" {
		t.Errorf("Lookup(file.write) = %v, %t", k, ok)
	}
	if _, ok := r.Lookup("file.read"); ok {
		t.Error("Lookup found a kind never registered")
	}
	empty, err := NewRegistry()
	if err != nil || len(empty.Names()) != 0 {
		t.Errorf("an empty registry: %v, %q", err, empty.Names())
	}
}

func TestRegistryRefuses(t *testing.T) {
	timeoutKind := kind("wait.slow")
	timeoutKind.s.DefaultTimeout = "soon"
	negative := kind("wait.neg")
	negative.s.DefaultTimeout = "-1m"
	tests := map[string]struct {
		kinds []Kind
		want  string
	}{
		"nil schema":       {[]Kind{fakeKind{}}, "has no name or argument schema"},
		"no name":          {[]Kind{fakeKind{&Schema{Args: &schema.Block{}}}}, "has no name"},
		"no args":          {[]Kind{fakeKind{&Schema{Name: "x"}}}, "argument schema"},
		"twice":            {[]Kind{kind("exec"), kind("exec")}, `step kind "exec" registered twice`},
		"meta-argument":    {[]Kind{kind("exec", "timeout", "command", "on")}, `declares "on", "timeout", which every step has for itself`},
		"bad timeout":      {[]Kind{timeoutKind}, `DefaultTimeout "soon" that is not a positive duration`},
		"negative timeout": {[]Kind{negative}, `DefaultTimeout "-1m"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := NewRegistry(tt.kinds...)
			if err == nil {
				t.Fatalf("no error; registry %v", r.Names())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestSchemaOutputType(t *testing.T) {
	s := &Schema{Outputs: map[string]*schema.Attribute{
		"stdout": {Type: cty.String},
		"status": {Type: cty.Number},
	}}
	want := cty.Object(map[string]cty.Type{"stdout": cty.String, "status": cty.Number})
	if got := s.OutputType(); !got.Equals(want) {
		t.Errorf("OutputType() = %#v, want %#v", got, want)
	}
	if got := (&Schema{}).OutputType(); !got.Equals(cty.EmptyObject) {
		t.Errorf("no outputs: %#v, want an empty object", got)
	}
}

func TestEffectString(t *testing.T) {
	for e, want := range map[Effect]string{ReadOnly: "read-only", Idempotent: "idempotent", Once: "once", Effect(9): "unknown"} {
		if got := e.String(); got != want {
			t.Errorf("Effect(%d).String() = %q, want %q", int(e), got, want)
		}
	}
}

func TestAttrMapAndSecrets(t *testing.T) {
	m := AttrMap{"a": cty.StringVal("x")}
	if got := m.GetAttr("a"); !got.RawEquals(cty.StringVal("x")) {
		t.Errorf("GetAttr(a) = %#v", got)
	}
	if got := m.GetAttr("b"); got != cty.NilVal {
		t.Errorf("GetAttr(b) = %#v, want cty.NilVal", got)
	}
	s := Secrets{Credentials: []string{"password"}, Clean: []string{"status"}}
	if !s.IsCredential("password") || s.IsCredential("status") {
		t.Error("IsCredential is wrong")
	}
	if !s.IsClean("status") || s.IsClean("stdout") {
		t.Error("IsClean is wrong")
	}
	var zero Secrets
	if zero.IsCredential("password") || zero.IsClean("status") {
		t.Error("the zero Secrets declares something")
	}
}
