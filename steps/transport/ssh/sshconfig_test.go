package ssh

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitConfigLine(t *testing.T) {
	tests := map[string]struct {
		line    string
		key     string
		args    []string
		wantErr string
	}{
		"blank":               {line: "   \t", key: ""},
		"comment":             {line: "  # Host x", key: ""},
		"keyword and args":    {line: "Host web1 web2", key: "host", args: []string{"web1", "web2"}},
		"case of the keyword": {line: "HOSTNAME Example.COM", key: "hostname", args: []string{"Example.COM"}},
		"equals":              {line: "Port=2222", key: "port", args: []string{"2222"}},
		"spaced equals":       {line: "\tUser = deploy", key: "user", args: []string{"deploy"}},
		"double quotes":       {line: `IdentityFile "~/my keys/id"`, key: "identityfile", args: []string{"~/my keys/id"}},
		"single quotes":       {line: `IdentityFile '~/a b'`, key: "identityfile", args: []string{"~/a b"}},
		"escaped space":       {line: `IdentityFile ~/a\ b`, key: "identityfile", args: []string{"~/a b"}},
		"trailing comment":    {line: "Port 22 # the usual", key: "port", args: []string{"22"}},
		"hash inside a word":  {line: "HostName a#b", key: "hostname", args: []string{"a#b"}},
		"carriage return":     {line: "User root\r", key: "user", args: []string{"root"}},
		"unterminated quote":  {line: `IdentityFile "~/a`, wantErr: "unterminated quote"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			key, args, err := splitConfigLine(tc.line)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key != tc.key || fmt.Sprintf("%q", args) != fmt.Sprintf("%q", tc.args) {
				t.Errorf("got %q %q, want %q %q", key, args, tc.key, tc.args)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything.example", true},
		{"web?", "web1", true},
		{"web?", "web12", false},
		{"*.prod", "rok1.prod", true},
		{"*.prod", "rok1.prod.example", false},
		{"rok*.prod", "rok.prod", true},
		{"a*b*c", "aXXbYYbZc", true},
		{"a*b*c", "aXXbYY", false},
		{"10.0.0.*", "10.0.0.11", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"**", "x", true},
	}
	for _, tc := range tests {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %t, want %t", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// writeConfig writes an ssh_config file readable by its owner only, as
// ssh(1) wants it.
func writeConfig(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, text, 0o600)
	return path
}

// TestLookup evaluates ssh_config files for host names as ssh(1) would.
func TestLookup(t *testing.T) {
	type want struct {
		hostName, user string
		port           int
		identity       []string
		proxy          string // keyword=value
	}
	tests := map[string]struct {
		config string
		files  map[string]string // more files, under the test's ~/.ssh
		name   string
		want   want
	}{
		"no match": {
			config: "Host other\n  User x\n",
			name:   "web1",
		},
		"before any Host applies to all": {
			config: "User early\nHost web1\n  User late\n",
			name:   "web1",
			want:   want{user: "early"},
		},
		"first obtained value wins": {
			config: "Host web1\n  Port 2201\nHost web*\n  Port 2202\n  User ops\nHost *\n  User nobody\n  HostName fallback\n",
			name:   "web1",
			want:   want{port: 2201, user: "ops", hostName: "fallback"},
		},
		"several patterns on one line": {
			config: "Host db1 web? cache\n  User many\n",
			name:   "web3",
			want:   want{user: "many"},
		},
		"? is one character": {
			config: "Host web?\n  User one\n",
			name:   "web10",
		},
		"negation excludes": {
			config: "Host *.prod !db*.prod\n  User app\nHost *\n  User other\n",
			name:   "db1.prod",
			want:   want{user: "other"},
		},
		"negation lets the others through": {
			config: "Host *.prod !db*.prod\n  User app\n",
			name:   "web1.prod",
			want:   want{user: "app"},
		},
		"negation alone matches nothing": {
			config: "Host !db1\n  User x\n",
			name:   "web1",
		},
		"case is ignored": {
			config: "Host WEB1.Example\n  User upper\n",
			name:   "web1.example",
			want:   want{user: "upper"},
		},
		"identity files accumulate in order": {
			config: "Host web1\n  IdentityFile ~/.ssh/a\nHost *\n  IdentityFile ~/.ssh/b\n",
			name:   "web1",
			want:   want{identity: []string{"~/.ssh/a", "~/.ssh/b"}},
		},
		"Match blocks are not applied": {
			config: "Match host web1 exec \"true\"\n  User matched\nHost web1\n  Port 2200\n",
			name:   "web1",
			want:   want{port: 2200},
		},
		"Match all is applied": {
			config: "Host other\n  User x\nMatch all\n  User everyone\n",
			name:   "web1",
			want:   want{user: "everyone"},
		},
		"ProxyJump before ProxyCommand": {
			config: "Host web1\n  ProxyJump bastion\nHost *\n  ProxyCommand nc %h %p\n",
			name:   "web1",
			want:   want{proxy: "proxyjump=bastion"},
		},
		"ProxyCommand before ProxyJump": {
			config: "Host *\n  ProxyCommand nc %h %p\n  ProxyJump bastion\n",
			name:   "web1",
			want:   want{proxy: "proxycommand=nc %h %p"},
		},
		"ProxyJump none stops a later one": {
			config: "Host bastion\n  ProxyJump none\nHost *\n  ProxyJump bastion\n",
			name:   "bastion",
			want:   want{proxy: "proxyjump=none"},
		},
		"Include is relative to ~/.ssh, globbed in order": {
			config: "Include conf.d/*.conf\nHost *\n  User last\n",
			files: map[string]string{
				"conf.d/20-b.conf": "Host web1\n  Port 2220\n  User b\n",
				"conf.d/10-a.conf": "Host web1\n  HostName 10.0.0.1\n",
				"conf.d/skip.txt":  "Host *\n  User skipped\n",
			},
			name: "web1",
			want: want{hostName: "10.0.0.1", port: 2220, user: "b"},
		},
		"Include of nothing is fine": {
			config: "Include missing/*\nHost web1\n  User x\n",
			name:   "web1",
			want:   want{user: "x"},
		},
		"Include inside a matching Host": {
			config: "Host web1\n  Include inner\nHost *\n  Port 2\n",
			files:  map[string]string{"inner": "User inner\n"},
			name:   "web1",
			want:   want{user: "inner", port: 2},
		},
		"Include inside a Host that does not match": {
			config: "Host db1\n  Include inner\n",
			files:  map[string]string{"inner": "User never\nHost *\n  Port 3\n"},
			name:   "web1",
		},
		"an included Host does not change the includer's block": {
			config: "Host other\n  Include inner\n  User still-other\nHost web1\n  HostName h\n",
			files:  map[string]string{"inner": "Host web1\n  Port 4\n"},
			name:   "web1",
			want:   want{hostName: "h"},
		},
		"the includer's block goes on after an Include": {
			config: "Host web1\n  Include inner\n  User mine\n",
			files:  map[string]string{"inner": "Host other\n  User theirs\n"},
			name:   "web1",
			want:   want{user: "mine"},
		},
		"absolute and ~ includes": {
			config: "Include ~/.ssh/inner\n",
			files:  map[string]string{"inner": "Host web1\n  User tilde\n"},
			name:   "web1",
			want:   want{user: "tilde"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			file := writeConfig(t, filepath.Join(home, "cfg"), tc.config)
			for n, text := range tc.files {
				writeConfig(t, filepath.Join(home, ".ssh", n), text)
			}
			sc, err := loadSSHConfig(file, home)
			if err != nil {
				t.Fatal(err)
			}
			hc := sc.lookup(tc.name)
			got := want{hostName: hc.hostName, user: hc.user, port: hc.port, identity: hc.identity}
			if hc.proxyKey != "" {
				got.proxy = hc.proxyKey + "=" + hc.proxy
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
				t.Errorf("lookup(%q)\n got %+v\nwant %+v", tc.name, got, tc.want)
			}
		})
	}
}

func TestLoadSSHConfigErrors(t *testing.T) {
	tests := map[string]struct {
		config  string
		mode    os.FileMode
		wantErr string
	}{
		"bad port":            {config: "Host x\n  Port ssh-alt\n", wantErr: `cfg:2: Port "ssh-alt"`},
		"port out of range":   {config: "Port 70000\n", wantErr: "not a port number"},
		"bad ProxyJump":       {config: "Host x\n ProxyJump user@\n", wantErr: "cfg:2: ProxyJump"},
		"two HostNames":       {config: "HostName a b\n", wantErr: "takes one value"},
		"empty Host":          {config: "Host\n", wantErr: "Host needs at least one pattern"},
		"no value":            {config: "User\n", wantErr: "User needs a value"},
		"unterminated quote":  {config: "\nUser \"x\n", wantErr: "cfg:2: unterminated quote"},
		"includes itself":     {config: "Include cfg\n", wantErr: "nested more than 16 deep"},
		"writable by others":  {config: "User x\n", mode: 0o666, wantErr: "bad owner or permissions"},
		"writable by a group": {config: "User x\n", mode: 0o620, wantErr: "bad owner or permissions"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			file := writeConfig(t, filepath.Join(home, ".ssh", "cfg"), tc.config)
			if tc.mode != 0 {
				if err := os.Chmod(file, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			_, err := loadSSHConfig(file, home)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	// An unknown keyword changes nothing rokflow does, and is skipped, as
	// is a bad value of a keyword rokflow does not apply.
	home := t.TempDir()
	file := writeConfig(t, filepath.Join(home, "cfg"), "SendEnv LANG LC_*\nForwardAgent maybe\nHost x\n  User y\n")
	if _, err := loadSSHConfig(file, home); err != nil {
		t.Errorf("unknown keywords: %v", err)
	}
	// A file named explicitly must exist; "none" reads nothing.
	if _, err := loadSSHConfig(filepath.Join(home, "missing"), home); err == nil {
		t.Error("a missing file named explicitly was accepted")
	}
	if sc, err := loadSSHConfig("none", home); err != nil || len(sc.files) != 0 {
		t.Errorf("none: %v, %v", sc, err)
	}
}

func TestMatchNote(t *testing.T) {
	home := t.TempDir()
	file := writeConfig(t, filepath.Join(home, "cfg"), "Host a\n  User b\nMatch exec \"ping -c1 gw\"\n  ProxyJump gw\n")
	sc, err := loadSSHConfig(file, home)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.notes) != 1 || !strings.Contains(sc.notes[0], file+":3: Match exec") || !strings.Contains(sc.notes[0], "not applied") {
		t.Errorf("notes = %q", sc.notes)
	}
	if hc := sc.lookup("anything"); hc.proxyKey != "" {
		t.Errorf("the Match block applied: %s=%s", hc.proxyKey, hc.proxy)
	}
}

func TestParseJump(t *testing.T) {
	tests := map[string]struct {
		spec    string
		want    []string // user|host|port per hop
		wantErr string
	}{
		"host":             {spec: "bastion", want: []string{"|bastion|0"}},
		"user host port":   {spec: "ops@bastion.example:2222", want: []string{"ops|bastion.example|2222"}},
		"chain":            {spec: "a, b@c:22 ,d", want: []string{"|a|0", "b|c|22", "|d|0"}},
		"ssh uri":          {spec: "ssh://ops@b:2200", want: []string{"ops|b|2200"}},
		"bracketed IPv6":   {spec: "[fe80::1]:2022", want: []string{"|fe80::1|2022"}},
		"bare IPv6":        {spec: "root@::1", want: []string{"root|::1|0"}},
		"@ in user":        {spec: "a@b@host", want: []string{"a@b|host|0"}},
		"empty hop":        {spec: "a,,b", wantErr: "a jump host is empty"},
		"trailing comma":   {spec: "a,", wantErr: "a jump host is empty"},
		"no user":          {spec: "@host", wantErr: "empty user"},
		"no host":          {spec: "user@:22", wantErr: "no host"},
		"option injection": {spec: "-oProxyCommand=x", wantErr: "no host"},
		"bad port":         {spec: "host:0", wantErr: "port"},
		"space":            {spec: "a b", wantErr: "space"},
		"uri with path":    {spec: "ssh://host/x", wantErr: "no path"},
		"none in a chain":  {spec: "none", wantErr: "none"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hops, err := parseJumps(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hops {
				got = append(got, fmt.Sprintf("%s|%s|%d", h.user, h.host, h.port))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
