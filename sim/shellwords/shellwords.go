package shellwords

import (
	"fmt"
	"strings"

	"github.com/rokflow/rokflow/internal/posixsh"
)

// Word is one word of a command line after quote removal.
type Word struct {
	// Text is the word with its quotes removed.
	Text string
	// Quoted is true when any part of the word was quoted or escaped, so a
	// shell would not have read it as an assignment or a reserved word.
	Quoted bool
	// Start and End are the word's bytes in the line, quotes included.
	Start, End int
	// Parts say where each piece of Text was written; their texts joined
	// are Text.
	Parts []Part
	// Expands is true when the word holds a parameter expansion (only
	// with Options.Params).
	Expands bool
}

// Part is a piece of a word as it was written: a run of characters that
// stand for themselves in one quoting context (Text is line[Start:End]),
// one backslash-escaped character, or a parameter expansion.
type Part struct {
	// Text is what the part contributes to the word's text; for an
	// expansion, the expansion as written ("$NAME", "${NAME}").
	Text string
	// Start and End are the part's bytes in the line, without the quote
	// characters around it.
	Start, End int
	// Quote is the part's context: 0 (unquoted), '\'' (single quotes) or
	// '"' (double quotes) for a run written as is; '\\' for an escaped
	// character (line[Start:End] is the backslash and the character); '$'
	// for a parameter expansion.
	Quote byte
}

// Literal reports whether the part's text is written as is, so that its
// bytes may be replaced in place.
func (p Part) Literal() bool { return p.Quote == 0 || p.Quote == '\'' || p.Quote == '"' }

// Options widen what Scan accepts. The zero value reads as Split does.
type Options struct {
	// Params keeps the parameter expansions $NAME and ${NAME}, unquoted or
	// in double quotes, in their word instead of refusing them: the word
	// reports Expands and its text holds the expansion as written. Other
	// expansions ($(...), $((...)), ${NAME:-...}, $1, $$) are still
	// refused. Reading an environment file or a systemd command line
	// needs this; executing words does not.
	Params bool
	// Comments ends the line at an unquoted '#' that starts a word, as a
	// shell does, instead of refusing it. Nothing after it is read.
	Comments bool
	// LiteralGlobs reads '*', '?' and '[' as ordinary characters, as a
	// shell does in an assignment's value and systemd does everywhere,
	// instead of refusing them as pathname expansion.
	LiteralGlobs bool
}

// RefusedError says why a command line was refused and where.
type RefusedError struct {
	// Offset is the byte offset in the command line of the refused text.
	Offset int
	// Reason is a short phrase: "unquoted ';' (a command separator)".
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refusing shell syntax at offset %d: %s; quote every argument", e.Offset, e.Reason)
}

