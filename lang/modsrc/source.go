package modsrc

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Prefix starts every git module source.
const Prefix = "git::"

// Source is a module source that names a directory of a git repository at
// a pinned ref:
//
//	git::https://git.example.com/ops/rok-lib.git//lib/node-upgrade?ref=v0.11.0
//	git::ssh://git@git.example.com/ops/rok-lib.git?ref=<40-hex commit>
//	git::git@git.example.com:ops/rok-lib.git//lib/node-upgrade?ref=v0.11.0
//	git::file:///srv/git/rok-lib.git//lib/node-upgrade?ref=v0.11.0
type Source struct {
	// Repo is the repository's URL as written, given to git as it is.
	Repo string
	// Ref is a tag name or a full commit hash (40 or 64 lower-case hex
	// digits).
	Ref string
	// Subdir is the module's directory inside the repository, slash
	// separated and clean; "" for the repository's root.
	Subdir string
}

// IsGit reports whether a module source names a git repository rather
// than a local directory.
func IsGit(raw string) bool { return strings.HasPrefix(raw, Prefix) }

// IsCommit reports whether the ref is a commit hash rather than a tag.
func (s Source) IsCommit() bool { return isFullHash(s.Ref) }

// Package is the repository at its ref, without the subdirectory: what
// one checkout holds and one lock entry records, shared by every module
// source that differs only in its subdirectory.
func (s Source) Package() string { return Prefix + s.Repo + "?ref=" + s.Ref }

// String is the source in its canonical form.
func (s Source) String() string {
	sub := ""
	if s.Subdir != "" {
		sub = "//" + s.Subdir
	}
	return Prefix + s.Repo + sub + "?ref=" + s.Ref
}

// Parse reads a git module source. Its errors are *Error; their messages
// never repeat credentials a URL holds, and a source that holds any is
// refused.
func Parse(raw string) (Source, error) {
	if !IsGit(raw) {
		return Source{}, &Error{Summary: "Invalid git module source", Detail: fmt.Sprintf("A git source starts with %q.", Prefix)}
	}
	rest := raw[len(Prefix):]
	var query string
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	// The first "//" after the scheme's own separates the repository
	// from the directory inside it, as in Terraform's sources.
	from := 0
	if i := strings.Index(rest, "://"); i >= 0 {
		from = i + len("://")
	}
	repo, sub := rest, ""
	if i := strings.Index(rest[from:], "//"); i >= 0 {
		repo, sub = rest[:from+i], rest[from+i+2:]
	}
	if err := checkRepo(repo); err != nil {
		return Source{}, err
	}
	ref, err := parseQuery(query)
	if err != nil {
		return Source{}, err
	}
	sub, err = cleanSubdir(sub)
	if err != nil {
		return Source{}, err
	}
	return Source{Repo: repo, Ref: ref, Subdir: sub}, nil
}

// scpLike is git's other spelling of an SSH URL: [user@]host:path.
var scpLike = regexp.MustCompile(`^(?:[A-Za-z0-9._~+-]+@)?[A-Za-z0-9][A-Za-z0-9.-]*:[^:]`)

const howToWrite = "Write the repository as https://HOST/PATH, ssh://[USER@]HOST/PATH, USER@HOST:PATH or file:///ABSOLUTE/PATH, such as git::https://git.example.com/ops/rok-lib.git//lib/node-upgrade?ref=v0.11.0."

func checkRepo(repo string) error {
	invalid := func(detail string) error {
		return &Error{Summary: "Invalid git module source", Detail: detail}
	}
	if repo == "" {
		return invalid("The source names no repository. " + howToWrite)
	}
	if strings.HasPrefix(repo, "-") || strings.ContainsAny(repo, " \t\r\n\x00") {
		return invalid("A repository URL may not start with \"-\" nor hold spaces or control characters.")
	}
	i := strings.Index(repo, "://")
	if i < 0 {
		if hasPassword(repo) {
			return credentialsError()
		}
		if !scpLike.MatchString(repo) {
			return invalid("The repository is not a URL git can fetch from. " + howToWrite)
		}
		return nil
	}
	scheme := strings.ToLower(repo[:i])
	u, err := url.Parse(repo)
	if err != nil {
		// url.Parse quotes the whole URL in its error; say what is wrong
		// without it, since it may hold a password.
		if hasUserinfo(repo) {
			return credentialsError()
		}
		return invalid("The repository URL does not parse. " + howToWrite)
	}
	if u.Fragment != "" || strings.Contains(repo, "#") {
		return invalid("A repository URL has no #fragment.")
	}
	switch scheme {
	case "https":
		// Any userinfo in an https URL is a credential: a token passes as
		// a user name as well as a password does.
		if u.User != nil {
			return credentialsError()
		}
		if u.Host == "" {
			return invalid("The https URL names no host. " + howToWrite)
		}
	case "ssh":
		if _, ok := u.User.Password(); ok {
			return credentialsError()
		}
		if u.Hostname() == "" || strings.HasPrefix(u.Hostname(), "-") {
			return invalid("The ssh URL names no host. " + howToWrite)
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return invalid("A file URL names a path on this machine: file:///ABSOLUTE/PATH.")
		}
		if !path.IsAbs(u.Path) {
			return invalid("A file URL needs an absolute path: file:///ABSOLUTE/PATH.")
		}
	case "http", "git":
		if u.User != nil {
			return credentialsError()
		}
		return invalid(fmt.Sprintf("%s:// is not encrypted: anyone on the way could change the modules fetched before they are first locked. Use https:// or ssh://.", scheme))
	default:
		if u.User != nil {
			return credentialsError()
		}
		return invalid(fmt.Sprintf("rokflow fetches git repositories over https, ssh and file URLs, not %s://. %s", scheme, howToWrite))
	}
	return nil
}

