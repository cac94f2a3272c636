package main

import (
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// hosts returns the run's host resolver; its SSH connections are closed
// when the command ends.
func (a *App) hosts() runtime.HostResolver {
	if a.resolver == nil {
		a.resolver = connect.NewResolver()
	}
	return a.resolver.Host
}
