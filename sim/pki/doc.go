// Package pki makes the small X.509 hierarchy the simulator needs: a CA,
// server certificates for loopback services (etcd, the Ganeti RAPI) and
// client certificates whose Common Name is an etcd user. Keys are ECDSA
// P-256, written PEM-encoded with mode 0600; certificates with 0644.
//
// It is for simulated clusters and tests only: certificates are valid for
// ten years and nothing is ever revoked.
package pki
