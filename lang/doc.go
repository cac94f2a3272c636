// Package lang owns what a playbook says: it parses a directory of .hcl and
// .hcl.json files, decodes rokflow's own blocks (playbook, variable, locals,
// connection, step, group, module, output) into an immutable Playbook whose
// step bodies stay raw hcl.Body until a kind's schema is known, loads child
// modules (local directories, and git checkouts that lang/modsrc finds and
// checks against the lock file), finds references, and builds evaluation
// contexts and the function table. It reports every problem as
// hcl.Diagnostics.
//
// It does not know step kinds (package steps) nor build graphs, plan or run
// anything (package runtime).
package lang
