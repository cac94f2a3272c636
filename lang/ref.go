package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// RefKind is what a reference points at.
type RefKind int

// The kinds of reference an expression may make.
const (
	RefVar RefKind = iota
	RefLocal
	RefStep
	RefGroup
	RefModule
	RefEach
	RefSelf
	RefPlaybook
	// RefHook is hook.NAME, a module's extension point; depends_on only.
	RefHook
)

var refRoots = map[string]RefKind{
	"var":      RefVar,
	"local":    RefLocal,
	"step":     RefStep,
	"group":    RefGroup,
	"module":   RefModule,
	"each":     RefEach,
	"self":     RefSelf,
	"playbook": RefPlaybook,
	"hook":     RefHook,
}

// RefRootNames lists the names an expression may start with.
var RefRootNames = []string{"each", "group", "local", "module", "playbook", "self", "step", "var"}

// Ref is a parsed reference: its kind, the name it refers to (a variable,
// step, group or module call name; "key"/"value" for each) and where it is.
type Ref struct {
	Kind RefKind
	Name string
	// Attr is the module output named by module.NAME.OUTPUT.
	Attr  string
	Range hcl.Range
}

// ParseRef parses the start of a traversal into a reference.
func ParseRef(tr hcl.Traversal) (Ref, hcl.Diagnostics) {
	root := tr.RootName()
	kind, ok := refRoots[root]
	if !ok {
		return Ref{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown reference",
			Detail:   fmt.Sprintf("There is no object named %q.%s Expressions can refer to var, local, step, group, module, each, self and playbook.", root, didYouMean(root, RefRootNames)),
			Subject:  tr.SourceRange().Ptr(),
		}}
	}
	ref := Ref{Kind: kind, Range: tr.SourceRange()}
	if kind == RefSelf {
		return ref, nil
	}
	if len(tr) < 2 {
		return ref, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Incomplete reference",
			Detail:   fmt.Sprintf("A reference to %s must name what it refers to, as in %s.NAME.", root, root),
			Subject:  tr.SourceRange().Ptr(),
		}}
	}
	name, ok := traverseName(tr[1])
	if !ok {
		return ref, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   fmt.Sprintf("After %q comes a name, as in %s.NAME.", root, root),
			Subject:  tr[1].SourceRange().Ptr(),
		}}
	}
	ref.Name = name
	switch kind {
	case RefEach:
		if name != "key" && name != "value" {
			return ref, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid each attribute",
				Detail:   fmt.Sprintf("each has only key and value, not %q.", name),
				Subject:  tr[1].SourceRange().Ptr(),
			}}
		}
	case RefModule:
		if len(tr) < 3 {
			return ref, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Incomplete module reference",
				Detail:   fmt.Sprintf("Refer to one of the module's outputs, as in module.%s.OUTPUT.", name),
				Subject:  tr.SourceRange().Ptr(),
			}}
		}
		attr, ok := traverseName(tr[2])
		if !ok {
			return ref, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid module reference",
				Detail:   fmt.Sprintf("Refer to one of the module's outputs by name, as in module.%s.OUTPUT.", name),
				Subject:  tr[2].SourceRange().Ptr(),
			}}
		}
		ref.Attr = attr
	}
	return ref, nil
}

func traverseName(t hcl.Traverser) (string, bool) {
	switch t := t.(type) {
	case hcl.TraverseAttr:
		return t.Name, true
	}
	return "", false
}

// References returns the parsed references of expr. Traversals that do not
// parse are reported; a nil expression has none.
func References(expr hcl.Expression) ([]Ref, hcl.Diagnostics) {
	if expr == nil {
		return nil, nil
	}
	return refsOf(expr.Variables())
}

// refsOf parses traversals into references, reporting those that do not
// parse.
func refsOf(trs []hcl.Traversal) ([]Ref, hcl.Diagnostics) {
	var refs []Ref
	var diags hcl.Diagnostics
	for _, tr := range trs {
		r, ds := ParseRef(tr)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			refs = append(refs, r)
		}
	}
	return refs, diags
}

// DependsOnRefs parses depends_on entries: step.NAME, group.NAME or
// module.NAME, where a module needs no output.
func DependsOnRefs(trs []hcl.Traversal) ([]Ref, hcl.Diagnostics) {
	var refs []Ref
	var diags hcl.Diagnostics
	for _, tr := range trs {
		if tr.RootName() == "module" && len(tr) >= 2 {
			if name, ok := traverseName(tr[1]); ok {
				refs = append(refs, Ref{Kind: RefModule, Name: name, Range: tr.SourceRange()})
				continue
			}
		}
		r, ds := ParseRef(tr)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			refs = append(refs, r)
		}
	}
	return refs, diags
}
