package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rokflow/rokflow/steps"
)

func TestUnknownHostKey(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	for name, known := range map[string]string{
		"empty known_hosts":   "",
		"missing known_hosts": "-",
		// An entry without a port is for port 22 only.
		"entry for port 22 only": knownhosts.Line([]string{"127.0.0.1"}, s.hostKeys[0]) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := s.config()
			cfg.KnownHosts = []string{filepath.Join(t.TempDir(), "known_hosts")}
			if known != "-" {
				writeFile(t, cfg.KnownHosts[0], known, 0o600)
			}
			_, err := NewPool().Host(context.Background(), "web1", cfg)
			var unknown *UnknownHostKeyError
			if !errors.As(err, &unknown) {
				t.Fatalf("err = %v, want an UnknownHostKeyError", err)
			}
			msg := err.Error()
			for _, want := range []string{
				"web1",
				"not known",
				ssh.FingerprintSHA256(s.hostKeys[0]),
				fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", s.port), // the line to add
				fmt.Sprintf("ssh-keyscan -p %d 127.0.0.1 >> %s", s.port, cfg.KnownHosts[0]),
				"out of band",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			// The line it gives is the one that makes the host known.
			line := knownhosts.Line([]string{s.addr}, unknown.Key)
			if !strings.Contains(msg, line) {
				t.Errorf("error lacks the known_hosts line %q", line)
			}
			writeFile(t, cfg.KnownHosts[0], line+"\n", 0o600)
			p := NewPool()
			defer p.Close()
			if _, err := p.Host(context.Background(), "web1", cfg); err != nil {
				t.Fatalf("after adding the line: %v", err)
			}
		})
	}
}

