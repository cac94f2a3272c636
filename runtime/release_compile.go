package runtime

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/steps"
)

// releaseFirst orders the playbook's release block before every root node
// it does not itself need, so that the cluster's release is known, and
// checked against the playbook's from and to, before anything that could
// change the cluster is planned. What it needs must therefore only read:
// locals and read-only steps.
func (c *compiled) releaseFirst(nodes []node, edges [][]int, ri int) hcl.Diagnostics {
	ancestors := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		for _, j := range edges[i] {
			if !ancestors[j] {
				ancestors[j] = true
				visit(j)
			}
		}
	}
	visit(ri)
	var diags hcl.Diagnostics
	for i, n := range nodes {
		if i == ri {
			continue
		}
		if !ancestors[i] {
			if !slices.Contains(edges[i], ri) {
				edges[i] = append(edges[i], ri)
			}
			continue
		}
		var why string
		switch {
		case n.item.Step != nil:
			cs := c.steps[n.item.Step]
			if cs != nil && cs.schema != nil && cs.schema.Effect != steps.ReadOnly {
				why = fmt.Sprintf("step %q (%s) changes the cluster", n.item.Step.Name, cs.schema.Name)
			}
		case n.item.Group != nil:
			why = fmt.Sprintf("group %q runs steps per element", n.item.Group.Name)
		case n.item.Call != nil:
			why = fmt.Sprintf("module %q is a sequence of steps", n.item.Call.Name)
		case n.hook != nil:
			why = fmt.Sprintf("hook %q is a place for steps", n.hook.Name)
		}
		if why != "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Release facts must only read",
				Detail: fmt.Sprintf("The release block must be known before anything changes the cluster, so it may refer only to locals and read-only steps (such as rok.member_list); %s.",
					why),
				Subject: c.release.DeclRange.Ptr(),
			})
		}
	}
	return diags
}
