package lang

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// Block type names of a playbook file.
const (
	blockPlaybook   = "playbook"
	blockVariable   = "variable"
	blockLocals     = "locals"
	blockConnection = "connection"
	blockStep       = "step"
	blockGroup      = "group"
	blockModule     = "module"
	blockOutput     = "output"
	blockHook       = "hook"
	blockRelease    = "release"
)

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockPlaybook},
		{Type: blockVariable, LabelNames: []string{"name"}},
		{Type: blockLocals},
		{Type: blockConnection, LabelNames: []string{"name"}},
		{Type: blockStep, LabelNames: []string{"name"}},
		{Type: blockGroup, LabelNames: []string{"name"}},
		{Type: blockModule, LabelNames: []string{"name"}},
		{Type: blockOutput, LabelNames: []string{"name"}},
		{Type: blockHook, LabelNames: []string{"name"}},
	},
}

// decodeFile decodes one file's top-level blocks into m. pb is nil for a
// child module, where a playbook block is not allowed.
func decodeFile(body hcl.Body, m *Module, pb *Playbook) hcl.Diagnostics {
	content, diags := body.Content(fileSchema)
	for _, block := range content.Blocks {
		switch block.Type {
		case blockPlaybook:
			if pb == nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Playbook block in a module",
					Detail:   "Only the root playbook directory may have a playbook block; remove it from this module.",
					Subject:  block.DefRange.Ptr(),
				})
				continue
			}
			if pb.Meta != nil {
				diags = append(diags, duplicate("playbook", "", block.DefRange, pb.Meta.DeclRange))
				continue
			}
			meta, ds := decodePlaybookBlock(block)
			diags = append(diags, ds...)
			pb.Meta = meta
		case blockVariable:
			v, ds := decodeVariableBlock(block)
			diags = append(diags, ds...)
			if v == nil {
				continue
			}
			if prev, ok := m.Variables[v.Name]; ok {
				diags = append(diags, duplicate("variable", v.Name, block.DefRange, prev.DeclRange))
				continue
			}
			m.Variables[v.Name] = v
		case blockLocals:
			attrs, ds := block.Body.JustAttributes()
			diags = append(diags, ds...)
			for _, name := range sortedAttrNames(attrs) {
				attr := attrs[name]
				if prev, ok := m.Locals[name]; ok {
					diags = append(diags, duplicate("local value", name, attr.NameRange, prev.DeclRange))
					continue
				}
				diags = append(diags, checkName(name, attr.NameRange)...)
				m.Locals[name] = &Local{Name: name, Expr: attr.Expr, DeclRange: attr.NameRange}
			}
		case blockConnection:
			name := block.Labels[0]
			diags = append(diags, checkName(name, block.LabelRanges[0])...)
			if prev, ok := m.Connections[name]; ok {
				diags = append(diags, duplicate("connection", name, block.DefRange, prev.DeclRange))
				continue
			}
			m.Connections[name] = &Connection{Name: name, Config: block.Body, DeclRange: block.DefRange}
		case blockStep:
			s, ds := decodeStepBlock(block, nil)
			diags = append(diags, ds...)
			if s != nil {
				diags = append(diags, m.addItem(Item{Step: s}, block.DefRange)...)
			}
		case blockGroup:
			g, ds := decodeGroupBlock(block)
			diags = append(diags, ds...)
			if g != nil {
				diags = append(diags, m.addItem(Item{Group: g}, block.DefRange)...)
			}
		case blockModule:
			c, ds := decodeModuleBlock(block, nil)
			diags = append(diags, ds...)
			if c != nil {
				diags = append(diags, m.addItem(Item{Call: c}, block.DefRange)...)
			}
		case blockHook:
			h, ds := decodeHookBlock(block)
			diags = append(diags, ds...)
			if h == nil {
				continue
			}
			if prev, ok := m.Hooks[h.Name]; ok {
				diags = append(diags, duplicate("hook", h.Name, block.DefRange, prev.DeclRange))
				continue
			}
			m.Hooks[h.Name] = h
		case blockOutput:
			o, ds := decodeOutputBlock(block)
			diags = append(diags, ds...)
			if o == nil {
				continue
			}
			if prev, ok := m.Outputs[o.Name]; ok {
				diags = append(diags, duplicate("output", o.Name, block.DefRange, prev.DeclRange))
				continue
			}
			m.Outputs[o.Name] = o
		}
	}
	return diags
}

