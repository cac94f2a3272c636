// Package builtin wires rokflow's built-in step kinds into a registry. It is
// the one place that lists them; nothing registers itself.
package builtin

import (
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/exec"
)

// Registry returns a registry of every built-in kind.
func Registry() (*steps.Registry, error) {
	return steps.NewRegistry(
		exec.New(),
		exec.NewShell(),
	)
}
