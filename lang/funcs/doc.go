// Package funcs provides the cty functions available in rokflow playbook
// expressions: Table returns them by name.
//
// It owns the function signatures, their argument checking and error
// messages, and the rules every function follows:
//
//   - Marks pass through: a result computed from a marked (e.g. sensitive)
//     argument carries that argument's marks, and argument errors about a
//     marked value never quote it.
//   - Unknown arguments give unknown results of the declared type, keeping
//     the arguments' marks.
//   - Impure functions (env, file, timestamp; see ImpureFunctions) read the
//     outside world; Table(baseDir, true) replaces them with versions that
//     return unknown values, for plan-time evaluation.
//
// The Rok-specific functions are thin adapters: endpoint syntax and
// migration live in internal/openstore, version ordering and release
// numbers in internal/debversion. General-purpose functions come from
// go-cty's stdlib and hcl's ext/tryfunc under Terraform's names.
//
// It does not own which marks exist or what they mean (the caller chooses
// the mark values), expression evaluation, or the playbook schema, and it
// imports nothing else from rokflow.
package funcs
