package sim

import (
	"fmt"
	"strings"

	"github.com/rokflow/rokflow/internal/debversion"
)

// series returns the major.minor release of a package version or release
// string: "0.10.2-1" -> "0.10", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"
// -> "0.11", "0.11.0" -> "0.11".
func series(v string) (string, error) {
	rel, err := debversion.Release(v)
	if err != nil {
		return "", fmt.Errorf("version %q: %w", v, err)
	}
	parts := strings.Split(rel, ".")
	if len(parts) < 2 {
		parts = append(parts, "0")
	}
	return parts[0] + "." + parts[1], nil
}

// seriesOf is series for values the simulator made itself; "" when bad.
func seriesOf(v string) string {
	s, _ := series(v)
	return s
}

// compareSeries orders two major.minor releases.
func compareSeries(a, b string) int {
	c, err := debversion.Compare(a, b)
	if err != nil {
		return strings.Compare(a, b)
	}
	return c
}

// upstream returns the upstream part of a Debian version, what
// member-list shows: "0.10.2-1" -> "0.10.2".
func upstream(v string) string {
	p, err := debversion.Parse(v)
	if err != nil {
		return v
	}
	return p.Upstream
}
