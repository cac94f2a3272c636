// Package wait provides the `wait` kind, which polls a command on the
// step's host until it succeeds (exit status 0 and, optionally, output
// matching a regular expression), and Check, the polling itself, which the
// manual gate reuses for its automated completion check.
//
// The package does not own step timeouts and retries (the runtime): its own
// `timeout` bounds the polling, and the runtime's step timeout, when shorter,
// ends it through the context.
package wait
