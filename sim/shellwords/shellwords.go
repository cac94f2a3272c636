package shellwords

import (
	"fmt"
	"strings"
)

// Word is one word of a command line after quote removal.
type Word struct {
	// Text is the word with its quotes removed.
	Text string
	// Quoted is true when any part of the word was quoted or escaped, so a
	// shell would not have read it as an assignment or a reserved word.
	Quoted bool
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
	cmds, err := split(line, false)
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
	return split(line, true)
}

func split(line string, allowAnd bool) ([][]Word, error) {
	var cmds [][]Word
	var words []Word
	var cur strings.Builder
	inWord, quoted := false, false
	start := 0
	flush := func() error {
		if !inWord {
			return nil
		}
		w := Word{Text: cur.String(), Quoted: quoted}
		if !w.Quoted && len(words) == 0 && reserved[w.Text] {
			return refuse(start, "%q is a shell keyword", w.Text)
		}
		words = append(words, w)
		cur.Reset()
		inWord, quoted = false, false
		return nil
	}
	begin := func(i int) {
		if !inWord {
			inWord, start = true, i
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch c {
		case ' ', '\t':
			if err := flush(); err != nil {
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
			if err := flush(); err != nil {
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
				return nil, refuse(i, "unquoted '$' (%s)", dollarWhat(line[i+1:]))
			}
			begin(i)
			cur.WriteByte(c)
		case '*', '?':
			return nil, refuse(i, "unquoted '%c' (pathname expansion)", c)
		case '[':
			// A bracket expression needs its ']' in the same word; a lone
			// '[' (the test command) is literal.
			if j := strings.IndexAny(line[i:], "] \t\n;&|<>()"); j > 0 && line[i+j] == ']' {
				return nil, refuse(i, "unquoted '[' (pathname expansion)")
			}
			begin(i)
			cur.WriteByte(c)
		case '~':
			if !inWord {
				return nil, refuse(i, "unquoted '~' at the start of a word (tilde expansion)")
			}
			cur.WriteByte(c)
		case '#':
			if !inWord {
				return nil, refuse(i, "unquoted '#' at the start of a word (a comment)")
			}
			cur.WriteByte(c)
		case '\\':
			if i+1 >= len(line) {
				return nil, refuse(i, "a backslash at the end of the line")
			}
			begin(i)
			quoted = true
			i++
			if line[i] == '\n' { // line continuation: removed
				continue
			}
			cur.WriteByte(line[i])
		case '\'':
			begin(i)
			quoted = true
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, refuse(i, "an unterminated single quote")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
		case '"':
			begin(i)
			quoted = true
			j, err := doubleQuoted(line, i+1, &cur)
			if err != nil {
				return nil, err
			}
			i = j
		default:
			begin(i)
			cur.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
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

// doubleQuoted copies the inside of a double-quoted string starting at i
// into b and returns the index of the closing quote.
func doubleQuoted(line string, i int, b *strings.Builder) (int, error) {
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
				return 0, refuse(i, "'$' in double quotes (%s)", dollarWhat(line[i+1:]))
			}
			b.WriteByte(c)
		case '\\':
			if i+1 < len(line) {
				switch n := line[i+1]; n {
				case '$', '`', '"', '\\':
					b.WriteByte(n)
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
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

// Quote returns s in POSIX single quotes, a single quote inside written as
// '\”. The result is one word for any shell, whatever s holds.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes every word and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
