// Package views renders what rokflow has to say to people and programs:
// diagnostics with source snippets, plans as text and JSON, the instance
// graph as Graphviz DOT and Mermaid, and step kind documentation. It is
// the only package that knows about color; the engine never prints.
package views
