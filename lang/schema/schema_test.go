package schema

import (
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// probe is a schema with a required, an optional-with-default and a
// sensitive attribute, and a single and a list nested block.
func probe() *Block {
	return &Block{
		Attributes: map[string]*Attribute{
			"name":     {Type: cty.String, Required: true},
			"port":     {Type: cty.Number, Default: cty.NumberIntVal(22)},
			"password": {Type: cty.String, Sensitive: true},
		},
		Blocks: map[string]*NestedBlock{
			"tls": {Nesting: NestingSingle, Block: Block{Attributes: map[string]*Attribute{
				"key": {Type: cty.String, Sensitive: true},
				"ca":  {Type: cty.String},
			}}},
			"header": {Nesting: NestingList, MaxItems: 2, Block: Block{Attributes: map[string]*Attribute{
				"value": {Type: cty.String, Required: true},
			}}},
		},
	}
}

func decode(t *testing.T, b *Block, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return hcldec.Decode(f.Body, b.DecoderSpec(), nil)
}

func TestDecoderSpecDecodes(t *testing.T) {
	v, diags := decode(t, probe(), `
name = "web1"
tls {
  key = "k"
}
header { value = "a" }
header { value = "b" }
`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := v.GetAttr("name").AsString(); got != "web1" {
		t.Errorf("name = %q", got)
	}
	if got := v.GetAttr("port"); !got.RawEquals(cty.NumberIntVal(22)) {
		t.Errorf("port = %#v, want the default 22", got)
	}
	if !v.GetAttr("password").IsNull() {
		t.Errorf("password = %#v, want null when omitted", v.GetAttr("password"))
	}
	if got := v.GetAttr("tls").GetAttr("key").AsString(); got != "k" {
		t.Errorf("tls.key = %q", got)
	}
	if n := v.GetAttr("header").LengthInt(); n != 2 {
		t.Errorf("%d headers, want 2", n)
	}
	if !v.Type().Equals(probe().ImpliedType()) {
		t.Errorf("decoded type %#v is not the implied type %#v", v.Type(), probe().ImpliedType())
	}
}

func TestDecoderSpecRefuses(t *testing.T) {
	tests := map[string]struct{ src, summary string }{
		"missing required":   {`port = 2`, "Missing required argument"},
		"wrong type":         {`name = "a"` + "\n" + `port = "many"`, "Incorrect attribute value type"},
		"unknown argument":   {`name = "a"` + "\n" + `nmae = "b"`, "Unsupported argument"},
		"too many blocks":    {`name = "a"` + "\n" + `header { value = "1" }` + "\n" + `header { value = "2" }` + "\n" + `header { value = "3" }`, "Too many header blocks"},
		"two single blocks":  {`name = "a"` + "\n" + `tls {}` + "\n" + `tls {}`, "Duplicate tls block"},
		"required in nested": {`name = "a"` + "\n" + `header {}`, "Missing required argument"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, diags := decode(t, probe(), tt.src)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if got := diags[0].Summary; got != tt.summary {
				t.Errorf("summary %q, want %q", got, tt.summary)
			}
		})
	}
}

func TestDecoderSpecIsBuiltOnce(t *testing.T) {
	b := probe()
	first := b.DecoderSpec()
	// A change after the first use is not seen: the spec is cached.
	b.Attributes["late"] = &Attribute{Type: cty.String}
	if _, ok := b.DecoderSpec().(hcldec.ObjectSpec)["late"]; ok {
		t.Error("the spec was rebuilt after its first use")
	}
	if len(first.(hcldec.ObjectSpec)) != 5 {
		t.Errorf("spec has %d entries, want 5", len(first.(hcldec.ObjectSpec)))
	}
}

func TestNames(t *testing.T) {
	b := probe()
	if got, want := b.AttributeNames(), []string{"name", "password", "port"}; !slices.Equal(got, want) {
		t.Errorf("AttributeNames() = %q, want %q", got, want)
	}
	if got, want := b.BlockNames(), []string{"header", "tls"}; !slices.Equal(got, want) {
		t.Errorf("BlockNames() = %q, want %q", got, want)
	}
	empty := &Block{}
	if len(empty.AttributeNames()) != 0 || len(empty.BlockNames()) != 0 {
		t.Error("an empty block has names")
	}
}

func TestSensitivePaths(t *testing.T) {
	got := probe().SensitivePaths()
	want := []cty.Path{
		cty.GetAttrPath("password"),
		cty.GetAttrPath("tls").GetAttr("key"),
	}
	if len(got) != len(want) {
		t.Fatalf("SensitivePaths() = %#v, want %#v", got, want)
	}
	for i := range want {
		if !got[i].Equals(want[i]) {
			t.Errorf("path %d = %#v, want %#v", i, got[i], want[i])
		}
	}
}

func TestTypeString(t *testing.T) {
	tests := map[string]struct {
		ty   cty.Type
		want string
	}{
		"any":    {cty.DynamicPseudoType, "any"},
		"string": {cty.String, "string"},
		"number": {cty.Number, "number"},
		"bool":   {cty.Bool, "bool"},
		"list":   {cty.List(cty.String), "list(string)"},
		"set":    {cty.Set(cty.Number), "set(number)"},
		"map":    {cty.Map(cty.List(cty.Bool)), "map(list(bool))"},
		"tuple":  {cty.Tuple([]cty.Type{cty.String, cty.Number}), "tuple([string, number])"},
		"object": {cty.Object(map[string]cty.Type{"user": cty.String, "id": cty.Number}), "object({id=number, user=string})"},
		"optional": {cty.ObjectWithOptionalAttrs(map[string]cty.Type{"port": cty.Number, "host": cty.String}, []string{"port"}),
			"object({host=string, port=optional(number)})"},
		"empty object": {cty.EmptyObject, "object({})"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := TypeString(tt.ty); got != tt.want {
				t.Errorf("TypeString = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsStepMetaArgument(t *testing.T) {
	for _, n := range StepMetaArguments {
		if !IsStepMetaArgument(n) {
			t.Errorf("%s is not a meta-argument", n)
		}
	}
	for _, n := range []string{"command", "Timeout", "", "depends"} {
		if IsStepMetaArgument(n) {
			t.Errorf("%q is a meta-argument", n)
		}
	}
}
