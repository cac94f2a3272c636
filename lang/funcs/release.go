package funcs

import (
	"github.com/rokflow/rokflow/internal/debversion"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

const badVersion = "not a valid version"

// parseVersion accepts a Debian version, or a tag with one leading "v"
// ("v0.11"), for argument i.
func parseVersion(i int, s string) (debversion.Version, error) {
	v, err := debversion.Parse(debversion.TrimTagPrefix(s))
	if err != nil {
		return v, newArgError(i, err, badVersion)
	}
	return v, nil
}

func compareArgs(args []cty.Value) (int, error) {
	a, err := parseVersion(0, args[0].AsString())
	if err != nil {
		return 0, err
	}
	b, err := parseVersion(1, args[1].AsString())
	if err != nil {
		return 0, err
	}
	return a.Compare(b), nil
}

// ReleaseCompareFunc is release_compare(a, b): -1, 0 or 1 as a is before,
// equal to or after b in dpkg's version order (`dpkg --compare-versions`).
// Both are Debian versions ("1:0.11.0-1", "0.11~rc1-22-gfc01058-1~…"), a
// leading "v" directly followed by a digit is ignored ("v0.11"). Note that
// dpkg orders "0.11~rc1" before "0.11" and "0.11" before "0.11.0"; compare
// release(a) and release(b) to ask about releases rather than packages.
var ReleaseCompareFunc = newFunc(
	"Compares two versions with dpkg's ordering and returns -1, 0 or 1.",
	[]function.Parameter{
		strParam("a", "A Debian version or v-prefixed tag."),
		strParam("b", "A Debian version or v-prefixed tag."),
	},
	cty.Number,
	func(args []cty.Value) (cty.Value, error) {
		c, err := compareArgs(args)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.NumberIntVal(int64(c)), nil
	},
)

// ReleaseAtLeastFunc is release_at_least(v, min): release_compare(v, min) >= 0,
// with the same dpkg semantics. For example
// release_at_least("0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", "0.11") is
// false (a pre-release sorts first) while
// release_at_least(release("0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"), "0.11")
// is true.
var ReleaseAtLeastFunc = newFunc(
	"Reports whether a version is at least a minimum version, in dpkg's ordering.",
	[]function.Parameter{
		strParam("version", "The Debian version or v-prefixed tag to check."),
		strParam("min", "The minimum Debian version or v-prefixed tag."),
	},
	cty.Bool,
	func(args []cty.Value) (cty.Value, error) {
		c, err := compareArgs(args)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.BoolVal(c >= 0), nil
	},
)

// ReleaseFunc is release(v): the Rok release number in a tag or package
// version, as debversion.Release defines it — the leading N(.N)* of the
// upstream part with leading zeros removed: "v0.11" -> "0.11", "0.11.0" ->
// "0.11.0", "1:0.11.0-3" -> "0.11.0",
// "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b" -> "0.11".
var ReleaseFunc = newFunc(
	"Extracts the release number (e.g. 0.11 or 0.11.0) from a tag or Debian package version.",
	[]function.Parameter{strParam("version", "A Debian version or v-prefixed tag.")},
	cty.String,
	func(args []cty.Value) (cty.Value, error) {
		r, err := debversion.Release(args[0].AsString())
		if err != nil {
			return cty.NilVal, newArgError(0, err, badVersion)
		}
		return cty.StringVal(r), nil
	},
)
