// Package runtime compiles, plans and executes a playbook's step graph.
//
// Compiling (compile.go, compile_refs.go, group.go, body.go) orders each
// module's nodes from references and depends_on, finds cycles, looks up
// kinds and splits step bodies by their schema, once per playbook.
// Planning (planner.go: the walk; plan_step.go: a step and its for_each;
// plan_instance.go: one instance, in stages — action, target, arguments,
// timeout and retry, the kind's plan; plan_args.go) is one pure walk that
// returns a planned value: the plan.Plan, what the executor needs beside it
// (extra.go), diagnostics and the release (release.go). Values that exist
// only at run time are cty unknowns marked with the step that will make
// them known. Plan files are planfile.go's.
//
// Executing: apply.go is Apply and its options; executor.go the executor
// and its loop; sched.go the ready heap and rolling batches; runstep.go a
// step's run (retries, timeouts); complete.go what a step's end records;
// resume.go a run resumed from the journal and steps in doubt; gates.go,
// gatewait.go, approvals.go and gate_prompt.go the gates; compensate.go,
// undo*.go the undo obligations; finish.go the run's result; journal.go
// the writes; identity.go, facts.go and taint.go the run's identity, its
// saved facts and its secrets.
//
// The engine never prints; it does not parse files (package lang) nor define
// step kinds (package steps). It reports a run through a Hook, and writes
// the same events, without their lines and errors, to the debug log its
// context carries (internal/debuglog; ROKFLOW_LOG).
package runtime
