package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/rokflow/rokflow/internal/etcdtest"
	"github.com/rokflow/rokflow/steps"
)

// These tests run the kinds against a real etcd embedded in the test
// process (internal/etcdtest): a plain-text server, or one serving TLS with
// --client-cert-auth and a CA made by the test. Nothing outside `go test`
// is needed, so they never skip.

type testEtcd struct {
	srv *etcdtest.Server
	pki *etcdtest.PKI // nil without TLS
}

// startEtcd starts a plain-text etcd, or with withTLS one that requires a
// client certificate signed by a new test CA; the CA also signs client
// certificates for root, rokflow (users the tests create) and nobody (a CN
// with no user).
func startEtcd(t *testing.T, withTLS bool) *testEtcd {
	t.Helper()
	te := &testEtcd{}
	var o etcdtest.Options
	if withTLS {
		te.pki = etcdtest.NewPKI(t, "root", "rokflow", "nobody")
		o.TLS = te.pki.ServerTLS(true)
	}
	te.srv = etcdtest.StartWith(t, o)
	return te
}

// conn is the etcd argument acting as the certificate of cn ("" for none).
func (te *testEtcd) conn(cn, timeout string) string {
	s := fmt.Sprintf("etcd = { endpoints = [%q], request_timeout = %q", te.srv.URL, timeout)
	if te.pki != nil {
		s += fmt.Sprintf(", ca_file = %q", te.pki.CAFile())
		if cn != "" {
			s += fmt.Sprintf(", cert_file = %q, key_file = %q", te.pki.CertFile(cn), te.pki.KeyFile(cn))
		}
	}
	return s + " }\n"
}

