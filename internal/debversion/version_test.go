package debversion

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Version
		str   string // String() of the result
		error string // substring of the error; "" means success
	}{
		{name: "plain", in: "1.0", want: Version{0, "1.0", ""}, str: "1.0"},
		{name: "revision", in: "1.0-1", want: Version{0, "1.0", "1"}, str: "1.0-1"},
		{name: "epoch", in: "2:1.0-1", want: Version{2, "1.0", "1"}, str: "2:1.0-1"},
		{name: "zero epoch dropped by String", in: "0:1.0", want: Version{0, "1.0", ""}, str: "1.0"},
		{name: "revision is after last hyphen", in: "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b",
			want: Version{0, "0.11~rc1-22-gfc01058", "1~6ad14b3~1.gbp6ad14b"},
			str:  "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"},
		{name: "colons in upstream after an epoch", in: "1:2:3-4", want: Version{1, "2:3", "4"}, str: "1:2:3-4"},
		{name: "zero epoch kept before a colon", in: "0:2:3", want: Version{0, "2:3", ""}, str: "0:2:3"},
		{name: "blanks trimmed", in: " \t1.0-1 ", want: Version{0, "1.0", "1"}, str: "1.0-1"},
		{name: "tilde and plus", in: "1.0~rc1+dfsg-0ubuntu1~18.04", want: Version{0, "1.0~rc1+dfsg", "0ubuntu1~18.04"}, str: "1.0~rc1+dfsg-0ubuntu1~18.04"},
		{name: "revision zero kept", in: "1.0-0", want: Version{0, "1.0", "0"}, str: "1.0-0"},
		{name: "max epoch", in: "2147483647:1", want: Version{2147483647, "1", ""}, str: "2147483647:1"},

		{name: "empty", in: "", error: "version string is empty"},
		{name: "only blanks", in: "  \t", error: "version string is empty"},
		{name: "embedded space", in: "1.0 2", error: "embedded spaces"},
		{name: "newline", in: "1.0\n", error: "line break"},
		{name: "empty epoch", in: ":1.0", error: "epoch in version is empty"},
		{name: "letter epoch", in: "a:1.0", error: "epoch in version is not number"},
		{name: "negative epoch", in: "-1:1.0", error: "epoch in version is not number"},
		{name: "signed epoch", in: "+1:1.0", error: "epoch in version is not number"},
		{name: "huge epoch", in: "2147483648:1.0", error: "epoch in version is too big"},
		{name: "very huge epoch", in: "99999999999999999999999:1.0", error: "epoch in version is too big"},
		{name: "nothing after colon", in: "1:", error: "nothing after colon"},
		{name: "empty revision", in: "1.0-", error: "revision number is empty"},
		{name: "empty upstream", in: "-1", error: "version number is empty"},
		{name: "empty upstream after epoch", in: "1:-1", error: "version number is empty"},
		{name: "leading letter", in: "v0.11", error: "does not start with digit"},
		{name: "bad upstream char", in: "1.0_1", error: `invalid character '_' in version number`},
		{name: "colon in revision", in: "1:1.0-1:2", error: `invalid character ':' in revision number`},
		{name: "colon without epoch", in: "1.0-1:2", error: "epoch in version is not number"},
		{name: "hyphen-free revision char", in: "1.0-a_b", error: "in revision number"},
		{name: "non-ascii", in: "1.0é", error: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.error != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error containing %q", tt.in, got, tt.error)
				}
				if !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.error)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Input != tt.in {
					t.Fatalf("error %v is not a *ParseError for input %q", err, tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Fatalf("String() = %q, want %q", s, tt.str)
			}
			again, err := Parse(got.String())
			if err != nil || again.Compare(got) != 0 {
				t.Fatalf("String() does not round-trip: %q -> %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse did not panic on an invalid version")
		}
	}()
	MustParse("not a version")
}

