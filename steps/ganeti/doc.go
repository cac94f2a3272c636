// Package ganeti holds the step kinds that talk to a Ganeti cluster through
// its Remote API, version 2: read-only queries (ganeti.info, ganeti.nodes,
// ganeti.node, ganeti.instances, ganeti.instance, ganeti.job_wait) and the
// job-submitting writes the RokE upgrade needs (ganeti.node_evacuate,
// ganeti.node_migrate, ganeti.instance_migrate, ganeti.instance_reinstall,
// ganeti.instance_shutdown, ganeti.instance_startup, ganeti.node_role).
//
// Every kind takes the same `rapi` argument and no `on` target: rokflow is
// the HTTP client. A write's plan is the exact request it will send (method,
// path, query and JSON body, secrets masked), built by the same code that
// builds the bytes sent. Writes are once-only steps that re-attach: the job
// id is journaled through RunRequest.RecordHandle as soon as the RAPI
// returns it, and a resumed run waits for that job instead of submitting
// again. Request shapes, query-argument spellings and error forms follow
// what a real Ganeti 3.0 RAPI accepts (shared/reference/ganeti).
//
// The package does not reach Ganeti nodes over SSH, nor run gnt-* commands;
// the RAPI is its only way in.
package ganeti
