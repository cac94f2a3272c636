package lang_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
)

// TestDecodeUndoForms decodes every way of writing an undo, in native and
// in JSON syntax, and checks what the step holds.
func TestDecodeUndoForms(t *testing.T) {
	tests := map[string]struct {
		file, src string
		elems     lang.UndoElements
		when      bool
		rest      int // attributes left for the kind
	}{
		"bare reference": {
			file: "main.hcl", src: "step \"a\" {\n  uses = \"exec\"\n  undo = step.b\n  command = [\"x\"]\n}\n",
			elems: lang.UndoImplied, rest: 1,
		},
		"every element": {
			file: "main.hcl", src: "step \"a\" {\n  uses = \"exec\"\n  undo = step.b[*]\n}\n",
			elems: lang.UndoAll,
		},
		"the same key": {
			file: "main.hcl", src: "step \"a\" {\n  uses = \"exec\"\n  undo = step.b[each.key]\n}\n",
			elems: lang.UndoSameKey,
		},
		"block with a condition": {
			file: "main.hcl",
			src:  "step \"a\" {\n  uses = \"exec\"\n  command = [\"x\"]\n  undo {\n    step   = step.b\n    when   = var.ok\n    reason = \"not yet\"\n  }\n}\n",
			when: true, rest: 1,
		},
		"JSON reference": {
			file: "main.hcl.json", src: `{"step": {"a": {"uses": "exec", "undo": "step.b[*]", "command": ["x"]}}}`,
			elems: lang.UndoAll, rest: 1,
		},
		"JSON block": {
			file:  "main.hcl.json",
			src:   `{"step": {"a": {"uses": "exec", "command": ["x"], "undo": {"step": "step.b[each.key]", "when": "${var.ok}", "reason": "not yet"}}}}`,
			elems: lang.UndoSameKey, when: true, rest: 1,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			pb, diags := loadSource(t, tt.file, tt.src)
			if diags.HasErrors() {
				t.Fatalf("Load:\n%s", diagText(diags))
			}
			u := pb.Root.Steps["a"].Undo
			switch {
			case u == nil:
				t.Fatal("no undo decoded")
			case u.Step != "b" || u.Elements != tt.elems:
				t.Errorf("undo = step %q elements %d, want step b elements %d", u.Step, u.Elements, tt.elems)
			case (u.When != nil) != tt.when || (u.Reason != nil) != tt.when:
				t.Errorf("when %v reason %v, want both %v", u.When != nil, u.Reason != nil, tt.when)
			case u.DeclRange.Start.Line == 0:
				t.Errorf("the reference has no source range")
			}
			// The kind decodes its body with its schema: the undo, in
			// either syntax, is no longer there to be refused.
			content, ds := pb.Root.Steps["a"].Config.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "command"}}})
			if ds.HasErrors() || len(content.Attributes) != tt.rest {
				t.Errorf("the kind's body holds %v (%v); want %d attributes and no undo", keysOf(content.Attributes), diagText(ds), tt.rest)
			}
		})
	}
}

// TestDecodeUndoJSONErrors refuses JSON undo objects that name no step or
// misspell an argument, with the error on the key.
func TestDecodeUndoJSONErrors(t *testing.T) {
	tests := map[string]struct {
		src, want string
	}{
		"no step":        {`{"step": {"a": {"uses": "exec", "undo": {"when": "${true}"}}}}`, "Missing required argument"},
		"misspelt":       {`{"step": {"a": {"uses": "exec", "undo": {"step": "step.b", "wehn": "${true}"}}}}`, "Unsupported argument"},
		"not a step":     {`{"step": {"a": {"uses": "exec", "undo": "group.b"}}}`, "Invalid undo"},
		"reason no when": {`{"step": {"a": {"uses": "exec", "undo": {"step": "step.b", "reason": "r"}}}}`, "Undo reason without a condition"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, diags := loadSource(t, "main.hcl.json", tt.src)
			var got []string
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					got = append(got, d.Summary)
					if d.Subject == nil {
						t.Errorf("%q has no source range", d.Summary)
					}
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("errors %q, want [%q]", got, tt.want)
			}
		})
	}
}
