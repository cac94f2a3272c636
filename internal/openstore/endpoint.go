package openstore

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Role is the OpenStore role one end of a control connection takes.
type Role string

const (
	// RoleMaster is the OpenStore master side; the default for Listen.
	RoleMaster Role = "master"
	// RoleSlave is the OpenStore slave side; the default for Connect.
	RoleSlave Role = "slave"
)

// Valid reports whether r is RoleMaster or RoleSlave.
func (r Role) Valid() bool { return r == RoleMaster || r == RoleSlave }

// ParseRole parses "master" or "slave" (lower case, exactly).
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("unknown OpenStore role %q (want %q or %q)", s, RoleMaster, RoleSlave)
}

// Direction says whether an endpoint is dialled (-C) or listened on (-L).
type Direction int

const (
	// Connect is the -C / --connect direction; its default role is slave.
	Connect Direction = iota + 1
	// Listen is the -L / --listen direction (and --controller-listen); its
	// default role is master.
	Listen
)

// String returns "connect" or "listen".
func (d Direction) String() string {
	switch d {
	case Connect:
		return "connect"
	case Listen:
		return "listen"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// DefaultRole is the role a v0.11 endpoint takes in direction d when no
// "role=" prefix is written: slave for Connect, master for Listen (the
// bracketed defaults of the v0.11 note: "-C [role=slave,]…",
// "-L [role=master,]…"). It returns "" for an invalid Direction.
func (d Direction) DefaultRole() Role {
	switch d {
	case Connect:
		return RoleSlave
	case Listen:
		return RoleMaster
	}
	return ""
}

// Schemes. SchemeTCP is the pre-0.11 (legacy) form, which never carries a
// role; SchemeHTTP is the v0.11 form.
const (
	SchemeHTTP = "http"
	SchemeTCP  = "tcp"
)

// Endpoint is one OpenStore endpoint, either v0.11 "[role=R,]http://H:P" or
// legacy "tcp://H:P".
//
// Role and RoleExplicit are separate on purpose: the text alone does not say
// which role an endpoint without "role=" has, because that depends on the
// direction it is used in. After Parse, Role is the written role or "" and
// RoleExplicit says whether it was written. WithDefaultRole fills in the
// direction's default without making it explicit, so Format still renders
// the text as written.
type Endpoint struct {
	// Role is the OpenStore role, or "" when not written and not resolved.
	Role Role
	// RoleExplicit is true when the text carries (or should carry) a
	// "role=" prefix. Legacy endpoints never do.
	RoleExplicit bool
	// Scheme is SchemeHTTP or SchemeTCP.
	Scheme string
	// Host is a host name, an IPv4 address or an IPv6 address without
	// brackets, as written.
	Host string
	// Port is the decimal port, 1-65535, without leading zeros.
	Port string
}

// ParseError reports text that is not a valid OpenStore endpoint. Reason may
// quote fragments of Input; callers handling secrets should print Reason
// with care.
type ParseError struct {
	Input  string
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid OpenStore endpoint %q: %s", e.Input, e.Reason)
}

// Parse parses "[role=master|slave,]http://HOST:PORT" (v0.11) or
// "tcp://HOST:PORT" (legacy, no role allowed). HOST is a DNS name, an IPv4
// address or a bracketed IPv6 address ("[::1]", zones allowed); PORT is
// required. Parse is strict: no surrounding or embedded whitespace, lower-case
// scheme and role, no user info, path (not even "/"), query or fragment, and
// no option other than a single "role=".
func Parse(s string) (Endpoint, error) {
	fail := func(format string, args ...any) (Endpoint, error) {
		return Endpoint{}, &ParseError{Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return fail("empty")
	}
	if i := strings.IndexFunc(s, isSpaceOrControl); i >= 0 {
		return fail("contains whitespace or a control character at byte %d", i)
	}

	var e Endpoint
	rest := s
	head := rest
	if i := strings.Index(rest, "://"); i >= 0 {
		head = rest[:i]
	}
	if comma := strings.LastIndexByte(head, ','); comma >= 0 {
		opts := rest[:comma]
		rest = rest[comma+1:]
		for _, opt := range strings.Split(opts, ",") {
			k, v, ok := strings.Cut(opt, "=")
			switch {
			case !ok:
				return fail("option %q before the URL is not of the form key=value", opt)
			case k != "role":
				return fail("unknown option %q before the URL (only role= is allowed)", k)
			case e.RoleExplicit:
				return fail("role given more than once")
			}
			r, err := ParseRole(v)
			if err != nil {
				return fail("%v", err)
			}
			e.Role, e.RoleExplicit = r, true
		}
	} else if strings.HasPrefix(rest, "role=") {
		return fail("role option must be followed by ',' and a URL")
	}

	scheme, authority, ok := strings.Cut(rest, "://")
	if !ok {
		if rest == "" {
			return fail("missing URL after the role option")
		}
		return fail("missing scheme (want http://HOST:PORT)")
	}
	switch scheme {
	case SchemeHTTP:
	case SchemeTCP:
		if e.RoleExplicit {
			return fail("legacy tcp:// endpoints cannot carry a role (roles came with http:// in v0.11)")
		}
	case "":
		return fail("missing scheme (want http://HOST:PORT)")
	default:
		return fail("unsupported scheme %q (want %q, or legacy %q)", scheme, SchemeHTTP, SchemeTCP)
	}
	e.Scheme = scheme

	if strings.Contains(authority, "://") {
		return fail("more than one scheme:// (exactly one URL is allowed)")
	}
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		return fail("URL must be only scheme://HOST:PORT, without path, query or fragment (found %q)", authority[i:])
	}
	if strings.Contains(authority, ",") {
		return fail("',' after the URL (exactly one endpoint is allowed)")
	}
	if strings.Contains(authority, "@") {
		return fail("URL must not contain user information")
	}
	if authority == "" {
		return fail("missing host and port")
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return fail("%v", err)
	}
	e.Host, e.Port = host, port
	return e, nil
}

// splitHostPort splits and validates "HOST:PORT" / "[IPv6]:PORT".
func splitHostPort(hp string) (host, port string, err error) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", fmt.Errorf("missing ']' after IPv6 address")
		}
		host = hp[1:end]
		after := hp[end+1:]
		if after == "" {
			return "", "", fmt.Errorf("missing port (want [IPv6]:PORT)")
		}
		if after[0] != ':' {
			return "", "", fmt.Errorf("unexpected %q after IPv6 address (want :PORT)", after)
		}
		port = after[1:]
		addr, perr := netip.ParseAddr(host)
		if perr != nil || !addr.Is6() {
			return "", "", fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	} else {
		i := strings.LastIndexByte(hp, ':')
		if i < 0 {
			return "", "", fmt.Errorf("missing port (want HOST:PORT)")
		}
		host, port = hp[:i], hp[i+1:]
		if strings.Contains(host, ":") {
			return "", "", fmt.Errorf("IPv6 address must be in brackets, e.g. [::1]:8080")
		}
		if err := checkHost(host); err != nil {
			return "", "", err
		}
	}
	if err := checkPort(port); err != nil {
		return "", "", err
	}
	return host, port, nil
}

