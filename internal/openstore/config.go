package openstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// lineKind classifies a daemons.conf line the way Python's configparser
// (default settings) reads it.
type lineKind int

const (
	lineBlank lineKind = iota
	lineComment
	lineSection
	lineOption
	lineContinuation
	lineOther // not valid INI; kept as is unless it mentions tcp://
)

// iniLine is one line of the input, split so that it can be rebuilt byte for
// byte with a different key or value.
type iniLine struct {
	num     int      // 1-based
	kind    lineKind // classification
	section string   // section the line is in
	eol     string   // "\n" or "" (last line without newline)

	// For lineOption: content == indent + key + mid + value + trail.
	indent, key, mid, value, trail string
	raw                            string // whole line without eol

	owner int // for lineContinuation: index of the option line it continues
}

// splitLines splits text into lines keeping a trailing empty piece out.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func parseINI(text string) []iniLine {
	var out []iniLine
	section := ""
	optIdx := -1   // index in out of the current option, -1 when none
	optIndent := 0 // indentation width of that option line
	for i, full := range splitLines(text) {
		l := iniLine{num: i + 1, section: section, owner: -1}
		l.raw = strings.TrimSuffix(full, "\n")
		l.eol = full[len(l.raw):]
		body := strings.TrimRight(l.raw, " \t\r")
		l.trail = l.raw[len(body):]
		trimmed := strings.TrimLeft(body, " \t")
		l.indent = body[:len(body)-len(trimmed)]

		switch {
		case trimmed == "":
			l.kind = lineBlank
		case trimmed[0] == '#' || trimmed[0] == ';':
			l.kind = lineComment
		case optIdx >= 0 && len(l.indent) > optIndent:
			l.kind = lineContinuation
			l.owner = optIdx
		case trimmed[0] == '[' && strings.LastIndexByte(trimmed, ']') > 0:
			l.kind = lineSection
			section = trimmed[1:strings.LastIndexByte(trimmed, ']')]
			l.section = section
			optIdx = -1
		default:
			sep := strings.IndexAny(trimmed, "=:")
			key := ""
			if sep > 0 {
				key = strings.TrimRight(trimmed[:sep], " \t")
			}
			if key == "" {
				l.kind = lineOther
				optIdx = -1
				break
			}
			after := trimmed[sep+1:]
			value := strings.TrimLeft(after, " \t")
			l.kind = lineOption
			l.key = key
			l.mid = trimmed[len(key) : sep+1+len(after)-len(value)]
			l.value = value
			optIdx = len(out)
			optIndent = len(l.indent)
		}
		out = append(out, l)
	}
	return out
}

