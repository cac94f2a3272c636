// Package atomicfile replaces files so that a reader, or a crash, sees the
// old contents or the new ones, never a mix or a truncated file.
//
// It owns the one way rokflow writes its own files atomically (formatted
// playbooks, lock files, plan files). It does not write files on the hosts
// a playbook changes: the transports do that, keeping owner and mode.
package atomicfile
