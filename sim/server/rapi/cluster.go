package rapi

import (
	"sync"
	"time"
)

// Cluster is what the RAPI reads and changes of the simulated cluster.
// The Handler holds its lock (Lock, Unlock) around every other call,
// releasing it only while a /2/jobs/ID/wait long poll waits for Changed;
// the methods never take it themselves.
type Cluster interface {
	sync.Locker

	// Credentials are the user and password that grant write access.
	Credentials() (user, password string)
	// Info is GET /2/info.
	Info() map[string]any

	// Hosts are the names of the Ganeti nodes, in order.
	Hosts() []string
	// Host is a Ganeti node's UUID and role (master, master-candidate,
	// regular, drained, offline); ok is false when there is none.
	Host(name string) (uuid, role string, ok bool)
	// HostView is GET /2/nodes/NAME when full, else an element of
	// /2/nodes?bulk=1; nil when there is no such node.
	HostView(name string, full bool) map[string]any

	// Instances are the names of the instances, in order.
	Instances() []string
	// InstanceView is GET /2/instances/NAME; nil when there is none.
	InstanceView(name string) map[string]any

	// Submit queues a job of the opcodes, saves the cluster and returns
	// the job's id.
	Submit(reason string, dryRun bool, ops ...map[string]any) int
	// Jobs are the jobs in the queue, oldest first.
	Jobs() []*Job
	// Job is the job with an id; nil when there is none.
	Job(id int) *Job
	// Save writes the cluster after the room changed a job.
	Save()

	// Changed is closed at the cluster's next change.
	Changed() <-chan struct{}
	// WaitTimeout is how long a /2/jobs/ID/wait waits for a change.
	WaitTimeout() time.Duration
}
