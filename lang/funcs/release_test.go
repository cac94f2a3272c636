package funcs

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

const seedVersion = "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"

func TestReleaseCompare(t *testing.T) {
	n := cty.NumberIntVal
	runCalls(t, ReleaseCompareFunc, []callCase{
		{name: "rc before final", args: []cty.Value{str("1.0~rc1"), str("1.0")}, want: n(-1)},
		{name: "epoch", args: []cty.Value{str("1:0.1"), str("2.0")}, want: n(1)},
		{name: "revision", args: []cty.Value{str("1.0-1"), str("1.0-1.1")}, want: n(-1)},
		{name: "letters before non-letters", args: []cty.Value{str("1.0a"), str("1.0+")}, want: n(-1)},
		{name: "equal", args: []cty.Value{str("0.11.0"), str("0.11.00")}, want: n(0)},
		{name: "tags", args: []cty.Value{str("v0.11"), str("V0.10.2")}, want: n(1)},
		{name: "seed before 0.11", args: []cty.Value{str(seedVersion), str("0.11")}, want: n(-1)},
		{name: "seed after 0.10.2", args: []cty.Value{str(seedVersion), str("v0.10.2")}, want: n(1)},
		{name: "bad a", args: []cty.Value{str("latest"), str("0.11")}, error: `invalid version "latest": version number does not start with digit`, arg: 0},
		{name: "bad b", args: []cty.Value{str("0.11"), str("")}, error: "version string is empty", arg: 1},
	})
}

func TestReleaseAtLeast(t *testing.T) {
	runCalls(t, ReleaseAtLeastFunc, []callCase{
		{name: "greater", args: []cty.Value{str("0.11.0"), str("0.10.2")}, want: cty.True},
		{name: "equal", args: []cty.Value{str("v0.11"), str("0.11")}, want: cty.True},
		{name: "less", args: []cty.Value{str("0.10.2"), str("0.11")}, want: cty.False},
		{name: "pre-release is less", args: []cty.Value{str(seedVersion), str("0.11")}, want: cty.False},
		{name: "bad min", args: []cty.Value{str("0.11"), str("x")}, error: "does not start with digit", arg: 1},
	})
}

func TestRelease(t *testing.T) {
	runCalls(t, ReleaseFunc, []callCase{
		{name: "tag", args: []cty.Value{str("v0.11")}, want: str("0.11")},
		{name: "release", args: []cty.Value{str("0.11.0")}, want: str("0.11.0")},
		{name: "seed", args: []cty.Value{str(seedVersion)}, want: str("0.11")},
		{name: "epoch and revision", args: []cty.Value{str("1:0.10.2-3")}, want: str("0.10.2")},
		{name: "bad", args: []cty.Value{str("rok-0.11")}, error: `invalid version "rok-0.11"`},
	})
}

// TestReleaseThenCompare shows the documented idiom for release-level checks.
func TestReleaseThenCompare(t *testing.T) {
	r, err := ReleaseFunc.Call([]cty.Value{str(seedVersion)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReleaseAtLeastFunc.Call([]cty.Value{r, str("0.11")})
	if err != nil || got != cty.True {
		t.Fatalf("release_at_least(release(seed), \"0.11\") = %#v, %v; want true", got, err)
	}
}
