package main

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/runtime/addrs"
	"github.com/rokflow/rokflow/runtime/plan"
)

// ValidateCmd checks a playbook without inputs: every required variable is
// treated as unknown, so only what the playbook itself says is checked.
type ValidateCmd struct {
	Path string `arg:"" help:"Playbook directory, or one .hcl file."`
	InputFlags
	JSON bool `help:"Print the result as one JSON document: valid, counts and every diagnostic with its range (see docs/validate-json.md)." name:"json"`
}

// Run validates the playbook.
func (c *ValidateCmd) Run(a *App) error {
	if c.JSON {
		return c.runJSON(a)
	}
	l, err := a.load(c.Path, c.InputFlags, true)
	if err != nil {
		return err
	}
	p, err := a.plan(l, runtime.Options{Pure: true})
	if err != nil {
		return err
	}
	n := countInstances(p)
	if n.Templates == 0 {
		fmt.Fprintf(a.Stdout, "%s is valid: %s, planned as %s.\n", l.pb.Meta.Name, count(n.Steps, "step"), count(n.Instances, "step instance"))
		return nil
	}
	fmt.Fprintf(a.Stdout, "%s is valid: %s, planned as %s and %s for elements known only at run time (plan --discover lists each element).\n",
		l.pb.Meta.Name, count(n.Steps, "step"), count(n.Instances, "step instance"), count(n.Templates, "template"))
	return nil
}

// runJSON validates, collecting the diagnostics into the document instead
// of printing them.
func (c *ValidateCmd) runJSON(a *App) error {
	var diags hcl.Diagnostics
	a.diags = &diags
	var counts *views.ValidateCounts
	l, err := a.load(c.Path, c.InputFlags, true)
	if err == nil {
		var p *plan.Plan
		if p, err = a.plan(l, runtime.Options{Pure: true}); err == nil {
			n := countInstances(p)
			counts = &n
		}
	}
	a.diags = nil
	if err != nil && err != failed {
		return err
	}
	doc := views.NewValidateDoc(diags, counts)
	if werr := views.ValidateJSON(a.Stdout, doc); werr != nil {
		return werr
	}
	if !doc.Valid {
		return failed
	}
	return nil
}

// keyed matches an element key in an address: ["name"] or [0].
var keyed = regexp.MustCompile(`\["(?:[^"\\]|\\.)*"\]|\[[0-9]+\]`)

// countInstances counts a plan's steps (its addresses with every element
// key made [*]: the same count for a plan with or without discovery), its
// known instances and its templates (for_each known only at run time).
func countInstances(p *plan.Plan) views.ValidateCounts {
	steps := map[string]bool{}
	var n views.ValidateCounts
	for _, inst := range p.Instances {
		steps[keyed.ReplaceAllString(inst.Address, addrs.Hole)] = true
		if addrs.IsTemplate(inst.Address) {
			n.Templates++
		} else {
			n.Instances++
		}
	}
	n.Steps = len(steps)
	return n
}

// count says n things: "1 step", "42 steps".
func count(n int, thing string) string {
	return fmt.Sprintf("%d %s", n, plural(n, thing, thing+"s"))
}
