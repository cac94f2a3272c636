// Package views renders what rokflow has to say to people and programs:
// diagnostics with source snippets, plans as text and JSON, the instance
// graph as Graphviz DOT and Mermaid, step kind documentation, and the
// runs and steps of a journal for state list and state show. It is
// the only package that knows about color; the engine never prints.
package views
