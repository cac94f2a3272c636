package lang

import (
	"fmt"

	"github.com/agext/levenshtein"
)

// didYouMean returns " Did you mean \"x\"?" for the nearest of candidates
// to given, or "" when none is near enough.
func didYouMean(given string, candidates []string) string {
	if s := Nearest(given, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// Nearest returns the candidate closest to given by edit distance, or "" if
// none is near enough: one edit for three-letter names, otherwise a third
// of the name's length, at least two and at most three. Names shorter
// than three letters get no suggestion: any guess would be noise.
func Nearest(given string, candidates []string) string {
	if len(given) < 3 {
		return ""
	}
	limit := 1
	if len(given) >= 4 {
		limit = min(max(len(given)/3, 2), 3)
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		d := levenshtein.Distance(given, c, nil)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
