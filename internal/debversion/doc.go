// Package debversion parses and orders Debian package version strings the
// way dpkg does, and extracts Rok release numbers from them.
//
// A Debian version has the form [epoch:]upstream[-revision] (deb-version(7)):
// the epoch is a small unsigned integer (0 when absent), the revision is
// everything after the last hyphen, and the upstream part is what remains.
// Compare and Version.Compare reproduce dpkg's ordering exactly (the
// verrevcmp algorithm of lib/dpkg/version.c): epochs compare numerically,
// then upstream and revision are compared as alternating runs of non-digits
// and digits, where in non-digit runs '~' sorts before everything (even the
// end of the string), letters sort before all other characters, and digit
// runs compare numerically (leading zeros ignored). The test suite
// cross-checks the ordering against `dpkg --compare-versions` when dpkg is
// installed.
//
// Parsing follows dpkg's parseversion but is stricter: what dpkg merely warns
// about (an upstream part not starting with a digit, characters outside
// [A-Za-z0-9.+~:-] in upstream or outside [A-Za-z0-9.+~] in the revision) is
// an error here, and so is a signed epoch.
//
// Release and TrimTagPrefix deal with Rok release numbers ("0.11", "0.11.0")
// as they appear in tags ("v0.11") and package versions
// ("0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"); see Release for the exact
// rule.
//
// This package owns only string handling. It knows nothing about which
// release a cluster runs, what upgrade path is allowed, or cty/HCL; the
// playbook functions built on it live in lang/funcs.
package debversion