// client is a clientv3 client of te acting as the certificate of cn (TLS)
// or as user/password (either may be ""), for checking what the kinds did.
func (te *testEtcd) client(t *testing.T, cn, user, password string) *clientv3.Client {
	t.Helper()
	cfg := clientv3.Config{Endpoints: []string{te.srv.URL}, DialTimeout: 5 * time.Second,
		Username: user, Password: password, Logger: zap.NewNop()}
	if te.pki != nil {
		info := transport.TLSInfo{TrustedCAFile: te.pki.CAFile()}
		if cn != "" {
			info.CertFile, info.KeyFile = te.pki.CertFile(cn), te.pki.KeyFile(cn)
		}
		tc, err := info.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// checkRBAC checks, through cli (acting as root), that auth is on and that
// the users and roles the tests' etcd.auth steps describe exist: root with
// the root role, role rokflow with readwrite on the prefix /rokflow/, and
// user rokflow with the role rokflow and with a password or not.
func checkRBAC(t *testing.T, cli *clientv3.Client, rokflowHasPassword bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := cli.AuthStatus(ctx)
	if err != nil || !st.Enabled {
		t.Fatalf("auth status: %v %v", st, err)
	}
	root, err := cli.UserGet(ctx, "root")
	if err != nil || !slices.Equal(root.Roles, []string{"root"}) {
		t.Errorf("user root: %v %v", root, err)
	}
	u, err := cli.UserGet(ctx, "rokflow")
	if err != nil || !slices.Equal(u.Roles, []string{"rokflow"}) {
		t.Errorf("user rokflow: %v %v", u, err)
	}
	r, err := cli.RoleGet(ctx, "rokflow")
	if err != nil || len(r.Perm) != 1 {
		t.Fatalf("role rokflow: %v %v", r, err)
	}
	p := r.Perm[0]
	if string(p.Key) != "/rokflow/" || string(p.RangeEnd) != "/rokflow0" || clientv3.PermissionType(p.PermType) != clientv3.PermissionType(clientv3.PermReadWrite) {
		t.Errorf("role rokflow permission: %q..%q %v", p.Key, p.RangeEnd, p.PermType)
	}
	// A certificate-only user refuses a password: the error says so.
	_, err = cli.Authenticate(ctx, "rokflow", "x")
	if noPass := err != nil && strings.Contains(err.Error(), "no password user"); noPass == rokflowHasPassword {
		t.Errorf("user rokflow: password expected %v, Authenticate with a wrong one: %v", rokflowHasPassword, err)
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
	if !hasError(resp.Diagnostics, "etcd auth check failed") || resp.Outputs.GetAttr("anonymous_refused").True() ||
		resp.Outputs.GetAttr("auth_enabled").True() {
		t.Errorf("check before auth: %v %#v", resp.Diagnostics, resp.Outputs)
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
	checkRBAC(t, te.client(t, "", "root", secret), true)

	// Anonymous requests now get "user name is empty"; a wrong password
	// fails the connection itself.
	resp = run(t, Get{}, c+`key = "/rok/cluster/version"`)
	if !strings.Contains(resp.Diagnostics.Error(), rpctypes.ErrUserEmpty.Error()) {
		t.Errorf("anonymous get after auth: %v", resp.Diagnostics)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := clientv3.New(clientv3.Config{Endpoints: []string{te.srv.URL}, Username: "rokflow", Password: "wrong", Context: ctx, Logger: zap.NewNop()})
	if !errors.Is(err, rpctypes.ErrAuthFailed) {
		t.Errorf("wrong password: %v", err)
	}

	// A re-run as root by password on the connection is a no-op.
	rootConn := fmt.Sprintf("etcd = { endpoints = [%q], user = \"root\", password = var.secret }\n", te.srv.URL)
	out = mustRun(t, Auth{}, rootConn+strings.TrimPrefix(auth, c))
	if out.GetAttr("changed").True() || !out.GetAttr("was_enabled").True() || !out.GetAttr("auth_enabled").True() ||
		out.GetAttr("created_users").LengthInt() != 0 || out.GetAttr("created_roles").LengthInt() != 0 {
		t.Errorf("re-run as root: %#v", out)
	}
	// So is a re-run with no credentials on the connection but with
	// root_password, which the kind then uses. (etcd 3.5 and later refuse
	// AuthStatus to anyone but root once auth is on: "user name is empty"
	// for an anonymous caller, so that answer itself means auth is on.)
	t.Run("anonymous re-run with root_password", func(t *testing.T) {
		out := mustRun(t, Auth{}, auth)
		if out.GetAttr("changed").True() || !out.GetAttr("was_enabled").True() || !out.GetAttr("auth_enabled").True() ||
			out.GetAttr("created_users").LengthInt() != 0 || out.GetAttr("created_roles").LengthInt() != 0 {
			t.Errorf("second auth: %#v", out)
		}
	})
	checkRBAC(t, te.client(t, "", "root", secret), true)
	// Without root credentials a re-run cannot act, and says how to fix it.
	t.Run("anonymous re-run without root credentials", func(t *testing.T) {
		resp := run(t, Auth{}, c+"users = []")
		if !resp.Diagnostics.HasErrors() || !strings.Contains(resp.Diagnostics.Error(), "must act as root") {
			t.Errorf("anonymous re-run: %v", resp.Diagnostics)
		}
	})

	out = mustRun(t, AuthCheck{}, check)
	if !out.GetAttr("auth_enabled").True() || !out.GetAttr("anonymous_refused").True() || !out.GetAttr("user_allowed").True() ||
		!strings.Contains(out.GetAttr("anonymous_result").AsString(), "user name is empty") {
		t.Errorf("check after auth: %#v", out)
	}
	// The password user works through the kinds inside its prefix...
	user := fmt.Sprintf("etcd = { endpoints = [%q], user = \"rokflow\", password = var.secret, request_timeout = \"5s\" }\n", te.srv.URL)
	mustRun(t, Put{}, user+"key = \"/rokflow/x\"\nvalue = \"1\"")
	if out := mustRun(t, Get{}, user+`key = "/rokflow/x"`); out.GetAttr("value").AsString() != "1" {
		t.Errorf("get as rokflow: %#v", out)
	}
	// ...and may not read outside it.
	resp = run(t, AuthCheck{}, c+"anonymous_key = \"/x\"\nas = { user = \"rokflow\", password = var.secret, key = \"/rok/cluster/version\" }\nrequire = false")
	if resp.Diagnostics.HasErrors() || resp.Outputs.GetAttr("user_allowed").True() || !strings.Contains(resp.Outputs.GetAttr("user_result").AsString(), "permission denied") {
		t.Errorf("check outside the grant: %v %#v", resp.Diagnostics, resp.Outputs)
	}
}

func TestCertificateAuthAgainstEtcd(t *testing.T) {
	te := startEtcd(t, true)
	root := te.conn("root", "5s")
	rokflowCert := fmt.Sprintf("as = { cert_file = %q, key_file = %q }\n", te.pki.CertFile("rokflow"), te.pki.KeyFile("rokflow"))
	check := te.conn("", "2s") + "anonymous_key = \"/rokflow/x\"\n" + rokflowCert

	// Before auth, client-cert-auth alone already refuses a client without
	// a certificate, but any certificate of the CA may do anything, and
	// etcd reports auth off: the check fails.
	resp := run(t, AuthCheck{}, check)
	if !hasError(resp.Diagnostics, "etcd auth check failed") || !strings.Contains(resp.Diagnostics.Error(), "auth disabled") ||
		resp.Outputs.GetAttr("auth_enabled").True() || !resp.Outputs.GetAttr("anonymous_refused").True() {
		t.Errorf("check before auth: %v %#v", resp.Diagnostics, resp.Outputs)
	}
	mustRun(t, Put{}, te.conn("nobody", "5s")+"key = \"/other\"\nvalue = \"before auth\"")

	auth := root + `roles = [{ name = "rokflow", permissions = [{ key = "/rokflow/", prefix = true, access = "readwrite" }] }]
users = [{ name = "rokflow", roles = ["rokflow"] }]
`
	out := mustRun(t, Auth{}, auth)
	if !out.GetAttr("auth_enabled").True() || out.GetAttr("was_enabled").True() || !out.GetAttr("changed").True() ||
		strs(out.GetAttr("created_users")) != "root,rokflow" || strs(out.GetAttr("created_roles")) != "rokflow" {
		t.Errorf("auth: %#v", out)
	}
	// Root and rokflow are certificate-only users: CN root acts as root.
	checkRBAC(t, te.client(t, "root", "", ""), false)

	// A re-run, as root by certificate, is a no-op and not an error.
	out = mustRun(t, Auth{}, auth)
	if out.GetAttr("changed").True() || !out.GetAttr("was_enabled").True() || !out.GetAttr("auth_enabled").True() ||
		out.GetAttr("created_users").LengthInt() != 0 || out.GetAttr("created_roles").LengthInt() != 0 {
		t.Errorf("re-run: %#v", out)
	}
	checkRBAC(t, te.client(t, "root", "", ""), false)

	// CN rokflow is user rokflow: allowed in its prefix, denied elsewhere.
	rokflow := te.conn("rokflow", "5s")
	mustRun(t, Put{}, rokflow+"key = \"/rokflow/x\"\nvalue = \"1\"")
	if out := mustRun(t, Get{}, rokflow+`key = "/rokflow/x"`); out.GetAttr("value").AsString() != "1" {
		t.Errorf("get as rokflow: %#v", out)
	}
	resp = run(t, Put{}, rokflow+"key = \"/other\"\nvalue = \"2\"")
	if !strings.Contains(resp.Diagnostics.Error(), "permission denied") {
		t.Errorf("put outside the grant: %v", resp.Diagnostics)
	}

	// Anonymous clients are refused by the TLS handshake; clientv3 only
	// times out, and the probe explains it. The certificate user is allowed.
	out = mustRun(t, AuthCheck{}, check)
	if !out.GetAttr("anonymous_refused").True() || !strings.Contains(out.GetAttr("anonymous_result").AsString(), "TLS") ||
		!out.GetAttr("user_allowed").True() || out.GetAttr("user_result").AsString() != "allowed" || !out.GetAttr("auth_enabled").True() {
		t.Errorf("check: %#v", out)
	}
	// The check names a denied certificate user.
	resp = run(t, AuthCheck{}, te.conn("", "2s")+"anonymous_key = \"/rokflow/x\"\n"+
		fmt.Sprintf("as = { cert_file = %q, key_file = %q, key = \"/other\" }\n", te.pki.CertFile("rokflow"), te.pki.KeyFile("rokflow")))
	if !hasError(resp.Diagnostics, "etcd auth check failed") || resp.Outputs.GetAttr("user_allowed").True() ||
		!strings.Contains(resp.Outputs.GetAttr("user_result").AsString(), "permission denied") {
		t.Errorf("check outside the grant: %v %#v", resp.Diagnostics, resp.Outputs)
	}
	// A certificate whose CN has no user is denied.
	resp = run(t, Get{}, te.conn("nobody", "5s")+`key = "/rokflow/x"`)
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
