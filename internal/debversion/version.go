package debversion

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Version is a parsed Debian version [epoch:]upstream[-revision].
type Version struct {
	// Epoch is the number before the first colon, 0 when absent.
	Epoch int
	// Upstream is the main version part; never empty, starts with a digit.
	Upstream string
	// Revision is the Debian revision after the last hyphen, "" when absent.
	Revision string
}

// ParseError reports a string that is not a valid Debian version.
type ParseError struct {
	Input  string // the string given to Parse
	Reason string // what is wrong with it, in dpkg's words where dpkg has some
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid version %q: %s", e.Input, e.Reason)
}

// Parse parses a Debian version string. Leading and trailing blanks (spaces
// and tabs) are ignored, as dpkg does. The epoch is split at the first colon
// and the revision at the last hyphen.
func Parse(s string) (Version, error) {
	fail := func(format string, args ...any) (Version, error) {
		return Version{}, &ParseError{Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	str := strings.Trim(s, " \t")
	if str == "" {
		return fail("version string is empty")
	}
	if strings.ContainsAny(str, " \t") {
		return fail("version string has embedded spaces")
	}
	if strings.ContainsAny(str, "\r\n\v\f") {
		return fail("version string contains a line break or control character")
	}

	var v Version
	if epoch, rest, ok := strings.Cut(str, ":"); ok {
		if epoch == "" {
			return fail("epoch in version is empty")
		}
		if !allDigits(epoch) {
			return fail("epoch in version is not number")
		}
		n, err := strconv.ParseUint(epoch, 10, 64)
		if err != nil || n > math.MaxInt32 {
			return fail("epoch in version is too big")
		}
		if rest == "" {
			return fail("nothing after colon in version number")
		}
		v.Epoch = int(n)
		str = rest
	}

	if i := strings.LastIndexByte(str, '-'); i >= 0 {
		v.Upstream, v.Revision = str[:i], str[i+1:]
		if v.Revision == "" {
			return fail("revision number is empty")
		}
	} else {
		v.Upstream = str
	}

	if v.Upstream == "" {
		return fail("version number is empty")
	}
	if !isDigit(v.Upstream[0]) {
		return fail("version number does not start with digit")
	}
	for i := 0; i < len(v.Upstream); i++ {
		if c := v.Upstream[i]; !isAlnum(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return fail("invalid character %q in version number", c)
		}
	}
	for i := 0; i < len(v.Revision); i++ {
		if c := v.Revision[i]; !isAlnum(c) && !strings.ContainsRune(".+~", rune(c)) {
			return fail("invalid character %q in revision number", c)
		}
	}
	return v, nil
}

// MustParse is like Parse but panics on error. Use it only for constants.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String renders v the way dpkg prints versions: the epoch only when it is
// not zero and the revision only when it is not empty ("0:1.0-0" becomes
// "1.0-0", "0:1.0" becomes "1.0"). Unlike dpkg, a zero epoch is kept when
// the upstream part contains a colon ("0:1:2"), so that the result always
// parses back to an equal version.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 || strings.Contains(v.Upstream, ":") {
		b.WriteString(strconv.Itoa(v.Epoch))
		b.WriteByte(':')
	}
	b.WriteString(v.Upstream)
	if v.Revision != "" {
		b.WriteByte('-')
		b.WriteString(v.Revision)
	}
	return b.String()
}

// Compare orders v and w as dpkg does and returns -1, 0 or +1.
func (v Version) Compare(w Version) int {
	switch {
	case v.Epoch > w.Epoch:
		return 1
	case v.Epoch < w.Epoch:
		return -1
	}
	if c := verrevcmp(v.Upstream, w.Upstream); c != 0 {
		return c
	}
	return verrevcmp(v.Revision, w.Revision)
}

// Compare parses a and b and orders them as `dpkg --compare-versions` does:
// -1 when a < b, 0 when they are equal (e.g. "1.0" and "1.00", or "1.0" and
// "0:1.0"), +1 when a > b. It fails if either string is not a valid version.
func Compare(a, b string) (int, error) {
	va, err := Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// order is the weight of a character in a non-digit run (dpkg's order()):
// '~' (and nothing else) sorts before the end of the part, the end of the
// part and digits weigh 0, letters weigh their ASCII code and every other
// character weighs its code plus 256, so letters sort before non-letters.
func order(c int) int {
	switch {
	case c >= 0 && c < 256 && isDigit(byte(c)):
		return 0
	case c >= 0 && c < 256 && isAlpha(byte(c)):
		return c
	case c == '~':
		return -1
	case c > 0:
		return c + 256
	default: // end of string
		return 0
	}
}

// verrevcmp is dpkg's comparison of an upstream version or revision part,
// normalized to -1/0/+1.
func verrevcmp(a, b string) int {
	at := func(s string, i int) int {
		if i < len(s) {
			return int(s[i])
		}
		return 0
	}
	digitAt := func(s string, i int) bool { return i < len(s) && isDigit(s[i]) }

	i, j := 0, 0
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := order(at(a, i)), order(at(b, j))
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for digitAt(a, i) && digitAt(b, j) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if digitAt(a, i) {
			return 1
		}
		if digitAt(b, j) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
