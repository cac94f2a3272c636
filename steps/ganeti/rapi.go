package ganeti

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/lang/schema"
	"github.com/rokflow/rokflow/steps"
)

// rapiType is the type of the shared `rapi` argument.
var rapiType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"host":                 cty.String,
	"port":                 cty.Number,
	"user":                 cty.String,
	"password":             cty.String,
	"ca_file":              cty.String,
	"pinned_sha256":        cty.String,
	"insecure_skip_verify": cty.Bool,
	"tls":                  cty.Bool,
}, []string{"port", "user", "password", "ca_file", "pinned_sha256", "insecure_skip_verify", "tls"})

// defaultPort is Ganeti's DEFAULT_RAPI_PORT.
const defaultPort = 5080

// rapiSecrets: the RAPI connection, password included, only reaches the
// RAPI as credentials; Ganeti never sends them back.
var rapiSecrets = steps.Secrets{Credentials: []string{"rapi"}}

var rapiArg = &schema.Attribute{
	Type:     rapiType,
	Required: true,
	Description: "How to reach the Ganeti RAPI (version 2) on the cluster's master: host (name or address, " +
		"no scheme), port (default 5080), user and password (sensitive; HTTP basic auth, needed for " +
		"writes and, on Debian's default --require-authentication, for every call), and how to trust " +
		"the server's certificate. Ganeti's own certificate is self-signed with CN ganeti.example.com " +
		"and no SAN, so pin it with pinned_sha256 (the SHA-256 of the certificate in DER form, hex, " +
		"colons allowed: openssl x509 -in rapi.pem -outform DER | sha256sum), or give ca_file (the " +
		"chain is verified; the host name only when the certificate names any), or, for labs only, " +
		"insecure_skip_verify = true. tls = false talks plain HTTP to a RAPI started with --no-ssl. " +
		"Debian's RAPI listens on the master's 127.0.0.1 only, so reach it through a tunnel.",
}

// endpoint is a decoded, validated rapi argument.
type endpoint struct {
	Host     string
	Port     int
	User     string
	Password string
	CAFile   string
	Pin      []byte
	Insecure bool
	TLS      bool
}

func (e endpoint) baseURL() string {
	scheme := "https"
	if !e.TLS {
		scheme = "http"
	}
	return scheme + "://" + net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
}

// parseRapi decodes and checks the rapi argument. ok is false when part of
// it is not known yet or it is invalid.
func parseRapi(v cty.Value) (e endpoint, ok bool, diags hcl.Diagnostics) {
	if v.IsNull() {
		return e, false, hcl.Diagnostics{steps.Errorf("Missing RAPI connection", "The rapi argument is required.")}
	}
	ok = v.IsWhollyKnown()
	get := func(name string) string { s, _ := steps.Str(steps.Attr(v, name)); return s }
	e.Host, e.User, e.Password, e.CAFile = get("host"), get("user"), get("password"), get("ca_file")
	if hv := steps.Attr(v, "host"); steps.Known(hv) {
		switch {
		case e.Host == "":
			diags = append(diags, steps.Errorf("Invalid RAPI host", "The rapi argument's host is empty."))
		case strings.Contains(e.Host, "/") || strings.ContainsAny(e.Host, " \t") ||
			(strings.Contains(e.Host, ":") && net.ParseIP(e.Host) == nil):
			diags = append(diags, steps.Errorf("Invalid RAPI host",
				"The rapi argument's host %q must be a bare host name or address; give the port as port and no scheme.", e.Host))
		}
	}
	e.Port = defaultPort
	if pv := steps.Attr(v, "port"); steps.Known(pv) {
		pv, _ = pv.UnmarkDeep()
		bf := pv.AsBigFloat()
		p, acc := bf.Int64()
		if acc != big.Exact || p < 1 || p > 65535 {
			diags = append(diags, steps.Errorf("Invalid RAPI port", "The rapi argument's port must be a whole number from 1 to 65535."))
		} else {
			e.Port = int(p)
		}
	}
	u, pw := steps.Attr(v, "user"), steps.Attr(v, "password")
	if u.IsKnown() && pw.IsKnown() && u.IsNull() != pw.IsNull() {
		diags = append(diags, steps.Errorf("Incomplete RAPI credentials", "The rapi argument needs both user and password, or neither."))
	}
	if pin := get("pinned_sha256"); pin != "" {
		h := strings.ToLower(strings.ReplaceAll(pin, ":", ""))
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sha256.Size {
			diags = append(diags, steps.Errorf("Invalid pinned_sha256",
				"The rapi argument's pinned_sha256 must be 64 hex digits (colons allowed), the SHA-256 of the server certificate in DER form."))
		}
		e.Pin = b
	}
	e.Insecure, _ = steps.Bool(steps.Attr(v, "insecure_skip_verify"), false)
	e.TLS, _ = steps.Bool(steps.Attr(v, "tls"), true)
	trust := 0
	for _, set := range []bool{e.CAFile != "", len(e.Pin) > 0, e.Insecure} {
		if set {
			trust++
		}
	}
	if trust > 1 {
		diags = append(diags, steps.Errorf("Conflicting RAPI trust settings", "Give at most one of ca_file, pinned_sha256 and insecure_skip_verify."))
	}
	if !e.TLS && trust > 0 {
		diags = append(diags, steps.Errorf("Conflicting RAPI trust settings", "tls = false talks plain HTTP, so ca_file, pinned_sha256 and insecure_skip_verify mean nothing; remove them or the tls setting."))
	}
	if e.CAFile != "" && !strings.HasPrefix(e.CAFile, "/") {
		diags = append(diags, steps.Errorf("Relative path", "The rapi argument's ca_file must be an absolute path on the machine running rokflow; %q is not.", e.CAFile))
	}
	return e, ok && !diags.HasErrors(), diags
}

