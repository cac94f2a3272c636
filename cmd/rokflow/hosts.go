package main

import (
	"fmt"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// hosts returns the run's host resolver; its SSH connections are closed
// when the command ends. With ROKFLOW_SSH_DEBUG set, what rokflow read in
// ssh_config but did not apply is said on stderr.
func (a *App) hosts() runtime.HostResolver {
	if a.resolver == nil {
		var o connect.ResolverOptions
		if a.Getenv("ROKFLOW_SSH_DEBUG") != "" {
			o.Debug = func(note string) { fmt.Fprintf(a.Stderr, "rokflow: ssh_config: %s\n", note) }
		}
		a.resolver = connect.NewResolver(o)
	}
	return a.resolver.Host
}
