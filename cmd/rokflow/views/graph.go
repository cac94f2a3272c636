package views

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/runtime/plan"
)

// PlanDOT writes the plan's instance graph in Graphviz DOT: one node per
// step instance, labelled with its kind and target, edges from each
// step an instance waits for to the instance, rolling groups as clusters. Gates are
// drawn as octagons, once-steps with a double border.
func PlanDOT(w io.Writer, p *plan.Plan) {
	fmt.Fprintf(w, "digraph %s {\n", strconv.Quote(p.Playbook.Name))
	fmt.Fprintln(w, "  rankdir = \"TB\";")
	fmt.Fprintln(w, "  node [shape = \"box\", fontname = \"monospace\"];")
	byGroup := map[string][]*plan.Instance{}
	var order []string
	for _, inst := range p.Instances {
		if _, ok := byGroup[inst.Group]; !ok {
			order = append(order, inst.Group)
		}
		byGroup[inst.Group] = append(byGroup[inst.Group], inst)
	}
	for gi, g := range order {
		indent := "  "
		if g != "" {
			fmt.Fprintf(w, "  subgraph \"cluster_%d\" {\n    label = %s;\n", gi, strconv.Quote(g))
			indent = "    "
		}
		for _, inst := range byGroup[g] {
			attrs := []string{"label = " + strconv.Quote(inst.Address+"\n"+inst.Kind+targetLabel(inst.Target))}
			switch {
			case inst.Gate:
				attrs = append(attrs, `shape = "octagon"`)
			case inst.Once:
				attrs = append(attrs, "peripheries = 2")
			}
			if inst.ReadOnly {
				attrs = append(attrs, `style = "dashed"`)
			}
			fmt.Fprintf(w, "%s%s [%s];\n", indent, strconv.Quote(inst.Address), strings.Join(attrs, ", "))
		}
		if g != "" {
			fmt.Fprintln(w, "  }")
		}
	}
	for _, inst := range p.Instances {
		for _, d := range inst.DependsOn {
			fmt.Fprintf(w, "  %s -> %s;\n", strconv.Quote(d), strconv.Quote(inst.Address))
		}
	}
	fmt.Fprintln(w, "}")
}

func targetLabel(t string) string {
	if t == "" {
		return ""
	}
	return "\non " + t
}