// comparePairs are known dpkg orderings: want is the sign of a compared to b.
var comparePairs = []struct {
	name string
	a, b string
	want int
}{
	{"rc before release", "1.0~rc1", "1.0", -1},
	{"epoch wins", "1:0.1", "2.0", 1},
	{"longer revision", "1.0-1", "1.0-1.1", -1},
	{"letter before non-letter", "1.0a", "1.0+", -1},
	{"end before letter", "1.0", "1.0a", -1},
	{"end before dot", "1.0", "1.0.1", -1},
	{"equal", "1.0", "1.0", 0},
	{"leading zeros ignored", "1.0", "1.00", 0},
	{"leading zeros in middle", "1.01", "1.1", 0},
	{"explicit zero epoch", "1.0", "0:1.0", 0},
	{"revision 0 equals none", "1.0-0", "1.0", 0},
	{"revision 00 equals 0", "0-00", "0:0-0", 0},
	{"numeric not lexical", "1.2", "1.10", -1},
	{"numeric revision", "1.0-9", "1.0-10", -1},
	{"epoch difference", "0:0-0", "1:0-0", -1},
	{"revision letters", "0-a", "0-b", -1},
	{"binNMU after", "1.0+b1", "1.0", 1},
	{"binNMU revision", "1.0-1+b1", "1.0-1", 1},
	{"backport before", "1.0-1~bpo1", "1.0-1", -1},
	{"tilde before end", "1.0~", "1.0", -1},
	{"double tilde first", "1.0~~", "1.0~~a", -1},
	{"tilde-tilde-a before tilde", "1.0~~a", "1.0~", -1},
	{"uppercase before lowercase", "1.0A", "1.0a", -1},
	{"letter before dot", "1.0a", "1.0.a", -1},
	{"plus before dot", "1.0+", "1.0.", -1},
	{"hyphen before dot in upstream", "1.0.1-1", "1.0-1-1", 1},
	{"hyphen in upstream", "1.0-1-1", "1.0-1", 1},
	{"colon after dot in upstream", "1:1.0:1", "1:1.0.1", 1},
	{"plus before dot", "1.0+1", "1.0.1", -1},
	{"trailing dot zero", "1.0.", "1.0.0", 0},
	{"tilde revision before none", "1.0.1-0~rc", "1.0.1", -1},
	{"long numbers", "1.18446744073709551616", "1.18446744073709551615", 1},
	{"long numbers equal with zeros", "1.0000000000000000000000001", "1.1", 0},
	{"seed rc vs final", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", "0.11.0", -1},
	{"seed rc vs 0.11", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", "0.11", -1},
	{"seed rc vs 0.10.2", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", "0.10.2", 1},
	{"seed rc vs rc1", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", "0.11~rc1", 1},
	{"seed rc vs rc2", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", "0.11~rc2", -1},
	{"gbp snapshot revision", "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", "0.11~rc1-22-gfc01058-1", -1},
	{"release ordering", "0.10.2", "0.11.0", -1},
	{"0.11 before 0.11.0", "0.11", "0.11.0", -1},
	{"0.9 before 0.11", "0.9", "0.11", -1},
}

func TestCompare(t *testing.T) {
	for _, tt := range comparePairs {
		t.Run(tt.name, func(t *testing.T) {
			va, vb := MustParse(tt.a), MustParse(tt.b)
			if got := va.Compare(vb); got != tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := vb.Compare(va); got != -tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

// TestVerrevcmp runs the part comparison directly, including dpkg's own
// vectors whose parts do not start with a digit (which Parse rejects).
func TestVerrevcmp(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"both empty", "", "", 0},
		{"letters", "a", "b", -1},
		{"tilde vs empty", "~", "", -1},
		{"empty vs letter", "", "a", -1},
		{"empty vs digit zero", "", "0", 0},
		{"empty vs digit", "", "1", -1},
		{"letter vs plus", "a", "+", -1},
		{"tilde vs tilde-letter", "~~", "~~a", -1},
		{"zero runs", "00", "0", 0},
		{"digit then letter", "1a", "1", 1},
		{"high byte sorts after ascii", "1\x80", "1+", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verrevcmp(tt.a, tt.b); got != tt.want {
				t.Errorf("verrevcmp(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := verrevcmp(tt.b, tt.a); got != -tt.want {
				t.Errorf("verrevcmp(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestCompareStrings(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		want  int
		error string
	}{
		{name: "less", a: "1.0~rc1", b: "1.0", want: -1},
		{name: "greater", a: "1:0.1", b: "2.0", want: 1},
		{name: "equal", a: "1.0", b: "1.00", want: 0},
		{name: "bad a", a: "v1", b: "1.0", error: `invalid version "v1"`},
		{name: "bad b", a: "1.0", b: "", error: `invalid version "": version string is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compare(tt.a, tt.b)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("Compare(%q, %q) error = %v, want %q", tt.a, tt.b, err, tt.error)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Compare(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
			}
		})
	}
}

// TestPolicyOrder checks the chain from Debian Policy §5.6.12 plus neighbours:
// every element sorts strictly before the next one.
func TestPolicyOrder(t *testing.T) {
	chain := []string{
		"1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0a+", "1.0a.", "1.0+", "1.0.", "1.0.1-0~rc", "1.0.1",
		"1.0.1-1", "1.0.1-1+b1", "1.0.1-1.1", "1.0.1-2", "1.0.1-10", "1.0.2", "1.1~rc1", "1.1", "1.10",
		"2", "1:0", "1:1.0~beta", "2:0~",
	}
	for i := 0; i+1 < len(chain); i++ {
		a, b := chain[i], chain[i+1]
		t.Run(a+" < "+b, func(t *testing.T) {
			got, err := Compare(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if got != -1 {
				t.Fatalf("Compare(%q, %q) = %d, want -1", a, b, got)
			}
		})
	}
}

// TestAgainstDpkg cross-checks the ordering with the real dpkg. It is skipped
// only when dpkg is not installed.
func TestAgainstDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg not installed; cannot cross-check")
	}
	type pair struct{ a, b string }
	var pairs []pair
	for _, p := range comparePairs {
		pairs = append(pairs, pair{p.a, p.b})
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	for range 300 {
		pairs = append(pairs, pair{randomVersion(rng), randomVersion(rng)})
	}
	for _, p := range pairs {
		t.Run(p.a+" vs "+p.b, func(t *testing.T) {
			got, err := Compare(p.a, p.b)
			if err != nil {
				t.Fatalf("generated an invalid version: %v", err)
			}
			for _, op := range []struct {
				name string
				want bool
			}{
				{"lt", got < 0},
				{"eq", got == 0},
			} {
				cmd := exec.Command(dpkg, "--compare-versions", p.a, op.name, p.b)
				err := cmd.Run()
				var exitErr *exec.ExitError
				switch {
				case err == nil:
					if !op.want {
						t.Errorf("dpkg says %s %s %s, we say %d", p.a, op.name, p.b, got)
					}
				case errors.As(err, &exitErr) && exitErr.ExitCode() == 1:
					if op.want {
						t.Errorf("dpkg says not %s %s %s, we say %d", p.a, op.name, p.b, got)
					}
				default:
					t.Fatalf("dpkg --compare-versions %s %s %s: %v", p.a, op.name, p.b, err)
				}
			}
		})
	}
}

// randomVersion draws a valid version from a small alphabet so that random
// pairs often share prefixes and exercise every branch of the comparison.
func randomVersion(rng *rand.Rand) string {
	const upChars = "0019ab.+~"
	const revChars = "0019aZ.+~"
	var b strings.Builder
	if rng.IntN(4) == 0 {
		fmt.Fprintf(&b, "%d:", rng.IntN(3))
	}
	b.WriteByte("0129"[rng.IntN(4)])
	for range rng.IntN(7) {
		b.WriteByte(upChars[rng.IntN(len(upChars))])
	}
	if rng.IntN(2) == 0 {
		if rng.IntN(4) == 0 {
			b.WriteString("-1") // a hyphen inside upstream
		}
		b.WriteByte('-')
		b.WriteByte(revChars[rng.IntN(len(revChars))])
		for range rng.IntN(4) {
			b.WriteByte(revChars[rng.IntN(len(revChars))])
		}
	}
	return b.String()
}

func FuzzCompare(f *testing.F) {
	for _, p := range comparePairs {
		f.Add(p.a, p.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		if errA != nil || errB != nil {
			return
		}
		ab, ba := va.Compare(vb), vb.Compare(va)
		if ab != -ba {
			t.Fatalf("not antisymmetric: %q vs %q gives %d and %d", a, b, ab, ba)
		}
		if va.Compare(va) != 0 {
			t.Fatalf("%q not equal to itself", a)
		}
		if r, err := Parse(va.String()); err != nil || r.Compare(va) != 0 {
			t.Fatalf("String() of %q does not round-trip: %q", a, va.String())
		}
	})
}