func refuse(off int, format string, args ...any) error {
	return &RefusedError{Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// reserved are the words a shell reads as keywords when they stand
// unquoted in command position.
var reserved = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true,
	"case": true, "esac": true, "while": true, "until": true, "for": true, "in": true,
	"{": true, "}": true, "!": true, "[[": true, "]]": true, "function": true, "select": true,
}

// Split returns the words of line. It fails with a *RefusedError for
// anything beyond plain words: unterminated quotes, control and
// redirection operators, unquoted newlines, parameter expansion, command
// substitution (both forms), arithmetic expansion, unquoted glob
// characters, tilde expansion, comments and reserved words.
func Split(line string) ([]Word, error) {
	return Scan(line, Options{})
}

// Scan is Split with the refusals Options lifts; every word carries where
// it was written (Start, End, Parts), so that a caller can change a word
// and keep the rest of the line, quoting included, byte for byte.
func Scan(line string, o Options) ([]Word, error) {
	cmds, err := split(line, false, o)
	if err != nil || len(cmds) == 0 {
		return nil, err
	}
	return cmds[0], nil
}

// SplitList is Split for an AND list: commands joined by unquoted "&&"
// (as in `cd 'DIR' && exec 'prog'`), each returned as its words. Every
// other operator is refused as Split refuses it, and so is an empty
// command on either side of "&&".
func SplitList(line string) ([][]Word, error) {
	return split(line, true, Options{})
}

// lexer holds the word being read.
type lexer struct {
	line    string
	cur     strings.Builder
	parts   []Part
	inWord  bool
	quoted  bool
	expands bool
	start   int
}

func (l *lexer) begin(i int) {
	if !l.inWord {
		l.inWord, l.start = true, i
	}
}

// lit adds line[i:j], written as is in context q, to the word.
func (l *lexer) lit(q byte, i, j int) {
	if i == j {
		return
	}
	l.cur.WriteString(l.line[i:j])
	if n := len(l.parts); n > 0 && l.parts[n-1].Quote == q && l.parts[n-1].End == i {
		l.parts[n-1].End = j
		l.parts[n-1].Text = l.line[l.parts[n-1].Start:j]
		return
	}
	l.parts = append(l.parts, Part{Text: l.line[i:j], Start: i, End: j, Quote: q})
}

// escaped adds the character at i+1, escaped by the backslash at i.
func (l *lexer) escaped(i int) {
	l.cur.WriteByte(l.line[i+1])
	l.parts = append(l.parts, Part{Text: l.line[i+1 : i+2], Start: i, End: i + 2, Quote: '\\'})
}

// param adds the expansion line[i:j].
func (l *lexer) param(i, j int) {
	l.cur.WriteString(l.line[i:j])
	l.parts = append(l.parts, Part{Text: l.line[i:j], Start: i, End: j, Quote: '$'})
	l.expands = true
}

// paramEnd returns the end of the expansion $NAME or ${NAME} at i, or -1.
func paramEnd(line string, i int) int {
	j := i + 1
	if j < len(line) && line[j] == '{' {
		k := j + 1
		for k < len(line) && isNameByte(line[k], k == j+1) {
			k++
		}
		if k == j+1 || k >= len(line) || line[k] != '}' {
			return -1
		}
		return k + 1
	}
	k := j
	for k < len(line) && isNameByte(line[k], k == j) {
		k++
	}
	if k == j {
		return -1
	}
	return k
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

func split(line string, allowAnd bool, o Options) ([][]Word, error) {
	var cmds [][]Word
	var words []Word
	l := &lexer{line: line}
	flush := func(end int) error {
		if !l.inWord {
			return nil
		}
		w := Word{Text: l.cur.String(), Quoted: l.quoted, Start: l.start, End: end, Parts: l.parts, Expands: l.expands}
		if !w.Quoted && len(words) == 0 && reserved[w.Text] {
			return refuse(l.start, "%q is a shell keyword", w.Text)
		}
		words = append(words, w)
		l.cur.Reset()
		l.parts = nil
		l.inWord, l.quoted, l.expands = false, false, false
		return nil
	}
	begin := l.begin
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch c {
		case ' ', '\t':
			if err := flush(i); err != nil {
				return nil, err
			}
		case '\n', '\r':
			return nil, refuse(i, "an unquoted line break (a command separator)")
		case ';':
			return nil, refuse(i, "unquoted ';' (a command separator)")
		case '&':
			if !allowAnd || i+1 >= len(line) || line[i+1] != '&' {
				return nil, refuse(i, "unquoted '&' (a background or list operator)")
			}
			if err := flush(i); err != nil {
				return nil, err
			}
			if len(words) == 0 {
				return nil, refuse(i, "'&&' without a command before it")
			}
			cmds = append(cmds, words)
			words = nil
			i++
		case '|':
			return nil, refuse(i, "unquoted '|' (a pipe)")
		case '<', '>':
			return nil, refuse(i, "unquoted '%c' (a redirection)", c)
		case '(', ')':
			return nil, refuse(i, "unquoted '%c' (a subshell)", c)
		case '`':
			return nil, refuse(i, "a backquote (command substitution)")
		case '$':
			if i+1 < len(line) && !isBlank(line[i+1]) {
				if j := paramEnd(line, i); o.Params && j > 0 {
					begin(i)
					l.param(i, j)
					i = j - 1
					continue
				}
				return nil, refuse(i, "unquoted '$' (%s)", dollarWhat(line[i+1:]))
			}
			begin(i)
			l.lit(0, i, i+1)
		case '*', '?':
			if !o.LiteralGlobs {
				return nil, refuse(i, "unquoted '%c' (pathname expansion)", c)
			}
			begin(i)
			l.lit(0, i, i+1)
		case '[':
			// A bracket expression needs its ']' in the same word; a lone
			// '[' (the test command) is literal.
			if j := strings.IndexAny(line[i:], "] \t\n;&|<>()"); !o.LiteralGlobs && j > 0 && line[i+j] == ']' {
				return nil, refuse(i, "unquoted '[' (pathname expansion)")
			}
			begin(i)
			l.lit(0, i, i+1)
		case '~':
			if !l.inWord {
				return nil, refuse(i, "unquoted '~' at the start of a word (tilde expansion)")
			}
			l.lit(0, i, i+1)
		case '#':
			if !l.inWord {
				if o.Comments {
					i = len(line)
					continue
				}
				return nil, refuse(i, "unquoted '#' at the start of a word (a comment)")
			}
			l.lit(0, i, i+1)
		case '\\':
			if i+1 >= len(line) {
				return nil, refuse(i, "a backslash at the end of the line")
			}
			if line[i+1] == '\n' { // line continuation: removed
				i++
				continue
			}
			begin(i)
			l.quoted = true
			l.escaped(i)
			i++
		case '\'':
			begin(i)
			l.quoted = true
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, refuse(i, "an unterminated single quote")
			}
			l.lit('\'', i+1, i+1+end)
			i += end + 1
		case '"':
			begin(i)
			l.quoted = true
			j, err := l.doubleQuoted(i+1, o)
			if err != nil {
				return nil, err
			}
			i = j
		default:
			begin(i)
			l.lit(0, i, i+1)
		}
	}
	if err := flush(len(line)); err != nil {
		return nil, err
	}
	if len(words) == 0 && len(cmds) > 0 {
		return nil, refuse(len(line), "'&&' without a command after it")
	}
	if len(words) > 0 {
		cmds = append(cmds, words)
	}
	return cmds, nil
}

