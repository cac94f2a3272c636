package main

import (
	"fmt"

	"github.com/rokflow/rokflow/runtime"
)

// ValidateCmd checks a playbook without inputs: every required variable is
// treated as unknown, so only what the playbook itself says is checked.
type ValidateCmd struct {
	Path string `arg:"" help:"Playbook directory, or one .hcl file."`
	InputFlags
}

// Run validates the playbook.
func (c *ValidateCmd) Run(a *App) error {
	l, err := a.load(c.Path, c.InputFlags, true)
	if err != nil {
		return err
	}
	p, err := a.plan(l, runtime.Options{Pure: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "%s is valid: %d step instances planned.\n", l.pb.Meta.Name, len(p.Instances))
	return nil
}
