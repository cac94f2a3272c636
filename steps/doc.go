// Package steps owns the step-kind contract: what a kind declares about itself
// (its argument schema as data, its outputs, its side-effect class), how the
// core asks it to describe a planned action and to run, and the Registry that
// maps kind names to kinds. Built-in kinds live in sub-packages and are wired
// explicitly by steps/builtin; nothing registers itself from init.
//
// Kinds never see HCL: the core decodes and evaluates a step body with the
// kind's schema and hands the kind plain cty values. The helpers kinds use
// to read those values and to report on them (Attr, Str, KnownValue,
// Quoted, Display, QuoteArgv, Error, Errorf…) live here, once, so every
// kind reads and speaks the same way. It does not own the graph,
// the plan or the journal (package runtime), nor the language (package lang).
package steps
