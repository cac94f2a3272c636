package ganeti

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

// These tests run against a real Ganeti cluster: the lab of
// shared/labs/ganeti (setup.sh, then `. /var/lib/rokgnt/out/env`). They are
// skipped unless GANETI_RAPI_URL is set. They move instances and put them
// back where setup.sh left them (inst1, inst2 on node1; inst3 on node2).

type lab struct {
	t    *testing.T
	rapi string // the rapi argument as the write user
	ro   string // the rapi argument as the read-only user
	c    *rapiClient
}

func newLab(t *testing.T) *lab {
	t.Helper()
	raw := os.Getenv("GANETI_RAPI_URL")
	if raw == "" {
		t.Skip("GANETI_RAPI_URL not set: no Ganeti lab (shared/labs/ganeti)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := os.ReadFile(os.Getenv("GANETI_RAPI_CERT"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemData)
	if blk == nil {
		t.Fatal("GANETI_RAPI_CERT holds no PEM block")
	}
	sum := sha256.Sum256(blk.Bytes)
	pin := hex.EncodeToString(sum[:])
	arg := func(user, pass string) string {
		return fmt.Sprintf("rapi = { host = %q, port = %s, user = %q, password = %q, pinned_sha256 = %q }\n", u.Hostname(), u.Port(), user, pass, pin)
	}
	l := &lab{t: t, rapi: arg(os.Getenv("GANETI_RAPI_USER"), os.Getenv("GANETI_RAPI_PASSWORD")),
		ro: arg(os.Getenv("GANETI_RAPI_RO_USER"), os.Getenv("GANETI_RAPI_RO_PASSWORD"))}
	e, _, diags := parseRapi(decode(t, Nodes{}, l.rapi).GetAttr("rapi"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if l.c, err = newClient(e); err != nil {
		t.Fatal(err)
	}
	return l
}

// jobWatch is a TLS pass-through proxy between a kind and the lab's RAPI.
// It records, for each job, when the kind received the first answer saying
// that the job had ended: a /2/jobs/ID/wait long poll whose job_info holds a
// final status, or a GET /2/jobs/ID with one. The time is taken once the
// answer is written and flushed to the kind, so it includes the proxy's
// hop.
type jobWatch struct {
	srv  *httptest.Server
	rapi string // the rapi argument through the proxy, as the write user

	mu   sync.Mutex
	seen map[string]time.Time
}

var jobPath = regexp.MustCompile(`^/2/jobs/([0-9]+)(/wait)?$`)

func (l *lab) watchJobs() *jobWatch {
	l.t.Helper()
	w := &jobWatch{seen: map[string]time.Time{}}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		up, err := http.NewRequestWithContext(r.Context(), r.Method, l.c.e.baseURL()+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		for _, h := range []string{"Authorization", "Content-Type", "Accept", "User-Agent"} {
			if v := r.Header.Get(h); v != "" {
				up.Header.Set(h, v)
			}
		}
		resp, err := l.c.http.Do(up)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			if k != "Content-Length" && k != "Connection" {
				rw.Header()[k] = vs
			}
		}
		rw.WriteHeader(resp.StatusCode)
		_, _ = rw.Write(data)
		rw.(http.Flusher).Flush()
		at := time.Now()
		m := jobPath.FindStringSubmatch(r.URL.Path)
		if r.Method != http.MethodGet || resp.StatusCode != http.StatusOK || m == nil {
			return
		}
		var status string
		if m[2] != "" {
			var res *struct {
				JobInfo []any `json:"job_info"`
			}
			if json.Unmarshal(data, &res) == nil && res != nil && len(res.JobInfo) > 0 {
				status, _ = res.JobInfo[0].(string)
			}
		} else {
			var j struct {
				Status string `json:"status"`
			}
			if json.Unmarshal(data, &j) == nil {
				status = j.Status
			}
		}
		if finalStatus(status) {
			w.mu.Lock()
			if _, ok := w.seen[m[1]]; !ok {
				w.seen[m[1]] = at
			}
			w.mu.Unlock()
		}
	}))
	l.t.Cleanup(w.srv.Close)
	u, _ := url.Parse(w.srv.URL)
	sum := sha256.Sum256(w.srv.Certificate().Raw)
	w.rapi = fmt.Sprintf("rapi = { host = %q, port = %s, user = %q, password = %q, pinned_sha256 = %q }\n",
		u.Hostname(), u.Port(), os.Getenv("GANETI_RAPI_USER"), os.Getenv("GANETI_RAPI_PASSWORD"), hex.EncodeToString(sum[:]))
	return w
}

// maxFinishLatency is how long after a job's end_ts a kind may learn that
// it finished (it long-polls /wait, which Ganeti answers on a change).
const maxFinishLatency = 300 * time.Millisecond

// checkFinishLatency logs, for each job in ids, the time from the job's
// end_ts to when the kind saw it finished through w, and fails when one is
// over maxFinishLatency or was never seen.
func (l *lab) checkFinishLatency(w *jobWatch, ids []string) {
	l.t.Helper()
	var worst time.Duration
	for _, id := range ids {
		var j struct {
			Status  string  `json:"status"`
			StartTS []int64 `json:"start_ts"`
			EndTS   []int64 `json:"end_ts"`
		}
		if err := l.c.call(context.Background(), http.MethodGet, "/2/jobs/"+id, nil, &j); err != nil {
			l.t.Fatal(err)
		}
		if len(j.EndTS) != 2 {
			l.t.Errorf("job %s (%s) has no end_ts: %v", id, j.Status, j.EndTS)
			continue
		}
		end := time.Unix(j.EndTS[0], j.EndTS[1]*1000)
		w.mu.Lock()
		at, ok := w.seen[id]
		w.mu.Unlock()
		if !ok {
			l.t.Errorf("job %s: the kind never received an answer saying it had ended", id)
			continue
		}
		d := at.Sub(end)
		worst = max(worst, d)
		ran := time.Duration(0)
		if len(j.StartTS) == 2 {
			ran = end.Sub(time.Unix(j.StartTS[0], j.StartTS[1]*1000))
		}
		l.t.Logf("finish latency: job %s (%s, ran %v): end_ts %s, seen by the kind %s: %v after end_ts",
			id, j.Status, ran.Round(time.Millisecond), end.Format("15:04:05.000000"), at.Format("15:04:05.000000"), d.Round(time.Microsecond))
		if d > maxFinishLatency {
			l.t.Errorf("job %s: the kind saw it finished %v after its end_ts, over %v", id, d.Round(time.Millisecond), maxFinishLatency)
		}
	}
	l.t.Logf("finish latency: worst %v over %d jobs (limit %v)", worst.Round(time.Microsecond), len(ids), maxFinishLatency)
}

func (l *lab) run(k steps.Kind, src, handle string) (steps.RunResponse, []string) {
	l.t.Helper()
	var handles []string
	resp := k.Run(context.Background(), steps.RunRequest{
		Args: decode(l.t, k, src), Handle: handle,
		Output:       func(_, line string) { l.t.Log(line) },
		RecordHandle: func(h string) error { handles = append(handles, h); return nil },
	})
	return resp, handles
}

func (l *lab) must(k steps.Kind, src string) (cty.Value, []string) {
	l.t.Helper()
	resp, handles := l.run(k, l.rapi+src, "")
	if resp.Diagnostics.HasErrors() {
		l.t.Fatalf("%s: %s", k.Schema().Name, resp.Diagnostics)
	}
	return resp.Outputs, handles
}

func (l *lab) primaries() map[string]string {
	l.t.Helper()
	out, _ := l.must(Instances{}, "")
	m := map[string]string{}
	for name, in := range out.GetAttr("by_name").AsValueMap() {
		m[name] = in.GetAttr("pnode").AsString()
	}
	return m
}

func (l *lab) jobCount() int {
	var jobs []map[string]any
	if err := l.c.call(context.Background(), "GET", "/2/jobs", nil, &jobs); err != nil {
		l.t.Fatal(err)
	}
	return len(jobs)
}

func TestLabReads(t *testing.T) {
	l := newLab(t)
	info, _ := l.must(Info{}, "")
	if info.GetAttr("master").AsString() != "node1.rokgnt.test" || !strings.Contains(strs(info.GetAttr("features")), "node-evac-res1") {
		t.Errorf("info %#v", info)
	}
	nodes, _ := l.must(Nodes{}, "")
	if nodes.GetAttr("master").AsString() != "node1.rokgnt.test" {
		t.Errorf("nodes master %#v", nodes.GetAttr("master"))
	}
	inst, _ := l.must(Instance{}, `instance = "inst1.rokgnt.test"`)
	if inst.GetAttr("primary_node").AsString() != "node1.rokgnt.test" || inst.GetAttr("status").AsString() != "running" {
		t.Errorf("instance %#v", inst)
	}
	resp, _ := l.run(Node{}, l.ro+`node = "nosuch.rokgnt.test"`, "")
	if !strings.Contains(resp.Diagnostics.Error(), "HTTP 404") {
		t.Errorf("unknown node: %v", resp.Diagnostics)
	}
}

func TestLabEvacuateAndMigrateBack(t *testing.T) {
	l := newLab(t)
	before := l.primaries()
	if before["inst1.rokgnt.test"] != "node1.rokgnt.test" || before["inst2.rokgnt.test"] != "node1.rokgnt.test" {
		t.Skipf("the lab is not in its initial placement: %v (lab.sh reset)", before)
	}

	// A dry run is a job that changes nothing.
	out, _ := l.must(NodeEvacuate{}, "node = \"node1.rokgnt.test\"\nmode = \"primary-only\"\niallocator = \"hail\"\ndry_run = true")
	if out.GetAttr("status").AsString() != "success" || out.GetAttr("subjobs").LengthInt() != 0 {
		t.Errorf("dry run: %#v", out)
	}
	if after := l.primaries(); after["inst1.rokgnt.test"] != "node1.rokgnt.test" {
		t.Fatalf("the dry run moved instances: %v", after)
	}

	// The real evacuation goes through a proxy that notes when the kind
	// learns that the job, and each migration it submitted, has finished.
	w := l.watchJobs()
	resp, handles := l.run(NodeEvacuate{}, w.rapi+"node = \"node1.rokgnt.test\"\nmode = \"primary-only\"\niallocator = \"hail\"\nearly_release = false", "")
	if resp.Diagnostics.HasErrors() {
		t.Fatalf("evacuate: %s", resp.Diagnostics)
	}
	out = resp.Outputs
	jobID := out.GetAttr("job_id").AsString()
	ids := []string{jobID}
	for _, sj := range out.GetAttr("subjobs").AsValueSlice() {
		ids = append(ids, sj.AsString())
	}
	l.checkFinishLatency(w, ids)
	if len(handles) != 1 || handles[0] != jobID {
		t.Errorf("journaled %v for job %s", handles, jobID)
	}
	if strs(out.GetAttr("instances")) != "inst1.rokgnt.test,inst2.rokgnt.test" || out.GetAttr("subjobs").LengthInt() != 2 {
		t.Errorf("evacuate: %#v", out)
	}
	for name, to := range out.GetAttr("moves").AsValueMap() {
		if to.AsString() != "node2.rokgnt.test" {
			t.Errorf("%s moved to %q", name, to.AsString())
		}
	}
	if after := l.primaries(); after["inst1.rokgnt.test"] != "node2.rokgnt.test" || after["inst2.rokgnt.test"] != "node2.rokgnt.test" {
		t.Errorf("after evacuation: %v", after)
	}

	// Re-attaching to the journaled job submits nothing new.
	n := l.jobCount()
	resp, handles = l.run(NodeEvacuate{}, l.rapi+"node = \"node1.rokgnt.test\"\nmode = \"primary-only\"\niallocator = \"hail\"", jobID)
	if resp.Diagnostics.HasErrors() || len(handles) != 0 || l.jobCount() != n || resp.Outputs.GetAttr("status").AsString() != "success" {
		t.Errorf("re-attach: %v, handles %v, jobs %d -> %d", resp.Diagnostics, handles, n, l.jobCount())
	}
	// A read-only user follows the job by polling (/wait needs write).
	resp, _ = l.run(JobWait{}, l.ro+"job_id = "+jobID, "")
	if resp.Diagnostics.HasErrors() || strs(resp.Outputs.GetAttr("subjobs")) != strs(out.GetAttr("subjobs")) {
		t.Errorf("job_wait as viewer: %v", resp.Diagnostics)
	}

	// Migrating to the node an instance is on is refused before any job.
	resp, _ = l.run(InstanceMigrate{}, l.rapi+"instance = \"inst1.rokgnt.test\"\ntarget_node = \"node2.rokgnt.test\"", "")
	if !hasError(resp.Diagnostics, "Instance already on the target") {
		t.Errorf("same node: %v", resp.Diagnostics)
	}
	for _, inst := range []string{"inst1.rokgnt.test", "inst2.rokgnt.test"} {
		mo, _ := l.must(InstanceMigrate{}, fmt.Sprintf("instance = %q\nmode = \"live\"\ntarget_node = \"node1.rokgnt.test\"", inst))
		if mo.GetAttr("previous_primary").AsString() != "node2.rokgnt.test" || mo.GetAttr("status").AsString() != "success" {
			t.Errorf("migrate %s back: %#v", inst, mo)
		}
	}
	if after := l.primaries(); after["inst1.rokgnt.test"] != "node1.rokgnt.test" || after["inst2.rokgnt.test"] != "node1.rokgnt.test" {
		t.Errorf("after migrating back: %v", after)
	}
}

func TestLabNodeRole(t *testing.T) {
	l := newLab(t)
	resp, _ := l.run(NodeRole{}, l.rapi+"node = \"node1.rokgnt.test\"\nrole = \"drained\"", "")
	if !hasError(resp.Diagnostics, "Node is the master") {
		t.Errorf("master: %v", resp.Diagnostics)
	}
	out, handles := l.must(NodeRole{}, "node = \"node2.rokgnt.test\"\nrole = \"drained\"")
	if out.GetAttr("previous_role").AsString() != "master-candidate" || !strings.HasSuffix(handles[0], "?previous_role=master-candidate") {
		t.Errorf("drain: %#v %v", out, handles)
	}
	nodes, _ := l.must(Node{}, `node = "node2.rokgnt.test"`)
	if nodes.GetAttr("role").AsString() != "drained" {
		t.Errorf("role after drain %q", nodes.GetAttr("role").AsString())
	}
	out, _ = l.must(NodeRole{}, "node = \"node2.rokgnt.test\"\nrole = \"master-candidate\"\nauto_promote = true")
	if out.GetAttr("previous_role").AsString() != "drained" {
		t.Errorf("restore: %#v", out)
	}
	nodes, _ = l.must(Node{}, `node = "node2.rokgnt.test"`)
	if nodes.GetAttr("role").AsString() != "master-candidate" {
		t.Errorf("role after restore %q", nodes.GetAttr("role").AsString())
	}
}

func TestLabShutdownReinstallStartup(t *testing.T) {
	l := newLab(t)
	const inst = "instance = \"inst3.rokgnt.test\"\n"
	out, _ := l.must(InstanceShutdown{}, inst+"shutdown_timeout = 30\nno_remember = true\ndry_run = true")
	if st, _ := l.must(Instance{}, inst); st.GetAttr("status").AsString() != "running" {
		t.Fatalf("dry-run shutdown stopped it: %#v", st)
	}
	out, _ = l.must(InstanceShutdown{}, inst+"shutdown_timeout = 30")
	j, err := l.c.getJob(context.Background(), out.GetAttr("job_id").AsString())
	if err != nil || j.Ops[0]["timeout"] == nil || fmt.Sprint(j.Ops[0]["timeout"]) != "30" {
		t.Errorf("shutdown job ops %v %v", j, err)
	}
	if st, _ := l.must(Instance{}, inst); st.GetAttr("admin_state").AsString() != "down" {
		t.Errorf("after shutdown: %#v", st)
	}
	out, _ = l.must(InstanceReinstall{}, inst+"os = \"rokimage+rok-0.11\"\nosparams = { image = var.secret }\nstart = false")
	if out.GetAttr("status").AsString() != "success" {
		t.Errorf("reinstall: %#v", out)
	}
	st, _ := l.must(Instance{}, inst)
	if st.GetAttr("os").AsString() != "rokimage+rok-0.11" || st.GetAttr("admin_state").AsString() != "down" {
		t.Errorf("after reinstall: %#v", st)
	}
	// Back to the OS setup.sh installed, started.
	l.must(InstanceReinstall{}, inst+"os = \"rokimage+rok-0.10\"\nosparams = { image = \"rok-0.10\" }\nstart = false")
	out, _ = l.must(InstanceStartup{}, inst)
	if st, _ := l.must(Instance{}, inst); st.GetAttr("status").AsString() != "running" {
		t.Errorf("after startup: %#v", st)
	}
}

func TestLabFailedReinstall(t *testing.T) {
	l := newLab(t)
	resp, _ := l.run(InstanceReinstall{}, l.rapi+"instance = \"inst3.rokgnt.test\"\nos = \"nosuchos\"\nstart = false", "")
	if !hasError(resp.Diagnostics, "Ganeti job failed") || !strings.Contains(resp.Diagnostics.Error(), "OS Parameters validation failed") {
		t.Errorf("diagnostics %v", resp.Diagnostics)
	}
	if resp.Outputs.GetAttr("status").AsString() != "error" {
		t.Errorf("status %#v", resp.Outputs.GetAttr("status"))
	}
	l.must(InstanceStartup{}, "instance = \"inst3.rokgnt.test\"")
}

func TestLabNodeMigrate(t *testing.T) {
	l := newLab(t)
	if p := l.primaries(); p["inst3.rokgnt.test"] != "node2.rokgnt.test" {
		t.Skipf("the lab is not in its initial placement: %v (lab.sh reset)", p)
	}
	out, _ := l.must(NodeMigrate{}, "node = \"node2.rokgnt.test\"\nmode = \"live\"\ntarget_node = \"node1.rokgnt.test\"")
	if strs(out.GetAttr("instances")) != "inst3.rokgnt.test" || out.GetAttr("moves").Index(cty.StringVal("inst3.rokgnt.test")).AsString() != "node1.rokgnt.test" {
		t.Errorf("node migrate: %#v", out)
	}
	mo, _ := l.must(InstanceMigrate{}, "instance = \"inst3.rokgnt.test\"\ntarget_node = \"node2.rokgnt.test\"")
	if mo.GetAttr("previous_primary").AsString() != "node1.rokgnt.test" {
		t.Errorf("migrate back: %#v", mo)
	}
	if p := l.primaries(); p["inst3.rokgnt.test"] != "node2.rokgnt.test" {
		t.Errorf("after: %v", p)
	}
}
