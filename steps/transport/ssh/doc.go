// Package ssh is the transport for remote hosts: a steps.Host that reaches a
// machine over SSH (golang.org/x/crypto/ssh) and behaves like the local
// transport — argv only, output streamed line by line, files replaced
// atomically keeping their mode and owner, globs sorted.
//
// It owns:
//
//   - Connections. A Pool keeps one SSH connection per (address, user, jump hosts) and
//     runs every command of every step on it, concurrently, as separate
//     sessions (channels) multiplexed on that one connection. It sends
//     keepalive@openssh.com requests at an interval, drops a connection that
//     stops answering or breaks, and dials again on next use.
//   - ssh_config(5) (sshconfig.go, sshconfig_host.go): the user's and the
//     system's files (or Config.ConfigFile, $ROKFLOW_SSH_CONFIG), with Host
//     patterns, Include and first-value-wins as ssh(1), for HostName, User,
//     Port, IdentityFile (with its tokens), UserKnownHostsFile and
//     ProxyJump. Fields set on the Config win. Match blocks (but Match all)
//     are skipped with a note; ProxyCommand is refused, never run.
//   - Jump hosts (jump.go): ProxyJump chains, each hop a connection of its
//     own made through the one before (a direct-tcpip channel) with its
//     own handshake, host key check and login. The pool keys a connection
//     on its whole chain and closes the chain with it.
//   - Host key verification. Keys are checked against known_hosts by default
//     (including "[host]:port" entries for other ports than 22); an unknown
//     key or a changed key is an error that says what to do. Checking is
//     skipped only when Config.InsecureIgnoreHostKey is set, and then for
//     the targets only: jump hosts are always checked.
//   - Authentication: identity files, the SSH agent and a password. Errors
//     never contain the password or any key material.
//   - Building the remote command line. The remote side always runs a
//     command through the login shell, so every word of argv (and every
//     environment value, directory and path) is single-quoted; nothing a
//     playbook passes is ever interpreted by that shell. Environment
//     variables are passed as `env NAME=VALUE…` rather than SSH "env"
//     requests, which OpenSSH refuses for most names.
//   - Cancellation: when a step's context ends, the command's process
//     group is killed (a signal through the session where OpenSSH supports
//     it, and kill(1) in a second session, since it does not for root
//     logins) and the session closed.
//   - Files, through commands on the same connection (no SFTP): ReadFile
//     runs stat and cat, WriteFile runs mktemp/chown/chmod/sync/mv beside
//     the target, Glob lists directories and matches names in Go with
//     path.Match, so patterns have exactly the local transport's syntax and
//     never reach a shell.
//
// The remote host must have a POSIX login shell (sh, dash, bash, ksh, zsh)
// and the usual Linux tools (GNU coreutils or BusyBox: stat -c, mktemp,
// readlink -f); with Sudo, sudo(8) is run as `sudo -n --`, never prompting.
//
// It does not own what runs: step kinds build the argv, and the local
// transport and the simulator are separate packages.
package ssh
