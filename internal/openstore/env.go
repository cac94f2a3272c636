package openstore

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// envAssign matches the start of "[export ]NAME=" (after optional blanks).
var envAssign = regexp.MustCompile(`^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=`)

// RewriteEnv migrates shell/environment files (/etc/default/*, systemd
// EnvironmentFile=, profile snippets) to v0.11 endpoints: every assignment
// whose whole value is a legacy endpoint gets the http:// scheme, e.g.
//
//	OPENSTORE_CONTROLLER=tcp://10.0.0.11:8080       ->  OPENSTORE_CONTROLLER=http://10.0.0.11:8080
//	export OPENSTORE_CONTROLLER="tcp://[::1]:8080"  ->  export OPENSTORE_CONTROLLER="http://[::1]:8080"
//
// No role is added: the v0.11 note only asks for the scheme change in
// environment variables, and what role a variable implies is up to the
// program reading it. Any variable name is accepted, as the note's
// `sed 's/tcp:/http:/g'` does. Values may be unquoted, "double-quoted" or
// 'single-quoted' (quotes are kept) and may be followed by blanks and a
// "# comment". Comment lines, blank lines, other assignments and all other
// bytes are kept as they are; the result is idempotent.
//
// RewriteEnv refuses (returns "", nil and the errors joined, each a
// *LineError) any non-comment line that mentions tcp:// outside a trailing
// comment but is not such a simple assignment: a tcp:// value with a role or
// a path, several words, an embedded endpoint ("--opt=tcp://…"), shell
// expansions or escapes, unterminated quotes, or a command line. Those need
// a human (or RewriteArgs).
func RewriteEnv(text string) (string, []Change, error) {
	var (
		b       strings.Builder
		changes []Change
		errs    []error
	)
	for i, full := range splitLines(text) {
		num := i + 1
		line := strings.TrimSuffix(full, "\n")
		eol := full[len(line):]
		newLine, ch, err := rewriteEnvLine(line)
		if err != nil {
			errs = append(errs, &LineError{Line: num, Err: err})
			continue
		}
		if ch != nil {
			ch.Line = num
			changes = append(changes, *ch)
		}
		b.WriteString(newLine)
		b.WriteString(eol)
	}
	if len(errs) > 0 {
		return "", nil, errors.Join(errs...)
	}
	return b.String(), changes, nil
}

func rewriteEnvLine(line string) (string, *Change, error) {
	trimmed := strings.TrimLeft(line, " \t")
	if trimmed == "" || trimmed[0] == '#' {
		return line, nil, nil
	}
	m := envAssign.FindStringSubmatchIndex(line)
	if m == nil {
		if hasLegacyScheme(line) {
			return "", nil, fmt.Errorf("mentions tcp:// but is not a NAME=value assignment; migrate it by hand")
		}
		return line, nil, nil
	}
	name := line[m[2]:m[3]]
	prefix, rest := line[:m[1]], line[m[1]:]

	quote, inner, after, ok := splitShellWord(rest)
	if !ok {
		if hasLegacyScheme(rest) {
			return "", nil, fmt.Errorf("%s: value mentions tcp:// but is not a single plain word (quotes, expansions or escapes); migrate it by hand", name)
		}
		return line, nil, nil
	}
	e, err := Parse(inner)
	if err != nil {
		if hasLegacyScheme(inner) {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
		return line, nil, nil // not an endpoint; not ours
	}
	if !e.IsLegacy() {
		return line, nil, nil
	}
	newInner := Format(e.Migrate())
	ch := &Change{Key: name, NewKey: name, Old: inner, New: newInner}
	return prefix + quote + newInner + quote + after, ch, nil
}

// splitShellWord splits the value part of an assignment into its quote
// character ("", `"` or `'`), the unquoted text and what follows, which must
// be empty or blanks optionally followed by a # comment (kept verbatim,
// including any trailing "\r"). ok is false for anything more complex.
func splitShellWord(rest string) (quote, inner, after string, ok bool) {
	switch {
	case rest == "":
		return "", "", "", true
	case rest[0] == '"' || rest[0] == '\'':
		quote = rest[:1]
		end := strings.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return "", "", "", false
		}
		inner, after = rest[1:1+end], rest[2+end:]
		if quote == `"` && strings.ContainsAny(inner, "$`\\") {
			return "", "", "", false
		}
	default:
		end := strings.IndexAny(rest, " \t\r")
		if end < 0 {
			end = len(rest)
		}
		inner, after = rest[:end], rest[end:]
		if strings.ContainsAny(inner, "$`\\\"';&|<>()") {
			return "", "", "", false
		}
	}
	tail := strings.TrimLeft(after, " \t\r")
	switch {
	case tail == "":
	case tail[0] == '#' && len(tail) < len(after):
	default:
		return "", "", "", false
	}
	return quote, inner, after, true
}
