package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// stepMetaSchema holds rokflow's own arguments of a step; everything else in
// the body belongs to the kind. Its names are schema.StepMetaArguments, which
// kinds may not reuse (TestStepMetaSchemaNames keeps the two the same).
var stepMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "uses", Required: true},
		{Name: "description"},
		{Name: "on"},
		{Name: "connection"},
		{Name: "depends_on"},
		{Name: "when"},
		{Name: "for_each"},
		{Name: "timeout"},
		{Name: "once"},
		{Name: "undo"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "retry"},
		{Type: "precondition"},
		{Type: "postcondition"},
	},
}

var retrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "attempts", Required: true},
		{Name: "delay"},
		{Name: "max_delay"},
	},
}

func decodeStepBlock(block *hcl.Block, group *Group) (*Step, hcl.Diagnostics) {
	s := &Step{Name: block.Labels[0], DeclRange: block.DefRange, Group: group}
	diags := checkName(s.Name, block.LabelRanges[0])
	content, rest, ds := block.Body.PartialContent(stepMetaSchema)
	diags = append(diags, ds...)
	s.Config = rest

	if attr, ok := content.Attributes["uses"]; ok {
		ds := gohcl.DecodeExpression(attr.Expr, nil, &s.Kind)
		if ds.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid step kind",
				Detail:   `The "uses" argument takes the name of a step kind as a literal string, such as uses = "exec". Run "rokflow steps" to list the kinds.`,
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
		s.KindRange = attr.Expr.Range()
	}
	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &s.Description)...)
	}
	if attr, ok := content.Attributes["on"]; ok {
		s.On = attr.Expr
	}
	if attr, ok := content.Attributes["connection"]; ok {
		s.Connection, s.ConnRange, diags = decodeConnectionRef(attr, diags)
	}
	if attr, ok := content.Attributes["depends_on"]; ok {
		trs, ds := decodeDependsOn(attr)
		diags = append(diags, ds...)
		s.DependsOn = trs
	}
	if attr, ok := content.Attributes["when"]; ok {
		s.When = attr.Expr
	}
	if attr, ok := content.Attributes["for_each"]; ok {
		if group != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "for_each inside a group",
				Detail:   "A step inside a group runs once per element of the group; it cannot have its own for_each. Move the step out of the group or give the group the collection.",
				Subject:  attr.NameRange.Ptr(),
			})
		}
		s.ForEach = attr.Expr
	}
	if attr, ok := content.Attributes["timeout"]; ok {
		s.Timeout = attr.Expr
	}
	if attr, ok := content.Attributes["once"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &s.Once)...)
		s.OnceSet = true
	}
	s.Config, diags = decodeUndo(s, content.Attributes["undo"], rest, diags)
	for _, b := range content.Blocks {
		switch b.Type {
		case "retry":
			if s.Retry != nil {
				diags = append(diags, duplicate("retry block", "", b.DefRange, s.Retry.DeclRange))
				continue
			}
			rc, ds := b.Body.Content(retrySchema)
			diags = append(diags, ds...)
			s.Retry = &Retry{DeclRange: b.DefRange}
			if a, ok := rc.Attributes["attempts"]; ok {
				s.Retry.Attempts = a.Expr
			}
			if a, ok := rc.Attributes["delay"]; ok {
				s.Retry.Delay = a.Expr
			}
			if a, ok := rc.Attributes["max_delay"]; ok {
				s.Retry.MaxDelay = a.Expr
			}
		case "precondition", "postcondition":
			c, ds := decodeCheckBlock(b)
			diags = append(diags, ds...)
			if c == nil {
				continue
			}
			if b.Type == "precondition" {
				s.Pre = append(s.Pre, c)
			} else {
				s.Post = append(s.Post, c)
			}
		}
	}
	return s, diags
}