// doubleQuoted reads the inside of a double-quoted string starting at i
// into the word and returns the index of the closing quote.
func (l *lexer) doubleQuoted(i int, o Options) (int, error) {
	line := l.line
	open := i - 1
	for ; i < len(line); i++ {
		c := line[i]
		switch c {
		case '"':
			return i, nil
		case '`':
			return 0, refuse(i, "a backquote in double quotes (command substitution)")
		case '$':
			if i+1 < len(line) && !isBlank(line[i+1]) && line[i+1] != '"' {
				if j := paramEnd(line, i); o.Params && j > 0 {
					l.param(i, j)
					i = j - 1
					continue
				}
				return 0, refuse(i, "'$' in double quotes (%s)", dollarWhat(line[i+1:]))
			}
			l.lit('"', i, i+1)
		case '\\':
			if i+1 < len(line) {
				switch n := line[i+1]; n {
				case '$', '`', '"', '\\':
					l.escaped(i)
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			l.lit('"', i, i+1)
		default:
			l.lit('"', i, i+1)
		}
	}
	return 0, refuse(open, "an unterminated double quote")
}

func dollarWhat(rest string) string {
	switch {
	case strings.HasPrefix(rest, "(("):
		return "arithmetic expansion"
	case strings.HasPrefix(rest, "("):
		return "command substitution"
	case strings.HasPrefix(rest, "{"):
		return "parameter expansion"
	}
	return "parameter expansion"
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// Texts returns the words' texts.
func Texts(words []Word) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.Text
	}
	return out
}

// Join quotes every word (posixsh.Quote) and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = posixsh.Quote(a)
	}
	return strings.Join(q, " ")
}