// displayRapi renders where a step talks to, never the credentials.
func displayRapi(v cty.Value) string {
	if v.IsNull() {
		return "RAPI"
	}
	host := steps.Display(steps.Attr(v, "host"))
	port := strconv.Itoa(defaultPort)
	if p := steps.Attr(v, "port"); !p.IsNull() {
		port = steps.Display(p)
	}
	s := "RAPI " + host + ":" + port
	if u := steps.Attr(v, "user"); !u.IsNull() {
		s += " as " + steps.Display(u)
	}
	return s
}

// rapiClient talks to one RAPI endpoint.
type rapiClient struct {
	e    endpoint
	http *http.Client
}

// requestTimeout bounds one RAPI call; /wait answers within 10 s.
const requestTimeout = 60 * time.Second

func newClient(e endpoint) (*rapiClient, error) {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
		TLSHandshakeTimeout: 15 * time.Second,
		// Ganeti closes every connection; do not try to keep them.
		DisableKeepAlives: true,
	}
	if e.TLS {
		tc, err := e.tlsConfig()
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	return &rapiClient{e: e, http: &http.Client{Transport: tr, Timeout: requestTimeout}}, nil
}

// tlsConfig trusts the server as the endpoint says: a pinned certificate,
// a CA file (host name checked only when the certificate names any, since
// Ganeti's default certificate has no SAN), no check, or the system roots.
func (e endpoint) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: e.Host}
	switch {
	case len(e.Pin) > 0:
		pin := e.Pin
		tc.InsecureSkipVerify = true // replaced by the pin check below
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the RAPI server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !bytes.Equal(sum[:], pin) {
				return fmt.Errorf("the RAPI server's certificate has SHA-256 %x, not the pinned one", sum)
			}
			return nil
		}
	case e.CAFile != "":
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", e.CAFile)
		}
		host := e.Host
		tc.InsecureSkipVerify = true // replaced by the chain check below
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the RAPI server sent no certificate")
			}
			leaf := cs.PeerCertificates[0]
			opts := x509.VerifyOptions{Roots: pool, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			if len(leaf.DNSNames) > 0 || len(leaf.IPAddresses) > 0 {
				opts.DNSName = host
			}
			_, err := leaf.Verify(opts)
			return err
		}
	case e.Insecure:
		tc.InsecureSkipVerify = true
	}
	return tc, nil
}

// rapiError is an HTTP error answer of the RAPI.
type rapiError struct {
	Method, Path string
	Status       int
	Message      string
	Explain      string
}

func (e *rapiError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, msg)
	if e.Explain != "" && e.Explain != msg {
		s += " (" + e.Explain + ")"
	}
	switch e.Status {
	case http.StatusUnauthorized:
		s += "; check the rapi user and password"
	case http.StatusForbidden:
		s += "; the RAPI user lacks the right (writes and /2/jobs/ID/wait need \"write\" in the users file)"
	}
	return s
}

// call sends one request and decodes the JSON answer into out (which may be
// nil). body, when not nil, is sent as application/json.
func (c *rapiClient) call(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.e.baseURL()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "rokflow")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.e.User != "" {
		req.SetBasicAuth(c.e.User, c.e.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, scrub(err, c.e.Password))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		re := &rapiError{Method: method, Path: path, Status: resp.StatusCode}
		var eb struct {
			Message string `json:"message"`
			Explain string `json:"explain"`
		}
		if json.Unmarshal(data, &eb) == nil {
			// Ganeti HTML-escapes its messages.
			re.Message, re.Explain = html.UnescapeString(eb.Message), html.UnescapeString(eb.Explain)
		}
		return re
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}

func scrub(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "(sensitive)"))
}

// features returns the RAPI's optional features (GET /2/features).
func (c *rapiClient) features(ctx context.Context) ([]string, error) {
	var fs []string
	err := c.call(ctx, http.MethodGet, "/2/features", nil, &fs)
	return fs, err
}

// requireFeature fails unless the RAPI offers the named feature.
func (c *rapiClient) requireFeature(ctx context.Context, name string) error {
	fs, err := c.features(ctx)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f == name {
			return nil
		}
	}
	return fmt.Errorf("the RAPI does not offer the feature %q (Ganeti 2.5 or later), which this request's body form needs", name)
}
