// Package manual provides the `manual` kind: a gate that asks an operator to
// do something by hand (power off a node, swap its BOOT disk) and completes
// when they approve, or when an optional automated check passes.
//
// Approvals are not this package's business. The runtime owns them: it shows
// the plan's Instructions, records who approved and when in the state
// backend (`rokflow approve`, `apply --approve NAME`, or the interactive
// prompt), and then completes the step with outputs approved_by and
// approved_at without calling Run. Run is only for the automated check: it
// polls the check through the step's host until it passes, and without a
// check it fails with a diagnostic saying the gate needs an approval.
package manual
