// Package schema describes the shape of a step kind's arguments as data: a
// Block of typed Attributes and nested blocks. The core turns a Block into an
// hcldec.Spec to decode and type-check a step body, and into documentation for
// `rokflow steps`. It also owns the names of the step meta-arguments, which
// the step decoder (lang) takes for the step and kind schemas may not reuse.
// It knows nothing about HCL files, evaluation or kinds.
package schema
