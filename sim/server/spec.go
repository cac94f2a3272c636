package server

import (
	"slices"

	"github.com/rokflow/rokflow/sim"
)

// jobFaultMatches reports whether the fault applies to opcode op on target.
func jobFaultMatches(f sim.JobFault, op, target string) bool {
	short := map[string]string{
		"reinstall": "OP_INSTANCE_REINSTALL", "migrate": "OP_INSTANCE_MIGRATE",
		"evacuate": "OP_NODE_EVACUATE", "node-migrate": "OP_NODE_MIGRATE",
		"shutdown": "OP_INSTANCE_SHUTDOWN", "startup": "OP_INSTANCE_STARTUP",
		"role": "OP_NODE_SET_PARAMS",
	}
	want := f.Op
	if long, ok := short[f.Op]; ok {
		want = long
	}
	return want == op && (f.Target == "" || f.Target == target)
}

// has reports whether names lists name.
func has(names []string, name string) bool { return slices.Contains(names, name) }
