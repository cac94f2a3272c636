package ssh

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The ssh_config(5) files read when Config.ConfigFile and
// $ROKFLOW_SSH_CONFIG are unset: the user's, then the system's, as ssh(1).
const (
	userConfigFile   = "~/.ssh/config"
	systemConfigFile = "/etc/ssh/ssh_config"
	// ConfigFileEnv names the environment variable that replaces both
	// files, as ssh -F does; "none" reads none.
	ConfigFileEnv = "ROKFLOW_SSH_CONFIG"
)

// maxIncludeDepth is OpenSSH's READCONF_MAX_DEPTH: Includes nested deeper
// are refused, which also stops a file that includes itself.
const maxIncludeDepth = 16

// sshConfig is the parsed ssh_config(5) files of a Config, in the order
// they are read. Only what rokflow applies is kept (see hostConfig);
// other keywords are skipped, as they change nothing rokflow does.
type sshConfig struct {
	files []*configFile
	// notes are lines read but not applied (Match blocks), for Pool.Debug.
	notes []string
}

// configFile is one file, with the files its Include lines name.
type configFile struct {
	path  string
	items []configItem
}

type itemKind int

const (
	itemHost itemKind = iota + 1
	itemMatch
	itemInclude
	itemOption
)

// configItem is one line of a file that rokflow acts on.
type configItem struct {
	kind itemKind
	pos  string // FILE:LINE, for messages

	patterns []string // Host: as written, "!" kept
	matchAll bool     // Match all, the one Match that is applied

	include []*configFile // Include: the files it named, in glob order

	key  string   // Option: the keyword in lower case
	args []string // Option: its arguments, unquoted
}

// loadSSHConfig reads the files: those named by file ("none" for none, as
// ssh -F none), or the user's and the system's when file is empty. A file
// named explicitly must exist; the default ones may be missing. Relative
// Include paths are under ~/.ssh for the user's files (and one named
// explicitly) and /etc/ssh for the system's, as ssh(1).
func loadSSHConfig(file, home string) (*sshConfig, error) {
	sc := &sshConfig{}
	type source struct {
		path     string
		base     string
		optional bool
	}
	userBase := filepath.Join(home, ".ssh")
	var sources []source
	switch file {
	case "none":
	case "":
		if home != "" {
			sources = append(sources, source{expandHome(userConfigFile, home), userBase, true})
		}
		sources = append(sources, source{systemConfigFile, filepath.Dir(systemConfigFile), true})
	default:
		sources = append(sources, source{expandHome(file, home), userBase, false})
	}
	for _, src := range sources {
		f, err := sc.parseFile(src.path, src.base, home, 0)
		if src.optional && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sc.files = append(sc.files, f)
	}
	return sc, nil
}

