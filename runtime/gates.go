package runtime

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/steps"
)

// GateAddresses lists the gates of a playbook, in source order, without
// planning it: rokflow approve runs while a run waits, from another
// terminal, without the run's inputs. An element key is spelled out where
// the for_each is written as a literal, the same in every run; elsewhere
// the address is a template with addrs.Hole, which stands for every
// element. Keys found in seen (the addresses a run journaled) are spelled
// out too, before their template, which still stands for the elements not
// seen yet. The diagnostics are the playbook's; with errors the list is
// nil.
func GateAddresses(pb *lang.Playbook, reg *steps.Registry, seen []string) ([]string, hcl.Diagnostics) {
	c, diags := compile(pb, reg)
	if diags.HasErrors() {
		return nil, diags
	}
	var templates []string
	c.moduleGates(pb.Root, "", &templates)
	var out []string
	for _, t := range templates {
		out = append(out, expandSeen(t, seen)...)
	}
	return slices.Compact(out), diags
}

// moduleGates appends the gates of module m, whose addresses begin with
// prefix.
func (c *compiled) moduleGates(m *lang.Module, prefix string, out *[]string) {
	for _, it := range m.Order {
		switch {
		case it.Group != nil:
			for _, key := range c.staticKeys(it.Group.ForEach) {
				ep := prefix + "group." + it.Group.Name + key + "."
				for _, git := range it.Group.Order {
					c.itemGates(git, ep, out)
				}
			}
		default:
			c.itemGates(it, prefix, out)
		}
	}
}

func (c *compiled) itemGates(it lang.Item, prefix string, out *[]string) {
	switch {
	case it.Step != nil:
		cs := c.steps[it.Step]
		if cs == nil || cs.schema == nil || !cs.schema.Gate {
			return
		}
		base := prefix + "step." + it.Step.Name
		var rule GateRule
		known := false
		if c.rules != nil {
			rule, known = c.literalRule(it.Step.Config)
		}
		add := func(addr string) {
			*out = append(*out, addr)
			if known {
				c.rules[addr] = rule
			}
		}
		if it.Step.ForEach == nil {
			add(base)
			return
		}
		for _, key := range c.staticKeys(it.Step.ForEach) {
			add(base + key)
		}
	case it.Call != nil && it.Call.Module != nil:
		mp := prefix + "module." + it.Call.Name + "."
		c.moduleGates(it.Call.Module, mp, out)
		// The steps the call puts in the module's hooks are at the hooks'
		// places in it.
		for _, name := range sortedKeys(it.Call.Hooks) {
			for _, hit := range it.Call.Hooks[name].Order {
				c.itemGates(hit, mp+"hook."+name+".", out)
			}
		}
	}
}

// GateRules returns the rule of each gate whose approvals and
// allow_self_approval are literals, keyed by the gate's address as
// GateAddresses gives it before element keys are spelled out (a template
// stands for its elements). A gate whose rule depends on inputs or earlier
// steps is absent: only the run knows it. With errors the map is nil.
func GateRules(pb *lang.Playbook, reg *steps.Registry) (map[string]GateRule, hcl.Diagnostics) {
	c, diags := compile(pb, reg)
	if diags.HasErrors() {
		return nil, diags
	}
	c.rules = map[string]GateRule{}
	var templates []string
	c.moduleGates(pb.Root, "", &templates)
	return c.rules, diags
}

// RuleOf returns the rule of gate addr (an address or a template) from
// rules (GateRules), and whether it is known.
func RuleOf(rules map[string]GateRule, addr string) (GateRule, bool) {
	if r, ok := rules[addr]; ok {
		return r, true
	}
	for _, t := range sortedKeys(rules) {
		if addrs.IsTemplate(t) && addrs.Compile(t).Match(addr) {
			return rules[t], true
		}
	}
	return GateRule{}, false
}

// literalRule reads a gate's rule from its body when it is written as
// literals.
func (c *compiled) literalRule(body hcl.Body) (GateRule, bool) {
	r := GateRule{Needed: 1, OnTimeout: "fail"}
	content, _, _ := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "approvals"}, {Name: "allow_self_approval"}}})
	if content == nil {
		return r, false
	}
	if a := content.Attributes["approvals"]; a != nil {
		v, ok := c.constant(a.Expr)
		if !ok || !v.IsKnown() || v.IsNull() || v.Type() != cty.Number {
			return r, false
		}
		if n, acc := v.AsBigFloat().Int64(); acc == 0 && n >= 1 {
			r.Needed = int(n)
		}
	}
	r.AllowSelf = r.Needed <= 1
	if a := content.Attributes["allow_self_approval"]; a != nil {
		v, ok := c.constant(a.Expr)
		if !ok || !v.IsKnown() || v.IsNull() || v.Type() != cty.Bool {
			return r, false
		}
		r.AllowSelf = v.True()
	}
	return r, true
}

