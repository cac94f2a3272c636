package httpreq

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// tlsConfig builds the client's TLS configuration. Verification is on by
// default against the system's CAs, or ca_file's. A pin is checked on top;
// without ca_file it replaces the chain and host name checks, because a
// pinned certificate is usually self-signed and the pin names it exactly.
func (o tlsOptions) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("reading ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", o.caFile)
		}
		cfg.RootCAs = pool
	}
	cfg.InsecureSkipVerify = o.insecure || (o.pin != nil && o.caFile == "")
	if o.pin != nil {
		pin := o.pin
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !bytes.Equal(sum[:], pin) {
				return &pinError{got: sum[:]}
			}
			return nil
		}
	}
	return cfg, nil
}

// pinError says the server's certificate is not the pinned one.
type pinError struct{ got []byte }

func (e *pinError) Error() string {
	return "the server's certificate has SHA-256 fingerprint " + fingerprint(e.got) + ", not the pinned one"
}
