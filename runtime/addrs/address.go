package addrs

import (
	"fmt"
	"strconv"
	"strings"
)

// Hole is what an address template has in place of an element key that is
// not known yet, as in group.slaves[*].module.node.step.swap_boot_disk: it
// stands for every element of that for_each.
const Hole = "[*]"

// Key renders an element key as it appears in an address: ["rok2.prod"].
// The key is quoted as in Go and HCL, so any string can be a key.
func Key(k string) string { return "[" + strconv.Quote(k) + "]" }

// KeyAt returns the element key that follows prefix in addr: for
// group.g["a"].step.s and the prefix group.g it returns "a". It reports
// false when addr does not continue prefix with a key.
func KeyAt(addr, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(addr, prefix+"[")
	if !ok {
		return "", false
	}
	q, err := strconv.QuotedPrefix(rest)
	if err != nil || !strings.HasPrefix(rest[len(q):], "]") {
		return "", false
	}
	k, err := strconv.Unquote(q)
	return k, err == nil
}

// Fill replaces the holes of a template by keys, in order; holes beyond
// the keys given stay.
func Fill(template string, keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		i := strings.Index(template, Hole)
		if i < 0 {
			break
		}
		b.WriteString(template[:i])
		b.WriteString(Key(k))
		template = template[i+len(Hole):]
	}
	b.WriteString(template)
	return b.String()
}

// IsTemplate reports whether an address has a hole.
func IsTemplate(addr string) bool { return strings.Contains(addr, Hole) }

// segmentKinds are the words an address segment begins with.
var segmentKinds = []string{"step", "group", "module", "hook"}

// checkAddress checks s against the address grammar (see Pattern). With
// prefix set, s need only begin an address: it may stop anywhere. The
// error says what is wrong in words for the person who typed it.
func checkAddress(s string, prefix bool) error {
	i, last := 0, ""
	for {
		// The kind word and its dot.
		j := strings.IndexByte(s[i:], '.')
		if j < 0 && i > 0 && i == len(s) {
			return fmt.Errorf("it ends with a dot")
		}
		if j < 0 {
			if prefix && isKindPrefix(s[i:]) {
				return nil
			}
			return fmt.Errorf("expected step., group. or module. at %q", s[i:])
		}
		kind := s[i : i+j]
		if !isKind(kind) {
			return fmt.Errorf("%q is not step, group, module or hook: addresses are made of step.NAME, group.NAME[\"KEY\"], module.NAME and hook.NAME parts joined by dots", kind)
		}
		i += j + 1
		last = kind
		// The name.
		n := nameLen(s[i:])
		if n == 0 {
			if prefix && i == len(s) {
				return nil
			}
			return fmt.Errorf("%s. must be followed by a name", kind)
		}
		i += n
		if i == len(s) {
			break
		}
		// The element key.
		if s[i] == '[' {
			i++
			if prefix && i == len(s) {
				return nil
			}
			if s[i] != '"' {
				return fmt.Errorf("element keys are written in double quotes, as in %s[\"KEY\"]", s[:i-1])
			}
			q, err := strconv.QuotedPrefix(s[i:])
			if err != nil {
				if prefix {
					return nil // the key goes on past the prefix
				}
				return fmt.Errorf("the element key after %s is not a complete quoted string", s[:i-1])
			}
			i += len(q)
			if i == len(s) {
				if prefix {
					return nil
				}
				return fmt.Errorf("the element key %s needs its closing ]", s[:i])
			}
			if s[i] != ']' {
				return fmt.Errorf("expected ] after %s", s[:i])
			}
			i++
		} else if kind == "group" {
			return fmt.Errorf("a group's element is named by its key: %s[\"KEY\"], or %s[*] for every element", s[:i], s[:i])
		}
		if i == len(s) {
			break
		}
		if s[i] != '.' {
			return fmt.Errorf("expected . after %s", s[:i])
		}
		i++
		if prefix && i == len(s) {
			return nil
		}
	}
	if !prefix && last != "step" {
		return fmt.Errorf("it names a %s, not a step: end it with .step.NAME", last)
	}
	return nil
}

func isKind(w string) bool {
	for _, k := range segmentKinds {
		if w == k {
			return true
		}
	}
	return false
}

func isKindPrefix(w string) bool {
	for _, k := range segmentKinds {
		if strings.HasPrefix(k, w) {
			return true
		}
	}
	return false
}

// nameLen is the length of the name at the start of s: HCL allows letters
// of any script, digits, underscores and dashes, so a name runs up to the
// first character an address gives a meaning to.
func nameLen(s string) int {
	for i, r := range s {
		switch r {
		case '.', '[', ']', '"', '*', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return len(s)
}