// decodeConnectionRef reads connection = connection.NAME.
func decodeConnectionRef(attr *hcl.Attribute, diags hcl.Diagnostics) (string, hcl.Range, hcl.Diagnostics) {
	tr, ds := hcl.AbsTraversalForExpr(attr.Expr)
	name, isName := "", false
	if !ds.HasErrors() && len(tr) == 2 {
		name, isName = traverseName(tr[1]) // not connection["x"]
	}
	if !isName || tr.RootName() != "connection" {
		return "", attr.Expr.Range(), append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid connection reference",
			Detail:   "The connection argument names a connection block as a bare reference, such as connection = connection.appliances.",
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return name, attr.Expr.Range(), diags
}

// decodeDependsOn reads depends_on = [step.a, group.b, module.c].
func decodeDependsOn(attr *hcl.Attribute) ([]hcl.Traversal, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(attr.Expr)
	var out []hcl.Traversal
	for _, e := range exprs {
		tr, ds := hcl.AbsTraversalForExpr(e)
		if ds.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid depends_on reference",
				Detail:   "depends_on lists bare references to steps, groups or modules, such as depends_on = [step.pin_master, group.slaves].",
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		switch tr.RootName() {
		case "step", "group", "module", "hook":
			if len(tr) < 2 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid depends_on reference",
					Detail:   fmt.Sprintf("Name the %s, as in %s.NAME.", tr.RootName(), tr.RootName()),
					Subject:  e.Range().Ptr(),
				})
				continue
			}
			out = append(out, tr)
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid depends_on reference",
				Detail:   fmt.Sprintf("depends_on may name only steps, groups, modules and hooks, not %q.", tr.RootName()),
				Subject:  e.Range().Ptr(),
			})
		}
	}
	return out, diags
}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each", Required: true},
		{Name: "depends_on"},
		{Name: "when"},
		{Name: "upgrades"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "rolling"},
		{Type: blockStep, LabelNames: []string{"name"}},
		{Type: blockModule, LabelNames: []string{"name"}},
	},
}

var rollingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "batch"},
		{Name: "max_failures"},
		{Name: "pause"},
	},
}

func decodeGroupBlock(block *hcl.Block) (*Group, hcl.Diagnostics) {
	g := &Group{Name: block.Labels[0], DeclRange: block.DefRange, Steps: map[string]*Step{}, Calls: map[string]*ModuleCall{}}
	diags := checkName(g.Name, block.LabelRanges[0])
	content, ds := block.Body.Content(groupSchema)
	diags = append(diags, ds...)
	if attr, ok := content.Attributes["for_each"]; ok {
		g.ForEach = attr.Expr
	}
	if attr, ok := content.Attributes["when"]; ok {
		g.When = attr.Expr
	}
	if attr, ok := content.Attributes["upgrades"]; ok {
		g.Upgrades = attr.Expr
	}
	if attr, ok := content.Attributes["depends_on"]; ok {
		trs, ds := decodeDependsOn(attr)
		diags = append(diags, ds...)
		g.DependsOn = trs
	}
	diags = append(diags, g.decodeItems(content.Blocks)...)
	if len(g.Order) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty group",
			Detail:   "A group needs at least one step or module block to run for each element.",
			Subject:  block.DefRange.Ptr(),
		})
	}
	return g, diags
}

// decodeItems decodes the step and module blocks of a group's (or a hook
// block's) body, and a group's rolling block.
func (g *Group) decodeItems(blocks hcl.Blocks) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range blocks {
		switch b.Type {
		case "rolling":
			if g.Rolling != nil {
				diags = append(diags, duplicate("rolling block", "", b.DefRange, g.Rolling.DeclRange))
				continue
			}
			rc, ds := b.Body.Content(rollingSchema)
			diags = append(diags, ds...)
			g.Rolling = &Rolling{DeclRange: b.DefRange}
			if a, ok := rc.Attributes["batch"]; ok {
				g.Rolling.Batch = a.Expr
			}
			if a, ok := rc.Attributes["max_failures"]; ok {
				g.Rolling.MaxFailures = a.Expr
			}
			if a, ok := rc.Attributes["pause"]; ok {
				g.Rolling.Pause = a.Expr
			}
		case blockStep:
			s, ds := decodeStepBlock(b, g)
			diags = append(diags, ds...)
			if s != nil {
				diags = append(diags, g.addItem(Item{Step: s}, b.DefRange)...)
			}
		case blockModule:
			c, ds := decodeModuleBlock(b, g)
			diags = append(diags, ds...)
			if c != nil {
				diags = append(diags, g.addItem(Item{Call: c}, b.DefRange)...)
			}
		}
	}
	return diags
}

