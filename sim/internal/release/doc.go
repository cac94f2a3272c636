// Package release is what the simulator knows of Rok releases: the
// catalogue of release series (the upgrade script's subcommands, the
// Gateway migrations, the composer map version, the RokE images) and the
// arithmetic of versions and series. It is data and pure functions, shared
// by the CLI's side of the simulator (package sim, which checks a Spec)
// and its server (sim/server).
package release
