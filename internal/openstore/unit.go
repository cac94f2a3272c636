package openstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rokflow/rokflow/sim/shellwords"
)

// commandDirectives are the unit file directives whose value is a command
// line.
var commandDirectives = map[string]bool{
	"ExecStart": true, "ExecStartPre": true, "ExecStartPost": true, "ExecCondition": true,
	"ExecReload": true, "ExecStop": true, "ExecStopPost": true,
}

// unitWords is how a unit file's command lines and Environment= values are
// read: glob characters are literal (systemd runs no shell) and $NAME and
// ${NAME} stay as written (systemd substitutes them from the environment).
var unitWords = shellwords.Options{Params: true, LiteralGlobs: true}

// RewriteUnit migrates a systemd unit file or drop-in
// (/etc/systemd/system/rok-external-controller.service.d/override.conf,
// /lib/systemd/system/rok-*.service) to v0.11 endpoints:
//
//   - the command line of ExecStart= (and ExecStartPre=, ExecStartPost=,
//     ExecCondition=, ExecReload=, ExecStop=, ExecStopPost=) goes through
//     RewriteArgs when it mentions tcp:// or a pre-0.11 option, e.g.
//
//     ExecStart=/usr/bin/rok-external-controller --bind-http tcp://H:9090
//     ->  ExecStart=/usr/bin/rok-external-controller --controller-listen role=slave,http://H:9090
//
//   - each NAME=VALUE of Environment= is migrated as RewriteEnv migrates an
//     assignment: a lone endpoint gets http://, a value of daemon options
//     goes through RewriteArgs.
//
// Words are read with POSIX shell quoting (package shellwords), with glob
// characters literal and $NAME / ${NAME} kept as written; lines ending in a
// backslash continue on the next line, as systemd reads them. Only the
// bytes that change are replaced, inside the quotes they were written in;
// everything else (comments, other directives, "ExecStart=" lines that
// reset the list, continuation lines, line endings) is kept byte for byte,
// and the result is idempotent. Changes carry the directive in In ("ExecStart")
// and the option's position in its command line in Arg.
//
// RewriteUnit refuses (returns "", nil and the errors joined, each a
// *LineError naming the first line of the directive) what it cannot
// migrate safely: anything RewriteArgs refuses (an option without a value,
// a malformed endpoint, tcp:// outside an endpoint option, an endpoint that
// comes from $VAR), a command line that mentions tcp:// or a pre-0.11
// option but cannot be read (unterminated quotes, $(…), ";"), a word that
// would change across a line continuation, and any other non-comment line
// that mentions tcp://.
func RewriteUnit(text string) (string, []Change, error) {
	lines := splitLines(text)
	offsets := make([]int, len(lines)+1)
	for i, l := range lines {
		offsets[i+1] = offsets[i] + len(l)
	}
	var (
		changes []Change
		errs    []error
		repl    []textEdit // in text
	)
	section := ""
	for i := 0; i < len(lines); i++ {
		num := i + 1
		content := strings.TrimRight(lines[i], "\r\n")
		trimmed := strings.TrimLeft(content, " \t")
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case trimmed[0] == '[' && strings.HasSuffix(strings.TrimRight(trimmed, " \t"), "]"):
			t := strings.TrimRight(trimmed, " \t")
			section = t[1 : len(t)-1]
			continue
		}
		// A directive, continued while its lines end in a backslash. In the
		// copy that is read, each continuation (the backslash and the line
		// break) becomes blanks, so that offsets stay those of text.
		first := i
		for strings.HasSuffix(strings.TrimRight(lines[i], "\r\n"), `\`) && i+1 < len(lines) {
			i++
		}
		start, end := offsets[first], offsets[i]+len(strings.TrimRight(lines[i], "\r\n"))
		var cont []int // offsets in text of the blanked bytes
		work := []byte(text[start:end])
		for k := first; k < i; k++ {
			c := strings.TrimRight(lines[k], "\r\n")
			for p := offsets[k] + len(c) - 1; p < offsets[k+1]; p++ {
				work[p-start] = ' '
				cont = append(cont, p)
			}
		}
		logical := string(work)
		where := ""
		if section != "" {
			where = "[" + section + "] "
		}
		eq := strings.IndexByte(logical, '=')
		key := ""
		if eq > 0 {
			key = strings.TrimSpace(logical[:eq])
		}
		what := legacyMention(logical)
		if !commandDirectives[key] && key != "Environment" {
			if what == "tcp://" {
				errs = append(errs, &LineError{Line: num, Err: fmt.Errorf("%smentions tcp:// but is not an ExecStart= (or other Exec…=) or Environment= line; migrate it by hand", where)})
			}
			continue
		}
		vstart := eq + 1
		value := logical[vstart:]
		if what == "" {
			continue
		}
		words, err := shellwords.Scan(value, unitWords)
		if err != nil {
			errs = append(errs, &LineError{Line: num, Err: fmt.Errorf("%s%s mentions %s but cannot be read safely (%s); migrate it by hand", where, key, what, readError(err))})
			continue
		}
		// edited collects each changed word's new text.
		type edited struct {
			w   shellwords.Word
			raw string
		}
		var done []edited
		var lineChanges []Change
		var lineErrs []error
		change := func(w shellwords.Word, edits []textEdit) {
			raw, ok := rewriteWord(value, w, edits, unitWords)
			if !ok {
				lineErrs = append(lineErrs, fmt.Errorf("%s%s: cannot rewrite %q keeping its quoting; migrate it by hand", where, key, w.Text))
				return
			}
			done = append(done, edited{w, raw})
		}
		if key == "Environment" {
			for _, w := range words {
				name, val, ok := strings.Cut(w.Text, "=")
				if !ok || !envAssign.MatchString(name+"=") || strings.ContainsAny(name, " \t") {
					if m := legacyMention(w.Text); m != "" {
						lineErrs = append(lineErrs, fmt.Errorf("%sEnvironment: %q mentions %s but is not a NAME=value assignment; migrate it by hand", where, w.Text, m))
					}
					continue
				}
				edits, chs, err := rewriteVarValue(name, val)
				if err != nil {
					for _, e := range splitErrors(err) {
						lineErrs = append(lineErrs, fmt.Errorf("%sEnvironment %w", where, e))
					}
					continue
				}
				if len(edits) == 0 {
					continue
				}
				for k := range edits {
					edits[k].from += len(name) + 1
					edits[k].to += len(name) + 1
				}
				for _, c := range chs {
					c.Section = section
					if c.In == "" {
						c.In = "Environment"
					}
					lineChanges = append(lineChanges, c)
				}
				change(w, edits)
			}
		} else {
			args := shellwords.Texts(words)
			_, chs, wedits, err := rewriteArgs(args)
			if err != nil {
				hint := func(n int) string {
					if n >= 1 && n <= len(words) && words[n-1].Expands {
						return "it comes from a variable, which rokflow cannot see through"
					}
					return ""
				}
				for _, e := range splitErrors(argErrorsIn(err, strings.TrimSpace(where+key), hint)) {
					lineErrs = append(lineErrs, e)
				}
			} else {
				byWord := map[int][]textEdit{}
				var order []int
				for _, we := range wedits {
					if _, seen := byWord[we.word]; !seen {
						order = append(order, we.word)
					}
					byWord[we.word] = append(byWord[we.word], we.textEdit)
				}
				for _, k := range order {
					change(words[k], byWord[k])
				}
				for _, c := range chs {
					c.Section, c.In = section, key
					lineChanges = append(lineChanges, c)
				}
			}
		}
		for _, d := range done {
			from, to := start+vstart+d.w.Start, start+vstart+d.w.End
			if slices.ContainsFunc(cont, func(p int) bool { return p >= from && p < to }) {
				lineErrs = append(lineErrs, fmt.Errorf("%s%s: %q continues over a line break; migrate it by hand", where, key, d.w.Text))
				continue
			}
			repl = append(repl, textEdit{from, to, d.raw})
		}
		if len(lineErrs) > 0 {
			for _, e := range lineErrs {
				errs = append(errs, &LineError{Line: num, Err: e})
			}
			continue
		}
		for _, c := range lineChanges {
			c.Line = num
			changes = append(changes, c)
		}
	}
	if len(errs) > 0 {
		return "", nil, errors.Join(errs...)
	}
	return applyText(text, repl), changes, nil
}
