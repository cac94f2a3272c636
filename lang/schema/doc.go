// Package schema describes the shape of a step kind's arguments as data: a
// Block of typed Attributes and nested blocks. The core turns a Block into an
// hcldec.Spec to decode and type-check a step body, and into documentation for
// `rokflow steps`. It knows nothing about HCL files, evaluation or kinds.
package schema