func TestChangedHostKey(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	other := keygen(t, "ed25519", filepath.Join(t.TempDir(), "other"))
	cfg := s.config()
	cfg.KnownHosts = []string{filepath.Join(t.TempDir(), "known_hosts")}
	writeFile(t, cfg.KnownHosts[0], "# comment\n"+knownhosts.Line([]string{s.addr}, other)+"\n", 0o600)
	_, err := NewPool().Host(context.Background(), "web1", cfg)
	var changed *ChangedHostKeyError
	if !errors.As(err, &changed) {
		t.Fatalf("err = %v, want a ChangedHostKeyError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"CHANGED",
		"attack",
		cfg.KnownHosts[0] + ":2", // the known_hosts line
		ssh.FingerprintSHA256(s.hostKeys[0]),
		ssh.FingerprintSHA256(other),
		fmt.Sprintf("ssh-keygen -R '[127.0.0.1]:%d'", s.port),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) != 1 {
		t.Errorf("error does not wrap the knownhosts.KeyError: %v", err)
	}
}

func TestInsecureIgnoreHostKey(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	cfg := s.config()
	cfg.KnownHosts = []string{filepath.Join(t.TempDir(), "missing")}
	cfg.InsecureIgnoreHostKey = true
	_, h := s.host(t, cfg)
	if res := run(t, h, steps.Command{Argv: []string{"echo", "ok"}}); string(res.Stdout) != "ok\n" {
		t.Fatalf("stdout %q", res.Stdout)
	}
}

// TestHostKeyAlgorithmFromKnownHosts: a host with several host keys must
// present the one known_hosts has, whichever the library would prefer.
func TestHostKeyAlgorithmFromKnownHosts(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{hostKeyTypes: []string{"ecdsa", "ed25519"}})
	for i, k := range s.hostKeys {
		t.Run(k.Type(), func(t *testing.T) {
			cfg := s.config()
			cfg.KnownHosts = []string{filepath.Join(t.TempDir(), "known_hosts")}
			writeFile(t, cfg.KnownHosts[0], knownhosts.Line([]string{s.addr}, s.hostKeys[i])+"\n", 0o600)
			p := NewPool()
			defer p.Close()
			if _, err := p.Host(context.Background(), "web1", cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHashedKnownHosts: hashed entries (ssh-keygen -H) are understood.
func TestHashedKnownHosts(t *testing.T) {
	t.Parallel()
	s := startSSHD(t, serverOpts{})
	cfg := s.config()
	cfg.KnownHosts = []string{filepath.Join(t.TempDir(), "known_hosts")}
	line := knownhosts.HashHostname(knownhosts.Normalize(s.addr)) + " " + strings.SplitN(knownhosts.Line([]string{s.addr}, s.hostKeys[0]), " ", 2)[1]
	writeFile(t, cfg.KnownHosts[0], line+"\n", 0o600)
	p := NewPool()
	defer p.Close()
	if _, err := p.Host(context.Background(), "web1", cfg); err != nil {
		t.Fatal(err)
	}
}

// TestSecretsNotInErrors: a failed login mentions neither the password nor
// the contents of a key file.
func TestSecretsNotInErrors(t *testing.T) {
	t.Parallel()
	// The server takes passwords, so the (wrong) password is sent.
	s := startSSHD(t, serverOpts{extraConfig: "PasswordAuthentication yes"})
	const password = "hunter2-Pa55w0rd-secret"

	wrongKey := filepath.Join(t.TempDir(), "id_wrong")
	keygen(t, "ed25519", wrongKey)
	cfg := s.config()
	cfg.IdentityFiles = []string{wrongKey}
	cfg.Password = password
	_, err := NewPool().Host(context.Background(), "web1", cfg)
	if err == nil {
		t.Fatal("login with an unauthorised key and a password the server does not take succeeded")
	}
	msg := fmt.Sprintf("%v %+v %#v %s", err, err, cfg, cfg)
	if strings.Contains(msg, password) {
		t.Errorf("the password appears in the error or the config's formatting: %s", msg)
	}
	if !strings.Contains(err.Error(), wrongKey) || !strings.Contains(err.Error(), "a password") {
		t.Errorf("error does not say what was offered: %v", err)
	}

	keyData, _ := os.ReadFile(wrongKey)
	body := strings.Split(string(keyData), "\n")[1] // a line of the key itself
	broken := filepath.Join(t.TempDir(), "id_broken")
	writeFile(t, broken, strings.Replace(string(keyData), "\n", "\nBROKEN", 2), 0o600)
	cfg.IdentityFiles = []string{broken}
	_, err = NewPool().Host(context.Background(), "web1", cfg)
	if err == nil || !strings.Contains(err.Error(), broken) {
		t.Fatalf("err = %v, want one naming %s", err, broken)
	}
	if strings.Contains(err.Error(), body[:20]) || strings.Contains(err.Error(), "BROKEN") {
		t.Errorf("the key file's contents appear in the error: %v", err)
	}
}

// TestAgent logs in with a key held by an SSH agent (one run by the test).
// It sets SSH_AUTH_SOCK, so it does not run in parallel.
func TestAgent(t *testing.T) {
	s := startSSHD(t, serverOpts{})
	data, err := os.ReadFile(s.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				agent.ServeAgent(keyring, c)
			}()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)

	// No identity file: the agent is used because SSH_AUTH_SOCK is set.
	cfg := s.config()
	cfg.IdentityFiles = nil
	t.Setenv("HOME", t.TempDir()) // no default keys
	_, h := s.host(t, cfg)
	if res := run(t, h, steps.Command{Argv: []string{"echo", "agent"}}); string(res.Stdout) != "agent\n" {
		t.Fatalf("stdout %q", res.Stdout)
	}

	// UseAgent without an agent is an error that says so.
	t.Setenv("SSH_AUTH_SOCK", "")
	cfg.UseAgent = true
	_, err = NewPool().Host(context.Background(), "web1", cfg)
	if err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Fatalf("err = %v, want one about SSH_AUTH_SOCK", err)
	}
}

func TestResolve(t *testing.T) {
	tests := map[string]struct {
		target  string
		cfg     Config
		addr    string
		wantErr string
	}{
		"target is the host":         {target: "h1", addr: "h1:22"},
		"port from config":           {target: "h1", cfg: Config{Port: 2222}, addr: "h1:2222"},
		"mapped address with port":   {target: "h1", cfg: Config{Port: 2222, Addresses: map[string]string{"h1": "10.0.0.1:2200"}}, addr: "10.0.0.1:2200"},
		"mapped address, no port":    {target: "h1", cfg: Config{Addresses: map[string]string{"h1": "10.0.0.1"}}, addr: "10.0.0.1:22"},
		"bare IPv6":                  {target: "::1", addr: "[::1]:22"},
		"bracketed IPv6 with port":   {target: "h", cfg: Config{Addresses: map[string]string{"h": "[fe80::1]:2022"}}, addr: "[fe80::1]:2022"},
		"user in address is refused": {target: "root@h1", wantErr: "put the login name in User"},
		"bad port":                   {target: "h1:99999", wantErr: "invalid port"},
		"empty target":               {target: "", wantErr: "empty target"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := resolve(tc.target, tc.cfg, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.addr != tc.addr {
				t.Errorf("addr = %q, want %q", s.addr, tc.addr)
			}
			if s.user == "" || len(s.known) == 0 {
				t.Errorf("defaults not applied: user %q known_hosts %q", s.user, s.known)
			}
		})
	}
}
