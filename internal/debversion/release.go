package debversion

import (
	"strings"
)

// TrimTagPrefix removes one leading "v" or "V" from s when it is directly
// followed by a digit, turning a git tag such as "v0.11" into a version
// ("0.11"). Anything else is returned unchanged ("v", "vim", "0.11").
func TrimTagPrefix(s string) string {
	if len(s) >= 2 && (s[0] == 'v' || s[0] == 'V') && isDigit(s[1]) {
		return s[1:]
	}
	return s
}

// Release extracts the Rok release number from a tag or a Debian package
// version. Exactly:
//
//  1. Leading and trailing blanks are removed and TrimTagPrefix is applied
//     ("v0.11" -> "0.11").
//  2. The result is parsed with Parse; it must be a valid Debian version.
//  3. Epoch and revision are dropped; only the upstream part is looked at
//     ("1:0.11.0-3" -> "0.11.0"; for
//     "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b" the upstream part is
//     "0.11~rc1-22-gfc01058").
//  4. The longest prefix of the upstream part of the form N(.N)* — decimal
//     numbers separated by single dots — is taken ("0.11~rc1-22-gfc01058" ->
//     "0.11", "0.11.0" -> "0.11.0", "0.11.x" -> "0.11", "2.0+dfsg" -> "2.0").
//  5. Each number has its leading zeros removed ("0.011" -> "0.11", "00.9" ->
//     "0.9"); the count of components is kept, so "0.11" and "0.11.0" stay
//     different strings (dpkg orders "0.11" < "0.11.0").
//
// A pre-release such as "0.11~rc1" therefore has release "0.11", although
// dpkg orders the package version itself before "0.11". Compare releases,
// not package versions, when asking "is this node on 0.11 yet?".
func Release(s string) (string, error) {
	v, err := Parse(TrimTagPrefix(strings.Trim(s, " \t")))
	if err != nil {
		return "", err
	}
	up := v.Upstream
	var parts []string
	i := 0
	for {
		j := i
		for j < len(up) && isDigit(up[j]) {
			j++
		}
		if j == i { // no number here: stop before the dot that led here
			break
		}
		num := strings.TrimLeft(up[i:j], "0")
		if num == "" {
			num = "0"
		}
		parts = append(parts, num)
		if j+1 < len(up) && up[j] == '.' && isDigit(up[j+1]) {
			i = j + 1
			continue
		}
		break
	}
	// Parse guarantees the upstream part starts with a digit, so parts is
	// never empty here.
	return strings.Join(parts, "."), nil
}
