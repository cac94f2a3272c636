package runtime

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/lang"
)

// nodeRefs returns every reference a node makes, compiling steps and groups
// on the way.
func (c *compiled) nodeRefs(m *lang.Module, n node) ([]lang.Ref, hcl.Diagnostics) {
	switch {
	case n.local != nil:
		return lang.References(n.local.Expr)
	case n.out != nil:
		return lang.References(n.out.Expr)
	case n.hook != nil:
		return lang.DependsOnRefs(n.hook.DependsOn)
	case n.release != nil:
		refs, diags := lang.References(n.release.Nodes)
		rs, ds := lang.References(n.release.Cluster)
		return append(refs, rs...), append(diags, ds...)
	case n.item.Step != nil:
		return c.compileStep(m, n.item.Step)
	case n.item.Group != nil:
		return c.compileGroup(m, n.item.Group)
	default:
		return c.callRefs(m, n.item.Call)
	}
}

// callRefs returns the references a module call makes in its module m:
// its inputs, when, upgrades and depends_on, and what its hook blocks'
// steps refer to outside themselves (they are planned in m's scope, at
// the hook's place in the called module, so all of it must come first).
func (c *compiled) callRefs(m *lang.Module, call *lang.ModuleCall) ([]lang.Ref, hcl.Diagnostics) {
	var refs []lang.Ref
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(call.Inputs) {
		rs, ds := lang.References(call.Inputs[name].Expr)
		refs, diags = append(refs, rs...), append(diags, ds...)
	}
	for _, e := range []hcl.Expression{call.When, call.Upgrades} {
		rs, ds := lang.References(e)
		refs, diags = append(refs, rs...), append(diags, ds...)
	}
	diags = append(diags, c.needRelease(call.Upgrades)...)
	rs, ds := lang.DependsOnRefs(call.DependsOn)
	refs, diags = append(refs, rs...), append(diags, ds...)
	for _, name := range sortedKeys(call.Hooks) {
		rs, ds := c.compileGroup(m, call.Hooks[name])
		refs, diags = append(refs, rs...), append(diags, ds...)
	}
	return refs, diags
}

// resolveModuleRef checks that r names something that exists in m and
// returns the address of the module-level node it orders after ("" for
// variables, each, playbook and self, which need no ordering).
func resolveModuleRef(m *lang.Module, r lang.Ref, from node) (string, hcl.Diagnostics) {
	notFound := func(noun string, names []string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared " + noun,
			Detail:   fmt.Sprintf("No %s named %q is declared in %s.%s", noun, r.Name, moduleWhere(m), didYouMean(r.Name, names)),
			Subject:  r.Range.Ptr(),
		}}
	}
	var group *lang.Group
	if from.item.Group != nil {
		group = from.item.Group
	}
	switch r.Kind {
	case lang.RefVar:
		if m.Variables[r.Name] == nil {
			return "", notFound("input variable", sortedKeys(m.Variables))
		}
	case lang.RefLocal:
		if m.Locals[r.Name] == nil {
			return "", notFound("local value", sortedKeys(m.Locals))
		}
		return "local." + r.Name, nil
	case lang.RefStep:
		if group != nil && group.Steps[r.Name] != nil {
			return "", nil
		}
		if m.Steps[r.Name] == nil {
			names := sortedKeys(m.Steps)
			if group != nil {
				names = append(names, sortedKeys(group.Steps)...)
			}
			return "", notFound("step", names)
		}
		return "step." + r.Name, nil
	case lang.RefGroup:
		if m.Groups[r.Name] == nil {
			return "", notFound("group", sortedKeys(m.Groups))
		}
		return "group." + r.Name, nil
	case lang.RefModule:
		if group != nil && group.Calls[r.Name] != nil {
			return "", checkOutput(group.Calls[r.Name], r)
		}
		call := m.Calls[r.Name]
		if call == nil {
			names := sortedKeys(m.Calls)
			if group != nil {
				names = append(names, sortedKeys(group.Calls)...)
			}
			return "", notFound("module call", names)
		}
		return "module." + r.Name, checkOutput(call, r)
	case lang.RefHook:
		if m.Hooks[r.Name] == nil {
			return "", notFound("hook", sortedKeys(m.Hooks))
		}
		return "hook." + r.Name, nil
	case lang.RefEach:
		if from.item.Group == nil && (from.item.Step == nil || from.item.Step.ForEach == nil) {
			return "", hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "each outside for_each",
				Detail:   "each.key and each.value exist only in a step with for_each or in a step inside a group.",
				Subject:  r.Range.Ptr(),
			}}
		}
	case lang.RefPlaybook:
		switch r.Name {
		case "name", "from", "to":
		default:
			return "", hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Unknown playbook attribute",
				Detail:   fmt.Sprintf("playbook has name, from and to, not %q.", r.Name),
				Subject:  r.Range.Ptr(),
			}}
		}
	}
	return "", nil
}

func checkOutput(call *lang.ModuleCall, r lang.Ref) hcl.Diagnostics {
	if r.Attr == "" || call.Module == nil || call.Module.Outputs[r.Attr] != nil {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Unknown module output",
		Detail:   fmt.Sprintf("The module %q (%s) has no output named %q.%s", call.Name, call.Source, r.Attr, didYouMean(r.Attr, sortedKeys(call.Module.Outputs))),
		Subject:  r.Range.Ptr(),
	}}
}

func moduleWhere(m *lang.Module) string {
	if len(m.Path) == 0 {
		return "the playbook"
	}
	return "module." + strings.Join(m.Path, ".module.")
}

func didYouMean(given string, names []string) string {
	if s := lang.Nearest(given, names); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func cycleDiag(cycle []int, name func(int) string, rng hcl.Range) *hcl.Diagnostic {
	parts := make([]string, 0, len(cycle)+1)
	for _, i := range cycle {
		parts = append(parts, name(i))
	}
	parts = append(parts, name(cycle[0]))
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Dependency cycle",
		Detail:   fmt.Sprintf("These refer to each other in a loop: %s. Break the loop by removing one of the references or depends_on entries.", strings.Join(parts, " → ")),
		Subject:  rng.Ptr(),
	}
}
