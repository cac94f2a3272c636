package etcdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a throw-away certificate authority with a server certificate and
// client certificates, as PEM files in one directory: ca.crt,
// server.crt/.key, and <cn>.crt/.key for each client. A client
// certificate's CN is its name: the etcd user it acts as once auth is on.
type PKI struct {
	Dir string
}

// NewPKI makes a CA (ECDSA P-256, valid for an hour either side of now), a
// server certificate for 127.0.0.1 and one client certificate per name in
// clients, in a new temporary directory of the test.
func NewPKI(t testing.TB, clients ...string) *PKI {
	t.Helper()
	p := &PKI{Dir: filepath.Join(t.TempDir(), "pki")}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcdtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.CAFile(), "CERTIFICATE", caDER)
	leaf := func(name, cn string, serial int64, server bool) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if server {
			// etcd's gRPC gateway dials the server with the server's own
			// certificate, so it is a client certificate as well.
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
			tmpl.DNSNames = []string{"localhost"}
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, p.CertFile(name), "CERTIFICATE", der)
		writePEM(t, p.KeyFile(name), "EC PRIVATE KEY", kder)
	}
	leaf("server", "etcd-server", 2, true)
	for i, cn := range clients {
		leaf(cn, cn, int64(10+i), false)
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

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
