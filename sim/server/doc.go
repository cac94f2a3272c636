// Package server is the simulated Rok cluster that rokflow's real transports
// and step kinds talk to, so that playbooks/rok-v0.11 can be planned and
// applied on one machine with nothing to set up, and tested end to end.
//
// It is a model, not a stub. Start (or Serve) runs, on 127.0.0.1:
//
//   - one SSH server per node (golang.org/x/crypto/ssh), with host keys and
//     a known_hosts file, admitting root with the key DIR/id_ed25519 (the
//     protocol is package sim/server/sshd; exec.go is its Exec). A node
//     executes command lines built by rokflow's SSH transport
//     (steps/transport/ssh): words are read with POSIX quoting only
//     (package shellwords) and dispatched to programs written in Go over
//     the node's own file system, DIR/nodes/<name>/root: rok-cluster-ctl,
//     rok-config, rok-cluster-upgrade-v<release>, rok-gw-manage,
//     dpkg-query, apt-get, systemctl, journalctl, the file tools the
//     transport uses (cat, stat, mktemp, chmod, chown, mv, rm, sync, ...) and
//     the transport's fixed `sh -c` scripts (package internal/shscript). No
//     shell ever runs: anything a shell would expand or chain is refused
//     with status 127;
//   - a real embedded etcd with TLS and client-certificate authentication,
//     whose RBAC enable-etcd-auth turns on through the client v3 API
//     (package sim/server/etcd; this package mirrors the cluster to it);
//   - on platform ganeti, a Ganeti RAPI over HTTPS following the recorded
//     answers of a real Ganeti 3.0.2 (testdata/rapi): bare job ids, a job
//     queue with /2/jobs/ID/wait, sub-jobs, Ganeti's error classes. The
//     HTTP side and the job records are package sim/server/rapi; the
//     queue's runner and the opcodes it runs against the cluster are here
//     (jobs.go, ganeti_ops.go), behind the room's Cluster interface
//     (rapi_cluster.go);
//   - a control API (HTTP with a token, see sim.Client) for status, faults,
//     the field operator and stop.
//
// A cluster starts at a release (Spec.FromVersion) and can be upgraded to
// each release of Spec.Upgrades in turn. What a release series brings is
// data, the catalogue in package sim/internal/release: the subcommands of its upgrade
// script rok-cluster-upgrade-v<release> (0.11: upgrade-cluster,
// upgrade-node, enable-etcd-auth; 0.12: upgrade-cluster, upgrade-node,
// finalize; a series the catalogue does not name: upgrade-cluster and
// upgrade-node; 0.9 and 0.10 only as starting releases), its Gateway
// migrations, its RokE image version and the composer map version its
// daemons take. A node has a target's script once its BOOT disk is of the
// target's series or newer; the field operator puts in the BOOT disk
// (rok-base <release>-1) of the lowest target newer than the node's; the
// RokE images are roke-<image version>, of the starting release and of
// each target (0.11.0's is the seed's 0.11~rc1 build, others
// <release>-1), and a reinstall with any other fails; a Ganeti host's
// apt-get installs the Rok packages of the release its RokE appliance
// runs. A cluster created at 0.11 or later has the 0.11 endpoint forms
// and etcd authentication on, as one upgraded by the seed's procedure.
//
// The cluster's state is one JSON file, DIR/state.json, rewritten
// atomically after every change, beside the nodes' files; a restarted
// simulator resumes it (same ports, keys and jobs). Rules the real system
// enforces are enforced here with the errors it would print (see rules.go
// and cmds_upgrade.go): master election among online master-capable
// members and the broken cluster after a failover to an old release;
// upgrade-cluster only on the master after its BOOT disk swap;
// upgrade-node only after it; enable-etcd-auth only once every member is
// upgraded; the Gateway's migrate only with gunicorn and the daemons
// stopped; v0.11 daemons refusing tcp:// endpoints and the pre-0.11
// options wherever they are given (daemons.conf, the ExecStart= of the rok
// units and drop-ins and the variables it expands; node_files.go), and
// older daemons refusing the v0.11 forms; each release's daemons refusing
// another composer map version in /etc/rok/daemons.conf (0.12's need
// map-version = 4, 0.11's and 0.10's 3, 0.9's 2); finalize only once every
// member is upgraded; RokE guests reaching their disks only from a host
// whose Rok packages and endpoint files match its appliance. Faults
// (Spec.Faults, SetFaults) make upgrade-node fail, slow a host, fail
// Ganeti jobs or keep a node from coming back; every run of a
// once-command is counted per node (Status.Counters).
//
// WriteVars writes DIR/sim.vars.hcl and DIR/sim.env, which point the
// playbook at the simulator. The program rokflow-sim (cmd/rokflow-sim)
// serves it; the CLI is `rokflow sim` (cmd/rokflow), which talks to that
// program through package sim and never links this one (nor its etcd).
//
// The services are rooms of their own, each with a narrow interface to
// the cluster that this package implements, so that none imports it:
// sim/server/sshd (the SSH protocol, keys and sessions; sshd.Cluster is
// ssh_cluster.go), sim/server/rapi (the RAPI's HTTP side and the jobs as
// Ganeti records them; rapi.Cluster is rapi_cluster.go) and
// sim/server/etcd (the embedded etcd, its PKI and RBAC). What stays here
// is the Server that wires them and owns the cluster model: the state and
// its file (state.go, create.go), the rules (rules.go, releases.go,
// release_files.go), the node programs and their file systems (exec.go,
// shell.go, cmds_*.go, node_files.go), the Ganeti model, the job queue's
// runner and the opcodes (ganeti*.go, jobs*.go), the field operator
// (operator.go) and the control API (control.go, status.go).
//
// The package owns the simulated cluster only; it knows nothing of the
// runtime, and imports no step kind (its tests drive the real ones).
package server
