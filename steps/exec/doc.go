// Package exec provides the command kinds: `exec`, which runs an argv on the
// step's host without any shell, and `shell`, which runs a script with
// `sh -c` and passes values to it only as positional parameters and
// environment variables, never by pasting them into the script text.
//
// Both are idempotent by default (a command the author knows must never run
// twice unattended gets `once = true` in the playbook). Their outputs carry
// the captured stdout and stderr. A command may print what it was given in
// any form, so they declare only exit_status clean: when an argument is
// sensitive the core marks the other outputs and withholds the streamed
// lines, and the kinds quote no output in their diagnostics.
//
// The package does not own how commands reach a host (steps.Host
// transports) nor timeouts and retries (the runtime).
package exec