// addItem adds a step, group or module call. Steps, groups and module calls
// have separate namespaces (step.x, group.x, module.x) but sharing a name is
// still refused: it makes plans and journals ambiguous to read.
func (m *Module) addItem(it Item, rng hcl.Range) hcl.Diagnostics {
	name := it.Name()
	for _, prev := range m.Order {
		if prev.Name() == name {
			return hcl.Diagnostics{duplicate(itemNoun(it), name, rng, itemRange(prev))}
		}
	}
	switch {
	case it.Step != nil:
		m.Steps[name] = it.Step
	case it.Group != nil:
		m.Groups[name] = it.Group
	default:
		m.Calls[name] = it.Call
	}
	m.Order = append(m.Order, it)
	return nil
}

func itemNoun(it Item) string {
	switch {
	case it.Step != nil:
		return "step"
	case it.Group != nil:
		return "group"
	default:
		return "module"
	}
}

func itemRange(it Item) hcl.Range {
	switch {
	case it.Step != nil:
		return it.Step.DeclRange
	case it.Group != nil:
		return it.Group.DeclRange
	default:
		return it.Call.DeclRange
	}
}

func duplicate(noun, name string, rng, prev hcl.Range) *hcl.Diagnostic {
	what := noun
	if name != "" {
		what = fmt.Sprintf("%s %q", noun, name)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + noun,
		Detail:   fmt.Sprintf("A %s was already declared at %s. Names must be unique; rename or remove one of them.", what, prev),
		Subject:  rng.Ptr(),
	}
}

var metaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name", Required: true},
		{Name: "from"},
		{Name: "to"},
		{Name: "description"},
		{Name: "requires_rokflow"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: blockRelease}},
}

var releaseSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "nodes", Required: true},
		{Name: "cluster"},
	},
}

var hookSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "depends_on"},
	},
}

// decodeHookBlock decodes a module's extension point.
func decodeHookBlock(block *hcl.Block) (*Hook, hcl.Diagnostics) {
	h := &Hook{Name: block.Labels[0], DeclRange: block.DefRange}
	diags := checkName(h.Name, block.LabelRanges[0])
	content, ds := block.Body.Content(hookSchema)
	diags = append(diags, ds...)
	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &h.Description)...)
	}
	if attr, ok := content.Attributes["depends_on"]; ok {
		trs, ds := decodeDependsOn(attr)
		diags = append(diags, ds...)
		h.DependsOn = trs
	}
	return h, diags
}

func decodePlaybookBlock(block *hcl.Block) (*Meta, hcl.Diagnostics) {
	meta := &Meta{DeclRange: block.DefRange}
	content, diags := block.Body.Content(metaSchema)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &meta.Name}, {"from", &meta.From}, {"to", &meta.To}, {"description", &meta.Description}, {"requires_rokflow", &meta.RequiresRokflow}} {
		if attr, ok := content.Attributes[f.name]; ok {
			diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, f.dst)...)
			if meta.Ranges == nil {
				meta.Ranges = map[string]hcl.Range{}
			}
			meta.Ranges[f.name] = attr.Expr.Range()
		}
	}
	for _, b := range content.Blocks {
		if meta.Release != nil {
			diags = append(diags, duplicate("release block", "", b.DefRange, meta.Release.DeclRange))
			continue
		}
		rc, ds := b.Body.Content(releaseSchema)
		diags = append(diags, ds...)
		meta.Release = &ReleaseFacts{DeclRange: b.DefRange}
		if a, ok := rc.Attributes["nodes"]; ok {
			meta.Release.Nodes = a.Expr
		}
		if a, ok := rc.Attributes["cluster"]; ok {
			meta.Release.Cluster = a.Expr
		}
	}
	return meta, diags
}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true},
		{Name: "description"},
		{Name: "sensitive"},
	},
}

func decodeOutputBlock(block *hcl.Block) (*Output, hcl.Diagnostics) {
	o := &Output{Name: block.Labels[0], DeclRange: block.DefRange}
	diags := checkName(o.Name, block.LabelRanges[0])
	content, ds := block.Body.Content(outputSchema)
	diags = append(diags, ds...)
	if attr, ok := content.Attributes["value"]; ok {
		o.Expr = attr.Expr
	}
	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &o.Description)...)
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &o.Sensitive)...)
	}
	return o, diags
}

func sortedAttrNames(attrs hcl.Attributes) []string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	// Source order reads best; attributes of one block share a file.
	sortByPos(names, func(n string) hcl.Pos { return attrs[n].NameRange.Start })
	return names
}

func sortByPos(names []string, pos func(string) hcl.Pos) {
	slices.SortFunc(names, func(a, b string) int { return pos(a).Byte - pos(b).Byte })
}
