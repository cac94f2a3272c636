package modsrc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/lang/modsrc"
)

const commit = "0e14d56b5bab2574d09024b3e0196b16343c895c"

func TestParse(t *testing.T) {
	tests := map[string]struct {
		raw  string
		want modsrc.Source
	}{
		"https with a directory and a tag": {
			raw:  "git::https://git.example.com/ops/rok-lib.git//lib/node-upgrade?ref=v0.11.0",
			want: modsrc.Source{Repo: "https://git.example.com/ops/rok-lib.git", Ref: "v0.11.0", Subdir: "lib/node-upgrade"},
		},
		"https at the root": {
			raw:  "git::https://git.example.com/ops/rok-lib.git?ref=v0.11.0",
			want: modsrc.Source{Repo: "https://git.example.com/ops/rok-lib.git", Ref: "v0.11.0"},
		},
		"file URL and a commit": {
			raw:  "git::file:///srv/git/rok-lib.git//sub?ref=" + commit,
			want: modsrc.Source{Repo: "file:///srv/git/rok-lib.git", Ref: commit, Subdir: "sub"},
		},
		"ssh URL with a user and port": {
			raw:  "git::ssh://git@git.example.com:2222/ops/rok-lib.git//lib?ref=release/0.11",
			want: modsrc.Source{Repo: "ssh://git@git.example.com:2222/ops/rok-lib.git", Ref: "release/0.11", Subdir: "lib"},
		},
		"scp-like": {
			raw:  "git::git@git.example.com:ops/rok-lib.git//lib/node-upgrade?ref=v0.11.0",
			want: modsrc.Source{Repo: "git@git.example.com:ops/rok-lib.git", Ref: "v0.11.0", Subdir: "lib/node-upgrade"},
		},
		"directory cleaned": {
			raw:  "git::https://h/r.git//lib/./a/?ref=v1",
			want: modsrc.Source{Repo: "https://h/r.git", Ref: "v1", Subdir: "lib/a"},
		},
		"sha-256 commit": {
			raw:  "git::https://h/r.git?ref=" + strings.Repeat("ab", 32),
			want: modsrc.Source{Repo: "https://h/r.git", Ref: strings.Repeat("ab", 32)},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := modsrc.Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Parse = %+v, want %+v", got, tt.want)
			}
			if got.String() != strings.Replace(tt.raw, "/./a/", "/a", 1) {
				t.Errorf("String() = %q", got.String())
			}
			if strings.Contains(got.Package(), "//"+got.Subdir+"?") && got.Subdir != "" {
				t.Errorf("Package() = %q keeps the directory", got.Package())
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := map[string]struct {
		raw     string
		summary string
		detail  string
	}{
		"no ref":                 {"git::https://h/r.git//lib", "Unpinned git module source", "needs a ref"},
		"empty ref":              {"git::https://h/r.git?ref=", "Unpinned git module source", "exactly one"},
		"two refs":               {"git::https://h/r.git?ref=v1&ref=v2", "Unpinned git module source", "exactly one"},
		"abbreviated commit":     {"git::https://h/r.git?ref=0e14d56", "Unpinned git module source", "abbreviated commit hash"},
		"upper-case commit":      {"git::https://h/r.git?ref=" + strings.ToUpper(commit), "Unpinned git module source", "lower case"},
		"HEAD":                   {"git::https://h/r.git?ref=HEAD", "Unpinned git module source", "does not pin"},
		"full ref name":          {"git::https://h/r.git?ref=refs/tags/v1", "Unpinned git module source", "not refs/tags/v0.11.0"},
		"ref like an option":     {"git::https://h/r.git?ref=--upload-pack=x", "Invalid git module source", "not a valid tag name"},
		"ref with dots":          {"git::https://h/r.git?ref=a..b", "Invalid git module source", "not a valid tag name"},
		"unknown parameter":      {"git::https://h/r.git?ref=v1&depth=1", "Invalid git module source", `"depth"`},
		"directory escapes":      {"git::https://h/r.git//../x?ref=v1", "Invalid git module source", "inside the repository"},
		"directory absolute":     {"git::https://h/r.git///etc?ref=v1", "Invalid git module source", "inside the repository"},
		"plain path":             {"git::/srv/git/r.git?ref=v1", "Invalid git module source", "file:///ABSOLUTE/PATH"},
		"relative path":          {"git::../r.git?ref=v1", "Invalid git module source", "not a URL git can fetch"},
		"http":                   {"git::http://h/r.git?ref=v1", "Invalid git module source", "not encrypted"},
		"git protocol":           {"git::git://h/r.git?ref=v1", "Invalid git module source", "not encrypted"},
		"other scheme":           {"git::ext::sh -c x?ref=v1", "Invalid git module source", "spaces"},
		"ext transport":          {"git::ext::sh?ref=v1", "Invalid git module source", "not a URL git can fetch"},
		"ftp":                    {"git::ftp://h/r.git?ref=v1", "Invalid git module source", "not ftp://"},
		"repository like option": {"git::-oProxyCommand=x:r?ref=v1", "Invalid git module source", `start with "-"`},
		"file URL with a host":   {"git::file://server/r.git?ref=v1", "Invalid git module source", "this machine"},
		"fragment":               {"git::https://h/r.git#x?ref=v1", "Invalid git module source", "fragment"},
		"no repository":          {"git::?ref=v1", "Invalid git module source", "no repository"},
		"not git":                {"https://h/r.git?ref=v1", "Invalid git module source", `starts with "git::"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := modsrc.Parse(tt.raw)
			var e *modsrc.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tt.raw, err)
			}
			if e.Summary != tt.summary || !strings.Contains(e.Detail, tt.detail) {
				t.Errorf("Parse(%q) = %q: %q, want %q containing %q", tt.raw, e.Summary, e.Detail, tt.summary, tt.detail)
			}
		})
	}
}

// TestParseCredentials refuses URLs with credentials, and never repeats
// them in what it says.
func TestParseCredentials(t *testing.T) {
	for _, raw := range []string{
		"git::https://alice:s3cr3t@git.example.com/ops/r.git?ref=v1",
		"git::https://s3cr3t@git.example.com/ops/r.git?ref=v1", // a token as the user name
		"git::ssh://alice:s3cr3t@git.example.com/ops/r.git?ref=v1",
		"git::alice:s3cr3t@git.example.com:ops/r.git?ref=v1",
		"git::http://alice:s3cr3t@git.example.com/ops/r.git?ref=v1",
		"git::https://alice:s3cr3t@git.example.com:99999999/r.git?ref=v1", // does not parse
		"git::https://h/r.git?ref=v1&token=s3cr3t",
	} {
		_, err := modsrc.Parse(raw)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Parse(%q) = %v, which repeats the secret", raw, err)
		}
		var e *modsrc.Error
		if errors.As(err, &e) && !strings.Contains(raw, "token=") && (e.Summary != "Credentials in a module source" || !e.Secret) {
			t.Errorf("Parse(%q) = %q, want the credentials refused as a secret", raw, e.Summary)
		}
	}
	// A user name alone is how ssh logs in, not a secret.
	if _, err := modsrc.Parse("git::ssh://git@git.example.com/ops/r.git?ref=v1"); err != nil {
		t.Errorf("ssh user refused: %v", err)
	}
}

func TestCheckoutName(t *testing.T) {
	a, _ := modsrc.Parse("git::https://git.example.com/ops/rok-lib.git//lib/a?ref=v0.11.0")
	b, _ := modsrc.Parse("git::https://git.example.com/ops/rok-lib.git//lib/b?ref=v0.11.0")
	c, _ := modsrc.Parse("git::https://git.example.com/other/rok-lib.git?ref=v0.11.0")
	d, _ := modsrc.Parse("git::git@h:rok-lib.git?ref=" + commit)
	if modsrc.CheckoutName(a) != modsrc.CheckoutName(b) {
		t.Errorf("two directories of one repository and ref have two checkouts: %s, %s", modsrc.CheckoutName(a), modsrc.CheckoutName(b))
	}
	if modsrc.CheckoutName(a) == modsrc.CheckoutName(c) {
		t.Errorf("two repositories share the checkout %s", modsrc.CheckoutName(a))
	}
	if n := modsrc.CheckoutName(a); !strings.HasPrefix(n, "rok-lib-v0.11.0-") {
		t.Errorf("CheckoutName = %q, want it to start with the repository and the ref", n)
	}
	if n := modsrc.CheckoutName(d); !strings.HasPrefix(n, "rok-lib-"+commit[:12]+"-") {
		t.Errorf("CheckoutName = %q, want a short commit", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"git::https://git.example.com/ops/rok-lib.git//lib/node-upgrade?ref=v0.11.0",
		"git::git@h:o/r.git//a?ref=" + commit,
		"git::file:///srv/r.git?ref=v1",
		"git::https://u:p@h/r.git?ref=v1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := modsrc.Parse(raw)
		if err != nil {
			return
		}
		// What parses is pinned and stays in its repository, and reads
		// back the same.
		if s.Ref == "" || strings.HasPrefix(s.Subdir, "..") || strings.HasPrefix(s.Subdir, "/") {
			t.Fatalf("Parse(%q) = %+v", raw, s)
		}
		again, err := modsrc.Parse(s.String())
		if err != nil || again != s {
			t.Fatalf("Parse(String()) of %q = %+v, %v; want %+v", raw, again, err, s)
		}
		_ = modsrc.CheckoutName(s)
	})
}
