package main

import (
	"fmt"
	goruntime "runtime"

	"github.com/rokflow/rokflow/internal/jsondoc"
)

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints rokflow's version and the formats it writes.
func (VersionCmd) Run(a *App) error {
	fmt.Fprintf(a.Stdout, "rokflow %s (%s, plan format %s, event format %s)\n", Version, goruntime.Version(), jsondoc.Plan.Version, jsondoc.Events.Version)
	return nil
}
