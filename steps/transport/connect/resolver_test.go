package connect_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/internal/debuglog"
	"github.com/rokflow/rokflow/sim"
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
	r := connect.NewResolver()
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
	r := connect.NewResolver()
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
	s, err := sim.Start(t.TempDir(), sim.Spec{NoEtcd: true})
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
	r := connect.NewResolver()
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
	r := connect.NewResolver()
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
