package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// maxJumps bounds a chain of jump hosts, those a first hop's own ssh_config
// ProxyJump adds included: a longer chain is most likely a loop.
const maxJumps = 10

// jumpSpec is one hop of a ProxyJump: [user@]host[:port] or
// ssh://[user@]host[:port]. Empty user and zero port are left to
// ssh_config and the defaults.
type jumpSpec struct {
	user, host string
	port       int
}

func (j jumpSpec) String() string {
	s := j.host
	if strings.Contains(s, ":") {
		s = "[" + s + "]"
	}
	if j.user != "" {
		s = j.user + "@" + s
	}
	if j.port != 0 {
		s += ":" + strconv.Itoa(j.port)
	}
	return s
}

// isNone reports whether a ProxyJump or ProxyCommand value is "none".
func isNone(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "none") }

// CheckProxyJump reports what is wrong with a ProxyJump value (Config's,
// or a connection's proxy_jump), or nil when it can be used.
func CheckProxyJump(v string) error {
	if isNone(v) {
		return nil
	}
	_, err := parseJumps(v)
	return err
}

// parseJumps parses a ProxyJump value other than "none": hops separated by
// commas, the first dialled first.
func parseJumps(v string) ([]jumpSpec, error) {
	if isNone(v) {
		return nil, errors.New(`"none" cannot be one hop of several`)
	}
	var hops []jumpSpec
	for part := range strings.SplitSeq(v, ",") {
		j, err := parseJump(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		hops = append(hops, j)
	}
	if len(hops) > maxJumps {
		return nil, fmt.Errorf("more than %d jump hosts", maxJumps)
	}
	return hops, nil
}

func parseJump(s string) (jumpSpec, error) {
	bad := func(why string) (jumpSpec, error) {
		return jumpSpec{}, fmt.Errorf("jump host %q: %s (write [user@]host[:port] or ssh://[user@]host[:port])", s, why)
	}
	if s == "" {
		return jumpSpec{}, errors.New("a jump host is empty (two commas in a row, or one at an end)")
	}
	if rest, ok := strings.CutPrefix(s, "ssh://"); ok {
		if strings.ContainsAny(rest, "/?#;") {
			return bad("an ssh:// address has no path or parameters")
		}
		s = rest
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' || r == '\\' || r == ',' }) {
		return bad("it has a space, a control character, a slash or a comma")
	}
	var j jumpSpec
	hostPort := s
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		j.user, hostPort = s[:at], s[at+1:]
		if j.user == "" {
			return bad("empty user name before @")
		}
	}
	port := ""
	switch {
	case strings.HasPrefix(hostPort, "["):
		end := strings.IndexByte(hostPort, ']')
		if end < 0 {
			return bad("[ without ]")
		}
		j.host = hostPort[1:end]
		rest := hostPort[end+1:]
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return bad("text after ]")
			}
			port = p
		}
	case strings.Count(hostPort, ":") == 1:
		j.host, port, _ = strings.Cut(hostPort, ":")
	default:
		j.host = hostPort // a name, or a bare IPv6 address
	}
	if j.host == "" || strings.HasPrefix(j.host, "-") {
		return bad("no host name")
	}
	if port != "" {
		n, err := parsePort(port)
		if err != nil {
			return bad("port " + strconv.Quote(port) + " is " + err.Error())
		}
		j.port = n
	}
	return j, nil
}

// jumpChain resolves the hops of a ProxyJump into the settings of each
// connection to make, in order. As with ssh -J, the first hop is reached
// the way ssh_config says for it, its own ProxyJump included; later hops
// are reached through the ones before them, whatever ssh_config says of
// their ProxyJump.
func jumpChain(hops []jumpSpec, cfg Config, sc *sshConfig, home, target string, depth int) ([]*settings, error) {
	if depth > maxJumps {
		return nil, fmt.Errorf("ssh: %s: the ProxyJump of jump host %s leads through more than %d hosts: is there a loop in ssh_config?", target, hops[0], maxJumps)
	}
	var chain []*settings
	for i, j := range hops {
		hc := sc.lookup(j.host)
		if i == 0 && hc.proxyKey != "" && !isNone(hc.proxy) {
			if hc.proxyKey == "proxycommand" {
				return nil, proxyCommandError("jump host "+j.String()+" for "+target, hc)
			}
			sub, err := parseJumps(hc.proxy)
			if err != nil {
				return nil, fmt.Errorf("ssh: %s: ssh_config %s: ProxyJump: %v", target, hc.pos["proxyjump"], err)
			}
			before, err := jumpChain(sub, cfg, sc, home, target, depth+1)
			if err != nil {
				return nil, err
			}
			chain = append(chain, before...)
		}
		hop, err := jumpSettings(j, hc, cfg, home, target)
		if err != nil {
			return nil, err
		}
		chain = append(chain, hop)
	}
	if len(chain) > maxJumps {
		return nil, fmt.Errorf("ssh: %s: more than %d jump hosts: is there a loop in ssh_config's ProxyJump?", target, maxJumps)
	}
	return chain, nil
}

// jumpSettings are the settings of the connection to one jump host. The
// hop's own user and port come first, then ssh_config's for its name. Its
// host key is always checked, against the connection's known_hosts files
// (InsecureIgnoreHostKey is for the targets only); it logs in with the
// identity files ssh_config gives it, else the connection's, else the
// default keys, and the agent, never with the connection's password,
// which is the targets'.
func jumpSettings(j jumpSpec, hc *hostConfig, cfg Config, home, target string) (*settings, error) {
	s := newSettings("jump host "+j.String()+" for "+target, cfg)
	s.password, s.insecure, s.sudo = "", false, false
	port := j.port
	if port == 0 {
		port = orDefault(hc.port, defaultPort)
	}
	host := j.host
	if hc.hostName != "" {
		var err error
		if host, err = expandHostName(hc.hostName, j.host, "ssh_config "+hc.pos["hostname"]); err != nil {
			return nil, fmt.Errorf("ssh: %s: %v", s.target, err)
		}
	}
	s.user = j.user
	if err := s.fill(endpoint{name: j.host, host: host, port: strconv.Itoa(port)}, hc, nil, cfg.IdentityFiles, cfg, home); err != nil {
		return nil, err
	}
	s.agentReq = cfg.UseAgent
	s.agent = cfg.UseAgent || os.Getenv("SSH_AUTH_SOCK") != ""
	return s, nil
}

func proxyCommandError(who string, hc *hostConfig) error {
	return fmt.Errorf("ssh: %s: ssh_config %s sets ProxyCommand, which rokflow does not run (it would start a local command for every connection); "+
		"use ProxyJump in ssh_config or proxy_jump on the connection, or ProxyCommand none for this host", who, hc.pos["proxycommand"])
}

// via describes the jump hosts of s for messages: "" when there are none.
func (s *settings) via() string {
	if len(s.jumps) == 0 {
		return ""
	}
	var names []string
	for _, j := range s.jumps {
		names = append(names, j.user+"@"+j.addr)
	}
	return " through " + strings.Join(names, ", ")
}

// hostOnly is a target's host name without a port or brackets: the name
// ssh_config's Host patterns are matched against.
func hostOnly(target string) string {
	if h, _, err := net.SplitHostPort(target); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(target, "["), "]")
}
