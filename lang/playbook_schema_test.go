package lang

import (
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestPlaybookJSONSchema keeps docs/schemas/playbook.hcl.schema.json, the
// JSON Schema of .hcl.json playbooks, naming exactly the blocks and
// arguments this package decodes, and requiring those it requires.
func TestPlaybookJSONSchema(t *testing.T) {
	data, err := os.ReadFile("../docs/schemas/playbook.hcl.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type body struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	var doc struct {
		body
		Defs map[string]body `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]*hcl.BodySchema{
		"": fileSchema, "playbook": metaSchema, "release": releaseSchema,
		"variable": variableSchema, "check": checkSchema,
		"step": stepMetaSchema, "retry": retrySchema, "undo": undoBlockSchema,
		"group": groupSchema, "rolling": rollingSchema,
		"module": moduleMetaSchema, "hook_fill": hookFillSchema,
		"output": outputSchema, "hook": hookSchema,
	}
	for def, bs := range bodies {
		b, ok := doc.Defs[def]
		if def == "" {
			b, ok = doc.body, true
		}
		if !ok {
			t.Errorf("the schema has no $defs/%s", def)
			continue
		}
		var want, required []string
		for _, a := range bs.Attributes {
			want = append(want, a.Name)
			if a.Required {
				required = append(required, a.Name)
			}
		}
		for _, blk := range bs.Blocks {
			want = append(want, blk.Type)
		}
		var got []string
		for name := range b.Properties {
			if name != "//" {
				got = append(got, name)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		sort.Strings(required)
		gotRequired := append([]string(nil), b.Required...)
		sort.Strings(gotRequired)
		if !equalStrings(got, want) {
			t.Errorf("$defs/%s has %v; lang decodes %v", def, got, want)
		}
		if !equalStrings(gotRequired, required) {
			t.Errorf("$defs/%s requires %v; lang requires %v", def, gotRequired, required)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
