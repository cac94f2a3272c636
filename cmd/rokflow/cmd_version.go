package main

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"

	"golang.org/x/mod/module"

	"github.com/rokflow/rokflow/internal/jsondoc"
)

// Version is rokflow's version. The Makefile sets it at build time with
// -ldflags "-X main.Version=…" (the release and the commit); a binary
// built otherwise (go install …@v1.2.3, go build) takes it from its build
// information when Main starts (resolveVersion). requires_rokflow is
// checked against the release it begins with.
var Version = ""

// devVersion is the version of a build that knows neither a stamped
// version nor a module version: the release being worked towards, as the
// Makefile's RELEASE says.
const devVersion = "0.1.0-dev"

// resolveVersion fills Version from the build information when the
// build did not stamp it.
func resolveVersion() {
	if Version == "" {
		Version = buildVersion(debug.ReadBuildInfo)
	}
}

// buildVersion is the version a build's information gives: the module
// version go install recorded (v1.2.3); for a build from a commit that no
// tag names (a pseudo-version based on v0.0.0, or a build in a checkout
// that records only the commit), devVersion with the commit after a +
// and -dirty when the work tree had changes, as the Makefile's git
// describe writes it.
func buildVersion(read func() (*debug.BuildInfo, bool)) string {
	info, ok := read()
	if !ok {
		return devVersion
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	v := info.Main.Version
	if module.IsPseudoVersion(v) {
		if base, err := module.PseudoVersionBase(v); err == nil && base != "" {
			return v // a commit after a tagged release says which
		}
		if r, err := module.PseudoVersionRev(v); err == nil && rev == "" {
			rev = r
		}
		if build := buildSuffix(v); build == "+dirty" {
			modified = true
		}
	} else if v != "" && v != "(devel)" {
		return v
	}
	if rev == "" {
		return devVersion
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v = devVersion + "+" + rev
	if modified {
		v += "-dirty"
	}
	return v
}

// buildSuffix returns the +build part of a version, "" without one.
func buildSuffix(v string) string {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == '+' {
			return v[i:]
		}
	}
	return ""
}

// versionLine is what version and --version print.
func versionLine() string {
	return fmt.Sprintf("rokflow %s (%s, plan format %s, event format %s)", Version, goruntime.Version(), jsondoc.Plan.Version, jsondoc.Events.Version)
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints rokflow's version and the formats it writes.
func (VersionCmd) Run(a *App) error {
	fmt.Fprintln(a.Stdout, versionLine())
	return nil
}
