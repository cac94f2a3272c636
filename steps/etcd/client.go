package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rokflow/rokflow/steps"
)

// tlsConfig builds the client TLS configuration from the files named in c,
// read on the machine running rokflow.
func (c conn) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// dial returns a client for c. clientv3 does not fail on an unreachable or
// TLS-mismatched server here; calls do, at their deadline.
func (c conn) dial(ctx context.Context) (*clientv3.Client, error) {
	cfg := clientv3.Config{
		Endpoints:   c.Endpoints,
		DialTimeout: c.DialTimeout,
		Username:    c.User,
		Password:    c.Password,
		Context:     ctx,
		Logger:      zap.NewNop(),
	}
	if c.TLS {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	return clientv3.New(cfg)
}

// call bounds one etcd call by the request timeout: a TLS mismatch makes
// calls wait for ever instead of failing.
func (c conn) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(clientv3.WithRequireLeader(ctx), c.RequestTimeout)
}

// withoutIdentity returns c acting as nobody: same endpoints and CA, no
// client certificate and no user.
func (c conn) withoutIdentity() conn {
	c.CertFile, c.KeyFile, c.User, c.Password = "", "", "", ""
	return c
}

// callError turns an etcd error into a diagnostic for people, with a TLS
// hint for timeouts. The connection's password never appears: clientv3
// errors do not carry it, and it is scrubbed anyway.
func (c conn) callError(summary, what string, err error) *hcl.Diagnostic {
	msg := err.Error()
	if c.Password != "" {
		msg = strings.ReplaceAll(msg, c.Password, "(sensitive)")
	}
	detail := fmt.Sprintf("%s on %s: %s.", what, strings.Join(c.Endpoints, ","), msg)
	if errors.Is(err, context.DeadlineExceeded) {
		detail += fmt.Sprintf(" No answer came within %s. etcd clients wait rather than fail when TLS does not match "+
			"(an http:// endpoint on a TLS server, a missing or untrusted client certificate, a wrong ca_file), "+
			"so check those as well as reachability.", c.RequestTimeout)
	}
	return steps.Errorf(summary, "%s", detail)
}

// probeTLS dials the first endpoint with c's TLS settings and reads once, to
// learn whether the server refuses the TLS session (with --client-cert-auth
// a client without a certificate is refused during or right after the
// handshake). refused is true only for such a refusal; err reports a probe
// that could not tell.
func (c conn) probeTLS(ctx context.Context) (refused bool, reason string, err error) {
	if !c.TLS || len(c.Endpoints) == 0 {
		return false, "", errors.New("the endpoints are not https://, so TLS cannot be what refused the client")
	}
	u, err := url.Parse(c.Endpoints[0])
	if err != nil {
		return false, "", err
	}
	tc, err := c.tlsConfig()
	if err != nil {
		return false, "", err
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	tc.NextProtos = []string{"h2"}
	d := &net.Dialer{Timeout: c.DialTimeout}
	raw, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return false, "", fmt.Errorf("cannot reach %s: %w", u.Host, err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(c.DialTimeout))
	tconn := tls.Client(raw, tc)
	if err := tconn.HandshakeContext(ctx); err != nil {
		if isCertRefusal(err) {
			return true, "TLS handshake refused: " + err.Error(), nil
		}
		return false, "", fmt.Errorf("TLS handshake with %s failed: %w", u.Host, err)
	}
	// With TLS 1.3 the server checks the client certificate after the client
	// considers the handshake done; its refusal arrives as an alert on read.
	_ = tconn.SetReadDeadline(time.Now().Add(c.DialTimeout))
	var buf [1]byte
	_, err = tconn.Read(buf[:])
	if err != nil && isCertRefusal(err) {
		return true, "TLS session refused: " + err.Error(), nil
	}
	return false, "", fmt.Errorf("the server at %s accepted a TLS session without a client certificate", u.Host)
}

func isCertRefusal(err error) bool {
	s := err.Error()
	return strings.Contains(s, "certificate required") || strings.Contains(s, "bad certificate") ||
		strings.Contains(s, "unknown certificate") || strings.Contains(s, "handshake failure")
}

// authEnabled tells whether etcd authentication is on. It asks AuthStatus,
// which etcd has only since 3.5; an older server (Rok's era) answers
// Unimplemented, and then an Authenticate call with a made-up user tells:
// "authentication is not enabled" when off, "authentication failed" when on.
func (c conn) authEnabled(ctx context.Context, cli *clientv3.Client) (bool, error) {
	cctx, cancel := c.call(ctx)
	st, err := cli.AuthStatus(cctx)
	cancel()
	if err == nil {
		return st.Enabled, nil
	}
	if errors.Is(err, rpctypes.ErrUserEmpty) || errors.Is(err, rpctypes.ErrPermissionDenied) {
		// From etcd 3.5 on, AuthStatus answers only root once auth is on.
		return true, nil
	}
	if status.Code(err) != codes.Unimplemented {
		return false, err
	}
	cctx, cancel = c.call(ctx)
	defer cancel()
	_, err = cli.Authenticate(cctx, "rokflow-auth-probe", "rokflow-auth-probe")
	switch {
	case errors.Is(err, rpctypes.ErrAuthNotEnabled):
		return false, nil
	case errors.Is(err, rpctypes.ErrAuthFailed), err == nil:
		return true, nil
	}
	return false, err
}
