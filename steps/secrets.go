package steps

import "slices"

// Secrets is what a kind declares, as data, about where a sensitive
// argument can reach in what it produces. The core owns the rule built on
// it (runtime/taint.go): when a step's arguments hold a sensitive value
// outside its Credentials, every output not listed Clean is sensitive and
// every line the kind streams is withheld unless CleanStream.
//
// The zero value declares nothing clean, and that is the safe default: a
// command given a password may print it upper-cased, base64-encoded or a
// character at a time, which no search for the literal value can catch.
// Only the kind knows what its results are made of, so only the kind can
// prove part of them clean; it must not claim more than it can prove.
type Secrets struct {
	// Credentials are arguments the kind only authenticates with, or only
	// uses to reach the service it talks to (a Ganeti RAPI or etcd
	// connection). A sensitive value there is sent as a credential, never
	// as data the service could send back, so it taints no output or line.
	Credentials []string
	// Clean are outputs that cannot carry an argument's value: an exit
	// status, a job id the service assigned, a flag the kind computes.
	Clean []string
	// CleanStream says every line the kind passes to RunRequest.Output is
	// written by the kind from values it knows to be clean, never text a
	// program or a service produced after receiving the arguments.
	CleanStream bool
}

// IsCredential reports whether the argument name is one of Credentials.
func (s Secrets) IsCredential(name string) bool { return slices.Contains(s.Credentials, name) }

// IsClean reports whether the output name is one of Clean.
func (s Secrets) IsClean(name string) bool { return slices.Contains(s.Clean, name) }
