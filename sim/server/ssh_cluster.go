package server

import (
	"context"
	"io"

	"github.com/rokflow/rokflow/sim/server/sshd"
)

// sshCluster is the cluster as the SSH room sees it: whether a node is on,
// and the node's programs (exec.go).
type sshCluster struct{ s *Server }

var _ sshd.Cluster = sshCluster{}

func (c sshCluster) On(node string) bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n := c.s.st.node(node)
	return n != nil && n.On
}

func (c sshCluster) Exec(ctx context.Context, node, line string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return c.s.exec(ctx, node, line, env, stdin, stdout, stderr)
}

// startSSH serves every node on its recorded SSH port; the listeners are
// made here because the ports are part of the cluster's state.
func (s *Server) startSSH() error {
	var nodes []sshd.Node
	for _, n := range s.st.Nodes {
		l, err := listen(&n.SSHPort, "SSH server of "+n.Name)
		if err != nil {
			for _, o := range nodes {
				o.Listener.Close()
			}
			return err
		}
		nodes = append(nodes, sshd.Node{Name: n.Name, Listener: l})
	}
	var err error
	s.ssh, err = sshd.Start(s.dir, nodes, sshCluster{s})
	return err
}