func (g *Group) addItem(it Item, rng hcl.Range) hcl.Diagnostics {
	name := it.Name()
	for _, prev := range g.Order {
		if prev.Name() == name {
			return hcl.Diagnostics{duplicate(itemNoun(it), name, rng, itemRange(prev))}
		}
	}
	if it.Step != nil {
		g.Steps[name] = it.Step
	} else {
		g.Calls[name] = it.Call
	}
	g.Order = append(g.Order, it)
	return nil
}

var moduleMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "source", Required: true},
		{Name: "depends_on"},
		{Name: "when"},
		{Name: "upgrades"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: blockHook, LabelNames: []string{"name"}}},
}

// hookFillSchema is the body of a caller's hook block: steps and module
// calls, as in a group.
var hookFillSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockStep, LabelNames: []string{"name"}},
		{Type: blockModule, LabelNames: []string{"name"}},
	},
}

func decodeModuleBlock(block *hcl.Block, group *Group) (*ModuleCall, hcl.Diagnostics) {
	c := &ModuleCall{Name: block.Labels[0], DeclRange: block.DefRange, Group: group}
	diags := checkName(c.Name, block.LabelRanges[0])
	content, rest, ds := block.Body.PartialContent(moduleMetaSchema)
	diags = append(diags, ds...)
	if attr, ok := content.Attributes["source"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &c.Source)...)
		c.SourceRange = attr.Expr.Range()
	}
	if attr, ok := content.Attributes["when"]; ok {
		c.When = attr.Expr
	}
	if attr, ok := content.Attributes["upgrades"]; ok {
		c.Upgrades = attr.Expr
	}
	if attr, ok := content.Attributes["depends_on"]; ok {
		trs, ds := decodeDependsOn(attr)
		diags = append(diags, ds...)
		c.DependsOn = trs
	}
	for _, b := range content.Blocks {
		name := b.Labels[0]
		diags = append(diags, checkName(name, b.LabelRanges[0])...)
		if prev, ok := c.Hooks[name]; ok {
			diags = append(diags, duplicate("hook block", name, b.DefRange, prev.DeclRange))
			continue
		}
		fill := &Group{Name: name, DeclRange: b.DefRange, Steps: map[string]*Step{}, Calls: map[string]*ModuleCall{}}
		hc, ds := b.Body.Content(hookFillSchema)
		diags = append(diags, ds...)
		diags = append(diags, fill.decodeItems(hc.Blocks)...)
		if c.Hooks == nil {
			c.Hooks = map[string]*Group{}
		}
		c.Hooks[name] = fill
	}
	attrs, ds := inputAttributes(rest)
	diags = append(diags, ds...)
	c.Inputs = attrs
	if c.Source == "" && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing module source",
			Detail:   `Give the module's directory, such as source = "../lib/node-upgrade".`,
			Subject:  block.DefRange.Ptr(),
		})
	}
	return c, diags
}

// inputAttributes returns a module call's inputs: the attributes of its
// body left after the meta-arguments. hclsyntax's JustAttributes refuses
// any block, even the hook blocks PartialContent took, so a native body
// is read here; other blocks are refused as JustAttributes would.
func inputAttributes(rest hcl.Body) (hcl.Attributes, hcl.Diagnostics) {
	sb, ok := rest.(*hclsyntax.Body)
	if !ok {
		return rest.JustAttributes()
	}
	var diags hcl.Diagnostics
	for _, b := range sb.Blocks {
		if b.Type == blockHook {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Unexpected %q block", b.Type),
			Detail:   "A module call takes its inputs as attributes, and hook blocks for the module's hooks.",
			Subject:  b.TypeRange.Ptr(),
		})
	}
	attrs := make(hcl.Attributes, len(sb.Attributes))
	for name, a := range sb.Attributes {
		if isModuleMeta(name) {
			continue
		}
		attrs[name] = a.AsHCLAttribute()
	}
	return attrs, diags
}

func isModuleMeta(name string) bool {
	for _, a := range moduleMetaSchema.Attributes {
		if a.Name == name {
			return true
		}
	}
	return false
}
