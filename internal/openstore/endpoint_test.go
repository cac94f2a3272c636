package openstore

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRole(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Role
		error string
	}{
		{name: "master", in: "master", want: RoleMaster},
		{name: "slave", in: "slave", want: RoleSlave},
		{name: "capitalized", in: "Master", error: `unknown OpenStore role "Master" (want "master" or "slave")`},
		{name: "empty", in: "", error: `unknown OpenStore role ""`},
		{name: "other", in: "primary", error: `unknown OpenStore role "primary"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRole(tt.in)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("ParseRole(%q) = %q, %v; want error %q", tt.in, got, err, tt.error)
				}
				return
			}
			if err != nil || got != tt.want || !got.Valid() {
				t.Fatalf("ParseRole(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		name string
		d    Direction
		str  string
		role Role
	}{
		{"connect", Connect, "connect", RoleSlave},
		{"listen", Listen, "listen", RoleMaster},
		{"zero", Direction(0), "Direction(0)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.d.DefaultRole(); got != tt.role {
				t.Errorf("DefaultRole() = %q, want %q", got, tt.role)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Endpoint
		error string // substring of the reason; "" means success
	}{
		// The four combinations of the v0.11 note, as the text is written.
		{name: "master connect", in: "role=master,http://1.2.3.4:8080",
			want: Endpoint{Role: RoleMaster, RoleExplicit: true, Scheme: "http", Host: "1.2.3.4", Port: "8080"}},
		{name: "slave connect explicit", in: "role=slave,http://1.2.3.4:9090",
			want: Endpoint{Role: RoleSlave, RoleExplicit: true, Scheme: "http", Host: "1.2.3.4", Port: "9090"}},
		{name: "default role", in: "http://1.2.3.4:9090",
			want: Endpoint{Scheme: "http", Host: "1.2.3.4", Port: "9090"}},
		{name: "slave listen", in: "role=slave,http://1.2.3.4:8080",
			want: Endpoint{Role: RoleSlave, RoleExplicit: true, Scheme: "http", Host: "1.2.3.4", Port: "8080"}},
		{name: "legacy", in: "tcp://10.0.0.11:8080",
			want: Endpoint{Scheme: "tcp", Host: "10.0.0.11", Port: "8080"}},
		{name: "host name", in: "http://rok-1.prod-cluster.example:80",
			want: Endpoint{Scheme: "http", Host: "rok-1.prod-cluster.example", Port: "80"}},
		{name: "single label host", in: "tcp://localhost:1",
			want: Endpoint{Scheme: "tcp", Host: "localhost", Port: "1"}},
		{name: "ipv6", in: "role=master,http://[::1]:8080",
			want: Endpoint{Role: RoleMaster, RoleExplicit: true, Scheme: "http", Host: "::1", Port: "8080"}},
		{name: "legacy ipv6", in: "tcp://[2001:db8::7]:65535",
			want: Endpoint{Scheme: "tcp", Host: "2001:db8::7", Port: "65535"}},
		{name: "ipv6 zone", in: "http://[fe80::1%eth0]:8080",
			want: Endpoint{Scheme: "http", Host: "fe80::1%eth0", Port: "8080"}},
		{name: "ipv4-mapped ipv6", in: "http://[::ffff:10.0.0.1]:8080",
			want: Endpoint{Scheme: "http", Host: "::ffff:10.0.0.1", Port: "8080"}},

		{name: "empty", in: "", error: "empty"},
		{name: "leading space", in: " http://h:1", error: "whitespace"},
		{name: "trailing newline", in: "http://h:1\n", error: "whitespace"},
		{name: "inline comment", in: "http://h:1 # old", error: "whitespace"},
		{name: "bad role", in: "role=boss,http://h:1", error: `unknown OpenStore role "boss"`},
		{name: "upper-case role", in: "role=Slave,http://h:1", error: `unknown OpenStore role "Slave"`},
		{name: "empty role", in: "role=,http://h:1", error: `unknown OpenStore role ""`},
		{name: "role twice", in: "role=slave,role=master,http://h:1", error: "role given more than once"},
		{name: "unknown option", in: "mode=fast,http://h:1", error: `unknown option "mode"`},
		{name: "option without value", in: "slave,http://h:1", error: `option "slave" before the URL is not of the form key=value`},
		{name: "role without url", in: "role=slave", error: "must be followed by ',' and a URL"},
		{name: "role with empty url", in: "role=slave,", error: "missing URL"},
		{name: "role on tcp", in: "role=slave,tcp://h:1", error: "legacy tcp:// endpoints cannot carry a role"},
		{name: "no scheme", in: "10.0.0.1:8080", error: "missing scheme"},
		{name: "empty scheme", in: "://h:1", error: "missing scheme"},
		{name: "unknown scheme", in: "https://h:1", error: `unsupported scheme "https"`},
		{name: "upper-case scheme", in: "HTTP://h:1", error: `unsupported scheme "HTTP"`},
		{name: "tcp colon only", in: "tcp:h:1", error: "missing scheme"},
		{name: "missing port", in: "http://h", error: "missing port"},
		{name: "empty port", in: "http://h:", error: "missing port number"},
		{name: "port zero", in: "http://h:0", error: "out of range"},
		{name: "port too big", in: "http://h:65536", error: "out of range"},
		{name: "port huge", in: "http://h:99999999999999999999", error: "out of range"},
		{name: "port leading zero", in: "http://h:08080", error: "leading zeros"},
		{name: "port not number", in: "http://h:http", error: `port "http" is not a number`},
		{name: "missing host", in: "http://:8080", error: "missing host"},
		{name: "nothing after scheme", in: "http://", error: "missing host and port"},
		{name: "path", in: "http://h:1/api", error: `without path, query or fragment (found "/api")`},
		{name: "trailing slash", in: "http://h:1/", error: "without path"},
		{name: "query", in: "http://h:1?x=1", error: "without path"},
		{name: "fragment", in: "http://h:1#x", error: "without path"},
		{name: "userinfo", in: "http://u:p@h:1", error: "user information"},
		{name: "two urls", in: "http://a:1,http://b:2", error: "exactly one URL"},
		{name: "comma list of hosts", in: "http://a:1,b:2", error: "exactly one endpoint"},
		{name: "unbracketed ipv6", in: "http://::1:8080", error: "must be in brackets"},
		{name: "unclosed bracket", in: "http://[::1:8080", error: "missing ']'"},
		{name: "bracket without port", in: "http://[::1]", error: "missing port"},
		{name: "junk after bracket", in: "http://[::1]8080", error: "unexpected"},
		{name: "ipv4 in brackets", in: "http://[10.0.0.1]:80", error: "not an IPv6 address"},
		{name: "garbage in brackets", in: "http://[zz]:80", error: "not an IPv6 address"},
		{name: "bad ipv4", in: "http://10.0.0.256:80", error: "not a valid IPv4 address"},
		{name: "short ipv4", in: "http://10.0.1:80", error: "not a valid IPv4 address"},
		{name: "underscore host", in: "http://rok_1:80", error: `contains '_'`},
		{name: "empty label", in: "http://rok..example:80", error: "empty label"},
		{name: "hyphen label", in: "http://-rok:80", error: "starts or ends with '-'"},
		{name: "long label", in: "http://" + strings.Repeat("a", 64) + ":80", error: "longer than 63"},
		{name: "long host", in: "http://" + strings.Repeat("abcdefgh.", 29) + "x:80", error: "longer than 253"},
		{name: "sed-style double scheme", in: "http://tcp://h:1", error: "exactly one URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.error != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error containing %q", tt.in, got, tt.error)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Input != tt.in {
					t.Fatalf("Parse(%q) error %v is not a *ParseError for the input", tt.in, err)
				}
				if !strings.Contains(pe.Reason, tt.error) {
					t.Fatalf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate() of parsed %q: %v", tt.in, err)
			}
			if s := Format(got); s != tt.in {
				t.Fatalf("Format(Parse(%q)) = %q, want the input back", tt.in, s)
			}
			if s := got.String(); s != tt.in {
				t.Fatalf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse("role=boss,http://h:1")
	want := `invalid OpenStore endpoint "role=boss,http://h:1": unknown OpenStore role "boss" (want "master" or "slave")`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

// TestFormatFor covers the four role/direction combinations in both styles,
// for endpoints written with and without a role.
func TestFormatFor(t *testing.T) {
	const url = "http://1.2.3.4:8080"
	tests := []struct {
		name      string
		in        string
		dir       Direction
		effective Role
		omit      string // RoleOmitDefault
		always    string // RoleAlways
	}{
		{"master connect", "role=master," + url, Connect, RoleMaster, "role=master," + url, "role=master," + url},
		{"slave connect explicit", "role=slave," + url, Connect, RoleSlave, url, "role=slave," + url},
		{"slave connect default", url, Connect, RoleSlave, url, "role=slave," + url},
		{"master listen explicit", "role=master," + url, Listen, RoleMaster, url, "role=master," + url},
		{"master listen default", url, Listen, RoleMaster, url, "role=master," + url},
		{"slave listen", "role=slave," + url, Listen, RoleSlave, "role=slave," + url, "role=slave," + url},
		{"legacy connect", "tcp://1.2.3.4:8080", Connect, RoleSlave, "tcp://1.2.3.4:8080", "tcp://1.2.3.4:8080"},
		{"legacy listen", "tcp://1.2.3.4:8080", Listen, RoleMaster, "tcp://1.2.3.4:8080", "tcp://1.2.3.4:8080"},
		{"ipv6 listen slave", "role=slave,http://[::1]:9090", Listen, RoleSlave, "role=slave,http://[::1]:9090", "role=slave,http://[::1]:9090"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.EffectiveRole(tt.dir); got != tt.effective {
				t.Errorf("EffectiveRole(%v) = %q, want %q", tt.dir, got, tt.effective)
			}
			if got := FormatFor(e, tt.dir, RoleOmitDefault); got != tt.omit {
				t.Errorf("FormatFor(RoleOmitDefault) = %q, want %q", got, tt.omit)
			}
			if got := FormatFor(e, tt.dir, RoleAlways); got != tt.always {
				t.Errorf("FormatFor(RoleAlways) = %q, want %q", got, tt.always)
			}
			// Whatever the style, the text means the same thing.
			for _, s := range []string{tt.omit, tt.always} {
				back, err := Parse(s)
				if err != nil {
					t.Fatalf("FormatFor output %q does not parse: %v", s, err)
				}
				if back.EffectiveRole(tt.dir) != tt.effective {
					t.Errorf("FormatFor output %q has role %q in %v, want %q", s, back.EffectiveRole(tt.dir), tt.dir, tt.effective)
				}
			}
		})
	}
}

func TestEndpointHelpers(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		dir      Direction
		hostPort string
		url      string
		legacy   bool
		migrated string // Format(Migrate())
		resolved Endpoint
	}{
		{name: "legacy", in: "tcp://10.0.0.11:8080", dir: Connect, hostPort: "10.0.0.11:8080",
			url: "tcp://10.0.0.11:8080", legacy: true, migrated: "http://10.0.0.11:8080",
			resolved: Endpoint{Scheme: "tcp", Host: "10.0.0.11", Port: "8080"}},
		{name: "v0.11 default", in: "http://[::1]:8080", dir: Listen, hostPort: "[::1]:8080",
			url: "http://[::1]:8080", migrated: "http://[::1]:8080",
			resolved: Endpoint{Role: RoleMaster, Scheme: "http", Host: "::1", Port: "8080"}},
		{name: "v0.11 explicit", in: "role=slave,http://h:1", dir: Listen, hostPort: "h:1",
			url: "http://h:1", migrated: "role=slave,http://h:1",
			resolved: Endpoint{Role: RoleSlave, RoleExplicit: true, Scheme: "http", Host: "h", Port: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.HostPort(); got != tt.hostPort {
				t.Errorf("HostPort() = %q, want %q", got, tt.hostPort)
			}
			if got := e.URL(); got != tt.url {
				t.Errorf("URL() = %q, want %q", got, tt.url)
			}
			if got := e.IsLegacy(); got != tt.legacy {
				t.Errorf("IsLegacy() = %v, want %v", got, tt.legacy)
			}
			if got := Format(e.Migrate()); got != tt.migrated {
				t.Errorf("Format(Migrate()) = %q, want %q", got, tt.migrated)
			}
			r := e.WithDefaultRole(tt.dir)
			if r != tt.resolved {
				t.Errorf("WithDefaultRole(%v) = %+v, want %+v", tt.dir, r, tt.resolved)
			}
			if Format(r) != tt.in {
				t.Errorf("WithDefaultRole changed the text: %q, want %q", Format(r), tt.in)
			}
			if got := Format(e.Migrate().WithRole(RoleMaster)); !strings.HasPrefix(got, "role=master,http://") {
				t.Errorf("WithRole(master) = %q", got)
			}
			if got := Format(e.Migrate().WithRole("")); strings.HasPrefix(got, "role=") {
				t.Errorf("WithRole(\"\") = %q, want no role", got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		e     Endpoint
		error string
	}{
		{name: "ok", e: Endpoint{Scheme: "http", Host: "h", Port: "1"}},
		{name: "ok ipv6 with role", e: Endpoint{Role: RoleSlave, RoleExplicit: true, Scheme: "http", Host: "::1", Port: "1"}},
		{name: "resolved default", e: Endpoint{Role: RoleMaster, Scheme: "http", Host: "h", Port: "1"}},
		{name: "no scheme", e: Endpoint{Host: "h", Port: "1"}, error: "unsupported scheme"},
		{name: "bad role", e: Endpoint{Role: "boss", Scheme: "http", Host: "h", Port: "1"}, error: "unknown OpenStore role"},
		{name: "explicit without role", e: Endpoint{RoleExplicit: true, Scheme: "http", Host: "h", Port: "1"}, error: "explicit but empty"},
		{name: "role on legacy", e: Endpoint{Role: RoleSlave, Scheme: "tcp", Host: "h", Port: "1"}, error: "cannot carry a role"},
		{name: "bad host", e: Endpoint{Scheme: "http", Host: "a b", Port: "1"}, error: "contains"},
		{name: "bad ipv6", e: Endpoint{Scheme: "http", Host: "::zz", Port: "1"}, error: "not an IPv6"},
		{name: "no port", e: Endpoint{Scheme: "http", Host: "h"}, error: "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			if tt.error == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.error)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"tcp://h:1", "role=slave,http://[::1]:8080", "role=master,http://1.2.3.4:80", "http://a.b:65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Parse(%q) gave an invalid endpoint: %v", s, err)
		}
		if Format(e) != s {
			t.Fatalf("Format(Parse(%q)) = %q", s, Format(e))
		}
	})
}
