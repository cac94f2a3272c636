// Package etcd is the simulator's etcd room: a real embedded etcd on
// 127.0.0.1 with TLS and client-certificate authentication, its PKI under
// DIR/etcd (a CA, the server's certificate, the cluster's client
// certificate with CN rok and a root one), the mirror of the cluster's
// state at /rok/cluster, and the RBAC that enable-etcd-auth turns on
// through the client v3 API.
//
// It owns etcd only. It knows nothing of the cluster model: the simulator
// (package sim/server) hands it the ports to use, the snapshots to
// publish, and decides when authentication is enabled.
package etcd
