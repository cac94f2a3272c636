package lang_test

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
)

// loadSource loads src as the only file of a playbook.
func loadSource(t *testing.T, name, src string) (*lang.Playbook, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, name, src)
	pb, diags := lang.Load(filepath.Join(dir, name))
	if pb == nil {
		t.Fatal("Load returned a nil playbook")
	}
	return pb, diags
}

// TestDecodeErrors decodes small bad playbooks; each must give exactly the
// listed errors, on the listed lines, and never panic.
func TestDecodeErrors(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []string // "line: summary"
	}{
		"undo by index": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo = step[\"x\"]\n}\n",
			want: []string{"3: Invalid undo"},
		},
		"undo of a group": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo = group.x\n}\n",
			want: []string{"3: Invalid undo"},
		},
		"undo of an output": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo = step.x.outputs\n}\n",
			want: []string{"3: Invalid undo"},
		},
		"undo splat of an attribute": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo = step.x[*].outputs\n}\n",
			want: []string{"3: Invalid undo"},
		},
		"undo indexed by a value": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo = step.x[each.value]\n}\n",
			want: []string{"3: Invalid undo"},
		},
		"undo given twice": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo = step.x\n  undo {\n    step = step.y\n  }\n}\n",
			want: []string{"4: Duplicate undo"},
		},
		"undo block without a step": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo {\n    when = true\n  }\n}\n",
			want: []string{"3: Missing required argument"},
		},
		"undo block with a misspelt argument": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo {\n    step = step.x\n    wehn = true\n  }\n}\n",
			want: []string{"5: Unsupported argument"},
		},
		"undo reason without when": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  undo {\n    step   = step.x\n    reason = \"r\"\n  }\n}\n",
			want: []string{"5: Undo reason without a condition"},
		},
		"connection by index": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  connection = connection[\"x\"]\n}\n",
			want: []string{"3: Invalid connection reference"},
		},
		"connection as a string": {
			src:  "step \"a\" {\n  uses = \"exec\"\n  connection = \"ssh\"\n}\n",
			want: []string{"3: Invalid connection reference"},
		},
		"uses not a literal": {
			src:  "step \"a\" {\n  uses = var.kind\n}\n",
			want: []string{"2: Invalid step kind"},
		},
		"uses missing": {
			src:  "step \"a\" {\n  on = \"x\"\n}\n",
			want: []string{"1: Missing required argument"},
		},
		"invalid names": {
			src:  "step \"1a\" {\n  uses = \"exec\"\n}\nvariable \"a b\" {}\noutput \"-\" {\n  value = 1\n}\n",
			want: []string{"1: Invalid name", "4: Invalid name", "5: Invalid name"},
		},
		"duplicate names across steps, groups and modules": {
			src: "step \"a\" {\n  uses = \"exec\"\n}\ngroup \"a\" {\n  for_each = []\n  step \"s\" {\n    uses = \"exec\"\n  }\n}\n" +
				"variable \"v\" {}\nvariable \"v\" {}\nlocals {\n  l = 1\n}\nlocals {\n  l = 2\n}\n",
			want: []string{"4: Duplicate group", "11: Duplicate variable", "16: Duplicate local value"},
		},
		"two playbook blocks": {
			src:  "playbook {\n  name = \"a\"\n}\nplaybook {\n  name = \"b\"\n}\n",
			want: []string{"4: Duplicate playbook"},
		},
		"for_each inside a group": {
			src:  "group \"g\" {\n  for_each = [1]\n  step \"s\" {\n    uses     = \"exec\"\n    for_each = [2]\n  }\n}\n",
			want: []string{"5: for_each inside a group"},
		},
		"empty group": {
			src:  "group \"g\" {\n  for_each = [1]\n  rolling {\n    batch = 1\n  }\n}\n",
			want: []string{"1: Empty group"},
		},
		"duplicate rolling and retry": {
			src: "group \"g\" {\n  for_each = [1]\n  rolling {}\n  rolling {}\n  step \"s\" {\n    uses = \"exec\"\n" +
				"    retry {\n      attempts = 2\n    }\n    retry {\n      attempts = 3\n    }\n  }\n}\n",
			want: []string{"10: Duplicate retry block", "4: Duplicate rolling block"},
		},
		"depends_on shapes": {
			src:  "step \"a\" {\n  uses       = \"exec\"\n  depends_on = [var.x, step, \"step.b\", step.b.outputs.c]\n}\n",
			want: []string{"3: Invalid depends_on reference", "3: Invalid depends_on reference", "3: Invalid depends_on reference"},
		},
		"depends_on not a list": {
			src:  "step \"a\" {\n  uses       = \"exec\"\n  depends_on = step.b\n}\n",
			want: []string{"3: Invalid expression"},
		},
		"module without source": {
			src:  "module \"m\" {\n  x = 1\n}\n",
			want: []string{"1: Missing required argument"},
		},
		"module with a source that is not a literal": {
			src:  "module \"m\" {\n  source = var.x\n}\n",
			want: []string{"2: Unsuitable value type", "2: Variables not allowed"},
		},
		"module with an empty source": {
			src:  "module \"m\" {\n  source = \"\"\n}\n",
			want: []string{"1: Missing module source"},
		},
		"module with a block in its inputs": {
			src:  "module \"m\" {\n  source = \"./x\"\n  inner {}\n}\n",
			want: []string{"2: Module not found", "3: Unexpected \"inner\" block"},
		},
		"bad variable type and default": {
			src:  "variable \"a\" {\n  type = strin\n}\nvariable \"b\" {\n  type    = number\n  default = \"x\"\n}\n",
			want: []string{"2: Invalid type specification", "6: Invalid default value for variable"},
		},
		"validation refers elsewhere": {
			src: "variable \"a\" {\n  validation {\n    condition     = var.b != \"\"\n    error_message = \"x ${local.c}\"\n  }\n}\n" +
				"variable \"b\" {\n  validation {\n    condition = true\n  }\n}\n",
			want: []string{"8: Missing required argument", "3: Invalid reference in variable validation", "4: Invalid reference in variable validation"},
		},
		"unknown top-level block and attribute": {
			src:  "stepp \"a\" {}\nname = 1\n",
			want: []string{"1: Unsupported block type", "2: Unsupported argument"},
		},
		"labels missing": {
			src:  "step {\n  uses = \"exec\"\n}\n",
			want: []string{"1: Missing name for step"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, diags := loadSource(t, "main.hcl", tt.src)
			var got []string
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				line := 0
				if d.Subject != nil {
					line = d.Subject.Start.Line
				}
				got = append(got, strconv.Itoa(line)+": "+d.Summary)
				if d.Detail == "" {
					t.Errorf("%q has no detail", d.Summary)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("errors differ\n got: %q\nwant: %q\n%s", got, want, diagText(diags))
			}
		})
	}
}

