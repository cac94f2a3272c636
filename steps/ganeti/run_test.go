package ganeti

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/rokflow/rokflow/steps"
)

// runKind runs k against the fake RAPI with the given body after the rapi
// argument, journaling handles into *handles.
func runKind(t *testing.T, f *fakeRAPI, k steps.Kind, src, handle string, handles *[]string) (steps.RunResponse, []string) {
	t.Helper()
	var out []string
	req := steps.RunRequest{
		Args:   decode(t, k, f.rapiHCL()+src),
		Handle: handle,
		Output: func(_, line string) { out = append(out, line) },
		RecordHandle: func(h string) error {
			if handles != nil {
				*handles = append(*handles, h)
			}
			return nil
		},
	}
	resp := k.Run(context.Background(), req)
	if strings.Contains(resp.Diagnostics.Error(), secret) {
		t.Errorf("diagnostics leak the secret: %s", resp.Diagnostics)
	}
	return resp, out
}

func strs(v cty.Value) string {
	var ss []string
	for _, e := range v.AsValueSlice() {
		ss = append(ss, e.AsString())
	}
	return strings.Join(ss, ",")
}

func evacuateRAPI(t *testing.T) *fakeRAPI {
	return newFakeRAPI(t).
		answerAt("POST /2/nodes/node1.rokgnt.test/evacuate?dry-run=0", "37-evacuate.json").
		job("16", "40-evacuate-job.json").
		job("17", "41-evacuate-subjob1.json").
		job("18", "42-evacuate-subjob2.json")
}

func TestNodeEvacuateRun(t *testing.T) {
	f := evacuateRAPI(t)
	var handles []string
	resp, out := runKind(t, f, NodeEvacuate{}, "node = \"node1.rokgnt.test\"\nmode = \"primary-only\"\niallocator = \"hail\"\nearly_release = false", "", &handles)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	want := []string{
		"GET /2/features",
		`POST /2/nodes/node1.rokgnt.test/evacuate?dry-run=0 {"mode":"primary-only","iallocator":"hail","early_release":false}`,
		"GET /2/jobs/16/wait", "GET /2/jobs/16",
		"GET /2/jobs/17/wait", "GET /2/jobs/17",
		"GET /2/jobs/18/wait", "GET /2/jobs/18",
	}
	if got := f.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n got: %q\nwant: %q", got, want)
	}
	if strings.Join(handles, ",") != "16" {
		t.Errorf("journaled %v, want [16]", handles)
	}
	for _, r := range f.requests {
		if r.User != "rokflow" || r.Password != "rapi-"+secret {
			t.Errorf("request %s sent credentials %q", r.Path, r.User)
		}
	}
	o := resp.Outputs
	if !o.Type().Equals(nodeEvacuate.schema.OutputType()) {
		// result is dynamic: compare attribute names instead.
		for n := range nodeEvacuate.schema.Outputs {
			if !o.Type().HasAttribute(n) {
				t.Errorf("output %s missing", n)
			}
		}
	}
	if got := o.GetAttr("job_id").AsString(); got != "16" {
		t.Errorf("job_id %q", got)
	}
	if got := o.GetAttr("status").AsString(); got != "success" {
		t.Errorf("status %q", got)
	}
	if got := strs(o.GetAttr("subjobs")); got != "17,18" {
		t.Errorf("subjobs %q", got)
	}
	if got := strs(o.GetAttr("instances")); got != "inst1.rokgnt.test,inst2.rokgnt.test" {
		t.Errorf("instances %q", got)
	}
	if got := o.GetAttr("moves").Index(cty.StringVal("inst1.rokgnt.test")).AsString(); got != "node2.rokgnt.test" {
		t.Errorf("moves[inst1] %q", got)
	}
	if len(out) == 0 || !strings.Contains(strings.Join(out, "\n"), "submitted Ganeti job 16") {
		t.Errorf("output %q", out)
	}
}

