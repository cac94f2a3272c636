// Package benchgen writes the generated playbooks that planning speed is
// measured on, so the library's and the command's benchmarks measure the
// same thing.
package benchgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Rolling writes into dir a playbook with one discovery step and a rolling
// group of stepsPerNode chained exec steps over a list variable of nodes,
// and the variable's values in dir/nodes.vars.hcl. It plans to
// nodes*stepsPerNode+1 step instances.
func Rolling(dir string, nodes, stepsPerNode int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "playbook {\n  name = \"generated\"\n}\n\n")
	fmt.Fprintf(&b, "variable \"nodes\" {\n  type = list(string)\n}\n\n")
	fmt.Fprintf(&b, "connection \"nodes\" {\n  transport = \"ssh\"\n  user      = \"root\"\n}\n\n")
	fmt.Fprintf(&b, "step \"discover\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n\n")
	fmt.Fprintf(&b, "group \"nodes\" {\n  for_each   = var.nodes\n  depends_on = [step.discover]\n\n  rolling {\n    batch        = 10\n    max_failures = 2\n  }\n")
	for i := 0; i < stepsPerNode; i++ {
		fmt.Fprintf(&b, "\n  step \"s%02d\" {\n    uses       = \"exec\"\n    on         = each.value\n    connection = connection.nodes\n    command    = [\"echo\", \"step %d\", each.key]\n", i, i)
		if i > 0 {
			fmt.Fprintf(&b, "    depends_on = [step.s%02d]\n", i-1)
		}
		fmt.Fprintf(&b, "  }\n")
	}
	fmt.Fprintf(&b, "}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	var vars strings.Builder
	vars.WriteString("nodes = [")
	for i := 0; i < nodes; i++ {
		if i > 0 {
			vars.WriteString(", ")
		}
		fmt.Fprintf(&vars, "\"node%05d\"", i)
	}
	vars.WriteString("]\n")
	return os.WriteFile(filepath.Join(dir, "nodes.vars.hcl"), []byte(vars.String()), 0o644)
}
