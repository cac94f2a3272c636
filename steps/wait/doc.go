// Package wait provides the `wait` kind, which polls a command on the
// step's host until it succeeds (exit status 0 and, optionally, output
// matching a regular expression), and Check, the polling itself, which the
// manual gate reuses for its automated completion check.
//
// The package does not own step timeouts and retries (the runtime): the
// wait kind has no timeout argument of its own, since `timeout` is a step
// meta-argument; the step's timeout (the schema's DefaultTimeout when the
// step sets none) bounds the polling through the context's deadline. A
// check nested in a block, such as the manual gate's, has its own timeout
// argument as well.
package wait