func TestWriteReattachesToJournaledJob(t *testing.T) {
	f := evacuateRAPI(t)
	var handles []string
	resp, out := runKind(t, f, NodeEvacuate{}, "node = \"node1.rokgnt.test\"\nmode = \"primary-only\"\niallocator = \"hail\"", "16", &handles)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	for _, l := range f.lines() {
		if !strings.HasPrefix(l, "GET /2/jobs/") {
			t.Errorf("re-attach sent %s", l)
		}
	}
	if len(handles) != 0 {
		t.Errorf("re-attach journaled %v", handles)
	}
	if !strings.Contains(strings.Join(out, "\n"), "re-attaching to Ganeti job 16") {
		t.Errorf("output %q", out)
	}
	if got := resp.Outputs.GetAttr("status").AsString(); got != "success" {
		t.Errorf("status %q", got)
	}
}

func TestWriteJournalFailureStopsBeforeWaiting(t *testing.T) {
	f := evacuateRAPI(t)
	req := steps.RunRequest{
		Args:         decode(t, NodeEvacuate{}, f.rapiHCL()+"node = \"node1.rokgnt.test\"\nmode = \"primary-only\"\niallocator = \"hail\"\nearly_release = false"),
		RecordHandle: func(string) error { return errors.New("disk full") },
	}
	resp := NodeEvacuate{}.Run(context.Background(), req)
	if !hasError(resp.Diagnostics, "Cannot journal the Ganeti job") || !strings.Contains(resp.Diagnostics.Error(), "Do not submit again") {
		t.Fatalf("diagnostics %v", resp.Diagnostics)
	}
}

func TestWriteJobFailure(t *testing.T) {
	// The recorded cluster refused this evacuation in the job, after
	// accepting the request; the plan refuses primary-only with remote_node,
	// so the recorded job is served for a request the plan accepts.
	f := newFakeRAPI(t).
		answerAt("POST /2/nodes/node1.rokgnt.test/evacuate?dry-run=0", "33-evacuate-remote-node-primary.json").
		job("14", "34-evacuate-remote-node-primary-job.json")
	resp, _ := runKind(t, f, NodeEvacuate{}, "node = \"node1.rokgnt.test\"\nmode = \"secondary-only\"\nremote_node = \"node2.rokgnt.test\"", "", nil)
	if !hasError(resp.Diagnostics, "Ganeti job failed") {
		t.Fatalf("diagnostics %v", resp.Diagnostics)
	}
	if msg := resp.Diagnostics.Error(); !strings.Contains(msg, "Job 14 ended error: NODE_EVACUATE(node1.rokgnt.test): OpPrereqError: Without the use of an iallocator only secondary instances can be evacuated (wrong_input)") {
		t.Errorf("message %q", msg)
	}
	if resp.Outputs == cty.NilVal || resp.Outputs.GetAttr("job_id").AsString() != "14" {
		t.Errorf("outputs %#v", resp.Outputs)
	}
}

func TestReinstallFailureKeepsOutputs(t *testing.T) {
	f := newFakeRAPI(t).
		answerAt("POST /2/instances/inst1.rokgnt.test/reinstall", "47-reinstall.json").
		job("20", "56-reinstall-script-fails-job.json")
	resp, _ := runKind(t, f, InstanceReinstall{}, "instance = \"inst1.rokgnt.test\"\nos = \"rokimage+rok-0.11\"\nosparams = { image = \"rok-0.11\" }", "", nil)
	if !hasError(resp.Diagnostics, "Ganeti job failed") {
		t.Fatalf("diagnostics %v", resp.Diagnostics)
	}
	msg := resp.Diagnostics.Error()
	if !strings.Contains(msg, "INSTANCE_REINSTALL(inst1.rokgnt.test): OpExecError: Could not install OS") {
		t.Errorf("message %q", msg)
	}
	if got := resp.Outputs.GetAttr("status").AsString(); got != "error" {
		t.Errorf("status %q", got)
	}
	if got := f.lines()[1]; got != `POST /2/instances/inst1.rokgnt.test/reinstall {"os":"rokimage+rok-0.11","osparams":{"image":"rok-0.11"},"start":true}` {
		t.Errorf("request %s", got)
	}
}