// checkHost accepts an IPv4 address or a DNS name (RFC 1123 labels).
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("missing host")
	}
	if strings.Trim(h, "0123456789.") == "" {
		if a, err := netip.ParseAddr(h); err != nil || !a.Is4() {
			return fmt.Errorf("%q is not a valid IPv4 address", h)
		}
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("host name is longer than 253 characters")
	}
	for _, label := range strings.Split(h, ".") {
		switch {
		case label == "":
			return fmt.Errorf("host name %q has an empty label", h)
		case len(label) > 63:
			return fmt.Errorf("host name label %q is longer than 63 characters", label)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("host name label %q starts or ends with '-'", label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("host name %q contains %q", h, c)
			}
		}
	}
	return nil
}

func checkPort(p string) error {
	if p == "" {
		return fmt.Errorf("missing port number after ':'")
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return fmt.Errorf("port %q is not a number", p)
		}
	}
	if len(p) > 1 && p[0] == '0' {
		return fmt.Errorf("port %q has leading zeros", p)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is out of range 1-65535", p)
	}
	return nil
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f || r == 0x85 || r == 0xa0 || r == '\u2028' || r == '\u2029' || (r >= 0x2000 && r <= 0x200a) || r == 0x3000
}

// Validate checks the invariants Parse guarantees, for endpoints built by
// hand: a known scheme, a valid host and port, a valid role when one is set,
// RoleExplicit only with a role, and no role on a legacy endpoint.
func (e Endpoint) Validate() error {
	switch e.Scheme {
	case SchemeHTTP, SchemeTCP:
	default:
		return fmt.Errorf("unsupported scheme %q (want %q, or legacy %q)", e.Scheme, SchemeHTTP, SchemeTCP)
	}
	if e.Role != "" && !e.Role.Valid() {
		return fmt.Errorf("unknown OpenStore role %q (want %q or %q)", e.Role, RoleMaster, RoleSlave)
	}
	if e.RoleExplicit && e.Role == "" {
		return fmt.Errorf("role marked explicit but empty")
	}
	if e.IsLegacy() && e.Role != "" {
		return fmt.Errorf("legacy tcp:// endpoints cannot carry a role")
	}
	if strings.Contains(e.Host, ":") {
		a, err := netip.ParseAddr(e.Host)
		if err != nil || !a.Is6() {
			return fmt.Errorf("%q is not an IPv6 address", e.Host)
		}
	} else if err := checkHost(e.Host); err != nil {
		return err
	}
	return checkPort(e.Port)
}

