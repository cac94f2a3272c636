package openstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rokflow/rokflow/internal/posixsh"
	"github.com/rokflow/rokflow/sim/shellwords"
)

// This file holds what RewriteEnv and RewriteUnit share: reading shell
// words with package shellwords (the repository's one POSIX word reader),
// deciding what a variable's value holds, and changing a few bytes of one
// word while keeping the quoting it was written with.

// textEdit replaces the bytes from..to of a text with s.
type textEdit struct {
	from, to int
	s        string
}

// applyText applies edits (not overlapping) to text.
func applyText(text string, edits []textEdit) string {
	sorted := slices.Clone(edits)
	slices.SortFunc(sorted, func(a, b textEdit) int { return b.from - a.from })
	for _, e := range sorted {
		text = text[:e.from] + e.s + text[e.to:]
	}
	return text
}

// narrow shrinks e to the bytes that really change in text, so that an
// edit touches as little of the written word as possible ("tcp://h:1" ->
// "role=slave,http://h:1" only replaces "tc").
func narrow(text string, e textEdit) textEdit {
	old := text[e.from:e.to]
	p := 0
	for p < len(old) && p < len(e.s) && old[p] == e.s[p] {
		p++
	}
	q := 0
	for q < len(old)-p && q < len(e.s)-p && old[len(old)-1-q] == e.s[len(e.s)-1-q] {
		q++
	}
	return textEdit{e.from + p, e.to - q, e.s[p : len(e.s)-q]}
}