func TestNodeRoleRun(t *testing.T) {
	t.Run("records the previous role", func(t *testing.T) {
		f := newFakeRAPI(t).
			answerAt("GET /2/nodes/node2.rokgnt.test/role", "13-node-role-candidate.json").
			answerAt("PUT /2/nodes/node2.rokgnt.test/role", "23-role-put-drained.json").
			job("11", "24-role-put-drained-job.json")
		var handles []string
		resp, _ := runKind(t, f, NodeRole{}, "node = \"node2.rokgnt.test\"\nrole = \"drained\"", "", &handles)
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		if got := resp.Outputs.GetAttr("previous_role").AsString(); got != "master-candidate" {
			t.Errorf("previous_role %q", got)
		}
		if strings.Join(handles, ",") != "11?previous_role=master-candidate" {
			t.Errorf("handles %v", handles)
		}
		if got := f.lines()[1]; got != `PUT /2/nodes/node2.rokgnt.test/role "drained"` {
			t.Errorf("request %s", got)
		}
		// A resumed run takes the previous role from the handle.
		resp, _ = runKind(t, f, NodeRole{}, "node = \"node2.rokgnt.test\"\nrole = \"drained\"", handles[0], nil)
		if got := resp.Outputs.GetAttr("previous_role").AsString(); got != "master-candidate" || resp.Diagnostics.HasErrors() {
			t.Errorf("re-attached previous_role %q, %v", got, resp.Diagnostics)
		}
	})
	t.Run("refuses the master", func(t *testing.T) {
		f := newFakeRAPI(t).answerAt("GET /2/nodes/node1.rokgnt.test/role", "12-node-role-master.json")
		resp, _ := runKind(t, f, NodeRole{}, "node = \"node1.rokgnt.test\"\nrole = \"drained\"", "", nil)
		if !hasError(resp.Diagnostics, "Node is the master") {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
		for _, l := range f.lines() {
			if strings.HasPrefix(l, "PUT") {
				t.Errorf("submitted %s", l)
			}
		}
	})
}

func TestJobWait(t *testing.T) {
	t.Run("falls back to polling without the write right", func(t *testing.T) {
		f := evacuateRAPI(t)
		f.forbidWait = true
		resp, _ := runKind(t, f, JobWait{}, `job_id = "16"`, "", nil)
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		if got := strs(resp.Outputs.GetAttr("subjobs")); got != "17,18" {
			t.Errorf("subjobs %q", got)
		}
	})
	t.Run("unknown job", func(t *testing.T) {
		f := newFakeRAPI(t)
		f.forbidWait = true
		resp, _ := runKind(t, f, JobWait{}, `job_id = "999999"`, "", nil)
		if !strings.Contains(resp.Diagnostics.Error(), "job 999999 is unknown to the cluster") {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
	})
	t.Run("failed job reported without failing", func(t *testing.T) {
		f := newFakeRAPI(t).job("14", "34-evacuate-remote-node-primary-job.json")
		resp, _ := runKind(t, f, JobWait{}, "job_id = 14\nrequire_success = false", "", nil)
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		if got := resp.Outputs.GetAttr("status").AsString(); got != "error" {
			t.Errorf("status %q", got)
		}
	})
}

func TestReadKindsRun(t *testing.T) {
	f := newFakeRAPI(t).answer("05-info.json", "09-nodes-bulk.json", "15-instances-bulk.json", "16-instance.json", "17-instance-unknown.json")
	t.Run("info", func(t *testing.T) {
		resp, _ := runKind(t, f, Info{}, "", "", nil)
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		o := resp.Outputs
		if o.GetAttr("master").AsString() != "node1.rokgnt.test" || o.GetAttr("default_iallocator").AsString() != "hail" {
			t.Errorf("info %v", o.GetAttr("master"))
		}
		if !strings.Contains(strs(o.GetAttr("features")), "node-evac-res1") {
			t.Errorf("features %s", strs(o.GetAttr("features")))
		}
	})
	t.Run("nodes", func(t *testing.T) {
		resp, _ := runKind(t, f, Nodes{}, "", "", nil)
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		o := resp.Outputs
		if !o.Type().Equals(nodesSchema.OutputType()) {
			t.Fatalf("output type %#v", o.Type())
		}
		if o.GetAttr("master").AsString() != "node1.rokgnt.test" || strs(o.GetAttr("names")) != "node1.rokgnt.test,node2.rokgnt.test" {
			t.Errorf("master %s names %s", o.GetAttr("master").AsString(), strs(o.GetAttr("names")))
		}
		n1 := o.GetAttr("by_name").Index(cty.StringVal("node1.rokgnt.test"))
		if n1.GetAttr("role").AsString() != "master" || strs(n1.GetAttr("pinst_list")) != "inst1.rokgnt.test,inst2.rokgnt.test" {
			t.Errorf("node1 %#v", n1)
		}
	})
	t.Run("instances", func(t *testing.T) {
		resp, _ := runKind(t, f, Instances{}, "", "", nil)
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		o := resp.Outputs
		if !o.Type().Equals(instancesSchema.OutputType()) {
			t.Fatalf("output type %#v", o.Type())
		}
		if got := strs(o.GetAttr("by_primary").Index(cty.StringVal("node1.rokgnt.test"))); got != "inst1.rokgnt.test,inst2.rokgnt.test" {
			t.Errorf("by_primary[node1] %q", got)
		}
		i1 := o.GetAttr("by_name").Index(cty.StringVal("inst1.rokgnt.test"))
		if !i1.GetAttr("nic_ips").Index(cty.NumberIntVal(0)).IsNull() {
			t.Errorf("a NIC without an address must give a null ip")
		}
	})
	t.Run("instance", func(t *testing.T) {
		resp, _ := runKind(t, f, Instance{}, `instance = "inst1.rokgnt.test"`, "", nil)
		if resp.Diagnostics.HasErrors() {
			t.Fatal(resp.Diagnostics)
		}
		o := resp.Outputs
		if o.GetAttr("primary_node").AsString() != "node1.rokgnt.test" || o.GetAttr("ip").AsString() != "" || o.GetAttr("status").AsString() != "running" {
			t.Errorf("instance %#v", o)
		}
	})
	t.Run("unknown instance", func(t *testing.T) {
		resp, _ := runKind(t, f, Instance{}, `instance = "nosuch.rokgnt.test"`, "", nil)
		if !strings.Contains(resp.Diagnostics.Error(), "HTTP 404: Not Found (Nothing matches the given URI)") {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
	})
}

func TestRapiTrustAndErrors(t *testing.T) {
	f := newFakeRAPI(t).answer("30-role-put-bad-value.json")
	t.Run("wrong pin", func(t *testing.T) {
		src := strings.Replace(f.rapiHCL(), f.pin(), strings.Repeat("00", 32), 1)
		resp := Nodes{}.Run(context.Background(), steps.RunRequest{Args: decode(t, Nodes{}, src)})
		if !strings.Contains(resp.Diagnostics.Error(), "not the pinned one") {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
	})
	t.Run("no trust setting: system roots refuse the test certificate", func(t *testing.T) {
		src := strings.Replace(f.rapiHCL(), "pinned_sha256", "tags", 1)
		src = src[:strings.Index(src, ", tags")] + " }\n"
		resp := Nodes{}.Run(context.Background(), steps.RunRequest{Args: decode(t, Nodes{}, src)})
		if !strings.Contains(resp.Diagnostics.Error(), "certificate") {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		src := strings.Replace(f.rapiHCL(), "rapi-${var.secret}", "wrong-${var.secret}", 1)
		resp := Nodes{}.Run(context.Background(), steps.RunRequest{Args: decode(t, Nodes{}, src)})
		msg := resp.Diagnostics.Error()
		if !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, "check the rapi user and password") || strings.Contains(msg, secret) {
			t.Fatalf("diagnostics %v", resp.Diagnostics)
		}
	})
	t.Run("HTML-escaped message", func(t *testing.T) {
		e, _, _ := parseRapi(decode(t, Nodes{}, f.rapiHCL()).GetAttr("rapi"))
		c, err := newClient(e)
		if err != nil {
			t.Fatal(err)
		}
		err = c.call(context.Background(), "PUT", "/2/nodes/node2.rokgnt.test/role", []byte(`"nonsense"`), nil)
		if err == nil || !strings.Contains(err.Error(), "HTTP 400: Can't set 'nonsense' role") {
			t.Fatalf("error %v", err)
		}
	})
}
