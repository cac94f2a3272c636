package debversion

import (
	"strings"
	"testing"
)

func TestTrimTagPrefix(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"tag", "v0.11", "0.11"},
		{"upper tag", "V1.2", "1.2"},
		{"no prefix", "0.11", "0.11"},
		{"only v", "v", "v"},
		{"word", "vim", "vim"},
		{"double v", "vv1", "vv1"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TrimTagPrefix(tt.in); got != tt.want {
				t.Fatalf("TrimTagPrefix(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string
		error string
	}{
		{name: "tag", in: "v0.11", want: "0.11"},
		{name: "release", in: "0.11.0", want: "0.11.0"},
		{name: "seed gbp snapshot", in: "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b", want: "0.11"},
		{name: "tagged rc", in: "v0.11.0-rc1", want: "0.11.0"},
		{name: "debian revision", in: "0.10.2-1", want: "0.10.2"},
		{name: "epoch dropped", in: "1:0.11.0-3", want: "0.11.0"},
		{name: "plus suffix", in: "2.0+dfsg-1", want: "2.0"},
		{name: "trailing dot", in: "0.11.", want: "0.11"},
		{name: "letter component", in: "0.11.x", want: "0.11"},
		{name: "single number", in: "11", want: "11"},
		{name: "leading zeros", in: "00.011.0", want: "0.11.0"},
		{name: "blanks", in: " v0.12 ", want: "0.12"},
		{name: "double dot", in: "0..11", want: "0"},

		{name: "empty", in: "", error: "version string is empty"},
		{name: "word", in: "latest", error: "does not start with digit"},
		{name: "prefixed name", in: "rok-0.11", error: "does not start with digit"},
		{name: "bad char", in: "0.11_1", error: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Release(tt.in)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("Release(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.error)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Release(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// A release is itself a valid version and is its own release.
			again, err := Release(got)
			if err != nil || again != got {
				t.Fatalf("Release(%q) = %q, %v; want it idempotent", got, again, err)
			}
		})
	}
}