func TestDecodeStep(t *testing.T) {
	src := `
connection "appliances" {
  user = "root"
}

step "a" {
  uses        = "exec"
  description = "does a"
  on          = var.node
  connection  = connection.appliances
  depends_on  = [step.b, group.g, module.m]
  when        = true
  for_each    = ["x"]
  timeout     = "10m"
  once        = true
  undo        = step.b
  command     = ["true"]

  retry {
    attempts  = 3
    delay     = "1s"
    max_delay = "10s"
  }

  precondition {
    condition     = true
    error_message = "pre"
  }

  postcondition {
    condition     = self.outputs.ok
    error_message = "post"
  }
}
`
	pb, diags := loadSource(t, "main.hcl", src)
	if diags.HasErrors() {
		t.Fatalf("Load:\n%s", diagText(diags))
	}
	s := pb.Root.Steps["a"]
	switch {
	case s.Kind != "exec", s.Description != "does a", s.Connection != "appliances":
		t.Errorf("kind, description or connection wrong: %+v", s)
	case len(s.DependsOn) != 3 || s.On == nil || s.When == nil || s.ForEach == nil || s.Timeout == nil:
		t.Errorf("meta-arguments missing: %+v", s)
	case !s.Once || !s.OnceSet:
		t.Errorf("once = %v, set = %v", s.Once, s.OnceSet)
	case s.Undo == nil || s.Undo.Step != "b":
		t.Errorf("undo = %+v, want step b", s.Undo)
	case s.Retry == nil || s.Retry.Attempts == nil || s.Retry.Delay == nil || s.Retry.MaxDelay == nil:
		t.Errorf("retry = %+v", s.Retry)
	case len(s.Pre) != 1 || len(s.Post) != 1:
		t.Errorf("pre = %d, post = %d, want 1 each", len(s.Pre), len(s.Post))
	}
	// The kind's own arguments stay in the body, and only they: a schema
	// with only command decodes it without complaint.
	content, ds := s.Config.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "command", Required: true}}})
	if ds.HasErrors() {
		t.Fatalf("Config.Content:\n%s", diagText(ds))
	}
	if len(content.Attributes) != 1 || len(content.Blocks) != 0 {
		t.Errorf("Config holds %v and %d blocks, want only command", keysOf(content.Attributes), len(content.Blocks))
	}
}

func TestDecodeVariable(t *testing.T) {
	src := `
variable "cfg" {
  type = object({
    name = string
    port = optional(number, 80)
  })
  default = {
    name = "a"
  }
  description = "the config"
  sensitive   = true
  nullable    = true
}

variable "free" {}
`
	pb, diags := loadSource(t, "main.hcl", src)
	if diags.HasErrors() {
		t.Fatalf("Load:\n%s", diagText(diags))
	}
	v := pb.Root.Variables["cfg"]
	want := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("a"), "port": cty.NumberIntVal(80)})
	if !v.Default.RawEquals(want) {
		t.Errorf("default = %#v, want %#v (optional attribute defaults applied)", v.Default, want)
	}
	if !v.Sensitive || !v.Nullable || v.Description != "the config" || v.Required() {
		t.Errorf("cfg = %+v", v)
	}
	free := pb.Root.Variables["free"]
	if !free.Required() || free.Type != cty.DynamicPseudoType || free.Nullable {
		t.Errorf("free = %+v, want a required variable of any type, not nullable", free)
	}
}

func keysOf(attrs hcl.Attributes) []string {
	var out []string
	for k := range attrs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