// rewriteWord returns how word w of line (read with o) is written once
// edits are applied to its text. It changes the edited bytes in place when
// each falls inside one part written as is (so `--bind-http="tcp://h:1"`
// keeps its quotes around the new value); otherwise it writes the whole
// word again in the quotes it started with, or unquoted, or in single
// quotes. Every candidate is read back with o and must give the wanted
// text. ok is false when none does (a word with expansions that must
// change around them).
func rewriteWord(line string, w shellwords.Word, edits []textEdit, o shellwords.Options) (string, bool) {
	raw := line[w.Start:w.End]
	want := applyText(w.Text, edits)
	rereads := func(s string) bool {
		words, err := shellwords.Scan(s, o)
		return err == nil && len(words) == 1 && words[0].Start == 0 && words[0].End == len(s) && words[0].Text == want
	}
	if s, ok := inPlace(raw, w, edits); ok && rereads(s) {
		return s, true
	}
	if w.Expands {
		return "", false
	}
	var candidates []string
	switch raw[0] {
	case '"':
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`")
		candidates = append(candidates, `"`+r.Replace(want)+`"`)
	case '\'':
		candidates = append(candidates, `'`+want+`'`)
	}
	candidates = append(candidates, want, posixsh.Quote(want))
	for _, s := range candidates {
		if rereads(s) {
			return s, true
		}
	}
	return "", false
}

// inPlace applies edits to the written word raw (w as read), each inside
// the part that holds its bytes.
func inPlace(raw string, w shellwords.Word, edits []textEdit) (string, bool) {
	type rawEdit struct {
		from, to int
		s        string
	}
	var out []rawEdit
	for _, e := range edits {
		e = narrow(w.Text, e)
		found := false
		off := 0
		var re rawEdit
		for _, p := range w.Parts {
			end := off + len(p.Text)
			// An insertion between two parts goes into the later one, so
			// text added before a quoted value lands inside its quotes.
			if p.Literal() && off <= e.from && e.to <= end {
				start := p.Start - w.Start
				re = rawEdit{start + e.from - off, start + e.to - off, e.s}
				found = true
			}
			off = end
		}
		if !found {
			return "", false
		}
		out = append(out, re)
	}
	slices.SortFunc(out, func(a, b rawEdit) int { return b.from - a.from })
	for _, e := range out {
		raw = raw[:e.from] + e.s + raw[e.to:]
	}
	return raw, true
}

// field is one word of a value split as a shell splits an unquoted
// expansion (and systemd an unbraced $VAR): at blanks and newlines.
type field struct {
	text  string
	start int
}

func fields(text string) []field {
	var out []field
	start := -1
	for i := 0; i <= len(text); i++ {
		if i == len(text) || text[i] == ' ' || text[i] == '\t' || text[i] == '\n' {
			if start >= 0 {
				out = append(out, field{text[start:i], start})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// legacyMention names what in s makes it an OpenStore endpoint matter: a
// tcp:// URL or a pre-0.11 option's flag ("--bind-http"); "" when neither.
// It only decides whether text that cannot be read, or is not where
// endpoints are expected, must be refused; what is rewritten is decided by
// the rewriters.
func legacyMention(s string) string {
	if hasLegacyScheme(s) {
		return "tcp://"
	}
	for _, r := range configRules {
		if r.Renamed() && strings.Contains(s, "--"+r.Key) {
			return "--" + r.Key
		}
	}
	return ""
}

// rewriteVarValue migrates the value (quotes removed) of variable name:
//   - a value that is one endpoint gets the http:// scheme and no role, as
//     in RewriteEnv (OPENSTORE_CONTROLLER=tcp://H:P -> http://H:P);
//   - a value that holds daemon options ("--bind-http tcp://H:P -C …",
//     read as the daemon gets it, split at blanks) goes through
//     rewriteArgs, when it mentions tcp:// or a pre-0.11 option; the
//     changes name the variable in In and the option's position in Arg.
//
// The edits are in the value's text.
func rewriteVarValue(name, text string) ([]textEdit, []Change, error) {
	fs := fields(text)
	if len(fs) == 1 && !strings.HasPrefix(fs[0].text, "-") {
		f := fs[0]
		e, err := Parse(f.text)
		switch {
		case err != nil && hasLegacyScheme(text):
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		case err != nil || !e.IsLegacy():
			return nil, nil, nil
		}
		n := Format(e.Migrate())
		return []textEdit{{f.start, f.start + len(f.text), n}},
			[]Change{{Key: name, NewKey: name, Old: f.text, New: n}}, nil
	}
	if len(fs) == 0 || legacyMention(text) == "" {
		return nil, nil, nil
	}
	args := make([]string, len(fs))
	for i, f := range fs {
		args[i] = f.text
	}
	_, changes, wedits, err := rewriteArgs(args)
	if err != nil {
		return nil, nil, argErrorsIn(err, name, nil)
	}
	edits := make([]textEdit, len(wedits))
	for i, we := range wedits {
		at := fs[we.word].start
		edits[i] = textEdit{at + we.from, at + we.to, we.s}
	}
	for i := range changes {
		changes[i].In = name
	}
	return edits, changes, nil
}

// argErrorsIn rewrites the *ArgError refusals joined in err to name where
// the arguments are ("ExecStart argument 3: …"); hint, when set, adds to a
// refusal of argument n (1-based) why it could not be read.
func argErrorsIn(err error, where string, hint func(n int) string) error {
	list := splitErrors(err)
	out := make([]error, len(list))
	for i, e := range list {
		var ae *ArgError
		if !errors.As(e, &ae) {
			out[i] = fmt.Errorf("%s: %w", where, e)
			continue
		}
		msg := ae.Err.Error()
		if hint != nil {
			if h := hint(ae.Arg); h != "" {
				msg += " (" + h + ")"
			}
		}
		out[i] = fmt.Errorf("%s argument %d: %s", where, ae.Arg, msg)
	}
	return errors.Join(out...)
}

// splitErrors returns the errors joined in err (errors.Join), or err.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lineErrors ties every refusal joined in err to line.
func lineErrors(line int, err error) []error {
	list := splitErrors(err)
	out := make([]error, len(list))
	for i, e := range list {
		out[i] = &LineError{Line: line, Err: e}
	}
	return out
}

// readError says why shellwords could not read text, without its advice
// to quote every argument (which is for command lines it runs).
func readError(err error) string {
	var re *shellwords.RefusedError
	if errors.As(err, &re) {
		return fmt.Sprintf("%s at byte %d", re.Reason, re.Offset)
	}
	return err.Error()
}
