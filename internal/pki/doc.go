// Package pki makes the small X.509 hierarchies the simulator and the
// tests need: a CA, server certificates for loopback services (etcd, the
// Ganeti RAPI) and client certificates whose Common Name is an etcd user.
// Keys are ECDSA P-256, written PEM-encoded with mode 0600; certificates
// with 0644. The simulator (sim/server) and the test etcd servers
// (internal/etcdtest) both make theirs here.
//
// It is for simulated clusters and tests only: certificates are valid for
// ten years and nothing is ever revoked.
package pki