// IsLegacy reports whether e uses the pre-0.11 tcp:// scheme.
func (e Endpoint) IsLegacy() bool { return e.Scheme == SchemeTCP }

// HostPort returns "HOST:PORT", bracketing IPv6 addresses.
func (e Endpoint) HostPort() string { return net.JoinHostPort(e.Host, e.Port) }

// URL returns "SCHEME://HOST:PORT" without any role.
func (e Endpoint) URL() string { return e.Scheme + "://" + e.HostPort() }

// String is Format(e).
func (e Endpoint) String() string { return Format(e) }

// EffectiveRole is the role e has when used in direction d: the role it
// carries, or d's default. Legacy endpoints report d's default as well (the
// role a migrated endpoint keeps when none is written).
func (e Endpoint) EffectiveRole(d Direction) Role {
	if e.Role != "" {
		return e.Role
	}
	return d.DefaultRole()
}

// WithDefaultRole returns e with Role set to d's default when it is empty.
// RoleExplicit is left unchanged, so Format output does not change. Legacy
// endpoints are returned unchanged (they cannot carry a role).
func (e Endpoint) WithDefaultRole(d Direction) Endpoint {
	if e.Role == "" && !e.IsLegacy() {
		e.Role = d.DefaultRole()
	}
	return e
}

// Migrate returns e in v0.11 form: the scheme becomes http and nothing else
// changes (no role is added; use WithRole or FormatFor for that). A v0.11
// endpoint is returned unchanged.
func (e Endpoint) Migrate() Endpoint {
	e.Scheme = SchemeHTTP
	return e
}

// WithRole returns e carrying role r explicitly. It is meaningful only for
// v0.11 (http) endpoints; Format omits roles on legacy endpoints.
func (e Endpoint) WithRole(r Role) Endpoint {
	e.Role, e.RoleExplicit = r, r != ""
	return e
}

// Format renders e as written: "role=R,http://H:P" when the role is
// explicit, "http://H:P" otherwise, and "tcp://H:P" for legacy endpoints
// (which never carry a role). For every s that Parse accepts,
// Format(Parse(s)) == s.
func Format(e Endpoint) string {
	if e.RoleExplicit && e.Role != "" && !e.IsLegacy() {
		return "role=" + string(e.Role) + "," + e.URL()
	}
	return e.URL()
}

// RoleStyle says when FormatFor writes the "role=" prefix.
type RoleStyle int

const (
	// RoleOmitDefault writes the role only when it differs from the
	// direction's default ("-C role=master,…", "-L role=slave,…").
	RoleOmitDefault RoleStyle = iota
	// RoleAlways always writes the role, so the text does not depend on
	// which flag it is given to. The migrators use this style.
	RoleAlways
)

// FormatFor renders e for use in direction d, with e's effective role
// (EffectiveRole) written according to style. Legacy endpoints are rendered
// as "tcp://H:P" whatever the style, since that syntax has no roles; call
// Migrate first to get v0.11 text.
func FormatFor(e Endpoint, d Direction, style RoleStyle) string {
	if e.IsLegacy() {
		return e.URL()
	}
	r := e.EffectiveRole(d)
	if style == RoleOmitDefault && r == d.DefaultRole() {
		return e.URL()
	}
	return "role=" + string(r) + "," + e.URL()
}
