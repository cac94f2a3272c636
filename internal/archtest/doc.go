// Package archtest holds no code: its test checks that rokflow's packages
// import each other only in the directions docs/architecture.md draws.
package archtest
