package main

import (
	"log/slog"

	"github.com/rokflow/rokflow/internal/debuglog"
	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// hosts returns the run's host resolver; its SSH connections are closed
// when the command ends. What rokflow read in ssh_config but did not
// apply goes to the debug log (ROKFLOW_LOG=debug).
func (a *App) hosts() runtime.HostResolver {
	if a.resolver == nil {
		var o connect.ResolverOptions
		if debuglog.Enabled(a.Ctx, slog.LevelDebug) {
			log := debuglog.From(a.Ctx)
			o.Debug = func(note string) { log.Debug("ssh_config", "note", note) }
		}
		a.resolver = connect.NewResolver(o)
	}
	return a.resolver.Host
}
