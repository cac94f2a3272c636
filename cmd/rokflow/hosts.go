package main

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/runtime"
	"github.com/rokflow/rokflow/steps"
	"github.com/rokflow/rokflow/steps/transport/local"
	"github.com/rokflow/rokflow/steps/transport/ssh"
)

// hosts resolves step targets to transports. A step with no connection, a
// connection whose transport is "local", or the target "local" runs on
// this machine; transport "ssh" goes through one pooled connection per
// host.
func (a *App) hosts() runtime.HostResolver {
	if a.sshPool == nil {
		a.sshPool = ssh.NewPool()
	}
	pool := a.sshPool
	return func(ctx context.Context, target string, conn cty.Value) (steps.Host, error) {
		transport := connString(conn, "transport")
		if transport == "" || transport == "local" || target == "local" {
			return local.New(), nil
		}
		if transport != "ssh" {
			return nil, fmt.Errorf("unknown transport %q; use \"ssh\" or \"local\"", transport)
		}
		cfg, err := sshConfig(conn)
		if err != nil {
			return nil, err
		}
		return pool.Host(ctx, target, cfg)
	}
}

// sshConfig reads a connection block's settings:
// user, port, identity_file, known_hosts, addresses, password,
// insecure_ignore_host_key, agent, sudo.
func sshConfig(conn cty.Value) (ssh.Config, error) {
	cfg := ssh.Config{
		User:                  connString(conn, "user"),
		Password:              connString(conn, "password"),
		InsecureIgnoreHostKey: connBool(conn, "insecure_ignore_host_key"),
		UseAgent:              connBool(conn, "agent"),
		Sudo:                  connBool(conn, "sudo"),
	}
	if p := connNumber(conn, "port"); p > 0 {
		cfg.Port = p
	}
	if f := connString(conn, "identity_file"); f != "" {
		cfg.IdentityFiles = []string{expandHome(f)}
	}
	if f := connString(conn, "known_hosts"); f != "" {
		cfg.KnownHosts = []string{expandHome(f)}
	}
	if addrs := connAttr(conn, "addresses"); addrs.IsKnown() && !addrs.IsNull() && (addrs.Type().IsMapType() || addrs.Type().IsObjectType()) {
		cfg.Addresses = map[string]string{}
		for it := addrs.ElementIterator(); it.Next(); {
			k, v := it.Element()
			v, _ = v.Unmark()
			if v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
				cfg.Addresses[k.AsString()] = v.AsString()
			}
		}
	}
	return cfg, nil
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}

func connAttr(conn cty.Value, name string) cty.Value {
	if conn == cty.NilVal || conn.IsNull() || !conn.IsKnown() || !conn.Type().IsObjectType() || !conn.Type().HasAttribute(name) {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	v, _ := conn.GetAttr(name).UnmarkDeep()
	return v
}

func connString(conn cty.Value, name string) string {
	v := connAttr(conn, name)
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func connBool(conn cty.Value, name string) bool {
	v := connAttr(conn, name)
	return v.IsKnown() && !v.IsNull() && v.Type() == cty.Bool && v.True()
}

func connNumber(conn cty.Value, name string) int {
	v := connAttr(conn, name)
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.Number {
		return 0
	}
	i, acc := v.AsBigFloat().Int64()
	if acc != big.Exact {
		return 0
	}
	return int(i)
}
