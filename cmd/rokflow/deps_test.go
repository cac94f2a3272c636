package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoEtcdServer: rokflow links no etcd server package. The simulator's
// server, which embeds one, is the program rokflow-sim; rokflow talks to
// etcd as a client only.
func TestNoEtcdServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/rokflow/rokflow/cmd/rokflow").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "go.etcd.io/etcd/server") {
			t.Errorf("rokflow links %s", pkg)
		}
	}
}
