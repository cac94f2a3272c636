package main

import (
	"bytes"
	"fmt"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/runtime"
)

// PlanCmd shows what a run would do.
type PlanCmd struct {
	Path string `arg:"" help:"Playbook directory, or one .hcl file; or a directory of playbooks (a catalogue, such as playbooks/) with --to."`
	To   string `help:"With a catalogue: the release to reach; the chain of playbooks from the cluster's discovered release is planned hop by hop." placeholder:"RELEASE"`
	InputFlags
	Discover bool   `help:"Run read-only steps (member lists, RAPI queries, file reads) while planning, so the plan is concrete per node."`
	JSON     bool   `help:"Print the plan as one JSON document (see docs/plan-json.md)." name:"json"`
	Out      string `help:"Save the plan to FILE, for 'rokflow apply FILE'." placeholder:"FILE" type:"path"`
}

// Run plans the playbook and prints the plan.
func (c *PlanCmd) Run(a *App) error {
	if chained, err := chainMode(c.Path, c.To); err != nil || chained {
		if err != nil {
			return err
		}
		if c.Out != "" {
			return usageError("--out saves the plan of one playbook; plan the chain's hops one by one to save them")
		}
		ch, err := a.loadChain(c.Path, c.InputFlags, c.To)
		if err != nil {
			return err
		}
		plans, err := a.planChain(ch, true)
		if err != nil {
			return err
		}
		if c.JSON {
			return writeChainJSON(a.Stdout, ch, plans)
		}
		chainText(a.Stdout, ch, plans, a.Streams.Color)
		return nil
	}
	l, err := a.load(c.Path, c.InputFlags, false)
	if err != nil {
		return err
	}
	opts := runtime.Options{Discover: c.Discover}
	if c.Discover {
		opts.Hosts = a.hosts()
	}
	p, err := a.plan(l, opts)
	if err != nil {
		return err
	}
	if c.Out != "" {
		if err := runtime.SavePlan(c.Out, p); err != nil {
			return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot save the plan: %s", err)}
		}
	}
	if c.JSON {
		var b bytes.Buffer
		if err := views.PlanJSON(&b, p); err != nil {
			return err
		}
		_, err := a.Stdout.Write(b.Bytes())
		return err
	}
	views.PlanText(a.Stdout, p, a.Streams.Color)
	if c.Out != "" {
		fmt.Fprintf(a.Stdout, "Saved the plan to %s; run it exactly with: rokflow apply %s\n", c.Out, c.Out)
	}
	return nil
}
