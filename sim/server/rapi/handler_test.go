package rapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCluster is a cluster of one host and one instance with a recorded
// job queue, for the room's own tests; the simulator's tests drive the
// room against the real model.
type fakeCluster struct {
	sync.Mutex
	jobs    []*Job
	saved   int
	changed chan struct{}
}

var _ Cluster = (*fakeCluster)(nil)

func (c *fakeCluster) Credentials() (string, string) { return "ganeti", "secret" }
func (c *fakeCluster) Info() map[string]any          { return map[string]any{"name": "sim"} }
func (c *fakeCluster) Hosts() []string               { return []string{"host1"} }
func (c *fakeCluster) Host(name string) (string, string, bool) {
	return "uuid-" + name, "master", name == "host1"
}
func (c *fakeCluster) HostView(name string, full bool) map[string]any {
	if name != "host1" {
		return nil
	}
	return map[string]any{"name": name, "full": full}
}
func (c *fakeCluster) Instances() []string { return []string{"inst1"} }
func (c *fakeCluster) InstanceView(name string) map[string]any {
	if name != "inst1" {
		return nil
	}
	return map[string]any{"name": name, "uuid": "uuid-inst1"}
}
func (c *fakeCluster) Submit(reason string, dry bool, ops ...map[string]any) int {
	j := NewJob(len(c.jobs)+1, reason, dry, ops...)
	c.jobs = append(c.jobs, j)
	return j.ID
}
func (c *fakeCluster) Jobs() []*Job { return c.jobs }
func (c *fakeCluster) Job(id int) *Job {
	if id < 1 || id > len(c.jobs) {
		return nil
	}
	return c.jobs[id-1]
}
func (c *fakeCluster) Save()                      { c.saved++ }
func (c *fakeCluster) Changed() <-chan struct{}   { return c.changed }
func (c *fakeCluster) WaitTimeout() time.Duration { return 50 * time.Millisecond }

func TestHandler(t *testing.T) {
	c := &fakeCluster{changed: make(chan struct{})}
	srv := httptest.NewServer(NewHandler(c, make(chan struct{})))
	defer srv.Close()
	do := func(method, path, body, user string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if user != "" {
			req.SetBasicAuth(user, "secret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(data))
	}
	tests := map[string]struct {
		method, path, body, user string
		status                   int
		answer                   string
	}{
		"version":            {"GET", "/version", "", "", 200, `2`},
		"info":               {"GET", "/2/info", "", "", 200, `{"name":"sim"}`},
		"unknown resource":   {"GET", "/2/clusters", "", "", 404, `{"code":404,"explain":"Nothing matches the given URI","message":"Not Found"}`},
		"write without auth": {"PUT", "/2/nodes/host1/role", `"drained"`, "", 401, `{"code":401,"explain":"No permission -- see authorization schemes","message":"Unauthorized"}`},
		"wrong password":     {"GET", "/2/info", "", "intruder", 401, `{"code":401,"explain":"No permission -- see authorization schemes","message":"Unauthorized"}`},
		"node role":          {"GET", "/2/nodes/host1/role", "", "", 200, `"master"`},
		"unknown node":       {"GET", "/2/nodes/host9", "", "", 404, `{"code":404,"explain":"Nothing matches the given URI","message":"Not Found"}`},
		"set role":           {"PUT", "/2/nodes/host1/role", `"drained"`, "ganeti", 200, `1`},
		"dry_run in a body":  {"POST", "/2/nodes/host1/evacuate", `{"mode":"all","dry_run":true}`, "ganeti", 400, `{"code":400,"explain":"Bad request syntax or unsupported method","message":"Can\u0026#x27;t overwrite static parameters {\u0026#x27;dry_run\u0026#x27;}"}`},
		"cancel queued":      {"DELETE", "/2/jobs/1", "", "ganeti", 200, `[true,"Job 1 canceled"]`},
		"cancel again":       {"DELETE", "/2/jobs/1", "", "ganeti", 200, `[false,"Job 1 not found in queue"]`},
		"wait unknown job":   {"GET", "/2/jobs/7/wait", `{"fields":["status"]}`, "ganeti", 404, `{"code":404,"explain":"Nothing matches the given URI","message":"Not Found"}`},
	}
	// Ordered: setting the role queues job 1, which is then canceled.
	for _, name := range []string{"version", "info", "unknown resource", "write without auth", "wrong password", "node role",
		"unknown node", "set role", "dry_run in a body", "cancel queued", "cancel again", "wait unknown job"} {
		tc := tests[name]
		t.Run(name, func(t *testing.T) {
			status, answer := do(tc.method, tc.path, tc.body, tc.user)
			if status != tc.status || answer != tc.answer {
				t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, status, answer, tc.status, tc.answer)
			}
		})
	}
	var op map[string]any
	data, _ := json.Marshal(c.jobs[0].Ops[0])
	_ = json.Unmarshal(data, &op)
	if op["OP_ID"] != "OP_NODE_SET_PARAMS" || op["drained"] != true || op["node_uuid"] != "uuid-host1" {
		t.Errorf("set role submitted %v", op)
	}
	if j := c.jobs[0]; j.Status != JobCanceled || j.OpStatus[0] != JobCanceled || c.saved != 1 {
		t.Errorf("canceled job: %+v, saved %d times", j, c.saved)
	}
}

// TestWaitTimesOut: a wait whose job does not change answers null after
// the cluster's wait timeout, with the lock given back meanwhile.
func TestWaitTimesOut(t *testing.T) {
	c := &fakeCluster{changed: make(chan struct{})}
	c.Submit("instances_name_startup", false, map[string]any{"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "inst1"})
	srv := httptest.NewServer(NewHandler(c, make(chan struct{})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/2/jobs/1/wait", strings.NewReader(`{"fields":["status"],"previous_job_info":["queued"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("ganeti", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(data)) != "null" {
		t.Errorf("wait: %d %s", resp.StatusCode, data)
	}
	if !c.TryLock() {
		t.Fatal("the handler kept the cluster's lock")
	}
	c.Unlock()
}
