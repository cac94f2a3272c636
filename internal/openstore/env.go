package openstore

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/rokflow/rokflow/sim/shellwords"
)

// envAssign matches the start of "[export ]NAME=" (after optional blanks).
var envAssign = regexp.MustCompile(`^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=`)

// envWords is how a value in an environment file is read: a shell
// assignment's value, so glob characters are literal, $NAME stays as
// written and a '#' starting a word begins a comment.
var envWords = shellwords.Options{Params: true, Comments: true, LiteralGlobs: true}

// RewriteEnv migrates shell/environment files (/etc/default/*, systemd
// EnvironmentFile=, profile snippets) to v0.11 endpoints. Each assignment's
// value is read as a shell reads it (package shellwords: quotes removed,
// $NAME kept) and then:
//
//   - a value that is one legacy endpoint gets the http:// scheme, e.g.
//
//     OPENSTORE_CONTROLLER=tcp://10.0.0.11:8080       ->  OPENSTORE_CONTROLLER=http://10.0.0.11:8080
//     export OPENSTORE_CONTROLLER="tcp://[::1]:8080"  ->  export OPENSTORE_CONTROLLER="http://[::1]:8080"
//
//     No role is added: the v0.11 note only asks for the scheme change in
//     environment variables, and what role a variable implies is up to the
//     program reading it. Any variable name is accepted, as the note's
//     `sed 's/tcp:/http:/g'` does.
//
//   - a value that holds daemon options and mentions tcp:// or a pre-0.11
//     option is split at blanks, as the daemon gets it from an unquoted
//     $VAR in its ExecStart=, and rewritten by RewriteArgs, e.g.
//
//     ROK_DAEMON_OPTS="--bind-http tcp://H:9090 --openstore-controller=tcp://M:8080"
//     ->  ROK_DAEMON_OPTS="--controller-listen role=slave,http://H:9090 --connect=role=slave,http://M:8080"
//
// Only the changed bytes are replaced: quotes (double, single, none, or
// mixed as in A=--bind-http="tcp://h:1"), "export", a trailing
// "# comment", comment lines, blank lines, other assignments and all other
// bytes are kept; the result is idempotent.
//
// RewriteEnv refuses (returns "", nil and the errors joined, each a
// *LineError) any non-comment line that mentions tcp:// or a pre-0.11
// option but cannot be migrated safely: a tcp:// value with a role or a
// path, an endpoint inside another word ("file=rok:tcp://…"), an option
// RewriteArgs refuses, a value of several shell words (NAME=a b runs the
// command b), shell expansions or unterminated quotes around it, or a line
// that is not an assignment (a command line). Those need a human.
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
		newLine, chs, err := rewriteEnvLine(line)
		if err != nil {
			errs = append(errs, lineErrors(num, err)...)
			continue
		}
		for _, ch := range chs {
			ch.Line = num
			changes = append(changes, ch)
		}
		b.WriteString(newLine)
		b.WriteString(eol)
	}
	if len(errs) > 0 {
		return "", nil, errors.Join(errs...)
	}
	return b.String(), changes, nil
}

func rewriteEnvLine(line string) (string, []Change, error) {
	trimmed := strings.TrimLeft(line, " \t")
	if trimmed == "" || trimmed[0] == '#' {
		return line, nil, nil
	}
	m := envAssign.FindStringSubmatchIndex(line)
	if m == nil {
		if what := legacyMention(line); what != "" {
			return "", nil, fmt.Errorf("mentions %s but is not a NAME=value assignment; migrate it by hand", what)
		}
		return line, nil, nil
	}
	name := line[m[2]:m[3]]
	prefix, rest := line[:m[1]], line[m[1]:]
	body := strings.TrimSuffix(rest, "\r")
	cr := rest[len(body):]

	words, err := shellwords.Scan(body, envWords)
	what := legacyMention(body)
	switch {
	case err != nil:
		if what != "" {
			return "", nil, fmt.Errorf("%s: the value mentions %s but cannot be read safely (%s); migrate it by hand", name, what, readError(err))
		}
		return line, nil, nil
	case len(words) == 0 || words[0].Start != 0 || len(words) > 1:
		if what != "" {
			return "", nil, fmt.Errorf("%s: the value mentions %s but is not a single shell word (NAME=a b would run b); quote it, or migrate it by hand", name, what)
		}
		return line, nil, nil
	}
	w := words[0]
	if w.Expands {
		if what := legacyMention(w.Text); what != "" {
			return "", nil, fmt.Errorf("%s: the value mentions %s but also expands a variable, which rokflow cannot see through; migrate it by hand", name, what)
		}
		return line, nil, nil
	}
	edits, changes, err := rewriteVarValue(name, w.Text)
	if err != nil || len(edits) == 0 {
		return line, nil, err
	}
	raw, ok := rewriteWord(body, w, edits, envWords)
	if !ok {
		return "", nil, fmt.Errorf("%s: cannot rewrite the value keeping its quoting; migrate it by hand", name)
	}
	return prefix + body[:w.Start] + raw + body[w.End:] + cr, changes, nil
}
