// Package atomicfile replaces files so that a reader, or a crash, sees the
// old contents or the new ones, never a mix or a truncated file.
//
// It owns the one way rokflow writes its own files atomically: formatted
// playbooks and the modules lock file (the plan file and the simulator's
// PKI still carry a copy of the same steps). It does not write files on
// the hosts a playbook changes: the transports do that, keeping owner and
// mode.
package atomicfile
