package server

import (
	"time"

	"github.com/rokflow/rokflow/sim/server/rapi"
)

// rapiCluster is the cluster as the RAPI room sees it. Its methods are
// called with s.mu held (the room takes it through Lock and Unlock).
type rapiCluster struct{ s *Server }

var _ rapi.Cluster = rapiCluster{}

func (c rapiCluster) Lock()   { c.s.mu.Lock() }
func (c rapiCluster) Unlock() { c.s.mu.Unlock() }

func (c rapiCluster) Credentials() (user, password string) {
	return c.s.st.Spec.RAPIUser, c.s.st.Spec.RAPIPassword
}

func (c rapiCluster) Info() map[string]any { return c.s.st.infoView() }

func (c rapiCluster) Hosts() []string {
	var names []string
	for _, h := range c.s.st.hosts() {
		names = append(names, h.Name)
	}
	return names
}

func (c rapiCluster) Host(name string) (uuid, role string, ok bool) {
	h := c.s.st.host(name)
	if h == nil {
		return "", "", false
	}
	return h.UUID, h.GanetiRole, true
}

func (c rapiCluster) HostView(name string, full bool) map[string]any {
	h := c.s.st.host(name)
	if h == nil {
		return nil
	}
	return c.s.st.nodeView(h, full)
}

func (c rapiCluster) Instances() []string {
	var names []string
	for _, i := range c.s.st.Ganeti.Instances {
		names = append(names, i.Name)
	}
	return names
}

func (c rapiCluster) InstanceView(name string) map[string]any {
	i := c.s.st.Ganeti.instance(name)
	if i == nil {
		return nil
	}
	return c.s.st.instanceView(i)
}

func (c rapiCluster) Submit(reason string, dryRun bool, ops ...map[string]any) int {
	j := c.s.submit(reason, dryRun, ops...)
	c.s.flushEvents()
	_ = c.s.saveLocked()
	return j.ID
}

func (c rapiCluster) Jobs() []*rapi.Job { return c.s.st.Ganeti.Jobs }

func (c rapiCluster) Job(id int) *rapi.Job { return c.s.st.Ganeti.job(id) }

func (c rapiCluster) Save() { _ = c.s.saveLocked() }

func (c rapiCluster) Changed() <-chan struct{} { return c.s.changesLocked() }

func (c rapiCluster) WaitTimeout() time.Duration { return c.s.st.Spec.WaitTimeout.D() }

// startRAPI serves the RAPI room on its recorded port.
func (s *Server) startRAPI() error {
	l, err := listen(&s.st.Ports.RAPI, "Ganeti RAPI")
	if err != nil {
		return err
	}
	s.rapi, err = rapi.Serve(s.dir, l, rapi.NewHandler(rapiCluster{s}, s.stopping))
	if err != nil {
		l.Close()
	}
	return err
}
