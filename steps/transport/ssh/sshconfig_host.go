package ssh

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// hostConfig is what the ssh_config files say about one host name: the
// first value obtained for each keyword, as ssh(1), except IdentityFile,
// whose every value is kept, in order.
type hostConfig struct {
	hostName   string
	user       string
	port       int
	identity   []string // as written: ~, tokens and ${VAR} not expanded
	knownHosts []string // the first UserKnownHostsFile, as written
	// proxy is the first of ProxyJump and ProxyCommand (each stops the
	// other, as in ssh(1)): its keyword in lower case and value.
	proxyKey, proxy string
	// pos says where each value came from, by keyword, for messages.
	pos map[string]string
}

// lookup evaluates the files for the host name given (the name a step
// targets, not a HostName): Host lines whose patterns match it, and what
// precedes the first Host, apply.
func (sc *sshConfig) lookup(name string) *hostConfig {
	hc := &hostConfig{pos: map[string]string{}}
	if sc == nil {
		return hc
	}
	name = strings.ToLower(name)
	for _, f := range sc.files {
		hc.walk(f, name, true, false)
	}
	return hc
}

// walk applies the lines of f. active says whether the block being read
// applies; never, that f was included from a block that does not, so none
// of its own Host lines can apply either (as ssh(1)). An included file's
// Host lines do not change the including file's block.
func (hc *hostConfig) walk(f *configFile, name string, active, never bool) {
	for _, it := range f.items {
		switch it.kind {
		case itemHost:
			active = !never && hostMatches(name, it.patterns)
		case itemMatch:
			active = !never && it.matchAll
		case itemInclude:
			for _, inc := range it.include {
				hc.walk(inc, name, active, never || !active)
			}
		case itemOption:
			if active {
				hc.set(it)
			}
		}
	}
}

func (hc *hostConfig) set(it configItem) {
	switch it.key {
	case "identityfile":
		hc.identity = append(hc.identity, it.args[0])
		if _, ok := hc.pos[it.key]; !ok {
			hc.pos[it.key] = it.pos
		}
		return
	case "proxyjump", "proxycommand":
		if hc.proxyKey != "" {
			return
		}
		hc.proxyKey, hc.proxy = it.key, strings.Join(it.args, " ")
		hc.pos[it.key] = it.pos
		return
	}
	if _, ok := hc.pos[it.key]; ok {
		return
	}
	hc.pos[it.key] = it.pos
	switch it.key {
	case "hostname":
		hc.hostName = it.args[0]
	case "user":
		hc.user = it.args[0]
	case "port":
		hc.port, _ = parsePort(it.args[0]) // checked when parsed
	case "userknownhostsfile":
		hc.knownHosts = it.args
	}
}

// hostMatches reports whether name matches a Host line: one of its
// patterns matches and none of its negated ("!") ones does. Patterns have
// the wildcards * and ?, and are compared without regard to case.
func hostMatches(name string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if wildcardMatch(strings.ToLower(p), name) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

// wildcardMatch matches s against pattern, where * is any run of
// characters and ? any one (byte, as ssh(1)).
func wildcardMatch(pattern, s string) bool {
	// Backtracking over the last star only: linear for any pattern.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// tokens are the values of ssh_config(5)'s % tokens for one connection.
type tokens struct {
	home       string // %d
	host       string // %h: the host name connected to
	original   string // %n: the name the step targets
	port       string // %p
	remoteUser string // %r
	localUser  string // %u
}

// expandPath expands a file name from ssh_config as ssh(1) does: a leading
// ~/, % tokens and ${VAR} environment variables (the home directory itself
// is not expanded further). what names the keyword and where it came
// from, for errors.
func (t tokens) expandPath(s, what string) (string, error) {
	var b strings.Builder
	rest := s
	if t.home != "" && (s == "~" || strings.HasPrefix(s, "~/")) {
		b.WriteString(t.home)
		rest = s[1:]
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '%':
			if i+1 == len(rest) {
				return "", fmt.Errorf("%s: %q ends with a lone %%", what, s)
			}
			i++
			v, err := t.token(rest[i])
			if err != nil {
				return "", fmt.Errorf("%s: %q: %v", what, s, err)
			}
			b.WriteString(v)
		case c == '$' && i+1 < len(rest) && rest[i+1] == '{':
			end := strings.IndexByte(rest[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%s: %q: ${ without }", what, s)
			}
			name := rest[i+2 : i+end]
			v, ok := os.LookupEnv(name)
			if !ok || name == "" {
				return "", fmt.Errorf("%s: %q: environment variable %q is not set", what, s, name)
			}
			b.WriteString(v)
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func (t tokens) token(c byte) (string, error) {
	switch c {
	case '%':
		return "%", nil
	case 'd':
		return t.home, nil
	case 'h':
		return t.host, nil
	case 'n':
		return t.original, nil
	case 'p':
		return t.port, nil
	case 'r':
		return t.remoteUser, nil
	case 'u':
		return t.localUser, nil
	case 'i':
		return strconv.Itoa(os.Getuid()), nil
	case 'l', 'L':
		h, err := os.Hostname()
		if err != nil {
			return "", err
		}
		if c == 'L' {
			h, _, _ = strings.Cut(h, ".")
		}
		return h, nil
	}
	return "", fmt.Errorf("rokflow does not know the token %%%c (it knows %%%%, %%d, %%h, %%i, %%l, %%L, %%n, %%p, %%r and %%u)", c)
}

// expandHostName expands HostName's tokens: %h is the name given, %% a %.
func expandHostName(s, name, what string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch {
		case i < len(s) && s[i] == 'h':
			b.WriteString(name)
		case i < len(s) && s[i] == '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("%s: HostName %q: only %%h and %%%% may be used", what, s)
		}
	}
	return b.String(), nil
}
