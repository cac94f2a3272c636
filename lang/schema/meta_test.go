package schema

import (
	"slices"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestMetaArgumentClashes(t *testing.T) {
	attr := &Attribute{Type: cty.String, Description: "x"}
	tests := map[string]struct {
		block *Block
		want  []string
	}{
		"no clash": {
			block: &Block{Attributes: map[string]*Attribute{"command": attr, "interval": attr}},
		},
		"an attribute named like a meta-argument": {
			block: &Block{Attributes: map[string]*Attribute{"command": attr, "timeout": attr}},
			want:  []string{"timeout"},
		},
		"a nested block named like a meta-argument": {
			block: &Block{Blocks: map[string]*NestedBlock{"retry": {}}, Attributes: map[string]*Attribute{"on": attr}},
			want:  []string{"on", "retry"},
		},
		"meta-argument names inside a nested block are free": {
			block: &Block{Blocks: map[string]*NestedBlock{"check": {Block: Block{Attributes: map[string]*Attribute{"timeout": attr}}}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.block.MetaArgumentClashes(); !slices.Equal(got, tc.want) {
				t.Errorf("MetaArgumentClashes() = %q, want %q", got, tc.want)
			}
		})
	}
}
