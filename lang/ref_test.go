package lang_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/rokflow/rokflow/lang"
)

func traversal(t *testing.T, src string) hcl.Traversal {
	t.Helper()
	tr, diags := hclsyntax.ParseTraversalAbs([]byte(src), "ref.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("ParseTraversalAbs(%s):\n%s", src, diagText(diags))
	}
	return tr
}

func TestParseRef(t *testing.T) {
	tests := map[string]struct {
		src  string
		want lang.Ref // Range is not compared
		// summary and detail describe the error, if any.
		summary, detail string
	}{
		"variable":            {src: "var.seed_node", want: lang.Ref{Kind: lang.RefVar, Name: "seed_node"}},
		"variable attribute":  {src: "var.etcd.endpoints[0]", want: lang.Ref{Kind: lang.RefVar, Name: "etcd"}},
		"local":               {src: "local.banner", want: lang.Ref{Kind: lang.RefLocal, Name: "banner"}},
		"step output":         {src: "step.members.outputs.master", want: lang.Ref{Kind: lang.RefStep, Name: "members"}},
		"step instance":       {src: `step.members["rok1"].outputs.master`, want: lang.Ref{Kind: lang.RefStep, Name: "members"}},
		"whole step":          {src: "step.members", want: lang.Ref{Kind: lang.RefStep, Name: "members"}},
		"group":               {src: "group.slaves", want: lang.Ref{Kind: lang.RefGroup, Name: "slaves"}},
		"module output":       {src: "module.first.greeting", want: lang.Ref{Kind: lang.RefModule, Name: "first", Attr: "greeting"}},
		"module output field": {src: "module.first.greeting.x", want: lang.Ref{Kind: lang.RefModule, Name: "first", Attr: "greeting"}},
		"each key":            {src: "each.key", want: lang.Ref{Kind: lang.RefEach, Name: "key"}},
		"each value field":    {src: "each.value.host", want: lang.Ref{Kind: lang.RefEach, Name: "value"}},
		"self":                {src: "self", want: lang.Ref{Kind: lang.RefSelf}},
		"self outputs":        {src: "self.outputs.ok", want: lang.Ref{Kind: lang.RefSelf}},
		"playbook":            {src: "playbook.name", want: lang.Ref{Kind: lang.RefPlaybook, Name: "name"}},

		"unknown root": {
			src: "foo.bar", want: lang.Ref{},
			summary: "Unknown reference", detail: `no object named "foo". Expressions can refer to var`,
		},
		"near root": {
			src: "vars.x", want: lang.Ref{},
			summary: "Unknown reference", detail: `Did you mean "var"?`,
		},
		"near longer root": {
			src: "steps.a", want: lang.Ref{},
			summary: "Unknown reference", detail: `Did you mean "step"?`,
		},
		"bare root": {
			src: "var", want: lang.Ref{Kind: lang.RefVar},
			summary: "Incomplete reference", detail: "as in var.NAME",
		},
		"bare step": {
			src: "step", want: lang.Ref{Kind: lang.RefStep},
			summary: "Incomplete reference", detail: "as in step.NAME",
		},
		"index after root": {
			src: `var["x"]`, want: lang.Ref{Kind: lang.RefVar},
			summary: "Invalid reference", detail: "comes a name",
		},
		"each something else": {
			src: "each.index", want: lang.Ref{Kind: lang.RefEach, Name: "index"},
			summary: "Invalid each attribute", detail: `not "index"`,
		},
		"module without output": {
			src: "module.first", want: lang.Ref{Kind: lang.RefModule, Name: "first"},
			summary: "Incomplete module reference", detail: "module.first.OUTPUT",
		},
		"module output by index": {
			src: `module.first["greeting"]`, want: lang.Ref{Kind: lang.RefModule, Name: "first"},
			summary: "Invalid module reference", detail: "module.first.OUTPUT",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tr := traversal(t, tt.src)
			got, diags := lang.ParseRef(tr)
			if got.Kind != tt.want.Kind || got.Name != tt.want.Name || got.Attr != tt.want.Attr {
				t.Errorf("ParseRef(%s) = %+v, want %+v", tt.src, got, tt.want)
			}
			if tt.summary == "" {
				if len(diags) != 0 {
					t.Fatalf("unexpected diagnostics:\n%s", diagText(diags))
				}
				if got.Range != tr.SourceRange() {
					t.Errorf("Range = %s, want the traversal's %s", got.Range, tr.SourceRange())
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1 %q:\n%s", len(diags), tt.summary, diagText(diags))
			}
			d := diags[0]
			if d.Severity != hcl.DiagError || d.Summary != tt.summary || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("got %q: %q, want %q containing %q", d.Summary, d.Detail, tt.summary, tt.detail)
			}
			if d.Subject == nil || d.Subject.Filename != "ref.hcl" {
				t.Errorf("subject %v, want a range in the expression", d.Subject)
			}
		})
	}
}