// parseFile reads one file. Like ssh(1) it refuses a file that someone
// other than its reader (or root) owns or may write, since the file says
// where connections go and which keys they offer.
func (sc *sshConfig) parseFile(path, base, home string, depth int) (*configFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	if err := securePermissions(path, info); err != nil {
		return nil, err
	}
	if info.Size() > 1<<20 {
		return nil, fmt.Errorf("ssh_config: %s is larger than 1 MiB", path)
	}
	data := make([]byte, info.Size())
	if _, err := fh.ReadAt(data, 0); err != nil && info.Size() > 0 {
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	f := &configFile{path: path}
	inMatch := false
	for i, line := range strings.Split(string(data), "\n") {
		pos := path + ":" + strconv.Itoa(i+1)
		key, args, err := splitConfigLine(line)
		if err != nil {
			return nil, fmt.Errorf("ssh_config %s: %v", pos, err)
		}
		if key == "" {
			continue
		}
		it := configItem{pos: pos, key: key, args: args}
		switch key {
		case "host":
			if len(args) == 0 {
				return nil, fmt.Errorf("ssh_config %s: Host needs at least one pattern", pos)
			}
			it.kind, it.patterns, inMatch = itemHost, args, false
		case "match":
			it.kind = itemMatch
			it.matchAll = len(args) == 1 && strings.EqualFold(args[0], "all")
			inMatch = !it.matchAll
			if inMatch {
				sc.notes = append(sc.notes, fmt.Sprintf("%s: Match %s: rokflow does not evaluate Match conditions; the lines up to the next Host or Match are not applied", pos, strings.Join(args, " ")))
			}
		case "include":
			if len(args) == 0 {
				return nil, fmt.Errorf("ssh_config %s: Include needs a file name", pos)
			}
			if depth+1 > maxIncludeDepth {
				return nil, fmt.Errorf("ssh_config %s: Include nested more than %d deep (does a file include itself?)", pos, maxIncludeDepth)
			}
			it.kind = itemInclude
			for _, pat := range args {
				pat = expandHome(pat, home)
				if !filepath.IsAbs(pat) {
					pat = filepath.Join(base, pat)
				}
				names, err := filepath.Glob(pat)
				if err != nil {
					return nil, fmt.Errorf("ssh_config %s: Include %q: %v", pos, pat, err)
				}
				for _, name := range names {
					if st, err := os.Stat(name); err == nil && st.IsDir() {
						continue
					}
					inc, err := sc.parseFile(name, base, home, depth+1)
					if err != nil {
						return nil, err
					}
					it.include = append(it.include, inc)
				}
			}
		default:
			if err := checkOption(key, args); err != nil {
				return nil, fmt.Errorf("ssh_config %s: %v", pos, err)
			}
			if _, ok := appliedKeywords[key]; !ok {
				continue
			}
			it.kind = itemOption
		}
		f.items = append(f.items, it)
	}
	return f, nil
}

// appliedKeywords are the keywords rokflow applies, by their lower-case
// name, with the name ssh_config(5) gives them.
var appliedKeywords = map[string]string{
	"hostname":           "HostName",
	"user":               "User",
	"port":               "Port",
	"identityfile":       "IdentityFile",
	"userknownhostsfile": "UserKnownHostsFile",
	"proxyjump":          "ProxyJump",
	"proxycommand":       "ProxyCommand",
}

// checkOption checks the arguments of a keyword rokflow applies, wherever
// it is (as ssh(1) does, even in a block that does not apply).
func checkOption(key string, args []string) error {
	name, ok := appliedKeywords[key]
	if !ok {
		return nil
	}
	if len(args) == 0 {
		return fmt.Errorf("%s needs a value", name)
	}
	switch key {
	case "hostname", "user", "port", "identityfile", "proxyjump":
		if len(args) > 1 {
			return fmt.Errorf("%s takes one value, not %d", name, len(args))
		}
	}
	switch key {
	case "port":
		if _, err := parsePort(args[0]); err != nil {
			return fmt.Errorf("Port %q: %v", args[0], err)
		}
	case "proxyjump":
		if isNone(args[0]) {
			break
		}
		if _, err := parseJumps(args[0]); err != nil {
			return fmt.Errorf("ProxyJump %q: %v", args[0], err)
		}
	}
	return nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("not a port number from 1 to 65535")
	}
	return n, nil
}

// splitConfigLine splits a line into its keyword (in lower case) and
// arguments, as ssh(1): the keyword ends at white space or "=", arguments
// are separated by white space and may be quoted with " or ', a backslash
// escapes a quote, a backslash or a space, and a word starting with #
// starts a comment. An empty or comment line gives an empty keyword.
func splitConfigLine(line string) (string, []string, error) {
	line = strings.TrimRight(line, "\r")
	line = strings.TrimLeft(line, " \t")
	if line == "" || line[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		end = len(line)
	}
	key := strings.ToLower(line[:end])
	rest := strings.TrimLeft(line[end:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	var args []string
	for i := 0; i < len(rest); {
		c := rest[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '#' {
			break
		}
		var word strings.Builder
		var quote byte
		for ; i < len(rest); i++ {
			c := rest[i]
			if quote == 0 && (c == ' ' || c == '\t') {
				break
			}
			switch {
			case c == '\\' && i+1 < len(rest) && strings.IndexByte(`\"' `, rest[i+1]) >= 0:
				i++
				word.WriteByte(rest[i])
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				word.WriteByte(c)
			}
		}
		if quote != 0 {
			return "", nil, errors.New("unterminated quote")
		}
		args = append(args, word.String())
	}
	return key, args, nil
}

// securePermissions refuses, as ssh(1) does, a configuration file owned by
// another user than the one running rokflow (root aside) or writable by
// its group or others.
func securePermissions(path string, info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if (st.Uid != 0 && int(st.Uid) != os.Getuid()) || info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("ssh_config: bad owner or permissions on %s: it must be owned by you or root and writable by no one else (chmod go-w %s)", path, path)
	}
	return nil
}
