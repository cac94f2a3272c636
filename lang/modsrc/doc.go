// Package modsrc owns module sources that are git repositories: their
// syntax (git::URL//DIR?ref=TAG-OR-COMMIT), where their checkouts live
// (.rokflow/modules beside the playbook), the lock file that pins each
// repository and ref to a commit and a hash of its files
// (rokflow.lock.hcl), and the two ways of resolving a source to a
// directory: Cache, which only reads what was fetched and checks it
// against the lock (validate, plan, apply), and Installer, which runs git
// to fetch and writes the lock ("rokflow modules get").
//
// It does not load modules: package lang asks a Resolver for a
// checkout and loads the directory itself, relative sources inside a
// checkout included.
package modsrc
