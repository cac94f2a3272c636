// Package etcd holds the step kinds that talk to etcd with the v3 client:
// etcd.get, etcd.put and etcd.wait on keys, etcd.auth to create users, roles
// and permissions and enable authentication idempotently, and
// etcd.auth_check to prove that anonymous clients are refused and a given
// certificate or user is allowed.
//
// Every kind takes the same `etcd` connection argument (endpoints, TLS
// files, user and password, timeouts) and no `on` target: rokflow itself is
// the etcd client, and the TLS files are read on the machine running it.
// Every call is bounded by a request timeout, because an etcd client whose
// TLS does not match the server waits instead of failing.
//
// The package does not hold rokflow's own state backend or run lock (they
// live in runtime), and it cannot turn on TLS client authentication, which
// is a server start-up flag.
package etcd
