package addrs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Pattern selects step instance addresses. It is an exact address, or an
// address in which * stands for any run of characters, none included:
// dots, brackets and quotes too. Nothing else is special: brackets,
// quotes, ? and \ stand for themselves. So
//
//	step.gate                                        that gate
//	step.gate["a"]                                   one element of a step's for_each
//	step.gate[*]                                     every element of step.gate
//	group.slaves["rok2.prod"].*                      every step of that element
//	group.slaves[*].module.node.step.swap_boot_disk  that step in every element
//
// An address is a step, possibly inside groups, module calls and the hook
// blocks a caller gave a module:
//
//	address = { ("group." NAME "[" KEY "]" | "module." NAME | "hook." NAME) "." } "step." NAME [ "[" KEY "]" ]
//
// where KEY is a double-quoted string as in HCL and Go, and NAME runs up to
// the next character an address gives a meaning to (. [ ] " *).
//
// ParsePattern refuses text that cannot select anything: empty text,
// spaces at either end, an exact address that breaks the grammar, and a
// pattern whose text before its first * does not begin an address (slaves*,
// group.slaves[rok2].*). Compile takes any text unchecked, for patterns
// already recorded.
type Pattern struct {
	text  string
	parts []string // text split at each *; one part for an exact address
}

// ParsePattern checks text against the grammar and returns its pattern.
// The error is meant for the person who typed it.
func ParsePattern(text string) (Pattern, error) {
	if text == "" {
		return Pattern{}, errors.New("an address pattern cannot be empty")
	}
	if strings.TrimFunc(text, unicode.IsSpace) != text {
		return Pattern{}, fmt.Errorf("%q has a space at its start or end", text)
	}
	p := Compile(text)
	var err error
	if p.Exact() {
		err = checkAddress(text, false)
	} else {
		err = checkAddress(p.parts[0], true)
	}
	if err != nil {
		return Pattern{}, fmt.Errorf("%q is not an address or address pattern: %w", text, err)
	}
	return p, nil
}

// Compile returns the pattern of text without checking it: what the
// journal recorded was checked when it was given, and must keep matching
// what it matched then.
func Compile(text string) Pattern {
	return Pattern{text: text, parts: strings.Split(text, "*")}
}

// String returns the pattern as it was written.
func (p Pattern) String() string { return p.text }

// Exact reports whether the pattern is a plain address, without *.
func (p Pattern) Exact() bool { return len(p.parts) == 1 }

// Match reports whether the pattern selects addr.
func (p Pattern) Match(addr string) bool {
	if p.Exact() {
		return addr == p.text
	}
	first, last := p.parts[0], p.parts[len(p.parts)-1]
	if len(addr) < len(first)+len(last) || !strings.HasPrefix(addr, first) || !strings.HasSuffix(addr, last) {
		return false
	}
	// The leftmost place of each middle part leaves the most room for the
	// rest, so a greedy scan decides.
	rest := addr[len(first) : len(addr)-len(last)]
	for _, mid := range p.parts[1 : len(p.parts)-1] {
		i := strings.Index(rest, mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	return true
}

// MatchTemplate reports whether the pattern selects some address that the
// template stands for, each Hole of the template standing for any element
// key: group.slaves["rok2.prod"].* selects an element of
// group.slaves[*].module.node.step.swap_boot_disk.
func (p Pattern) MatchTemplate(template string) bool {
	if !IsTemplate(template) {
		return p.Match(template)
	}
	// Both sides are now text with wildcards (the template's holes read
	// ["*"]); they select a common address when the two languages meet.
	ps := tokens(p.text, "*", "*")
	ts := tokens(template, Hole, `["*"]`)
	m, n := len(ps), len(ts)
	// ok[i][j]: ps[i:] and ts[j:] can spell the same text.
	ok := make([][]bool, m+1)
	for i := range ok {
		ok[i] = make([]bool, n+1)
	}
	ok[m][n] = true
	for i := m; i >= 0; i-- {
		for j := n; j >= 0; j-- {
			if i == m && j == n {
				continue
			}
			pStar := i < m && ps[i] == wild
			tStar := j < n && ts[j] == wild
			switch {
			case pStar:
				ok[i][j] = ok[i+1][j] || (j < n && ok[i][j+1])
			case tStar:
				ok[i][j] = ok[i][j+1] || (i < m && ok[i+1][j])
			case i < m && j < n:
				ok[i][j] = ps[i] == ts[j] && ok[i+1][j+1]
			}
		}
	}
	return ok[0][0]
}

// wild is the token of a wildcard: no byte of text is negative.
const wild = -1

// tokens reads s as bytes, each occurrence of hole standing for its
// expansion, in which * is a wildcard.
func tokens(s, hole, expansion string) []int {
	var out []int
	for s != "" {
		if strings.HasPrefix(s, hole) {
			for i := 0; i < len(expansion); i++ {
				if expansion[i] == '*' {
					out = append(out, wild)
				} else {
					out = append(out, int(expansion[i]))
				}
			}
			s = s[len(hole):]
			continue
		}
		out = append(out, int(s[0]))
		s = s[1:]
	}
	return out
}

// Keys returns the element keys the pattern spells out, in order, leaving
// out any with a * inside: for group.slaves["rok2.prod"].* it returns
// rok2.prod.
func (p Pattern) Keys() []string {
	var keys []string
	s := p.text
	for {
		i := strings.Index(s, `["`)
		if i < 0 {
			return keys
		}
		s = s[i+1:]
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			continue
		}
		if k, err := strconv.Unquote(q); err == nil && !strings.Contains(k, "*") && strings.HasPrefix(s[len(q):], "]") {
			keys = append(keys, k)
		}
		s = s[len(q):]
	}
}
