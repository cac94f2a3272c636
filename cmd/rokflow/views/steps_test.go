package views

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// docKind is a kind with every part its documentation shows.
type docKind struct{ s *steps.Schema }

func (k docKind) Schema() *steps.Schema { return k.s }
func (docKind) Plan(context.Context, steps.PlanRequest) steps.PlanResponse {
	return steps.PlanResponse{}
}
func (docKind) Run(context.Context, steps.RunRequest) steps.RunResponse { return steps.RunResponse{} }

func docSchema() *steps.Schema {
	return &steps.Schema{
		Name: "svc.restart", Summary: "Restart a service.",
		Description: "Restarts the unit and waits until it is active again; a unit that does not come back fails the step.",
		Effect:      steps.Idempotent, Reversible: true, DefaultTimeout: "5m",
		Args: &schema.Block{
			Attributes: map[string]*schema.Attribute{
				"unit":     {Type: cty.String, Required: true, Description: "The systemd unit."},
				"retries":  {Type: cty.Number, Default: cty.NumberIntVal(3)},
				"password": {Type: cty.String, Sensitive: true, Default: cty.StringVal("hunter2-default")},
			},
			Blocks: map[string]*schema.NestedBlock{
				"check": {Nesting: schema.NestingList, Description: "A probe.", Block: schema.Block{
					Attributes: map[string]*schema.Attribute{"url": {Type: cty.List(cty.String)}},
				}},
			},
		},
		Outputs: map[string]*schema.Attribute{
			"pid": {Type: cty.Number, Description: "The new main pid."},
		},
		Secrets: steps.Secrets{Credentials: []string{"password"}, Clean: []string{"pid"}},
	}
}

func TestKindList(t *testing.T) {
	gate := &steps.Schema{Name: "gate", Summary: "Wait for a person.", Effect: steps.ReadOnly, Gate: true, Args: &schema.Block{}}
	reg, err := steps.NewRegistry(docKind{docSchema()}, docKind{gate})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	KindList(&b, reg, false)
	lines := strings.Split(b.String(), "\n")
	if lines[0] != "gate         read-only, gate         Wait for a person." ||
		lines[1] != "svc.restart  idempotent, reversible  Restart a service." {
		t.Errorf("got:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `Run "rokflow steps KIND"`) {
		t.Errorf("no hint:\n%s", b.String())
	}
}

func TestKindDoc(t *testing.T) {
	var b bytes.Buffer
	KindDoc(&b, docSchema(), false)
	got := b.String()
	for _, want := range []string{
		"svc.restart — Restart a service.\n",
		"Side effects: idempotent, reversible\n",
		"Target: runs on the host named by `on`",
		"Secrets: given a sensitive value other than as a credential (password), every\noutput but pid is sensitive, and output lines are withheld\n",
		"Timeout: the step's `timeout`; 5m when the step sets none\n",
		"  password string (optional, sensitive)\n", // its default is not shown
		"  retries number (optional, default 3)\n",
		"  unit string (required)\n      The systemd unit.\n",
		"  check { … } (blocks, any number)\n      A probe.\n      url list(string) (optional)\n",
		"Outputs: (step.NAME.outputs.…)\n  pid number\n      The new main pid.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hunter2") {
		t.Errorf("a sensitive argument's default is shown:\n%s", got)
	}
}

func TestWrap(t *testing.T) {
	tests := map[string]struct {
		text, indent string
		width        int
		want         string
	}{
		"fits":          {"a b c", "", 10, "a b c"},
		"breaks":        {"aaa bbb ccc", "", 7, "aaa bbb\nccc"},
		"indent":        {"aaa bbb ccc", "  ", 7, "  aaa bbb\n  ccc"},
		"long word":     {"abcdefghij x", "", 4, "abcdefghij\nx"},
		"paragraphs":    {"a\nb", "> ", 10, "> a\n> b"},
		"spaces shrink": {"a    b", "", 10, "a b"},
	}
	for name, tt := range tests {
		if got := wrap(tt.text, tt.width, tt.indent); got != tt.want {
			t.Errorf("%s: %q, want %q", name, got, tt.want)
		}
	}
}

func TestSecretsText(t *testing.T) {
	if got := secretsText(steps.Secrets{}); got != "given a sensitive value, every output is sensitive, and output lines are withheld" {
		t.Errorf("zero: %q", got)
	}
	if got := secretsText(steps.Secrets{CleanStream: true}); !strings.HasSuffix(got, "shown with the value replaced") {
		t.Errorf("clean stream: %q", got)
	}
}

func TestKindsJSON(t *testing.T) {
	topic := Topic{Name: "connection", Summary: "How steps reach hosts.", Block: &schema.Block{
		Attributes: map[string]*schema.Attribute{"user": {Type: cty.String}},
	}}
	var b bytes.Buffer
	if err := KindsJSON(&b, []*steps.Schema{docSchema()}, topic); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kinds []struct {
			Name    string `json:"name"`
			Effect  string `json:"effect"`
			Target  bool   `json:"target_host"`
			Timeout string `json:"default_timeout"`
			Args    struct {
				Attributes map[string]struct {
					TypeText string          `json:"type_text"`
					Default  json.RawMessage `json:"default"`
				} `json:"attributes"`
				Blocks map[string]struct {
					Nesting string `json:"nesting"`
				} `json:"blocks"`
			} `json:"args"`
			Secrets struct {
				Credentials []string `json:"credentials"`
				Clean       []string `json:"clean_outputs"`
			} `json:"secrets"`
		} `json:"kinds"`
		Blocks map[string]struct {
			Summary string `json:"summary"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, b.String())
	}
	if len(doc.Kinds) != 1 {
		t.Fatalf("%d kinds", len(doc.Kinds))
	}
	k := doc.Kinds[0]
	if k.Name != "svc.restart" || k.Effect != "idempotent" || !k.Target || k.Timeout != "5m" {
		t.Errorf("kind %+v", k)
	}
	if a := k.Args.Attributes["retries"]; a.TypeText != "number" || string(a.Default) != "3" {
		t.Errorf("retries %+v", a)
	}
	if a := k.Args.Attributes["password"]; a.Default != nil {
		t.Errorf("the sensitive default is in the document: %s", a.Default)
	}
	if k.Args.Blocks["check"].Nesting != "list" {
		t.Errorf("check nesting %q", k.Args.Blocks["check"].Nesting)
	}
	if doc.Blocks["connection"].Summary != "How steps reach hosts." {
		t.Errorf("blocks %+v", doc.Blocks)
	}

	// No secrets declared: empty lists, not null; a sensitive default is
	// left out.
	b.Reset()
	token := &schema.Block{Attributes: map[string]*schema.Attribute{
		"token": {Type: cty.String, Sensitive: true, Default: cty.StringVal("s3cret")},
	}}
	if err := KindsJSON(&b, []*steps.Schema{{Name: "x", Args: token}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "s3cret") {
		t.Errorf("the document shows a sensitive default:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `"credentials": []`) || strings.Contains(b.String(), `"blocks"`) {
		t.Errorf("document:\n%s", b.String())
	}
}

func TestTopicDoc(t *testing.T) {
	var b bytes.Buffer
	TopicDoc(&b, Topic{Name: "connection", Summary: "How steps reach hosts.", Description: "Each step's on names a host.",
		Block: &schema.Block{Attributes: map[string]*schema.Attribute{"port": {Type: cty.Number, Default: cty.NumberIntVal(22)}}}}, false)
	want := "connection — How steps reach hosts.\n\nEach step's on names a host.\n\nAttributes:\n  port number (optional, default 22)\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}
