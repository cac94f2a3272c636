package ssh

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// UnknownHostKeyError is returned when no known_hosts file has a key for the
// host. rokflow never trusts a key on first use: the user checks it and adds
// it, and the error says how.
type UnknownHostKeyError struct {
	Target string        // the playbook's name for the host
	Addr   string        // host:port as dialled
	Key    ssh.PublicKey // the key the host presented
	// KnownHosts is the file to add the key to (the first one configured).
	KnownHosts string
	// Through is the jump host the host was reached from (user@host:port),
	// when there was one: ssh-keyscan must run there.
	Through string
	err     error
}

func (e *UnknownHostKeyError) Error() string {
	host, port, _ := net.SplitHostPort(e.Addr)
	where := ""
	if e.Through != "" {
		where = fmt.Sprintf(" (run it on the jump host %s, from which rokflow reaches it)", e.Through)
	}
	return fmt.Sprintf("ssh: %s: the host key of %s is not known (%s key fingerprint %s), so rokflow will not connect.\n"+
		"Check that fingerprint out of band (on the host: ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub), then add this line to %s:\n"+
		"  %s\n"+
		"or, once the fingerprint is checked, append the host's keys with%s\n"+
		"  ssh-keyscan -p %s %s >> %s",
		e.Target, knownhosts.Normalize(e.Addr), keyName(e.Key), ssh.FingerprintSHA256(e.Key),
		shortType(e.Key), e.KnownHosts,
		knownhosts.Line([]string{e.Addr}, e.Key),
		where, port, host, e.KnownHosts)
}

func (e *UnknownHostKeyError) Unwrap() error { return e.err }

// ChangedHostKeyError is returned when known_hosts has keys for the host and
// the one it presented is not among them: someone may be intercepting the
// connection, or the host was reinstalled.
type ChangedHostKeyError struct {
	Target string
	Addr   string
	Key    ssh.PublicKey         // the key the host presented
	Known  []knownhosts.KnownKey // the keys known_hosts has for it
	err    error
}

func (e *ChangedHostKeyError) Error() string {
	var known []string
	file := ""
	for _, k := range e.Known {
		known = append(known, fmt.Sprintf("%s:%d (%s %s)", k.Filename, k.Line, keyName(k.Key), ssh.FingerprintSHA256(k.Key)))
		if file == "" {
			file = k.Filename
		}
	}
	return fmt.Sprintf("ssh: %s: WARNING: the host key of %s has CHANGED. This may be an attack (someone intercepting the connection), or the host may have been reinstalled; rokflow will not connect.\n"+
		"The host presented %s %s, but known_hosts records a different key for it at %s.\n"+
		"Verify the new key out of band; only if it is genuine, remove the old entry (ssh-keygen -R '%s' -f %s) and add the new one.",
		e.Target, knownhosts.Normalize(e.Addr), keyName(e.Key), ssh.FingerprintSHA256(e.Key), strings.Join(known, ", "),
		knownhosts.Normalize(e.Addr), file)
}

func (e *ChangedHostKeyError) Unwrap() error { return e.err }

// hostKeyCheck returns the host key callback for a connection and the host
// key algorithms to ask for: those of the keys known_hosts has for the host,
// so that a host with several keys presents one that can be checked (as
// ssh(1) does), or nil to let the library choose.
func (s *settings) hostKeyCheck(remote net.Addr) (ssh.HostKeyCallback, []string, error) {
	if s.insecure {
		return ssh.InsecureIgnoreHostKey(), nil, nil
	}
	files := existing(s.known)
	kh, err := knownhosts.New(files...)
	if err != nil {
		return nil, nil, fmt.Errorf("ssh: %s: %w", s.target, err)
	}
	addFile := ""
	if len(s.known) > 0 {
		addFile = s.known[0]
	}
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := kh(hostname, remote, key)
		if err == nil {
			return nil
		}
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case errors.As(err, &ke) && len(ke.Want) == 0:
			return &UnknownHostKeyError{Target: s.target, Addr: s.addr, Key: key, KnownHosts: addFile, Through: s.through, err: err}
		case errors.As(err, &ke):
			return &ChangedHostKeyError{Target: s.target, Addr: s.addr, Key: key, Known: ke.Want, err: err}
		case errors.As(err, &re):
			return fmt.Errorf("ssh: %s: the host key of %s (%s %s) is marked @revoked at %s:%d; rokflow will not connect: %w",
				s.target, knownhosts.Normalize(s.addr), keyName(key), ssh.FingerprintSHA256(key), re.Revoked.Filename, re.Revoked.Line, err)
		}
		return fmt.Errorf("ssh: %s: host key check: %w", s.target, err)
	}
	return cb, knownAlgorithms(kh, s.addr, remote), nil
}

// knownAlgorithms asks the known_hosts database which keys it has for addr
// by checking a key it cannot have: the mismatch lists them.
func knownAlgorithms(kh ssh.HostKeyCallback, addr string, remote net.Addr) []string {
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil || remote == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(kh(addr, remote, probe), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		t := k.Key.Type()
		names := []string{t}
		if t == ssh.KeyAlgoRSA {
			names = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				algos = append(algos, n)
			}
		}
	}
	return algos
}

// keyName is the key's algorithm as ssh-keygen -l shows it: "ED25519".
func keyName(k ssh.PublicKey) string {
	return strings.ToUpper(shortType(k))
}

// shortType is the key type as in /etc/ssh/ssh_host_TYPE_key.pub.
func shortType(k ssh.PublicKey) string {
	t := k.Type()
	switch {
	case strings.HasPrefix(t, "ecdsa-"), strings.HasPrefix(t, "sk-ecdsa-"):
		return "ecdsa"
	case strings.Contains(t, "ed25519"):
		return "ed25519"
	case strings.Contains(t, "rsa"):
		return "rsa"
	case strings.Contains(t, "dss"):
		return "dsa"
	}
	return strings.TrimPrefix(t, "ssh-")
}
