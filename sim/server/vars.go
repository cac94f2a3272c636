package server

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/internal/pki"
	"github.com/rokflow/rokflow/internal/posixsh"
	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/server/etcd"
	"github.com/rokflow/rokflow/sim/server/rapi"
)

// hclString quotes s as an HCL string literal.
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// WriteVars writes DIR/sim.vars.hcl, the variables of playbooks/rok-v0.11
// for the simulated cluster in dir (seed node, cluster name, SSH
// addresses, known_hosts and key, etcd endpoint and certificates, and on
// Ganeti the RAPI and the hosts), and DIR/sim.env with the RAPI and RokE
// passwords as ROKFLOW_VAR_rapi_password and ROKFLOW_VAR_roke_password.
// Ports are those of the last run (a simulator keeps them across
// restarts).
func WriteVars(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	st, err := loadState(abs)
	if err != nil {
		return err
	}
	path := func(name string) string { return hclString(filepath.Join(abs, filepath.FromSlash(name))) }
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	connection := func(b *strings.Builder, indent string, nodes []*node) {
		fmt.Fprintf(b, "%stransport     = \"ssh\"\n", indent)
		fmt.Fprintf(b, "%suser          = \"root\"\n", indent)
		fmt.Fprintf(b, "%sidentity_file = %s\n", indent, path(sim.ClientKeyFile))
		fmt.Fprintf(b, "%sknown_hosts   = %s\n", indent, path(sim.KnownHostsFile))
		fmt.Fprintf(b, "%saddresses = {\n", indent)
		for _, n := range nodes {
			fmt.Fprintf(b, "%s  %s = %s\n", indent, hclString(n.Name), hclString(addr(n.SSHPort)))
		}
		fmt.Fprintf(b, "%s}\n", indent)
	}
	members := st.members()
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by `rokflow sim`: the variables of playbooks/rok-v0.11 for the\n")
	fmt.Fprintf(&b, "# simulated cluster in %s.\n", abs)
	fmt.Fprintf(&b, "# Its secrets are in %s: set -a; . %s; set +a\n\n", sim.EnvFile, filepath.Join(abs, sim.EnvFile))
	fmt.Fprintf(&b, "platform     = %s\n", hclString(st.Spec.Platform))
	fmt.Fprintf(&b, "cluster_name = %s\n", hclString(st.Cluster.Name))
	fmt.Fprintf(&b, "seed_node    = %s\n", hclString(members[0].Name))
	// The simulated field operator is quick: poll the BOOT-disk gates often.
	fmt.Fprintf(&b, "gate_check_interval = %s\n\n", hclString("1s"))
	b.WriteString("nodes = {\n")
	connection(&b, "  ", members)
	b.WriteString("}\n\n")
	b.WriteString("etcd = {\n")
	fmt.Fprintf(&b, "  endpoints = [%s]\n", hclString("https://"+addr(st.Ports.Etcd)))
	fmt.Fprintf(&b, "  ca_file   = %s\n", path(etcd.CAFile))
	fmt.Fprintf(&b, "  cert_file = %s\n", path(etcd.ClientCert))
	fmt.Fprintf(&b, "  key_file  = %s\n", path(etcd.ClientKey))
	b.WriteString("}\n")
	if st.Spec.Platform == sim.PlatformGaneti {
		b.WriteString("\nganeti = {\n")
		fmt.Fprintf(&b, "  rapi_host   = \"127.0.0.1\"\n")
		fmt.Fprintf(&b, "  rapi_port   = %d\n", st.Ports.RAPI)
		fmt.Fprintf(&b, "  rapi_user   = %s\n", hclString(st.Spec.RAPIUser))
		fmt.Fprintf(&b, "  ca_file     = %s\n", path(rapi.PEMFile))
		// The image (rok_version, image_id) is each playbook's own: a
		// chain re-images with each release's in turn.
		fmt.Fprintf(&b, "  os          = \"snf-image+default\"\n")
		b.WriteString("  hosts = {\n")
		connection(&b, "    ", st.hosts())
		b.WriteString("  }\n}\n")
	}
	if err := pki.WriteFile(filepath.Join(abs, sim.VarsFile), []byte(b.String()), 0o644); err != nil {
		return err
	}
	env := fmt.Sprintf("# Secrets of the simulated cluster, for rokflow's ROKFLOW_VAR_ variables.\nexport ROKFLOW_VAR_rapi_password=%s\nexport ROKFLOW_VAR_roke_password=%s\n",
		posixsh.Quote(st.Spec.RAPIPassword), posixsh.Quote(st.Spec.RokEPassword))
	return pki.WriteFile(filepath.Join(abs, sim.EnvFile), []byte(env), 0o600)
}
