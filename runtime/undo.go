package runtime

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/rokflow/rokflow/lang"
)

// undoMode is how the instances an owing step instance owes are found. It
// is decided once, when the playbook is compiled, from the two steps'
// for_each; the planner turns it into addresses.
type undoMode int

const (
	// undoOne: the undo step has no for_each; its one instance is owed
	// (once, whichever elements of a for_each step owe it).
	undoOne undoMode = iota
	// undoSameKey: the undo step's instance with the owing instance's
	// for_each key.
	undoSameKey
	// undoAll: every instance of the undo step.
	undoAll
)

// cundo is a step's undo as compiled.
type cundo struct {
	mode undoMode
	// outer: the owing step is in a group and the undo step is declared in
	// the module around it, not in the group.
	outer bool
	// reads names the steps the condition and reason refer to directly,
	// with whether each is declared in the owing step's group: the
	// read-only ones are read again when the condition is evaluated.
	reads []undoRead
}

type undoRead struct {
	name    string
	inGroup bool
}

// compileUndo resolves a step's undo: the undo step exists beside it and is
// not the step itself; which of its instances are owed follows from the
// two steps' for_each or is said explicitly; the condition refers only to
// what exists. The condition orders nothing: it is read when a failed run
// considers the undo.
func (c *compiled) compileUndo(m *lang.Module, s *lang.Step, cs *cstep) hcl.Diagnostics {
	u := s.Undo
	if u == nil {
		return nil
	}
	var target *lang.Step
	cu := &cundo{}
	if s.Group != nil {
		target = s.Group.Steps[u.Step]
	}
	if target == nil {
		target = m.Steps[u.Step]
		cu.outer = s.Group != nil
	}
	if target == nil {
		names := sortedKeys(m.Steps)
		if s.Group != nil {
			names = append(names, sortedKeys(s.Group.Steps)...)
		}
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown undo step",
			Detail:   fmt.Sprintf("No step named %q is declared beside this step.%s", u.Step, didYouMean(u.Step, names)),
			Subject:  u.DeclRange.Ptr(),
		}}
	}
	if target == s {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Step undoes itself",
			Detail:   fmt.Sprintf("The undo of step %q runs after it succeeded, to reverse it; it cannot be the step itself. Name the step that reverses this one, such as a restore or migrate-back step.", s.Name),
			Subject:  u.DeclRange.Ptr(),
		}}
	}
	var diags hcl.Diagnostics
	switch {
	case u.Elements != lang.UndoImplied && target.ForEach == nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Undo step has no for_each",
			Detail:   fmt.Sprintf("Step %q runs once, so it has no instances to choose from; write undo = step.%s.", u.Step, u.Step),
			Subject:  u.DeclRange.Ptr(),
		})
	case u.Elements == lang.UndoSameKey && s.ForEach == nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "each.key without for_each",
			Detail:   fmt.Sprintf("step.%s[each.key] names the undo instance with this step's element key, but this step has no for_each. Write undo = step.%s[*] to owe every instance.", u.Step, u.Step),
			Subject:  u.DeclRange.Ptr(),
		})
	case u.Elements == lang.UndoSameKey:
		cu.mode = undoSameKey
	case u.Elements == lang.UndoAll:
		cu.mode = undoAll
	case target.ForEach == nil:
		cu.mode = undoOne
	case s.ForEach == nil:
		cu.mode = undoAll
	case c.sameExpr(s.ForEach, target.ForEach):
		cu.mode = undoSameKey
	default:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Undo over another collection",
			Detail: fmt.Sprintf("This step has for_each = %s but its undo step %q has for_each = %s (%s), so which undo instance reverses which element is not clear. "+
				"Give both the same for_each, or say which: undo = step.%s[each.key] for the instance with this element's key, undo = step.%s[*] for every instance.",
				c.sourceText(s.ForEach), u.Step, c.sourceText(target.ForEach), rangeText(target.ForEach.Range()), u.Step, u.Step),
			Subject: u.DeclRange.Ptr(),
		})
	}
	if cu.mode == undoAll {
		c.wantBase(target)
	}
	for _, e := range []hcl.Expression{u.When, u.Reason} {
		refs, ds := lang.References(e)
		diags = append(diags, ds...)
		for _, r := range refs {
			diags = append(diags, c.checkUndoRef(m, s, r)...)
			if r.Kind != lang.RefStep {
				continue
			}
			read := undoRead{name: r.Name, inGroup: s.Group != nil && s.Group.Steps[r.Name] != nil}
			if slices.Contains(cu.reads, read) {
				continue
			}
			cu.reads = append(cu.reads, read)
			st := m.Steps[r.Name]
			if read.inGroup {
				st = s.Group.Steps[r.Name]
			}
			if st != nil {
				c.wantBase(st)
			}
		}
	}
	cs.undo = cu
	return diags
}

// checkUndoRef checks that a reference of an undo's condition names
// something that exists where the owing step is, without ordering
// anything after it.
func (c *compiled) checkUndoRef(m *lang.Module, s *lang.Step, r lang.Ref) hcl.Diagnostics {
	if r.Kind == lang.RefSelf {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid self reference",
			Detail:   "self refers to the step's own outputs and may be used only in a postcondition; an undo's condition names steps by step.NAME.",
			Subject:  r.Range.Ptr(),
		}}
	}
	from := node{item: lang.Item{Step: s}}
	if s.Group != nil {
		if (r.Kind == lang.RefStep && s.Group.Steps[r.Name] != nil) || (r.Kind == lang.RefModule && s.Group.Calls[r.Name] != nil) {
			return nil
		}
		from = node{item: lang.Item{Group: s.Group}}
	}
	_, diags := resolveModuleRef(m, r, from)
	return diags
}

// wantBase asks the planner to note which instances belong to st, so
// that "every instance of st" can be listed once the plan is made.
func (c *compiled) wantBase(st *lang.Step) {
	if c.bases == nil {
		c.bases = map[*lang.Step]bool{}
	}
	c.bases[st] = true
}

// sameExpr reports whether two for_each expressions are written alike,
// token for token: over the same collection, their elements have the same
// keys.
func (c *compiled) sameExpr(a, b hcl.Expression) bool {
	ta, oka := c.tokens(a)
	tb, okb := c.tokens(b)
	if !oka || !okb || len(ta) != len(tb) {
		return false
	}
	for i := range ta {
		if ta[i].Type != tb[i].Type || !bytes.Equal(ta[i].Bytes, tb[i].Bytes) {
			return false
		}
	}
	return true
}

// tokens returns the tokens of an expression's source, without newlines
// and comments; JSON sources are one token of their bytes.
func (c *compiled) tokens(e hcl.Expression) (hclsyntax.Tokens, bool) {
	rng := e.Range()
	f := c.files[rng.Filename]
	if f == nil || rng.End.Byte > len(f.Bytes) || rng.Start.Byte > rng.End.Byte {
		return nil, false
	}
	src := rng.SliceBytes(f.Bytes)
	if _, native := e.(hclsyntax.Expression); !native {
		return hclsyntax.Tokens{{Type: hclsyntax.TokenStringLit, Bytes: bytes.TrimSpace(src)}}, true
	}
	toks, diags := hclsyntax.LexExpression(src, rng.Filename, rng.Start)
	if diags.HasErrors() {
		return nil, false
	}
	out := toks[:0]
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenNewline, hclsyntax.TokenComment, hclsyntax.TokenEOF:
		default:
			out = append(out, t)
		}
	}
	return out, true
}
