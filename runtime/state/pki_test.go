package state

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/rokflow/rokflow/internal/pki"
)

// testPKI is a CA and certificates made for one test, as PEM files.
type testPKI struct {
	dir string
	ca  *pki.CA
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, err := pki.NewCA("rokflow test CA")
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{dir: t.TempDir(), ca: ca}
	if err := os.WriteFile(p.CAFile(), ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *testPKI) CAFile() string { return filepath.Join(p.dir, "ca.pem") }

// issue makes a certificate for cn, valid for 127.0.0.1 when server is set,
// and returns its certificate and key files.
func (p *testPKI) issue(t *testing.T, cn string, server bool) (certFile, keyFile string) {
	t.Helper()
	var pair pki.Pair
	var err error
	if server {
		pair, err = p.ca.Server(cn, []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"})
	} else {
		pair, err = p.ca.Client(cn)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := pair.Write(p.dir, cn); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(p.dir, cn+".crt"), filepath.Join(p.dir, cn+".key")
}
