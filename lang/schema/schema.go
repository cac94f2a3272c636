package schema

import (
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Block is the shape of a body: its attributes and its nested block types.
type Block struct {
	Attributes map[string]*Attribute
	Blocks     map[string]*NestedBlock

	specOnce sync.Once
	spec     hcldec.Spec
}

// Attribute is one argument of a body.
type Attribute struct {
	// Type is the type the value is converted to; cty.DynamicPseudoType
	// accepts any value.
	Type        cty.Type
	Required    bool
	Description string
	// Sensitive arguments are always masked in plans, events and the journal,
	// whether or not the value given to them was marked sensitive.
	Sensitive bool
	// Default, when not null, is used when the argument is omitted.
	Default cty.Value
}

// Nesting says how many of a nested block may appear and how they are keyed.
type Nesting int

const (
	// NestingSingle allows at most one block; it decodes to an object or null.
	NestingSingle Nesting = iota
	// NestingList allows any number of blocks, decoded to a list of objects.
	NestingList
)

// NestedBlock is a block type allowed inside a Block.
type NestedBlock struct {
	Block
	Nesting     Nesting
	Description string
	MinItems    int
	MaxItems    int
}

// DecoderSpec returns the hcldec spec for b. It is built once and cached, so
// b must not change after its first use.
func (b *Block) DecoderSpec() hcldec.Spec {
	b.specOnce.Do(func() { b.spec = b.buildSpec() })
	return b.spec
}

func (b *Block) buildSpec() hcldec.ObjectSpec {
	spec := hcldec.ObjectSpec{}
	for name, a := range b.Attributes {
		var s hcldec.Spec = &hcldec.AttrSpec{Name: name, Type: a.Type, Required: a.Required}
		if a.Default != cty.NilVal && !a.Default.IsNull() {
			s = &hcldec.DefaultSpec{Primary: s, Default: &hcldec.LiteralSpec{Value: a.Default}}
		}
		spec[name] = s
	}
	for name, nb := range b.Blocks {
		inner := nb.Block.DecoderSpec()
		switch nb.Nesting {
		case NestingList:
			spec[name] = &hcldec.BlockListSpec{TypeName: name, Nested: inner, MinItems: nb.MinItems, MaxItems: nb.MaxItems}
		default:
			spec[name] = &hcldec.BlockSpec{TypeName: name, Nested: inner, Required: nb.MinItems > 0}
		}
	}
	return spec
}

// ImpliedType is the object type a decoded body of this shape has.
func (b *Block) ImpliedType() cty.Type { return hcldec.ImpliedType(b.DecoderSpec()) }

// AttributeNames returns the attribute names in sorted order.
func (b *Block) AttributeNames() []string {
	names := make([]string, 0, len(b.Attributes))
	for n := range b.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BlockNames returns the nested block type names in sorted order.
func (b *Block) BlockNames() []string {
	names := make([]string, 0, len(b.Blocks))
	for n := range b.Blocks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SensitivePaths returns the top-level attribute names that are declared
// sensitive, and for nested blocks their names with the inner attribute, as
// cty paths, so a caller can mark the decoded value.
func (b *Block) SensitivePaths() []cty.Path {
	var paths []cty.Path
	for _, n := range b.AttributeNames() {
		if b.Attributes[n].Sensitive {
			paths = append(paths, cty.GetAttrPath(n))
		}
	}
	for _, n := range b.BlockNames() {
		for _, p := range b.Blocks[n].Block.SensitivePaths() {
			paths = append(paths, append(cty.GetAttrPath(n), p...))
		}
	}
	return paths
}
