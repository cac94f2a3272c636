// Package local is the transport for the machine rokflow itself runs on: a
// steps.Host named "local" that runs commands with os/exec (argv only, never
// through a shell), reads files, replaces files atomically and expands globs.
//
// It owns process handling (streaming output line by line, killing the
// whole process group when the step's context ends or rokflow dies) and
// the atomic-write recipe (temporary file in the same directory, fsync,
// rename, fsync of the directory). It does not own remote hosts (the SSH
// transport) nor the simulator, and it knows nothing about step kinds.
package local
