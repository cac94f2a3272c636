package debversion

import (
	"fmt"
	"strconv"
	"strings"
)

// CompareRelease orders two release numbers such as "0.11" and "0.11.0"
// component by component, a missing component counting as 0: "0.11" and
// "0.11.0" are the same release, "0.9.4" comes before "0.10". Both must
// be N(.N)* (see Release); anything after the numbers is ignored.
func CompareRelease(a, b string) int {
	x, y := releaseNumbers(a), releaseNumbers(b)
	for i := 0; i < max(len(x), len(y)); i++ {
		var p, q int
		if i < len(x) {
			p = x[i]
		}
		if i < len(y) {
			q = y[i]
		}
		switch {
		case p < q:
			return -1
		case p > q:
			return 1
		}
	}
	return 0
}

// releaseNumbers returns the leading N(.N)* of s as numbers.
func releaseNumbers(s string) []int {
	var out []int
	for _, part := range strings.Split(TrimTagPrefix(strings.TrimSpace(s)), ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			break
		}
		out = append(out, n)
	}
	return out
}

// Series is the major.minor part of a release: "0.11.2" -> "0.11".
func Series(release string) string {
	n := releaseNumbers(release)
	switch len(n) {
	case 0:
		return ""
	case 1:
		return strconv.Itoa(n[0]) + ".0"
	}
	return strconv.Itoa(n[0]) + "." + strconv.Itoa(n[1])
}

// Constraint is a set of conditions on a release, all of which must hold:
// "0.10" (a release line: 0.10, 0.10.2, … but not 0.11), "= 0.10.2",
// ">= 0.10.1, < 0.11", "!= 0.10.3", "~> 0.10.1" (0.10.1 or later in
// 0.10).
type Constraint struct {
	text    string
	clauses []clause
}

type clause struct {
	op  string
	rel string
}

// ParseConstraint parses a constraint; see Constraint.
func ParseConstraint(s string) (Constraint, error) {
	c := Constraint{text: strings.TrimSpace(s)}
	if c.text == "" {
		return c, fmt.Errorf("empty release constraint")
	}
	for _, part := range strings.Split(c.text, ",") {
		part = strings.TrimSpace(part)
		op := ""
		for _, o := range []string{">=", "<=", "!=", "~>", ">", "<", "="} {
			if strings.HasPrefix(part, o) {
				op = o
				break
			}
		}
		rel := strings.TrimSpace(strings.TrimPrefix(part, op))
		if !validRelease(rel) {
			return c, fmt.Errorf("%q is not a release constraint: write a release such as 0.10 (every 0.10.x) or conditions such as \">= 0.10.1, < 0.11\"", part)
		}
		c.clauses = append(c.clauses, clause{op: op, rel: TrimTagPrefix(rel)})
	}
	return c, nil
}

// validRelease reports whether s is N(.N)*, with an optional leading v.
func validRelease(s string) bool {
	s = TrimTagPrefix(s)
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

// ValidRelease reports whether s is a release number such as 0.11.0.
func ValidRelease(s string) bool { return validRelease(s) }

// String returns the constraint as written.
func (c Constraint) String() string { return c.text }

// Allows reports whether release (N(.N)*) meets every condition.
func (c Constraint) Allows(release string) bool {
	for _, cl := range c.clauses {
		cmp := CompareRelease(release, cl.rel)
		ok := true
		switch cl.op {
		case "":
			// A bare release names a line: every release it prefixes.
			want := releaseNumbers(cl.rel)
			got := releaseNumbers(release)
			ok = len(got) >= len(want) || CompareRelease(release, cl.rel) == 0
			for i := range want {
				var g int
				if i < len(got) {
					g = got[i]
				}
				if g != want[i] {
					ok = false
				}
			}
		case "=":
			ok = cmp == 0
		case "!=":
			ok = cmp != 0
		case ">":
			ok = cmp > 0
		case ">=":
			ok = cmp >= 0
		case "<":
			ok = cmp < 0
		case "<=":
			ok = cmp <= 0
		case "~>":
			// ~> 0.10.1: at least 0.10.1, below 0.11 (the last component
			// may grow).
			want := releaseNumbers(cl.rel)
			upper := append([]int(nil), want[:max(len(want)-1, 1)]...)
			upper[len(upper)-1]++
			ok = cmp >= 0 && CompareRelease(release, joinNumbers(upper)) < 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// Lowest returns the lowest release the constraint names (its first
// clause's release), for ordering playbooks by where they start.
func (c Constraint) Lowest() string {
	if len(c.clauses) == 0 {
		return ""
	}
	return c.clauses[0].rel
}

func joinNumbers(n []int) string {
	parts := make([]string, len(n))
	for i, x := range n {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ".")
}
