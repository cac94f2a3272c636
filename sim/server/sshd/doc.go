// Package sshd is the simulator's SSH room: one SSH server per node on
// 127.0.0.1 (golang.org/x/crypto/ssh) with the nodes' ed25519 host keys,
// the known_hosts file and the client key DIR/id_ed25519 admitting root
// only. A session may set variables (env), run one command (exec) and be
// killed (signal); its exit status or exit-signal goes back to the client.
// A node that is off answers nothing, and a node powered off drops its
// connections (Drop).
//
// It owns the SSH protocol only. What a command line does, the node's
// programs over its own file system, is the simulator's (package
// sim/server), which the room reaches through the Cluster interface and
// never imports.
package sshd
