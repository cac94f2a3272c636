// Package lang owns what a playbook says. It parses a directory of .hcl
// and .hcl.json files (variable files, *.vars.hcl, are inputs; test files,
// *.rftest.hcl, and the lock file rokflow.lock.hcl are left to their
// readers) and decodes rokflow's own blocks — playbook (with its release
// facts and requirements), variable, locals, connection, step (with undo),
// group, module (with the hook blocks a caller fills) and hook, output —
// into an immutable Playbook whose step bodies stay raw hcl.Body until a
// kind's schema is known. It loads child modules (local directories, and
// git checkouts that lang/modsrc finds and checks against the lock file),
// finds references, binds inputs (--var, --var-file, ROKFLOW_VAR_*: typed,
// validated, sensitive ones marked), and builds evaluation contexts and the
// function table (lang/funcs). It reports every problem as hcl.Diagnostics.
//
// It does not know step kinds (package steps) nor build graphs, plan or run
// anything (package runtime).
package lang
