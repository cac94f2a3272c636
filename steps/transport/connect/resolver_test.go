package connect_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/debuglog"
	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/server"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/connect"
)

// conn builds an evaluated connection block with the given attributes.
func conn(attrs map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for name, ty := range hcldec.ImpliedType(connect.Schema.DecoderSpec()).AttributeTypes() {
		vals[name] = cty.NullVal(ty)
		if v, ok := attrs[name]; ok {
			vals[name] = v
		}
	}
	return cty.ObjectVal(vals)
}

var noConnection = cty.NullVal(cty.DynamicPseudoType)

// TestResolverRefuses checks that a target its connection does not reach
// gets no host at all, so a step cannot run on this machine in its place.
func TestResolverRefuses(t *testing.T) {
	tests := map[string]struct {
		target  string
		conn    cty.Value
		problem connect.Problem
	}{
		"remote without a connection":    {"rok1.prod", noConnection, connect.NoConnection},
		"remote with a local connection": {"rok1.prod", conn(map[string]cty.Value{"transport": cty.StringVal("local")}), connect.LocalTransport},
		"ssh without a host":             {"local", conn(map[string]cty.Value{"transport": cty.StringVal("ssh")}), connect.NoHost},
	}
	r := connect.NewResolver(connect.ResolverOptions{})
	defer r.Close()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h, err := r.Host(context.Background(), tc.target, tc.conn)
			var re *connect.RouteError
			if h != nil || !errors.As(err, &re) || re.Problem != tc.problem {
				t.Fatalf("Host = %v, %v; want no host and problem %d", h, err, tc.problem)
			}
		})
	}
	if h, err := r.Host(context.Background(), "rok1.prod", conn(map[string]cty.Value{"transport": cty.StringVal("telnet")})); h != nil || err == nil {
		t.Errorf("an unknown transport gave %v, %v", h, err)
	}
	if h, err := r.Host(context.Background(), "rok1.prod", conn(map[string]cty.Value{"user": cty.UnknownVal(cty.String)})); h != nil || err == nil {
		t.Errorf("a connection not known yet gave %v, %v", h, err)
	}
}

// TestResolverLocal checks that this machine is reached without SSH.
func TestResolverLocal(t *testing.T) {
	r := connect.NewResolver(connect.ResolverOptions{})
	defer r.Close()
	dir := t.TempDir()
	marker := filepath.Join(dir, "here")
	if err := os.WriteFile(marker, []byte("this machine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target string
		conn   cty.Value
	}{
		{"local", noConnection},
		{"localhost", noConnection},
		{"127.0.0.1", conn(map[string]cty.Value{"transport": cty.StringVal("local")})},
	} {
		h, err := r.Host(context.Background(), tc.target, tc.conn)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		data, _, err := h.ReadFile(context.Background(), marker)
		if err != nil || string(data) != "this machine" {
			t.Errorf("%s: read %q, %v", tc.target, data, err)
		}
	}
}

// TestResolverSSH reaches a simulated node over SSH on loopback, with the
// connection the simulator's variables describe, and reads a file only
// the node has.
func TestResolverSSH(t *testing.T) {
	s, err := server.Start(t.TempDir(), sim.Spec{NoEtcd: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("simulator: %v", err)
		}
	})
	st := s.Status()
	addrs := map[string]cty.Value{}
	for _, n := range st.Nodes {
		addrs[n.Name] = cty.StringVal(n.SSH)
	}
	c := conn(map[string]cty.Value{
		"transport":     cty.StringVal("ssh"),
		"user":          cty.StringVal("root"),
		"identity_file": cty.StringVal(filepath.Join(s.Dir(), sim.ClientKeyFile)),
		"known_hosts":   cty.StringVal(filepath.Join(s.Dir(), sim.KnownHostsFile)),
		"addresses":     cty.MapVal(addrs),
	})
	r := connect.NewResolver(connect.ResolverOptions{})
	defer r.Close()
	node := st.Nodes[0].Name
	var log bytes.Buffer
	ctx := debuglog.With(context.Background(), slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h, err := r.Host(ctx, node, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), `msg="ssh host ready" target=`+node+" user=root") {
		t.Errorf("the debug log does not say the host was reached:\n%s", log.String())
	}
	res, err := h.Exec(context.Background(), steps.Command{Argv: []string{"cat", "/etc/rok/daemons.conf"}})
	if err != nil || res.ExitStatus != 0 || !strings.Contains(string(res.Stdout), "tcp://") {
		t.Fatalf("cat on %s: %+v %q %v", node, res, res.Stderr, err)
	}
	if h.Name() != node {
		t.Errorf("host name %q, want %q", h.Name(), node)
	}

	// The same nodes, reached the way an ssh_config file says: the block
	// names no address, user or key.
	var cfg strings.Builder
	for _, n := range st.Nodes {
		host, port, err := net.SplitHostPort(n.SSH)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "Host %s\n  HostName %s\n  Port %s\n", n.Name, host, port)
	}
	fmt.Fprintf(&cfg, "Host *\n  User root\n  IdentityFile %s\n", filepath.Join(s.Dir(), sim.ClientKeyFile))
	cfgFile := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	c = conn(map[string]cty.Value{
		"known_hosts": cty.StringVal(filepath.Join(s.Dir(), sim.KnownHostsFile)),
		"ssh_config":  cty.StringVal(cfgFile),
	})
	node = st.Nodes[len(st.Nodes)-1].Name
	h, err = r.Host(context.Background(), node, c)
	if err != nil {
		t.Fatal(err)
	}
	res, err = h.Exec(context.Background(), steps.Command{Argv: []string{"hostname"}})
	if short := strings.TrimSpace(string(res.Stdout)); err != nil || res.ExitStatus != 0 || short == "" || !strings.HasPrefix(node+".", short+".") {
		t.Fatalf("hostname on %s through ssh_config: %+v %q %v", node, res, res.Stderr, err)
	}
}

