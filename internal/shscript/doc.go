// Package shscript holds the fixed `sh -c` scripts rokflow's SSH
// transport (steps/transport/ssh) runs for ReadFile, WriteFile, Glob and
// the kill of a cancelled command, and the pid report that starts every
// command line. The simulator (sim/server) runs exactly these texts, each
// implemented in Go, and refuses every other script: both import them
// from here, so they cannot drift apart.
//
// Paths are passed as positional parameters ("$1") and only ever used
// quoted inside the scripts, so they are never interpreted.
package shscript
