// Package views renders what rokflow has to say to people and programs:
// diagnostics with source snippets, plans as text, JSON and DOT, and step
// kind documentation. It is the only package that knows about color; the
// engine never prints.
package views
