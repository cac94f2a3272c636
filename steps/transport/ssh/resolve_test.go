package ssh

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveWithSSHConfig checks what a Config and an ssh_config file make
// of a target together: the Config's explicit values win, ssh_config fills
// in the rest, tokens are expanded as ssh(1) does, and jump hosts are
// resolved with their own ssh_config entries.
func TestResolveWithSSHConfig(t *testing.T) {
	type want struct {
		addr, user string
		identity   []string // "~" is the test's home
		known      []string // "~" is the test's home; nil: not checked
		jumps      []string // user@addr of each jump host
	}
	local := currentUser()
	tests := map[string]struct {
		config  string
		target  string
		cfg     Config
		want    want
		wantErr string
	}{
		"HostName, User and Port": {
			config: "Host web1\n  HostName 10.0.0.5\n  User ops\n  Port 2200\n",
			target: "web1",
			want:   want{addr: "10.0.0.5:2200", user: "ops"},
		},
		"HostName with %h": {
			config: "Host *.prod\n  HostName %h.example.net\n",
			target: "rok1.prod",
			want:   want{addr: "rok1.prod.example.net:22", user: local},
		},
		"explicit user and port win": {
			config: "Host web1\n  HostName 10.0.0.5\n  User ops\n  Port 2200\n",
			target: "web1",
			cfg:    Config{User: "root", Port: 2222},
			want:   want{addr: "10.0.0.5:2222", user: "root"},
		},
		"an address in Addresses wins over HostName": {
			config: "Host web1\n  HostName 10.0.0.5\n  Port 2200\n  User ops\n",
			target: "web1",
			cfg:    Config{Addresses: map[string]string{"web1": "192.0.2.1"}},
			want:   want{addr: "192.0.2.1:2200", user: "ops"},
		},
		"and its port over Port": {
			config: "Host web1\n  Port 2200\n",
			target: "web1",
			cfg:    Config{Addresses: map[string]string{"web1": "192.0.2.1:2201"}},
			want:   want{addr: "192.0.2.1:2201", user: local},
		},
		"a port in the target wins": {
			config: "Host web1\n  Port 2200\n",
			target: "web1:2300",
			want:   want{addr: "web1:2300", user: local},
		},
		"IdentityFile tokens": {
			config: "Host web1\n  HostName h.example\n  User ops\n  Port 2200\n" +
				"  IdentityFile ~/.ssh/%h-%r-%p-%n\n  IdentityFile %d/keys/%u%%\n  IdentityFile ${ROKFLOW_TEST_KEYS}/id\n",
			target: "web1",
			want: want{addr: "h.example:2200", user: "ops", identity: []string{
				"~/.ssh/h.example-ops-2200-web1", "~/keys/" + local + "%", "/keys/id",
			}},
		},
		"the r token is the user the Config gives": {
			config: "IdentityFile ~/%r\nUser ops\n",
			target: "web1",
			cfg:    Config{User: "root"},
			want:   want{addr: "web1:22", user: "root", identity: []string{"~/root"}},
		},
		"explicit identity files replace ssh_config's": {
			config: "IdentityFile ~/.ssh/from-config\n",
			target: "web1",
			cfg:    Config{IdentityFiles: []string{"~/explicit"}},
			want:   want{addr: "web1:22", user: local, identity: []string{"~/explicit"}},
		},
		"UserKnownHostsFile": {
			config: "Host web1\n  HostName 10.0.0.5\n  UserKnownHostsFile ~/.ssh/kh_%h none\n",
			target: "web1",
			want:   want{addr: "10.0.0.5:22", user: local, known: []string{"~/.ssh/kh_10.0.0.5", globalKnownHosts}},
		},
		"explicit known_hosts wins": {
			config: "UserKnownHostsFile ~/.ssh/other\n",
			target: "web1",
			cfg:    Config{KnownHosts: []string{"/etc/rok/known_hosts"}},
			want:   want{addr: "web1:22", user: local, known: []string{"/etc/rok/known_hosts"}},
		},
		"ProxyJump with the jump host's own entry": {
			config: "Host web1\n  ProxyJump ops@bastion:2022\n" +
				"Host bastion\n  HostName 10.9.9.9\n  User ignored\n  Port 1\n  IdentityFile ~/.ssh/bastion_key\n",
			target: "web1",
			want: want{addr: "web1:22", user: local, identity: []string{"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"},
				jumps: []string{"ops@10.9.9.9:2022"}},
		},
		"the first hop's own ProxyJump leads to it": {
			config: "Host web1\n  ProxyJump inner,last\nHost inner\n  ProxyJump outer\nHost last\n  ProxyJump ignored\n",
			target: "web1",
			want: want{addr: "web1:22", user: local,
				jumps: []string{local + "@outer:22", local + "@inner:22", local + "@last:22"}},
		},
		"explicit ProxyJump replaces ssh_config's": {
			config: "Host web1\n  ProxyJump old\n",
			target: "web1",
			cfg:    Config{ProxyJump: "ssh://root@new:2200"},
			want:   want{addr: "web1:22", user: local, jumps: []string{"root@new:2200"}},
		},
		"explicit ProxyJump none connects directly": {
			config: "Host *\n  ProxyJump bastion\n",
			target: "web1",
			cfg:    Config{ProxyJump: "none"},
			want:   want{addr: "web1:22", user: local},
		},
		"ProxyCommand none connects directly": {
			config: "Host web1\n  ProxyCommand none\nHost *\n  ProxyJump bastion\n",
			target: "web1",
			want:   want{addr: "web1:22", user: local},
		},
		"ProxyCommand is refused": {
			config:  "Host *\n  ProxyCommand nc %h %p\n",
			target:  "web1",
			wantErr: "config:2 sets ProxyCommand, which rokflow does not run",
		},
		"a jump host's ProxyCommand is refused": {
			config:  "Host web1\n  ProxyJump b\nHost b\n  ProxyCommand nc %h %p\n",
			target:  "web1",
			wantErr: "jump host b for web1: ssh_config",
		},
		"a ProxyJump loop": {
			config:  "Host web1\n  ProxyJump a\nHost a\n  ProxyJump b\nHost b\n  ProxyJump a\n",
			target:  "web1",
			wantErr: "is there a loop",
		},
		"a bad explicit ProxyJump": {
			target:  "web1",
			cfg:     Config{ProxyJump: "a,,b"},
			wantErr: "ssh: web1: ProxyJump: a jump host is empty",
		},
		"an unknown token": {
			config:  "IdentityFile ~/.ssh/%C\n",
			target:  "web1",
			wantErr: "config:1: IdentityFile: \"~/.ssh/%C\": rokflow does not know the token %C",
		},
		"an unset environment variable": {
			config:  "IdentityFile ${ROKFLOW_TEST_UNSET}/id\n",
			target:  "web1",
			wantErr: "ROKFLOW_TEST_UNSET",
		},
		"a bad HostName token": {
			config:  "HostName %r.example\n",
			target:  "web1",
			wantErr: "only %h and %% may be used",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("ROKFLOW_TEST_KEYS", "/keys")
			t.Setenv("SSH_AUTH_SOCK", "")
			file := writeConfig(t, filepath.Join(home, ".ssh", "config"), tc.config)
			sc, err := loadSSHConfig(file, home)
			if err != nil {
				t.Fatal(err)
			}
			s, err := resolve(tc.target, tc.cfg, sc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tilde := func(paths []string) []string {
				var out []string
				for _, p := range paths {
					if rest, ok := strings.CutPrefix(p, home); ok {
						p = "~" + rest
					}
					out = append(out, p)
				}
				return out
			}
			got := want{addr: s.addr, user: s.user, identity: tilde(s.identity)}
			if tc.want.identity == nil {
				got.identity = nil
			}
			if tc.want.known != nil {
				got.known = tilde(s.known)
			}
			for _, j := range s.jumps {
				got.jumps = append(got.jumps, j.user+"@"+j.addr)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestResolveJumpHostSettings checks what a jump host takes from the
// Config: the known_hosts files, but never the target's password, nor the
// leave to skip host key checks.
func TestResolveJumpHostSettings(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfg := Config{
		User:                  "root",
		Password:              "hunter2",
		InsecureIgnoreHostKey: true,
		KnownHosts:            []string{"/etc/rok/known_hosts"},
		IdentityFiles:         []string{"/etc/rok/id_upgrade"},
		Sudo:                  true,
		ProxyJump:             "bastion",
	}
	s, err := resolve("web1", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	j := s.jumps[0]
	if j.password != "" || j.insecure || j.sudo {
		t.Errorf("jump host got password %t, insecure %t, sudo %t", j.password != "", j.insecure, j.sudo)
	}
	if j.user != currentUser() {
		t.Errorf("jump host user %q: the target's explicit user is not the jump host's", j.user)
	}
	if fmt.Sprint(j.known) != "[/etc/rok/known_hosts]" || fmt.Sprint(j.identity) != "[/etc/rok/id_upgrade]" {
		t.Errorf("jump host known_hosts %q, identity %q", j.known, j.identity)
	}
	if !strings.Contains(j.target, "jump host bastion for web1") {
		t.Errorf("jump host named %q", j.target)
	}

	// The pool never hands a connection through one chain to another.
	direct, err := resolve("web1", Config{User: "root", ProxyJump: "none"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	viaOther, err := resolve("web1", Config{User: "root", ProxyJump: "other"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	viaBastion, err := resolve("web1", Config{User: "root", ProxyJump: "bastion"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if direct.key() == viaBastion.key() || viaOther.key() == viaBastion.key() {
		t.Error("connections through different jump hosts share a pool key")
	}
	if again, _ := resolve("web1", Config{User: "root", ProxyJump: "bastion"}, nil); again.key() != viaBastion.key() {
		t.Error("the same chain gives another pool key")
	}
}
