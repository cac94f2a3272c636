// Package posixsh quotes words for a POSIX shell (sh, bash, dash): the one
// place rokflow writes a command line that a shell reads, whether the ssh
// transport sends it or a person pastes a hint into a terminal.
//
// It does not render commands for display only, with placeholders for
// sensitive or unknown words; steps.QuoteArgv does that, with Quote.
package posixsh

import "strings"

// Quote returns s in single quotes, which a POSIX shell reads back as
// exactly s whatever it holds (newlines, non-ASCII, an empty string), except
// NUL, which no argument can hold: inside single quotes nothing is special
// but the quote itself, written as an end quote, a backslash-escaped quote
// and a start quote.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(`'\''`)
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
	return b.String()
}

// Word returns s as one word for a POSIX shell: s itself when a shell takes
// it literally (Plain), otherwise Quote(s).
func Word(s string) string {
	if Plain(s) {
		return s
	}
	return Quote(s)
}

// Plain reports whether s is non-empty and made only of characters a shell
// takes literally in any position: ASCII letters, digits and _@%+=:,./-.
func Plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_@%+=:,./-", c) >= 0:
		default:
			return false
		}
	}
	return true
}
