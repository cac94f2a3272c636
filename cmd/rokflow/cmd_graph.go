package main

import (
	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/runtime"
)

// GraphCmd prints the step instance graph in DOT.
type GraphCmd struct {
	Path string `arg:"" help:"Playbook directory, or one .hcl file."`
	InputFlags
}

// Run plans the playbook (required variables may be left out) and prints
// its graph.
func (c *GraphCmd) Run(a *App) error {
	l, err := a.load(c.Path, c.InputFlags, true)
	if err != nil {
		return err
	}
	p, err := a.plan(l, runtime.Options{Pure: true})
	if err != nil {
		return err
	}
	views.PlanDOT(a.Stdout, p)
	return nil
}