// RewriteConfig migrates the text of /etc/rok/daemons.conf to v0.11
// endpoints, following ConfigRules (see there for the key mapping), e.g.
//
//	openstore-controller = tcp://10.0.0.11:8080      ->  connect = role=slave,http://10.0.0.11:8080
//	openstore-master-connect = tcp://10.0.0.12:9090  ->  connect = role=master,http://10.0.0.12:9090
//	listen = tcp://10.0.0.11:8080                    ->  listen = role=master,http://10.0.0.11:8080
//	bind-http = tcp://10.0.0.12:9090                 ->  controller-listen = role=slave,http://10.0.0.12:9090
//
// Only the key and value of migrated options change; indentation, the
// separator and the spaces around it, trailing blanks, line endings (LF or
// CRLF), comments, blank lines, section order and every other line are kept
// byte for byte. The result is idempotent: migrated text yields itself and no
// changes.
//
// The file is read as Python's configparser does with its defaults:
// "key = value" or "key: value", full-line comments starting with '#' or
// ';', no inline comments, keys case-insensitive, and lines indented deeper
// than an option continue its value.
//
// RewriteConfig refuses (returns "", nil and the errors joined, each a
// *LineError naming its line) when it cannot migrate safely:
//   - the value of an endpoint option is not a valid endpoint (garbage, a
//     tcp:// value with a role, several URLs, an inline comment, …);
//   - a pre-0.11 option (openstore-controller, openstore-master-connect,
//     bind-http) carries a role;
//   - an endpoint option continues on further lines;
//   - a section would end up with two options of the same name, at least
//     one of them being migrated (e.g. bind-http and controller-listen, or
//     openstore-controller and connect, or two openstore-controller lines);
//   - any other non-comment line mentions tcp:// (an unknown option, a
//     continuation line, or text that is not INI): it may be an OpenStore
//     endpoint this function does not know how to migrate.
//
// Sections are compared by name, so a section split over two headers is
// checked as one. [DEFAULT] gets no special treatment.
func RewriteConfig(text string) (string, []Change, error) {
	lines := parseINI(text)
	var errs []error
	refuse := func(line int, format string, args ...any) {
		errs = append(errs, &LineError{Line: line, Err: fmt.Errorf(format, args...)})
	}

	type planned struct {
		rule    ConfigRule
		newKey  string
		value   string
		changed bool
	}
	plans := make(map[int]planned)
	type target struct{ section, key string }
	byTarget := make(map[target][]int)
	var order []target

	for i, l := range lines {
		switch l.kind {
		case lineOption:
			rule, known := lookupRule(l.key, true)
			if !known {
				switch {
				case hasLegacyScheme(l.value):
					errs = append(errs, &LineError{Line: l.num, Err: errUnknownLegacy(l.key)})
				case hasLegacyScheme(l.raw): // e.g. a bare "tcp://h:1" read as key "tcp"
					refuse(l.num, "line mentions tcp:// but is not a key = value option; migrate it by hand")
				}
				continue
			}
			value, changed, err := migrateValue(rule, l.key, l.value)
			if err != nil {
				refuse(l.num, "[%s] %v", l.section, err)
				continue
			}
			newKey := l.key
			if changed && rule.Renamed() {
				newKey = rule.NewKey
			}
			plans[i] = planned{rule: rule, newKey: newKey, value: value, changed: changed}
			t := target{l.section, rule.NewKey}
			if _, seen := byTarget[t]; !seen {
				order = append(order, t)
			}
			byTarget[t] = append(byTarget[t], i)
		case lineContinuation:
			owner := lines[l.owner]
			if _, known := lookupRule(owner.key, true); known {
				refuse(l.num, "[%s] the value of %s (line %d) continues on this line; multi-line endpoint values cannot be migrated safely", l.section, owner.key, owner.num)
			} else if hasLegacyScheme(l.raw) {
				refuse(l.num, "continuation of option %q (line %d) mentions tcp://; migrate it by hand", owner.key, owner.num)
			}
		case lineSection, lineOther:
			if hasLegacyScheme(l.raw) {
				refuse(l.num, "line mentions tcp:// but is not a key = value option; migrate it by hand")
			}
		}
	}

	for _, t := range order {
		idx := byTarget[t]
		if len(idx) < 2 {
			continue
		}
		anyChange := false
		for _, i := range idx {
			anyChange = anyChange || plans[i].changed
		}
		if !anyChange {
			continue // already v0.11; not ours to judge
		}
		first := lines[idx[0]]
		for _, i := range idx[1:] {
			l := lines[i]
			what := l.key
			if plans[i].rule.Renamed() {
				what = fmt.Sprintf("%s (which becomes %s)", l.key, t.key)
			}
			firstWhat := first.key
			if plans[idx[0]].rule.Renamed() {
				firstWhat = fmt.Sprintf("%s (which becomes %s)", first.key, t.key)
			}
			refuse(l.num, "[%s] %s conflicts with %s on line %d: both would set %s; keep only one", t.section, what, firstWhat, first.num, t.key)
		}
	}

	if len(errs) > 0 {
		sortLineErrors(errs)
		return "", nil, errors.Join(errs...)
	}

	var b strings.Builder
	b.Grow(len(text) + 32*len(plans))
	var changes []Change
	for i, l := range lines {
		p, ok := plans[i]
		if !ok || !p.changed {
			b.WriteString(l.raw)
			b.WriteString(l.eol)
			continue
		}
		b.WriteString(l.indent)
		b.WriteString(p.newKey)
		b.WriteString(l.mid)
		b.WriteString(p.value)
		b.WriteString(l.trail)
		b.WriteString(l.eol)
		changes = append(changes, Change{
			Line: l.num, Section: l.section,
			Key: l.key, NewKey: p.newKey,
			Old: l.value, New: p.value,
		})
	}
	return b.String(), changes, nil
}

// sortLineErrors orders refusals by line (stable for equal lines).
func sortLineErrors(errs []error) {
	lineOf := func(err error) int {
		var le *LineError
		if errors.As(err, &le) {
			return le.Line
		}
		return 0
	}
	slices.SortStableFunc(errs, func(a, b error) int { return lineOf(a) - lineOf(b) })
}
