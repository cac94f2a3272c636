// Package file provides the file-editing kinds: `file.replace`, which
// replaces text (literally or by regular expression) in the files matching a
// list of paths and globs, and `file.write`, which sets a file's whole
// contents and optionally its mode.
//
// Both are idempotent, and guarantee it: file.replace refuses an edit that
// would change a file again when run a second time. Both write through
// steps.Host.WriteFile, which replaces a file atomically and keeps its mode
// and owner. Before the first change to a file they keep its original
// contents in PATH.rokflow-bak; that name is fixed, not timestamped, so
// re-running a step never replaces the backup of the original with a backup
// of an edited file, and globs never match backups. With a host to read
// from, Plan shows a unified diff (`--- a/PATH`, `+++ b/PATH`); sensitive
// contents show as "(sensitive)" instead.
//
// The package does not own how files reach a host (the transports) nor
// parsing of particular file formats (the Rok kinds rewrite endpoints).
package file
