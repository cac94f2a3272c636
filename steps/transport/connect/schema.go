package connect

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
)

// Transport says how a step reaches its target.
type Transport string

// The transports.
const (
	// Local runs on this machine.
	Local Transport = "local"
	// SSH reaches the target over SSH.
	SSH Transport = "ssh"
)

// Transports are the values the transport attribute takes.
var Transports = []string{string(SSH), string(Local)}

// Attribute names of the connection block.
const (
	attrTransport   = "transport"
	attrUser        = "user"
	attrPort        = "port"
	attrIdentity    = "identity_file"
	attrKnownHosts  = "known_hosts"
	attrAddresses   = "addresses"
	attrPassword    = "password"
	attrInsecure    = "insecure_ignore_host_key"
	attrAgent       = "agent"
	attrSudo        = "sudo"
	attrProxyJump   = "proxy_jump"
	attrSSHConfig   = "ssh_config"
	defaultSSHPort  = 22
	maxPort         = 65535
	transportDetail = `The transport is "ssh" (the default) or "local".`
)

// Summary and Description document the connection block for `rokflow
// steps connection`, beside Schema.
const (
	Summary     = "how steps reach the hosts their on names"
	Description = `A connection block says how hosts are reached; a step names one with connection = connection.NAME, ` +
		`found in the step's own module first, then in the playbook's. It may refer only to variables and the playbook.` + "\n\n" +
		`A step runs on this machine when it has no on, or when on is "local", "localhost" or a loopback address ` +
		`(127.0.0.0/8, ::1) and the step names no connection or one with transport = "local". Any other on needs a ` +
		`connection with transport = "ssh". The machine's own host name is not this machine: it is reached the way ` +
		`the connection says. Anything else is an error at validate (or at plan, once inputs make the values known), ` +
		`and again before the step runs: a step never runs on this machine in another host's place.` + "\n\n" +
		`Over SSH, what a block leaves unset comes from ssh_config (~/.ssh/config, as ssh(1) reads it; the ssh_config attribute ` +
		`or $ROKFLOW_SSH_CONFIG names another file), then from ssh(1)'s defaults, so targets behind a bastion are reached ` +
		`the way the operator's ssh already reaches them. Set ROKFLOW_LOG=debug to be told which lines of it rokflow read ` +
		`but did not apply.`
)

// Schema is the shape of a connection block. A value left out, or null
// (an optional variable passed through), takes the default.
var Schema = &schema.Block{Attributes: map[string]*schema.Attribute{
	attrTransport: {
		Type:    cty.String,
		Default: cty.StringVal(string(SSH)),
		Description: `How hosts are reached: "ssh", or "local" for this machine only. A step whose on names ` +
			`another host needs "ssh"; a step without on (or with on = "local") names no host to reach over "ssh".`,
	},
	attrUser: {
		Type:        cty.String,
		Description: "The login name on the remote host. Unset: ssh_config's User for the target, else the local user's name, as ssh(1).",
	},
	attrPort: {
		Type:        cty.Number,
		Description: "The SSH port, for addresses that do not name one. Unset: ssh_config's Port for the target, else 22.",
	},
	attrIdentity: {
		Type: cty.String,
		Description: "A private key file (without a passphrase; ~/ is the home directory). Unset: ssh_config's IdentityFile for the target, " +
			"else ~/.ssh/id_ed25519, id_ecdsa and id_rsa; and the SSH agent.",
	},
	attrKnownHosts: {
		Type: cty.String,
		Description: "The known_hosts file host keys are checked against, jump hosts' included (hashed entries and [host]:port entries are understood). " +
			"Unset: ssh_config's UserKnownHostsFile, else ~/.ssh/known_hosts; and /etc/ssh/ssh_known_hosts.",
	},
	attrAddresses: {
		Type: cty.Map(cty.String),
		Description: `Where targets are reached, by target name: "host", "host:port" or "[ipv6]:port"; it wins over ssh_config's HostName. ` +
			`A target not listed is itself the host name (or ssh_config's HostName for it).`,
	},
	attrProxyJump: {
		Type: cty.String,
		Description: `Jump hosts to reach the targets through, as ssh -J: "[user@]host[:port]" hops separated by commas, dialled in order, ` +
			`each through the one before (ssh://[user@]host[:port] too). "none" connects directly whatever ssh_config says. ` +
			`Unset: ssh_config's ProxyJump for the target. Each hop's name is looked up in ssh_config (HostName, User, Port, IdentityFile; ` +
			`the first hop's own ProxyJump too); its host key is always checked, against known_hosts; it is offered ssh_config's ` +
			`identity files for it, else identity_file, else the default keys, and the agent; never the password.`,
	},
	attrSSHConfig: {
		Type: cty.String,
		Description: `The ssh_config(5) file read for what this block leaves unset, as ssh -F; "none" reads none. Unset: $ROKFLOW_SSH_CONFIG ` +
			`when set, else ~/.ssh/config and /etc/ssh/ssh_config. Host patterns (*, ?, !) are matched against the target's name and the ` +
			`first value obtained wins; Include is followed; Match blocks other than Match all are skipped; a ProxyCommand is refused.`,
	},
	attrPassword: {
		Type:        cty.String,
		Sensitive:   true,
		Description: "A password offered after the keys; pass it through a sensitive variable.",
	},
	attrInsecure: {
		Type:        cty.Bool,
		Default:     cty.False,
		Description: "Accept any host key of the targets without checking it. Anyone on the path can then read and change everything the steps do; for throw-away test machines only. Jump hosts' keys are checked all the same.",
	},
	attrAgent: {
		Type:        cty.Bool,
		Default:     cty.False,
		Description: "Offer the keys of the SSH agent at $SSH_AUTH_SOCK after the identity file (the agent is used anyway when no identity_file is set).",
	},
	attrSudo: {
		Type:        cty.Bool,
		Default:     cty.False,
		Description: "Run every command and file operation as root through sudo -n (never prompting); not needed when user is root.",
	},
}}