// TestResolverSSHConfigNotes passes on what rokflow read in ssh_config but
// did not apply, once, and refuses a ProxyCommand before dialling.
func TestResolverSSHConfigNotes(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(cfgFile, []byte("Match exec \"on-vpn\"\n  ProxyJump gw\nHost *.prod\n  ProxyCommand nc %h %p\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var notes []string
	r := connect.NewResolver(connect.ResolverOptions{Debug: func(n string) { notes = append(notes, n) }})
	defer r.Close()
	c := conn(map[string]cty.Value{"ssh_config": cty.StringVal(cfgFile)})
	for range 2 {
		_, err := r.Host(context.Background(), "rok1.prod", c)
		if err == nil || !strings.Contains(err.Error(), "ProxyCommand, which rokflow does not run") {
			t.Fatalf("err = %v, want ProxyCommand refused", err)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], cfgFile+":1: Match exec") {
		t.Errorf("notes = %q, want one about line 1", notes)
	}
	// proxy_jump = "none" on the connection wins over the file's
	// ProxyCommand: the connection is tried directly (and refused here).
	c = conn(map[string]cty.Value{
		"ssh_config": cty.StringVal(cfgFile),
		"proxy_jump": cty.StringVal("none"),
		"addresses":  cty.MapVal(map[string]cty.Value{"rok1.prod": cty.StringVal("127.0.0.1:1")}),
	})
	if _, err := r.Host(context.Background(), "rok1.prod", c); err == nil || !strings.Contains(err.Error(), "connect to 127.0.0.1:1") {
		t.Fatalf("err = %v, want a direct connection to 127.0.0.1:1", err)
	}
}

// TestResolverLogsNoPassword: a connection that fails is in the debug log
// with its target and error, and without the password it was given.
func TestResolverLogsNoPassword(t *testing.T) {
	const password = "hunter2-XYZZY"
	c := conn(map[string]cty.Value{
		"transport":                cty.StringVal("ssh"),
		"user":                     cty.StringVal("root"),
		"password":                 cty.StringVal(password),
		"insecure_ignore_host_key": cty.True,
		"addresses":                cty.MapVal(map[string]cty.Value{"rok9.test": cty.StringVal("127.0.0.1:1")}),
	})
	r := connect.NewResolver(connect.ResolverOptions{})
	defer r.Close()
	var log bytes.Buffer
	ctx := debuglog.With(context.Background(), slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if _, err := r.Host(ctx, "rok9.test", c); err == nil {
		t.Fatal("a connection to a closed port succeeded")
	}
	if !strings.Contains(log.String(), `msg="ssh connect failed" target=rok9.test`) {
		t.Errorf("the debug log does not say the connection failed:\n%s", log.String())
	}
	if strings.Contains(log.String(), password) {
		t.Errorf("the debug log holds the password:\n%s", log.String())
	}
}
