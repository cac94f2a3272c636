// Package addrs owns the grammar of step instance addresses, of the
// address templates a plan shows for elements not known yet, and of the
// address patterns people type to select instances: rokflow approve, apply
// --approve, the approvals in the journal and rokflow state show all match
// with the one Pattern defined here, so a pattern means the same wherever
// it is given.
//
// It imports nothing of rokflow's. It does not know which addresses exist:
// the runtime lists a playbook's gates and matches patterns against them.
package addrs