func TestParseRefNearRootShortName(t *testing.T) {
	// Names under three letters get no suggestion, even one edit away.
	_, diags := lang.ParseRef(traversal(t, "va.x"))
	if len(diags) != 1 || strings.Contains(diags[0].Detail, "Did you mean") {
		t.Errorf("want one error without a suggestion, got:\n%s", diagText(diags))
	}
}

func TestDependsOnRefs(t *testing.T) {
	tests := map[string]struct {
		srcs []string
		want []lang.Ref
		// errors lists the summaries of the errors, in order.
		errors []string
	}{
		"step, group and module": {
			srcs: []string{"step.a", "group.g", "module.m"},
			want: []lang.Ref{{Kind: lang.RefStep, Name: "a"}, {Kind: lang.RefGroup, Name: "g"}, {Kind: lang.RefModule, Name: "m"}},
		},
		"module with an output": {
			srcs: []string{"module.m.out"},
			want: []lang.Ref{{Kind: lang.RefModule, Name: "m"}},
		},
		"step instance": {
			srcs: []string{`step.a["k"]`},
			want: []lang.Ref{{Kind: lang.RefStep, Name: "a"}},
		},
		"bad entries are reported, good ones kept": {
			srcs:   []string{"step.a", "module", `module["m"]`, "bogus.x", "each.index", "step.b"},
			want:   []lang.Ref{{Kind: lang.RefStep, Name: "a"}, {Kind: lang.RefStep, Name: "b"}},
			errors: []string{"Incomplete reference", "Invalid reference", "Unknown reference", "Invalid each attribute"},
		},
		"none": {},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var trs []hcl.Traversal
			for _, s := range tt.srcs {
				trs = append(trs, traversal(t, s))
			}
			got, diags := lang.DependsOnRefs(trs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].Kind != tt.want[i].Kind || got[i].Name != tt.want[i].Name {
					t.Errorf("ref %d = %+v, want %+v", i, got[i], tt.want[i])
				}
				if got[i].Range.Filename != "ref.hcl" {
					t.Errorf("ref %d has no range", i)
				}
			}
			if errs := errorSummaries(diags); strings.Join(errs, "|") != strings.Join(tt.errors, "|") {
				t.Errorf("errors = %q, want %q", errs, tt.errors)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	refs, diags := lang.References(nil)
	if refs != nil || diags != nil {
		t.Errorf("References(nil) = %v, %v; want nothing", refs, diags)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(`"${var.a}-${local.b}" == step.c.outputs.d ? each.key : bad.e`), "x.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	refs, diags = lang.References(expr)
	var got []string
	for _, r := range refs {
		got = append(got, r.Name)
	}
	if strings.Join(got, ",") != "a,b,c,key" {
		t.Errorf("References names = %v, want a,b,c,key", got)
	}
	if errs := errorSummaries(diags); len(errs) != 1 || errs[0] != "Unknown reference" {
		t.Errorf("errors = %q, want one Unknown reference", errs)
	}
}
