// Package rapi is the simulator's Ganeti RAPI room: the HTTPS server with
// its self-signed certificate (DIR/rapi.pem), basic authentication, and
// the resources rokflow's Ganeti client uses, answered as a real Ganeti
// 3.0.2 does (bare job ids, Ganeti's error classes and messages): /2/info,
// /2/features, /2/os, /2/nodes and their role, modify, evacuate and
// migrate, /2/instances and their migrate, reinstall, shutdown, startup
// and info, /2/query/instance, and /2/jobs with cancel and the
// /2/jobs/ID/wait long poll.
//
// It owns the HTTP side only: it turns requests into opcodes and reads
// views. The cluster model, the job queue that runs the opcodes and their
// rules stay with the simulator (package sim/server), which the room sees
// through the Cluster interface and never imports.
package rapi