// gateArgs checks a gate's approval rule where it is written as literals,
// with each diagnostic on its attribute: approvals a whole number from 1,
// on_timeout "fail" or "pause" (and with a timeout to act on). Values
// known only at run time are checked by the kind's plan.
func (c *compiled) gateArgs(s *lang.Step) hcl.Diagnostics {
	var diags hcl.Diagnostics
	content, _, _ := s.Config.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "approvals"}, {Name: "on_timeout"}}})
	if content == nil {
		return nil
	}
	if a := content.Attributes["approvals"]; a != nil {
		if v, ok := c.constant(a.Expr); ok && v.IsKnown() && !v.IsNull() && v.Type() == cty.Number {
			if n, acc := v.AsBigFloat().Int64(); acc != 0 || n < 1 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid approvals",
					Detail:  fmt.Sprintf("approvals is how many distinct people must approve the gate: a whole number from 1, not %s.", v.AsBigFloat().Text('g', -1)),
					Subject: a.Expr.Range().Ptr()})
			}
		}
	}
	if a := content.Attributes["on_timeout"]; a != nil {
		if v, ok := c.constant(a.Expr); ok && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			switch v.AsString() {
			case "fail", "pause":
				if s.Timeout == nil {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "on_timeout without a timeout",
						Detail:  "on_timeout says what happens when the gate's timeout ends, and this gate has none: set timeout (for example timeout = \"30m\"), or remove on_timeout.",
						Subject: a.Expr.Range().Ptr()})
				}
			default:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid on_timeout",
					Detail:  fmt.Sprintf("on_timeout is \"fail\" (the run fails at the gate) or \"pause\" (it pauses there, exit 3), not %q.%s", v.AsString(), didYouMean(v.AsString(), []string{"fail", "pause"})),
					Subject: a.Expr.Range().Ptr()})
			}
		}
	}
	return diags
}

// staticKeys returns the element keys of a for_each, as address parts,
// when it is written as a literal (it then means the same in every run),
// and the one hole otherwise. It follows the planner's rule (forEach): the
// keys of a map or object, or the strings of a list or set.
func (c *compiled) staticKeys(expr hcl.Expression) []string {
	v, ok := c.constant(expr)
	if !ok || !v.IsWhollyKnown() || v.IsNull() || v.IsMarked() {
		return []string{addrs.Hole}
	}
	ty := v.Type()
	var keys []string
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			keys = append(keys, k.AsString())
		}
		sort.Strings(keys)
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				return []string{addrs.Hole}
			}
			keys = append(keys, e.AsString())
		}
	default:
		return []string{addrs.Hole}
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = addrs.Key(k)
	}
	return slices.Compact(parts)
}

// expandSeen returns the addresses of template's elements found in seen,
// then the template itself; an address without a hole is returned alone.
func expandSeen(template string, seen []string) []string {
	i := strings.Index(template, addrs.Hole)
	if i < 0 {
		return []string{template}
	}
	prefix, rest := template[:i], template[i+len(addrs.Hole):]
	var keys []string
	for _, a := range seen {
		if k, ok := addrs.KeyAt(a, prefix); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		for _, e := range expandSeen(prefix+addrs.Key(k)+rest, seen) {
			if !addrs.IsTemplate(e) {
				out = append(out, e)
			}
		}
	}
	return append(out, template)
}

// GateMatch is what one approval pattern matches among a playbook's gates.
type GateMatch struct {
	Pattern addrs.Pattern
	// Gates are the gate addresses it matches, in the order of the list it
	// was matched against. A template among them (with addrs.Hole) means
	// every element of it that the pattern selects.
	Gates []string
}

// MatchGates matches each pattern against gates (from GateAddresses). A
// pattern that matches none is an error, which names the nearest gate or,
// failing one, the gates there are: an approval names gates that exist.
// The matches are usable only without errors.
func MatchGates(gates []string, patterns []addrs.Pattern) ([]GateMatch, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	matches := make([]GateMatch, 0, len(patterns))
	for _, p := range patterns {
		m := GateMatch{Pattern: p, Gates: matchGates(gates, p)}
		if len(m.Gates) == 0 {
			diags = append(diags, noGateDiag(gates, p))
		}
		matches = append(matches, m)
	}
	return matches, diags
}

// matchGates lists the gates p selects. Of a template it selects only
// some elements of, it names the element when p spells out its key, and
// gives the template otherwise, unless an element p selects is listed.
func matchGates(gates []string, p addrs.Pattern) []string {
	var out []string
	add := func(g string) {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	for _, g := range gates {
		switch {
		case !addrs.IsTemplate(g):
			if p.Match(g) {
				add(g)
			}
		case p.Match(g):
			add(g) // every element
		case p.MatchTemplate(g):
			if e := addrs.Fill(g, p.Keys()); !addrs.IsTemplate(e) && p.Match(e) {
				add(e)
				continue
			}
			// As a pattern, the template selects its own elements.
			if !slices.ContainsFunc(out, addrs.Compile(g).Match) {
				add(g)
			}
		}
	}
	return out
}

// noGateDiag says that p matches no gate, and what the user may have
// meant.
func noGateDiag(gates []string, p addrs.Pattern) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No such gate"}
	if len(gates) == 0 {
		d.Detail = fmt.Sprintf("%s matches no gate: this playbook has no gates.", p)
		return d
	}
	// Candidates: the gates, templates with the keys p spells out, and
	// patterns in p's own shape whose text before the first * is a gate's.
	cands := slices.Clone(gates)
	first := strings.SplitN(p.String(), "*", 2)[0]
	holes := false
	for _, g := range gates {
		filled := g
		if addrs.IsTemplate(g) {
			holes = true
			filled = addrs.Fill(g, p.Keys())
			cands = append(cands, filled)
		}
		if !p.Exact() && len(filled) >= len(first) {
			if c := filled[:len(first)] + p.String()[len(first):]; addrs.Compile(c).MatchTemplate(g) {
				cands = append(cands, c)
			}
		}
	}
	if s := lang.Nearest(p.String(), cands); s != "" {
		d.Detail = fmt.Sprintf("%s matches no gate of this playbook. Did you mean %s?", p, s)
		return d
	}
	const most = 10
	list, more := gates, ""
	if len(list) > most {
		list, more = list[:most], fmt.Sprintf(", and %d more", len(gates)-most)
	}
	d.Detail = fmt.Sprintf("%s matches no gate of this playbook. Its gates are %s%s.", p, strings.Join(list, ", "), more)
	if holes {
		d.Detail += " [*] stands for every element of a for_each whose keys come from inputs or earlier steps."
	}
	return d
}
