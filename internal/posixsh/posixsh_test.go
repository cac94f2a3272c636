package posixsh

import (
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"empty":          {"", `''`},
		"plain":          {"ls", `'ls'`},
		"space":          {"a b", `'a b'`},
		"single quote":   {"it's", `'it'\''s'`},
		"only quotes":    {"''", `''\'''\'''`},
		"double quote":   {`say "hi"`, `'say "hi"'`},
		"dollar":         {"$HOME `id`", "'$HOME `id`'"},
		"newline":        {"a\nb", "'a\nb'"},
		"tab and cr":     {"a\tb\r", "'a\tb\r'"},
		"non-ASCII":      {"grüße ☃", "'grüße ☃'"},
		"backslash":      {`a\b`, `'a\b'`},
		"leading dash":   {"-rf", `'-rf'`},
		"trailing quote": {"a'", `'a'\'''`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Quote(tt.in); got != tt.want {
				t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestWord(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"empty":        {"", `''`},
		"plain":        {"playbooks/rok-v0.11", "playbooks/rok-v0.11"},
		"every plain":  {"aZ09_@%+=:,./-", "aZ09_@%+=:,./-"},
		"space":        {"my dir", `'my dir'`},
		"single quote": {"o'neil", `'o'\''neil'`},
		"newline":      {"a\nb", "'a\nb'"},
		"non-ASCII":    {"café", "'café'"},
		"glob":         {"*.hcl", `'*.hcl'`},
		"tilde":        {"~/x", `'~/x'`},
		"brackets":     {`node["a"]`, `'node["a"]'`},
		"semicolon":    {"a;b", `'a;b'`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Word(tt.in); got != tt.want {
				t.Errorf("Word(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestQuoteReadBack checks Quote and Word against real shells with many
// strings.
func TestQuoteReadBack(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("'\"\\$`;&|<>(){}[]*?~#!\n\t =%^-a")
	cases := []string{"", "'", "''", `'\''`, "a'b'c", "\n", "grüße\n☃", "plain", "-n"}
	for range 200 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, quote := range []func(string) string{Quote, Word} {
		var script strings.Builder
		for _, c := range cases {
			script.WriteString("printf '%s\\0' " + quote(c) + "\n")
		}
		for _, sh := range []string{"sh", "bash"} {
			if _, err := exec.LookPath(sh); err != nil {
				continue
			}
			out, err := exec.Command(sh, "-c", script.String()).Output()
			if err != nil {
				t.Fatalf("%s: %v", sh, err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if !reflect.DeepEqual(got, cases) {
				t.Errorf("%s read back %q, want %q", sh, got, cases)
			}
		}
	}
}
