// Package connect turns a step's target and connection into the host it
// runs on. It owns the Target invariant: a step runs only where its `on`
// and its connection say, never silently on this machine.
//
// It owns:
//
//   - The connection block's schema (Schema): every attribute, its type,
//     default and meaning. The core checks connection blocks against it
//     when a playbook is validated; `rokflow steps connection` documents it.
//   - What counts as this machine (ThisMachine): the target "local" (what
//     a step without `on` gets), "localhost" and loopback addresses. The
//     machine's own host name does not count: a plan must not change with
//     the machine it is made on, and a name is reached the way the
//     connection says.
//   - The decision (Route): this machine without a connection or with
//     transport "local"; any other host only with transport "ssh". Every
//     other combination is refused, at plan time by the core (with the
//     values known then) and again by the Resolver before anything runs.
//   - The Resolver: the runtime's host resolver, giving the local
//     transport or a pooled SSH host.
//
// It does not own how hosts are reached once chosen (packages local and
// ssh), nor where a connection block is found for a step (the runtime:
// the step's module first, then the playbook's).
package connect
