package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/server/rapi"
)

// rapiTest talks to the simulator's RAPI as rokflow's client does:
// HTTPS checked against rapi.pem, basic auth, JSON bodies.
type rapiTest struct {
	t          *testing.T
	base       string
	user, pass string
	http       *http.Client
}

func newRAPITest(t *testing.T, s *Server) *rapiTest {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.Dir(), rapi.PEMFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("rapi.pem holds no certificate")
	}
	s.mu.Lock()
	user, pass := s.st.Spec.RAPIUser, s.st.Spec.RAPIPassword
	s.mu.Unlock()
	return &rapiTest{t: t, base: s.Status().RAPI, user: user, pass: pass, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
	}}
}

// do sends a request; auth is "" (anonymous), "ok" or "bad".
func (c *rapiTest) do(method, path string, body any, auth string) (int, any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch auth {
	case "ok":
		req.SetBasicAuth(c.user, c.pass)
	case "bad":
		req.SetBasicAuth(c.user, "wrong")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "application/json" {
		c.t.Errorf("%s %s: Content-Type %q", method, path, resp.Header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		c.t.Fatalf("%s %s: answer %q is not JSON", method, path, data)
	}
	return resp.StatusCode, v
}

// sample is a recorded exchange with the real Ganeti 3.0.2 RAPI.
func sample(t *testing.T, name string) (int, any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "rapi", name))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Response struct {
			Status  int    `json:"status"`
			BodyRaw string `json:"body_raw"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	var body any
	if err := json.Unmarshal([]byte(s.Response.BodyRaw), &body); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s.Response.Status, body
}

// sameShape reports where got does not have want's shape: the same JSON
// types, every key of want's objects (ours may have more), arrays compared
// element by element as far as both go. null matches anything, as a
// field's value may be null in one state and not in another.
func sameShape(t *testing.T, where string, want, got any) {
	t.Helper()
	if want == nil || got == nil {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object", where, got)
			return
		}
		if strings.HasSuffix(where, ".osparams") {
			return // data, not shape
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s: no key %q", where, k)
				continue
			}
			sameShape(t, where+"."+k, wv, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: got %T, want an array", where, got)
			return
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			sameShape(t, fmt.Sprintf("%s[%d]", where, i), w[i], g[i])
		}
	default:
		if reflect.TypeOf(want) != reflect.TypeOf(got) {
			t.Errorf("%s: got %T %v, want %T like %v", where, got, got, want, want)
		}
	}
}

// like sends a request and checks the answer against a sample's status
// and shape.
func (c *rapiTest) like(name, method, path string, body any, auth string) any {
	c.t.Helper()
	status, got := c.do(method, path, body, auth)
	wantStatus, want := sample(c.t, name)
	if status != wantStatus {
		c.t.Errorf("%s %s: status %d, want %d (%s); answer %v", method, path, status, wantStatus, name, got)
	}
	sameShape(c.t, name, want, got)
	return got
}

// job waits for a job to end and returns GET /2/jobs/ID.
func (c *rapiTest) job(id any) map[string]any {
	c.t.Helper()
	var prev any
	for i := 0; i < 100; i++ {
		status, v := c.do("GET", fmt.Sprintf("/2/jobs/%v/wait", id), map[string]any{"fields": []string{"status"}, "previous_job_info": prev, "previous_log_serial": nil}, "ok")
		if status != 200 {
			c.t.Fatalf("wait for job %v: %d %v", id, status, v)
		}
		if v != nil {
			prev = v.(map[string]any)["job_info"]
			if st := prev.([]any)[0]; st == "success" || st == "error" || st == "canceled" {
				break
			}
		}
	}
	_, j := c.do("GET", fmt.Sprintf("/2/jobs/%v", id), nil, "")
	return j.(map[string]any)
}

func opResult(j map[string]any, i int) any { return j["opresult"].([]any)[i] }

func TestRAPIMatchesSamples(t *testing.T) {
	s := newSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 2, Guests: 2, NoEtcd: true})
	c := newRAPITest(t, s)
	const n1, n2 = "node1.gnt.sim", "node2.gnt.sim"

	c.like("02-version.json", "GET", "/version", nil, "ok")
	if _, v := c.do("GET", "/2/features", nil, ""); !reflect.DeepEqual(v, func() any { _, w := sample(t, "04-features.json"); return w }()) {
		t.Errorf("features = %v", v)
	}
	c.like("05-info.json", "GET", "/2/info", nil, "")
	c.like("06-info-wrong-password.json", "GET", "/2/info", nil, "bad")
	c.like("08-nodes.json", "GET", "/2/nodes", nil, "ok")
	c.like("09-nodes-bulk.json", "GET", "/2/nodes?bulk=1", nil, "ok")
	c.like("10-node.json", "GET", "/2/nodes/"+n1, nil, "ok")
	if got := c.like("11-node-unknown.json", "GET", "/2/nodes/nosuch.gnt.sim", nil, "ok"); !reflect.DeepEqual(got, func() any { _, w := sample(t, "11-node-unknown.json"); return w }()) {
		t.Errorf("unknown node: %v", got)
	}
	if got := c.like("12-node-role-master.json", "GET", "/2/nodes/"+n1+"/role", nil, ""); got != "master" {
		t.Errorf("role of the master: %v", got)
	}
	if got := c.like("13-node-role-candidate.json", "GET", "/2/nodes/"+n2+"/role", nil, ""); got != "master-candidate" {
		t.Errorf("role of node2: %v", got)
	}
	c.like("14-instances.json", "GET", "/2/instances", nil, "ok")
	c.like("15-instances-bulk.json", "GET", "/2/instances?bulk=1", nil, "ok")
	c.like("16-instance.json", "GET", "/2/instances/vm1-1.gnt.sim", nil, "ok")
	c.like("17-instance-unknown.json", "GET", "/2/instances/nosuch.gnt.sim", nil, "ok")
	c.like("18-os.json", "GET", "/2/os", nil, "ok")
	c.like("19-query-instance.json", "GET", "/2/query/instance?fields=name,pnode,status,oper_state,os", nil, "ok")
	q := c.like("20-query-instance-filter.json", "PUT", "/2/query/instance", map[string]any{"fields": []string{"name", "pnode", "status"}, "filter": []any{"=", "pnode", n1}}, "ok")
	if rows := q.(map[string]any)["data"].([]any); len(rows) != 3 {
		t.Errorf("instances on %s: %v", n1, rows)
	}

	// Node role: a job whose result lists the changed flags.
	id := c.like("23-role-put-drained.json", "PUT", "/2/nodes/"+n2+"/role", "drained", "ok")
	j := c.job(id)
	_, want := sample(t, "24-role-put-drained-job.json")
	sameShape(t, "job", want, j)
	if !reflect.DeepEqual(j["opresult"], want.(map[string]any)["opresult"]) || j["status"] != "success" {
		t.Errorf("role job: %v %v", j["status"], j["opresult"])
	}
	if _, role := c.do("GET", "/2/nodes/"+n2+"/role", nil, ""); role != "drained" {
		t.Errorf("role after the job: %v", role)
	}
	for _, e := range []struct{ sample, method, path string }{
		{"30-role-put-bad-value.json", "PUT", "/2/nodes/" + n2 + "/role"},
		{"31-evacuate-body-dry_run.json", "POST", "/2/nodes/" + n1 + "/evacuate"},
		{"32-evacuate-bad-mode.json", "POST", "/2/nodes/" + n1 + "/evacuate"},
	} {
		body := map[string]any{"30-role-put-bad-value.json": "nonsense",
			"31-evacuate-body-dry_run.json": map[string]any{"mode": "primary-only", "dry_run": true},
			"32-evacuate-bad-mode.json":     map[string]any{"mode": "everything"}}[e.sample]
		status, got := c.do(e.method, e.path, body, "ok")
		wantStatus, want := sample(t, e.sample)
		if status != wantStatus || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d %v, want %d %v", e.sample, status, got, wantStatus, want)
		}
	}
	id = c.like("33-evacuate-remote-node-primary.json", "POST", "/2/nodes/"+n1+"/evacuate", map[string]any{"mode": "primary-only", "remote_node": n2}, "ok")
	j = c.job(id)
	_, want = sample(t, "34-evacuate-remote-node-primary-job.json")
	sameShape(t, "job", want, j)
	if !reflect.DeepEqual(opResult(j, 0), opResult(want.(map[string]any), 0)) {
		t.Errorf("evacuate with remote_node: %v", opResult(j, 0))
	}
	c.job(c.like("23-role-put-drained.json", "PUT", "/2/nodes/"+n2+"/role", "master-candidate", "ok"))

	// Evacuating a RokE host: its appliance (plain disks) cannot move.
	j = c.job(c.like("37-evacuate.json", "POST", "/2/nodes/"+n1+"/evacuate", map[string]any{"mode": "primary-only", "iallocator": "hail"}, "ok"))
	if j["status"] != "error" || !strings.Contains(fmt.Sprint(opResult(j, 0)), "Unable to evacuate instances roke1.gnt.sim (Instance's disk layout 'plain' does not allow migrations)") {
		t.Errorf("evacuating a RokE host: %v %v", j["status"], opResult(j, 0))
	}
	j = c.job(c.like("43-evacuate-empty-node.json", "POST", "/2/nodes/"+n1+"/evacuate", map[string]any{"mode": "secondary-only"}, "ok"))
	if j["status"] != "success" || !reflect.DeepEqual(opResult(j, 0), map[string]any{"jobs": []any{}}) {
		t.Errorf("secondary-only evacuation: %v %v", j["status"], opResult(j, 0))
	}

	// Node migrate: one job per primary instance; the appliance's fails.
	id = c.like("79-node-migrate.json", "POST", "/2/nodes/"+n1+"/migrate", map[string]any{"mode": "live", "target_node": n2}, "ok")
	c.like("38-job-wait-evacuate.json", "GET", fmt.Sprintf("/2/jobs/%v/wait", id), map[string]any{"fields": []string{"status", "opstatus"}, "previous_job_info": nil, "previous_log_serial": nil}, "ok")
	if status, _ := c.do("GET", fmt.Sprintf("/2/jobs/%v/wait", id), map[string]any{"fields": []string{"status"}}, ""); status != 401 {
		t.Errorf("anonymous /wait: %d", status)
	}
	j = c.job(id)
	_, want = sample(t, "80-node-migrate-job.json")
	sameShape(t, "job", want, j)
	subs := opResult(j, 0).(map[string]any)["jobs"].([]any)
	if len(subs) != 3 {
		t.Fatalf("node migrate submitted %v", subs)
	}
	_, want = sample(t, "81-node-migrate-subjob1.json")
	okSubs, failedSubs := 0, 0
	for _, sj := range subs {
		sub := c.job(sj.([]any)[1])
		switch sub["status"] {
		case "success":
			sameShape(t, "subjob", want, sub)
			okSubs++
		case "error":
			if !strings.Contains(fmt.Sprint(opResult(sub, 0)), "Instance's disk layout 'plain' does not allow migrations wrong_state") {
				t.Errorf("appliance migration: %v", opResult(sub, 0))
			}
			failedSubs++
		}
	}
	if okSubs != 2 || failedSubs != 1 {
		t.Errorf("%d sub-jobs succeeded, %d failed", okSubs, failedSubs)
	}

	// Instance shutdown, migrate while stopped, startup, same node, live.
	const vm = "vm1-1.gnt.sim"
	j = c.job(c.like("62-shutdown.json", "PUT", "/2/instances/"+vm+"/shutdown", map[string]any{"timeout": 30}, "ok"))
	_, want = sample(t, "63-shutdown-job.json")
	sameShape(t, "job", want, j)
	j = c.job(c.like("64-migrate-instance-stopped.json", "PUT", "/2/instances/"+vm+"/migrate", map[string]any{"mode": "live", "target_node": n1}, "ok"))
	_, want = sample(t, "65-migrate-instance-stopped-job.json")
	sameShape(t, "job", want, j)
	if got := fmt.Sprint(opResult(j, 0)); got != "[OpPrereqError [Can't migrate, please use failover: Instance "+vm+" is not running wrong_state]]" {
		t.Errorf("migrating a stopped instance: %s", got)
	}
	j = c.job(c.like("60-startup.json", "PUT", "/2/instances/"+vm+"/startup", nil, "ok"))
	_, want = sample(t, "61-startup-job.json")
	sameShape(t, "job", want, j)
	j = c.job(c.like("74-migrate-instance-same-node.json", "PUT", "/2/instances/"+vm+"/migrate", map[string]any{"mode": "live", "target_node": n2}, "ok"))
	if got := fmt.Sprint(opResult(j, 0)); got != "[OpPrereqError [Cannot migrate instance "+vm+" to its primary ("+n2+") wrong_state]]" {
		t.Errorf("migrating to the primary: %s", got)
	}
	j = c.job(c.like("70-migrate-instance-live.json", "PUT", "/2/instances/"+vm+"/migrate", map[string]any{"mode": "live", "target_node": n1}, "ok"))
	_, want = sample(t, "71-migrate-instance-live-job.json")
	sameShape(t, "job", want, j)
	if _, inst := c.do("GET", "/2/instances/"+vm, nil, ""); inst.(map[string]any)["pnode"] != n1 || j["status"] != "success" {
		t.Errorf("after the migration: %v", inst.(map[string]any)["pnode"])
	}
	status, got := c.do("PUT", "/2/instances/"+vm+"/migrate", map[string]any{"mode": "teleport"}, "ok")
	if _, want := sample(t, "78-migrate-instance-bad-mode.json"); status != 400 || !reflect.DeepEqual(got, want) {
		t.Errorf("bad mode: %d %v", status, got)
	}
	if status, _ := c.do("POST", "/2/instances/"+vm+"/migrate", map[string]any{}, "ok"); status != 501 {
		t.Errorf("POST on migrate: %d, want 501", status)
	}
	if status, _ := c.do("PUT", "/2/instances/"+vm+"/migrate", map[string]any{}, ""); status != 401 {
		t.Errorf("anonymous write: %d, want 401", status)
	}

	// Reinstall: the failures, then the RokE appliance's new image.
	j = c.job(c.like("51-reinstall-unknown-os.json", "POST", "/2/instances/roke2.gnt.sim/reinstall", map[string]any{"os": "nosuchos", "start": false}, "ok"))
	_, want = sample(t, "52-reinstall-unknown-os-job.json")
	sameShape(t, "job", want, j)
	if got := fmt.Sprint(opResult(j, 1)); got != "[OpExecError [OS Parameters validation failed on node "+n2+": Directory for OS nosuchos not found in search path]]" {
		t.Errorf("unknown OS: %s", got)
	}
	j = c.job(c.like("53-reinstall-undeclared-osparam.json", "POST", "/2/instances/roke2.gnt.sim/reinstall", map[string]any{"os": "snf-image+default", "osparams": map[string]any{"colour": "blue"}, "start": false}, "ok"))
	if got := fmt.Sprint(opResult(j, 1)); got != "[OpExecError [OS Parameters validation failed on node "+n2+": The following parameters are not supported by the OS snf-image: colour]]" {
		t.Errorf("undeclared osparam: %s", got)
	}
	version := "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b"
	id = c.like("47-reinstall.json", "POST", "/2/instances/roke1.gnt.sim/reinstall", map[string]any{
		"os": "snf-image+default", "start": true,
		"osparams": map[string]any{"img_id": "roke-" + version, "img_format": "diskdump", "img_passwd": "secret",
			"img_properties": `{"ROK_VERSION":"` + version + `"}`}}, "ok")
	c.like("48-job-wait-reinstall.json", "GET", fmt.Sprintf("/2/jobs/%v/wait", id), map[string]any{"fields": []string{"status", "opstatus"}, "previous_job_info": nil, "previous_log_serial": 0}, "ok")
	j = c.job(id)
	_, want = sample(t, "49-reinstall-job.json")
	sameShape(t, "job", want, j)
	if j["status"] != "success" || len(j["ops"].([]any)) != 3 {
		t.Fatalf("reinstall: %v %v", j["status"], j["opresult"])
	}
	if n := s.Status().Node("roke1.sim"); n.Boot != version || n.Power != "on" || n.State != "needs-upgrade" {
		t.Errorf("the re-imaged appliance: %+v", n)
	}

	// Jobs: unknown ids are all null, not 404; finished ones cannot be
	// cancelled.
	status, got = c.do("GET", "/2/jobs/999999", nil, "")
	if _, want := sample(t, "89-job-unknown.json"); status != 200 || !reflect.DeepEqual(got, want) {
		t.Errorf("unknown job: %d %v", status, got)
	}
	status, got = c.do("DELETE", fmt.Sprintf("/2/jobs/%v", id), nil, "ok")
	if status != 200 || fmt.Sprint(got) != fmt.Sprintf("[false Job %v not found in queue]", id) {
		t.Errorf("cancel of a finished job: %d %v", status, got)
	}
}
