package state

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		url  string
		want string // String() of the backend
	}{
		"bare path":      {url: dir, want: "file://" + dir},
		"file URL":       {url: "file://" + dir, want: "file://" + dir},
		"relative path":  {url: "file://" + DefaultDir, want: "file://" + mustAbs(t, DefaultDir)},
		"memory":         {url: "mem://", want: "mem://"},
		"named memory":   {url: "mem://shared", want: "mem://shared"},
		"unused dir yet": {url: filepath.Join(dir, "not", "yet"), want: "file://" + filepath.Join(dir, "not", "yet")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := open(t, tc.url, Options{})
			if got := b.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseEtcdURL(t *testing.T) {
	tests := map[string]struct {
		rest      string
		opts      Options
		endpoints string
		prefix    string
		ttl       time.Duration
		err       string
	}{
		"one endpoint":      {rest: "10.0.0.1:2379/rokflow/cluster-a", endpoints: "10.0.0.1:2379", prefix: "/rokflow/cluster-a", ttl: 10 * time.Second},
		"several, no port":  {rest: "e1,e2:2380,e3/x/", endpoints: "e1:2379,e2:2380,e3:2379", prefix: "/x", ttl: 10 * time.Second},
		"default prefix":    {rest: "e1:2379", endpoints: "e1:2379", prefix: "/rokflow", ttl: 10 * time.Second},
		"ipv6":              {rest: "[::1]:2379/p", endpoints: "[::1]:2379", prefix: "/p", ttl: 10 * time.Second},
		"ttl 15 s":          {rest: "e1/p", opts: Options{LockTTL: 15 * time.Second}, endpoints: "e1:2379", prefix: "/p", ttl: 15 * time.Second},
		"ttl too short":     {rest: "e1/p", opts: Options{LockTTL: 5 * time.Second}, err: "lock TTL 5s"},
		"ttl too long":      {rest: "e1/p", opts: Options{LockTTL: time.Minute}, err: "lock TTL 1m0s"},
		"ttl not whole":     {rest: "e1/p", opts: Options{LockTTL: 10500 * time.Millisecond}, err: "whole seconds"},
		"no endpoint":       {rest: "/p", err: "no endpoint"},
		"password in URL":   {rest: "alice:hunter2@e1:2379/p", err: "not in the URL"},
		"query":             {rest: "e1/p?cacert=x", err: "queries"},
		"cert without key":  {rest: "e1/p", opts: Options{CertFile: "c.pem"}, err: "both"},
		"key without cert":  {rest: "e1/p", opts: Options{KeyFile: "k.pem"}, err: "both"},
		"cert and key pair": {rest: "e1/p", opts: Options{CertFile: "c.pem", KeyFile: "k.pem"}, endpoints: "e1:2379", prefix: "/p", ttl: 10 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := parseEtcdURL(tc.rest, tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(cfg.endpoints, ","); got != tc.endpoints || cfg.prefix != tc.prefix || cfg.ttl != tc.ttl {
				t.Fatalf("got %s %s %v, want %s %s %v", got, cfg.prefix, cfg.ttl, tc.endpoints, tc.prefix, tc.ttl)
			}
			if cfg.opts.DialTimeout != defaultDialTimeout || cfg.opts.RequestTimeout != defaultRequestTimeout {
				t.Fatalf("defaults not applied: %+v", cfg.opts)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, url := range []string{"", "file://", "s3://bucket/x", "etcd://bob:hunter2@e1/p", "consul://alice:hunter2@h/x"} {
		b, err := Open(t.Context(), url, Options{})
		if err == nil {
			b.Close()
			t.Errorf("Open(%q) took it", url)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) shows the password: %v", url, err)
		}
	}
}

func TestHolderString(t *testing.T) {
	since := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := map[Holder]string{
		{User: "alice", Host: "ops1", PID: 42, Since: since, Operation: "apply"}: "alice@ops1 pid 42 since 2026-05-01T10:00:00Z (apply)",
		{PID: 42}:                        "an unknown holder pid 42",
		{ID: "etcd lease 694d"}:          "holder etcd lease 694d",
		{Host: "ops1", Operation: "run"}: "ops1 (run)",
	}
	for h, want := range tests {
		if got := h.String(); got != want {
			t.Errorf("%+v: %q, want %q", h, got, want)
		}
	}
}
