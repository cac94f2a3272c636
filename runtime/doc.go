// Package runtime builds, plans and (later) executes a playbook's step
// graph. Planning is one pure walk of the playbook: it evaluates variables,
// locals, module inputs and outputs, expands for_each over steps and groups,
// decodes each step body with its kind's schema and asks the kind what it
// will do. Values that exist only at run time are cty unknowns marked with
// the step that will make them known. The result is a plan.Plan.
//
// The engine never prints; it does not parse files (package lang) nor define
// step kinds (package steps). It reports a run through a Hook, and writes
// the same events, without their lines and errors, to the debug log its
// context carries (internal/debuglog; ROKFLOW_LOG).
package runtime
