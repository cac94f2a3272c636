// Package jsondoc owns the one versioning convention of the JSON rokflow
// prints and writes: every document (the plan and a saved plan file,
// state show and list, sim status and faults, steps, test, validate) and
// every line of the apply event stream begins with a "format_version"
// string "MAJOR.MINOR". The minor number grows when fields are added,
// which readers ignore; the major number grows when a field changes
// meaning or goes away, and a reader refuses a major it does not know.
//
// Each kind of document is a Doc with its version; Header is the field to
// embed first in a document's type, Write writes a document after making
// sure it carries its version, and Check is what every reader of
// rokflow's own JSON calls before decoding it. The journal and the
// simulator's files are stores, not documents, and keep their own
// record versions (runtime/state, sim).
//
// It imports nothing of rokflow's, so every layer may use it.
package jsondoc
