// Package rapi is the simulator's Ganeti RAPI room: the HTTPS server with
// its self-signed certificate (DIR/rapi.pem), basic authentication, and
// the resources rokflow's Ganeti client uses, answered as a real Ganeti
// 3.0.2 does (bare job ids, Ganeti's error classes and messages): /2/info,
// /2/features, /2/os, /2/nodes and their role, modify, evacuate and
// migrate, /2/instances and their migrate, reinstall, shutdown, startup
// and info, /2/query/instance, and /2/jobs with cancel and the
// /2/jobs/ID/wait long poll.
//
// It also owns the jobs as Ganeti records them (Job: its opcodes completed
// with Ganeti's defaults and reason trail, statuses, results, log, and
// cancel) and the shape of an opcode's error (OpError). It does not run
// them: the cluster model, the queue's runner and what each opcode does
// to the cluster stay with the simulator (package sim/server), which the
// room sees through the Cluster interface and never imports.
package rapi
