// Package sim is the CLI's side of the simulated Rok cluster: what
// describes one (Spec, Faults), what it reports (Status, Job, Command),
// the files it leaves for playbooks (VarsFile, EnvFile), the client of its
// control API (Dial, Client) and how to find and start its program,
// rokflow-sim (FindProgram, ServeCommand, WaitReady, StatusOnDisk).
//
// The simulator itself, with its embedded etcd server, is package
// sim/server, which only rokflow-sim and tests link: rokflow stays free of
// etcd's server packages (a test in cmd/rokflow checks it).
//
// The package knows nothing of the runtime, and imports no step kind.
package sim
