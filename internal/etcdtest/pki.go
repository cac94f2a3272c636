package etcdtest

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/rokflow/rokflow/internal/pki"
)

// PKI is a throw-away certificate authority with a server certificate and
// client certificates, as PEM files in one directory: ca.crt,
// server.crt/.key, and <cn>.crt/.key for each client. A client
// certificate's CN is its name: the etcd user it acts as once auth is on.
type PKI struct {
	Dir string
}

// NewPKI makes a CA, a server certificate for 127.0.0.1 and one client
// certificate per name in clients (package pki), in a new temporary
// directory of the test.
func NewPKI(t testing.TB, clients ...string) *PKI {
	t.Helper()
	p := &PKI{Dir: filepath.Join(t.TempDir(), "pki")}
	ca, err := pki.NewCA("etcdtest CA")
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteFile(p.CAFile(), ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	// etcd's gRPC gateway dials the server with the server's own
	// certificate, so it is a client certificate as well (pki's are).
	srv, err := ca.Server("etcd-server", []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
	if err == nil {
		err = srv.Write(p.Dir, "server")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, cn := range clients {
		c, err := ca.Client(cn)
		if err == nil {
			err = c.Write(p.Dir, cn)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// CAFile is the CA certificate.
func (p *PKI) CAFile() string { return filepath.Join(p.Dir, "ca.crt") }

// CertFile is the certificate of name ("server" or a client CN).
func (p *PKI) CertFile(name string) string { return filepath.Join(p.Dir, name+".crt") }

// KeyFile is the unencrypted key of name ("server" or a client CN).
func (p *PKI) KeyFile(name string) string { return filepath.Join(p.Dir, name+".key") }

// ServerTLS is the server side of TLS with p's server certificate. With
// clientCertAuth it requires client certificates signed by p's CA; without,
// it takes any client (and so does not name the CA: etcd would require
// client certificates anyway).
func (p *PKI) ServerTLS(clientCertAuth bool) *TLS {
	tl := &TLS{CertFile: p.CertFile("server"), KeyFile: p.KeyFile("server")}
	if clientCertAuth {
		tl.TrustedCAFile, tl.ClientCertAuth = p.CAFile(), true
	}
	return tl
}
