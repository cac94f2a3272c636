package etcd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

// These tests run the kinds against a real etcd server started from the
// `etcd` binary on PATH (Debian: etcd-server); they are skipped without it.

type testEtcd struct {
	endpoint string
	pki      string // directory with ca.crt and <cn>.crt/.key, when TLS
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func startEtcd(t *testing.T, withTLS bool) *testEtcd {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Skip("no etcd binary on PATH")
	}
	dir := t.TempDir()
	scheme := "http"
	var tlsArgs []string
	te := &testEtcd{}
	if withTLS {
		scheme = "https"
		te.pki = filepath.Join(dir, "pki")
		writePKI(t, te.pki, "root", "rokflow", "nobody")
		tlsArgs = []string{
			"--cert-file", filepath.Join(te.pki, "server.crt"), "--key-file", filepath.Join(te.pki, "server.key"),
			"--trusted-ca-file", filepath.Join(te.pki, "ca.crt"), "--client-cert-auth",
		}
	}
	cport, pport := freePort(t), freePort(t)
	te.endpoint = scheme + "://127.0.0.1:" + cport
	peer := "http://127.0.0.1:" + pport
	args := append([]string{
		"--name", "m0", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", te.endpoint, "--advertise-client-urls", te.endpoint,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "m0=" + peer, "--logger", "zap", "--log-level", "error",
	}, tlsArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	// Ready when a read as root (or anonymous, without TLS) succeeds.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp := Get{}.Run(context.Background(), steps.RunRequest{Args: decode(t, Get{}, te.conn("root", "1s")+`key = "/ready"`)})
		if !resp.Diagnostics.HasErrors() {
			return te
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd did not start: %s", resp.Diagnostics)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// conn is the etcd argument acting as the certificate of cn ("" for none).
func (te *testEtcd) conn(cn, timeout string) string {
	s := fmt.Sprintf("etcd = { endpoints = [%q], request_timeout = %q", te.endpoint, timeout)
	if te.pki != "" {
		s += fmt.Sprintf(", ca_file = %q", filepath.Join(te.pki, "ca.crt"))
		if cn != "" {
			s += fmt.Sprintf(", cert_file = %q, key_file = %q", filepath.Join(te.pki, cn+".crt"), filepath.Join(te.pki, cn+".key"))
		}
	}
	return s + " }\n"
}

func writePKI(t *testing.T, dir string, clients ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", caDER)
	leaf := func(name, cn string, serial int64, server bool) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if server {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		writePEM(t, filepath.Join(dir, name+".crt"), "CERTIFICATE", der)
		writePEM(t, filepath.Join(dir, name+".key"), "EC PRIVATE KEY", kder)
	}
	leaf("server", "etcd", 2, true)
	for i, cn := range clients {
		leaf(cn, cn, int64(10+i), false)
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, k steps.Kind, src string) steps.RunResponse {
	t.Helper()
	resp := k.Run(context.Background(), steps.RunRequest{Args: decode(t, k, src)})
	if strings.Contains(resp.Diagnostics.Error(), secret) {
		t.Errorf("diagnostics leak the secret: %s", resp.Diagnostics)
	}
	if resp.Outputs != cty.NilVal && !resp.Outputs.Type().Equals(k.Schema().OutputType()) {
		t.Errorf("outputs of type %s", resp.Outputs.Type().FriendlyName())
	}
	return resp
}

func mustRun(t *testing.T, k steps.Kind, src string) cty.Value {
	t.Helper()
	resp := run(t, k, src)
	if resp.Diagnostics.HasErrors() {
		t.Fatalf("%s: %s", k.Schema().Name, resp.Diagnostics)
	}
	return resp.Outputs
}

func TestKVAgainstEtcd(t *testing.T) {
	te := startEtcd(t, false)
	c := te.conn("", "5s")

	out := mustRun(t, Put{}, c+"key = \"/rokflow/flag\"\nvalue = \"1\"")
	if out.GetAttr("changed").False() || out.GetAttr("existed").True() {
		t.Errorf("first put: %#v", out)
	}
	rev := out.GetAttr("revision")
	out = mustRun(t, Put{}, c+"key = \"/rokflow/flag\"\nvalue = \"1\"")
	if out.GetAttr("changed").True() || out.GetAttr("previous").AsString() != "1" || !out.GetAttr("revision").Equals(rev).True() {
		t.Errorf("second put must change nothing: %#v", out)
	}
	out = mustRun(t, Put{}, c+"key = \"/rokflow/flag\"\nvalue = var.secret")
	if out.GetAttr("changed").False() || out.GetAttr("previous").AsString() != "1" {
		t.Errorf("third put: %#v", out)
	}
	mustRun(t, Put{}, c+"key = \"/rokflow/other\"\nvalue = \"2\"")

	out = mustRun(t, Get{}, c+`key = "/rokflow/flag"`)
	if out.GetAttr("value").AsString() != secret || out.GetAttr("found").False() {
		t.Errorf("get: %#v", out)
	}
	out = mustRun(t, Get{}, c+"key = \"/rokflow/\"\nprefix = true")
	if out.GetAttr("values").LengthInt() != 2 || out.GetAttr("value").AsString() != "" {
		t.Errorf("get prefix: %#v", out)
	}
	out = mustRun(t, Get{}, c+`key = "/nothing"`)
	if out.GetAttr("found").True() {
		t.Errorf("get missing: %#v", out)
	}

	// A wait that a later put satisfies: the watch starts from the read's
	// revision, so the order of the two does not matter.
	done := make(chan steps.RunResponse, 1)
	go func() {
		done <- Wait{}.Run(context.Background(), steps.RunRequest{Args: decode(t, Wait{}, c+"key = \"/rokflow/phase\"\nvalue = \"done\"\nwait_timeout = \"20s\"")})
	}()
	mustRun(t, Put{}, c+"key = \"/rokflow/phase\"\nvalue = \"running\"")
	mustRun(t, Put{}, c+"key = \"/rokflow/phase\"\nvalue = \"done\"")
	resp := <-done
	if resp.Diagnostics.HasErrors() || resp.Outputs.GetAttr("value").AsString() != "done" {
		t.Errorf("wait: %v %#v", resp.Diagnostics, resp.Outputs)
	}
	resp = run(t, Wait{}, c+"key = \"/rokflow/never\"\nwait_timeout = \"300ms\"")
	if !hasError(resp.Diagnostics, "Timed out waiting for etcd") {
		t.Errorf("wait timeout: %v", resp.Diagnostics)
	}
}

func TestPasswordAuthAgainstEtcd(t *testing.T) {
	te := startEtcd(t, false)
	c := te.conn("", "5s")
	mustRun(t, Put{}, c+"key = \"/rok/cluster/version\"\nvalue = \"0.11.0\"")

	// Before auth: anonymous reads work, so the check fails.
	check := c + "anonymous_key = \"/rok/cluster/version\"\nas = { user = \"rokflow\", password = var.secret, key = \"/rokflow/x\" }\n"
	resp := run(t, AuthCheck{}, check)
	if !hasError(resp.Diagnostics, "etcd auth check failed") || resp.Outputs.GetAttr("anonymous_refused").True() {
		t.Errorf("check before auth: %v", resp.Diagnostics)
	}

	auth := c + `root_password = var.secret
roles = [{ name = "rokflow", permissions = [{ key = "/rokflow/", prefix = true, access = "readwrite" }] }]
users = [{ name = "rokflow", password = var.secret, roles = ["rokflow"] }]
`
	out := mustRun(t, Auth{}, auth)
	if !out.GetAttr("auth_enabled").True() || out.GetAttr("was_enabled").True() || !out.GetAttr("changed").True() ||
		strs(out.GetAttr("created_users")) != "root,rokflow" || strs(out.GetAttr("created_roles")) != "rokflow" {
		t.Errorf("first auth: %#v", out)
	}
	// Re-running, anonymously but with root_password, is a no-op.
	out = mustRun(t, Auth{}, auth)
	if out.GetAttr("changed").True() || !out.GetAttr("was_enabled").True() || out.GetAttr("created_users").LengthInt() != 0 {
		t.Errorf("second auth: %#v", out)
	}
	// Without root credentials a re-run cannot act, and says how to fix it.
	resp = run(t, Auth{}, c+"users = []")
	if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics.Error(), "must act as root") {
		t.Errorf("anonymous re-run: %v", resp.Diagnostics)
	}

	out = mustRun(t, AuthCheck{}, check)
	if !out.GetAttr("auth_enabled").True() || !out.GetAttr("anonymous_refused").True() || !out.GetAttr("user_allowed").True() {
		t.Errorf("check after auth: %#v", out)
	}
	// rokflow may not read outside its prefix.
	resp = run(t, AuthCheck{}, c+"anonymous_key = \"/x\"\nas = { user = \"rokflow\", password = var.secret, key = \"/rok/cluster/version\" }\nrequire = false")
	if resp.Diagnostics.HasErrors() || resp.Outputs.GetAttr("user_allowed").True() || !strings.Contains(resp.Outputs.GetAttr("user_result").AsString(), "permission denied") {
		t.Errorf("check outside the grant: %v %#v", resp.Diagnostics, resp.Outputs)
	}
}

func TestCertificateAuthAgainstEtcd(t *testing.T) {
	te := startEtcd(t, true)
	root := te.conn("root", "5s")
	out := mustRun(t, Auth{}, root+`roles = [{ name = "rokflow", permissions = [{ key = "/rokflow/", prefix = true, access = "readwrite" }] }]
users = [{ name = "rokflow", roles = ["rokflow"] }]
`)
	if !out.GetAttr("auth_enabled").True() || strs(out.GetAttr("created_users")) != "root,rokflow" {
		t.Errorf("auth: %#v", out)
	}
	out = mustRun(t, Auth{}, root+`roles = [{ name = "rokflow", permissions = [{ key = "/rokflow/", prefix = true, access = "readwrite" }] }]
users = [{ name = "rokflow", roles = ["rokflow"] }]
`)
	if out.GetAttr("changed").True() {
		t.Errorf("re-run changed something: %#v", out)
	}
	mustRun(t, Put{}, te.conn("rokflow", "5s")+"key = \"/rokflow/x\"\nvalue = \"1\"")

	// Anonymous clients are refused by the TLS handshake; clientv3 only
	// times out, and the probe explains it.
	check := te.conn("", "2s") + fmt.Sprintf("anonymous_key = \"/rokflow/x\"\nas = { cert_file = %q, key_file = %q }\n",
		filepath.Join(te.pki, "rokflow.crt"), filepath.Join(te.pki, "rokflow.key"))
	out = mustRun(t, AuthCheck{}, check)
	if !out.GetAttr("anonymous_refused").True() || !strings.Contains(out.GetAttr("anonymous_result").AsString(), "TLS") ||
		!out.GetAttr("user_allowed").True() || !out.GetAttr("auth_enabled").True() {
		t.Errorf("check: %#v", out)
	}
	// A certificate whose CN has no user is denied.
	resp := run(t, Get{}, te.conn("nobody", "5s")+`key = "/rokflow/x"`)
	if !strings.Contains(resp.Diagnostics.Error(), "permission denied") {
		t.Errorf("nobody: %v", resp.Diagnostics)
	}
}

func strs(v cty.Value) string {
	var ss []string
	for _, e := range v.AsValueSlice() {
		ss = append(ss, e.AsString())
	}
	return strings.Join(ss, ",")
}
