package main

import (
	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/runtime"
)

// GraphCmd prints the step instance graph in DOT or Mermaid.
type GraphCmd struct {
	Path string `arg:"" help:"Playbook directory, or one .hcl file."`
	InputFlags
	Discover bool   `help:"Run read-only steps (member lists, RAPI queries) while planning, so the graph has one box per node instead of one per element of a list known at run time. Needs every required variable."`
	Format   string `help:"dot (Graphviz: rokflow graph … | dot -Tsvg > graph.svg) or mermaid (a flowchart to paste into a mermaid code block of a GitHub or GitLab change request)." enum:"dot,mermaid" default:"dot"`
	AllEdges bool   `help:"Draw every dependency, those a longer path already implies in grey; by default an arrow is drawn only where no other path says the same." name:"all-edges"`
	Skipped  bool   `help:"Draw the steps the plan skips (a when that is false, such as the other platform's branch), greyed; by default they are left out."`
}

// Run plans the playbook and prints its graph. Without --discover,
// required variables may be left out and the graph shows what can be
// known without asking the cluster: a step whose collection or condition
// is known only at run time is drawn once, dashed or dotted, with what
// it waits for.
func (c *GraphCmd) Run(a *App) error {
	l, err := a.load(c.Path, c.InputFlags, !c.Discover)
	if err != nil {
		return err
	}
	opts := runtime.Options{Pure: !c.Discover, Discover: c.Discover}
	if c.Discover {
		opts.Hosts = a.hosts()
	}
	p, err := a.plan(l, opts)
	if err != nil {
		return err
	}
	g := views.GraphOptions{AllEdges: c.AllEdges, Skipped: c.Skipped}
	if c.Format == "mermaid" {
		return views.PlanMermaid(a.Stdout, p, g)
	}
	return views.PlanDOT(a.Stdout, p, g)
}