// hasUserinfo reports whether a URL that may not parse names a user
// before its host.
func hasUserinfo(repo string) bool {
	rest := repo[strings.Index(repo, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return strings.Contains(rest, "@")
}

// hasPassword reports whether an address without a scheme starts with
// user:password@, which git would take for an scp-like address.
func hasPassword(repo string) bool {
	at := strings.IndexByte(repo, '@')
	if at < 0 {
		return false
	}
	if slash := strings.IndexByte(repo, '/'); slash >= 0 && slash < at {
		return false
	}
	return strings.Contains(repo[:at], ":")
}

func credentialsError() error {
	return &Error{
		Summary: "Credentials in a module source",
		Detail: "The repository URL holds credentials; rokflow would copy them into rokflow.lock.hcl and print them in messages. " +
			"Remove them from the source and let git find them: a credential helper for https (git config credential.helper), an SSH key or agent for ssh.",
		Secret: true,
	}
}

func parseQuery(query string) (string, error) {
	invalid := func(detail string) error {
		return &Error{Summary: "Invalid git module source", Detail: detail}
	}
	const pin = "Pin a tag or a full commit hash: ?ref=v0.11.0 or ?ref=<40-hex commit>."
	if query == "" {
		return "", &Error{Summary: "Unpinned git module source", Detail: "A git source needs a ref; without one it would follow whatever the repository's default branch holds. " + pin}
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return "", invalid("The ?query after the repository does not parse. " + pin)
	}
	for k := range vals {
		if k != "ref" {
			// Name the parameter, never its value: it may be a token.
			return "", invalid(fmt.Sprintf("Unknown parameter %q; a git source takes only ref.", k))
		}
	}
	refs := vals["ref"]
	if len(refs) != 1 || refs[0] == "" {
		return "", &Error{Summary: "Unpinned git module source", Detail: "Give exactly one non-empty ref. " + pin}
	}
	ref := refs[0]
	return ref, checkRef(ref)
}

var hexDigits = regexp.MustCompile(`^[0-9a-fA-F]+$`)

func isFullHash(ref string) bool {
	return (len(ref) == 40 || len(ref) == 64) && hexDigits.MatchString(ref) && strings.ToLower(ref) == ref
}

// checkRef refuses what cannot be a pinned tag or a full commit hash. A
// branch name passes here (it looks like a tag); modules get refuses it
// when the repository says it is one.
func checkRef(ref string) error {
	unpinned := func(detail string) error {
		return &Error{Summary: "Unpinned git module source", Detail: detail}
	}
	switch {
	case isFullHash(ref):
		return nil
	case hexDigits.MatchString(ref) && (len(ref) == 40 || len(ref) == 64):
		return unpinned("Write the commit hash in lower case, as git prints it.")
	case hexDigits.MatchString(ref) && len(ref) >= 7 && len(ref) < 40:
		return unpinned(fmt.Sprintf("%q looks like an abbreviated commit hash, which another commit may come to share; give all 40 hex digits (git rev-parse %s).", ref, ref))
	case ref == "HEAD" || strings.HasPrefix(ref, "refs/"):
		return unpinned(fmt.Sprintf("ref = %q does not pin a commit. Give a tag's name (v0.11.0, not refs/tags/v0.11.0) or a full commit hash.", ref))
	}
	if !validRefName(ref) {
		return &Error{Summary: "Invalid git module source", Detail: fmt.Sprintf("%q is not a valid tag name.", ref)}
	}
	return nil
}

// validRefName applies git's rules for a ref's name (git check-ref-format)
// that matter here, and refuses a leading "-" so that a ref can never be
// taken for an option.
func validRefName(ref string) bool {
	if ref == "" || strings.HasPrefix(ref, "-") || strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") ||
		strings.HasSuffix(ref, ".") || strings.HasSuffix(ref, ".lock") || ref == "@" ||
		strings.Contains(ref, "..") || strings.Contains(ref, "//") || strings.Contains(ref, "@{") || strings.Contains(ref, "/.") ||
		strings.HasPrefix(ref, ".") {
		return false
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	return true
}

func cleanSubdir(sub string) (string, error) {
	if sub == "" {
		return "", nil
	}
	invalid := &Error{Summary: "Invalid git module source", Detail: "The directory after \"//\" must be a relative path inside the repository, such as //lib/node-upgrade."}
	if strings.HasPrefix(sub, "/") || strings.Contains(sub, "\\") || strings.ContainsAny(sub, "\x00\r\n") {
		return "", invalid
	}
	c := path.Clean(sub)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", invalid
	}
	if c == "." {
		return "", nil
	}
	return c, nil
}
