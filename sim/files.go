package sim

// Files a simulator keeps in its directory for playbooks and the CLI.
const (
	// VarsFile is a var-file for playbooks/rok-v0.11 pointing at the
	// simulator.
	VarsFile = "sim.vars.hcl"
	// EnvFile holds the secrets as ROKFLOW_VAR_ assignments (mode 0600).
	EnvFile = "sim.env"
	// ClientKeyFile is the private key authorised for root on every node.
	ClientKeyFile = "id_ed25519"
	// KnownHostsFile lists every node's host key as [127.0.0.1]:PORT.
	KnownHostsFile = "known_hosts"
)
