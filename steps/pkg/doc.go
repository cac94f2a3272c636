// Package pkg provides the package-manager kinds; today `apt`, which
// installs Debian packages with apt-get, non-interactively, passing dpkg
// options such as --force-confold through `-o Dpkg::Options::=…`.
//
// Package names, versions and dpkg options are checked against Debian's
// rules before anything runs, so a value can never become an apt-get option
// or a second command. The package does not own how the command reaches the
// host (the transports) nor package repositories or keys.
package pkg
