// Package playtest runs a playbook's tests: files named *.rftest.hcl in
// the playbook's tests/ directory (or beside it), each holding cases. A
// case names a simulated cluster (package sim: platform, size, starting
// release, faults), the playbook's inputs, and what must hold once the
// run ends: its outcome, the steps it failed at, and assertions written
// as HCL conditions over the cluster the simulator shows and the run the
// journal records.
//
// A Runner starts one simulator per case in this process, runs `rokflow
// apply` against it as a child process of the rokflow binary (argv only,
// JSON events on its stdout, a state directory of its own), and checks
// the case. Cases run side by side. With crash testing, it first learns a
// case's step boundaries from a clean run, then for each boundary starts
// afresh, SIGKILLs apply the moment that boundary's event arrives,
// resumes it, answers every step left in doubt from the simulator's own
// record (Record: did the once-command run on that node, did the Ganeti
// job arrive?) with `rokflow resolve`, and checks the same case again.
//
// The package owns the test file format, the data conditions see, the
// runner and the simulator's record. It prints nothing: a Hook receives
// results, and the CLI's views render them. It knows the rokflow CLI
// only as a command line (apply, resolve, state show), as an operator
// would use it.
package playtest
