// Package stepstest helps test step kinds and the code that drives them.
//
// It owns three things: Recorder, a configurable kind that records every
// Plan and Run request and answers with injected results (for the runtime's
// tests); CheckKind, the conformance checks every kind's tests call (a
// complete schema, no panic on unknown arguments, no sensitive value leaked
// by Plan); and Args, which decodes a step body written in HCL with a kind's
// schema the way the core does, so kind tests exercise real decoding. It is
// imported by tests only; no kind depends on it.
package stepstest
