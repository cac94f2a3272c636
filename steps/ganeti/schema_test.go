package ganeti

import (
	"context"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/steps"
)

const rapiConn = `rapi = { host = "cluster.example.com", user = "rokflow", password = var.secret, pinned_sha256 = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" }` + "\n"

var samples = map[string]string{
	"ganeti.info":               rapiConn,
	"ganeti.nodes":              rapiConn,
	"ganeti.node":               rapiConn + `node = "node2.example.com"`,
	"ganeti.instances":          rapiConn,
	"ganeti.instance":           rapiConn + `instance = "roke1.example.com"`,
	"ganeti.job_wait":           rapiConn + `job_id = 16`,
	"ganeti.node_evacuate":      rapiConn + "node = \"node2.example.com\"\nmode = \"primary-only\"\niallocator = \"hail\"",
	"ganeti.node_migrate":       rapiConn + "node = \"node1.example.com\"\nmode = \"live\"\ntarget_node = \"node2.example.com\"",
	"ganeti.instance_migrate":   rapiConn + "instance = \"inst1\"\nmode = \"live\"\ntarget_node = \"node2.example.com\"",
	"ganeti.instance_reinstall": rapiConn + "instance = \"roke1\"\nos = \"snf-image+default\"\nosparams = { img_id = \"rok-0.11\", img_passwd = var.secret }",
	"ganeti.instance_shutdown":  rapiConn + "instance = \"inst1\"\nshutdown_timeout = 30",
	"ganeti.instance_startup":   rapiConn + `instance = "inst1"`,
	"ganeti.node_role":          rapiConn + "node = \"node2.example.com\"\nrole = \"drained\"",
}

func TestSchemas(t *testing.T) {
	if _, err := steps.NewRegistry(Kinds()...); err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds() {
		s := k.Schema()
		t.Run(s.Name, func(t *testing.T) {
			checkSchema(t, k, "ganeti")
			if s.Target != steps.TargetNone {
				t.Errorf("ganeti kinds take no `on` target")
			}
			if s.Effect == steps.Once {
				for _, out := range []string{"job_id", "status", "subjobs", "result"} {
					if s.Outputs[out] == nil {
						t.Errorf("write kind lacks output %s", out)
					}
				}
				if !strings.Contains(s.Description, "re-attaches") {
					t.Errorf("write kind does not document re-attaching")
				}
			}
			src, ok := samples[s.Name]
			if !ok {
				t.Fatalf("no sample body for %s", s.Name)
			}
			resp := k.Plan(context.Background(), steps.PlanRequest{Args: decode(t, k, src)})
			if len(resp.Diagnostics) > 0 {
				t.Fatalf("plan: %s", resp.Diagnostics)
			}
			if resp.Summary == "" || strings.Contains(resp.Summary, "\n") || resp.Request == "" {
				t.Errorf("plan must have a one-line summary and a request: %+v", resp)
			}
			if text := planText(resp); strings.Contains(text, secret) {
				t.Errorf("plan leaks the secret:\n%s", text)
			}
		})
	}
}

func TestPlanRequests(t *testing.T) {
	tests := []struct {
		kind    steps.Kind
		src     string
		request string
		summary string
	}{
		{NodeEvacuate{}, "node = \"node2.example.com\"\nmode = \"primary-only\"\niallocator = \"hail\"",
			`POST /2/nodes/node2.example.com/evacuate?dry-run=0 {"mode":"primary-only","iallocator":"hail"}`,
			"evacuate primary instances of node node2.example.com to nodes chosen by hail via RAPI cluster.example.com:5080 as rokflow"},
		{NodeEvacuate{}, "node = var.unknown\nmode = \"secondary-only\"\nremote_node = \"n3\"\nearly_release = true\ndry_run = true",
			`POST /2/nodes/(known after step.find)/evacuate?dry-run=1 {"mode":"secondary-only","remote_node":"n3","early_release":true}`,
			"dry run: evacuate secondary instances of node (known after step.find) to node n3"},
		{NodeEvacuate{}, "node = \"n1\"\nmode = \"primary-only\"\ndry_run = var.later",
			`POST /2/nodes/n1/evacuate?dry-run=(known after step.find) {"mode":"primary-only"}`, "evacuate primary instances of node n1 via"},
		{NodeMigrate{}, "node = \"node2\"\nmode = \"live\"\ntarget_node = var.unknown",
			`POST /2/nodes/node2/migrate {"mode":"live","target_node":(known after step.find)}`,
			"migrate the primary instances of node node2 (live) to node (known after step.find)"},
		{NodeMigrate{}, `node = "node1"`, `POST /2/nodes/node1/migrate {}`, "migrate the primary instances of node node1 via"},
		{InstanceMigrate{}, "instance = \"inst1\"\nmode = \"non-live\"\ntarget_node = \"node1\"\nallow_failover = true",
			`PUT /2/instances/inst1/migrate {"mode":"non-live","target_node":"node1","allow_failover":true}`, "migrate instance inst1 (non-live) to node node1"},
		{InstanceMigrate{}, "instance = \"inst1\"\ncleanup = true", `PUT /2/instances/inst1/migrate {"cleanup":true}`, "clean up a half-done migration of instance inst1"},
		{InstanceReinstall{}, "instance = \"roke1\"\nos = \"snf-image+default\"\nosparams = { img_id = \"rok-0.11\", img_passwd = var.secret }",
			`POST /2/instances/roke1/reinstall {"os":"snf-image+default","osparams":{"img_id":"rok-0.11","img_passwd":(sensitive)},"start":true}`,
			"reinstall instance roke1 with OS snf-image+default (wipes its disks)"},
		{InstanceReinstall{}, "instance = \"roke1\"\nstart = false", `POST /2/instances/roke1/reinstall {"start":false}`, "(wipes its disks, leaves it stopped)"},
		{InstanceReinstall{}, "instance = \"roke1\"\nosparams = var.later", `POST /2/instances/roke1/reinstall {"osparams":(known after step.find),"start":true}`, "reinstall instance roke1"},
		{InstanceShutdown{}, "instance = \"inst2\"\nshutdown_timeout = 30\nno_remember = true",
			`PUT /2/instances/inst2/shutdown?dry-run=0&no_remember=1 {"timeout":30}`, "shut down instance inst2"},
		{InstanceShutdown{}, `instance = "inst2"`, `PUT /2/instances/inst2/shutdown?dry-run=0 {}`, "shut down instance inst2"},
		{InstanceStartup{}, "instance = \"inst1\"\nforce = true", `PUT /2/instances/inst1/startup?dry-run=0&force=1`, "start instance inst1"},
		{NodeRole{}, "node = \"node2\"\nrole = \"master-candidate\"\nauto_promote = true",
			`PUT /2/nodes/node2/role?auto-promote=1 "master-candidate"`, "set the role of node node2 to master-candidate"},
		{NodeRole{}, "node = \"node2\"\nrole = var.unknown\nforce = true", `PUT /2/nodes/node2/role?force=1 (known after step.find)`, "to (known after step.find)"},
		{Node{}, `node = "a b/c"`, `GET /2/nodes/a%20b%2Fc`, "read Ganeti node a b/c"},
		{Nodes{}, ``, `GET /2/nodes?bulk=1`, "list the Ganeti nodes"},
		{Instances{}, ``, `GET /2/instances?bulk=1`, "list the Ganeti instances"},
		{Instance{}, `instance = var.unknown`, `GET /2/instances/(known after step.find)`, "read Ganeti instance (known after step.find)"},
		{Info{}, ``, `GET /2/info; GET /2/features`, "read the Ganeti cluster info"},
		{JobWait{}, `job_id = "42"`, `GET /2/jobs/42/wait`, "wait for Ganeti job 42"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.Schema().Name+"/"+tt.src, func(t *testing.T) {
			resp := tt.kind.Plan(context.Background(), steps.PlanRequest{Args: decode(t, tt.kind, rapiConn+tt.src)})
			if resp.Diagnostics.HasErrors() {
				t.Fatalf("plan: %s", resp.Diagnostics)
			}
			if resp.Request != tt.request {
				t.Errorf("request\n got: %s\nwant: %s", resp.Request, tt.request)
			}
			if !strings.Contains(resp.Summary, tt.summary) {
				t.Errorf("summary %q lacks %q", resp.Summary, tt.summary)
			}
			if text := planText(resp); strings.Contains(text, secret) {
				t.Errorf("plan leaks the secret:\n%s", text)
			}
		})
	}
}

func TestPlanRejects(t *testing.T) {
	tests := []struct {
		kind steps.Kind
		src  string
		want string
	}{
		{NodeEvacuate{}, "node = \"n\"\nmode = \"everything\"", "Invalid mode"},
		{NodeEvacuate{}, "node = \"n\"\nmode = \"primary-only\"\nremote_node = \"n2\"", "remote_node needs mode secondary-only"},
		{NodeEvacuate{}, "node = \"n\"\nmode = \"secondary-only\"\nremote_node = \"n2\"\niallocator = \"hail\"", "Conflicting arguments"},
		{NodeEvacuate{}, "node = \"\"\nmode = \"primary-only\"", "Empty node name"},
		{InstanceMigrate{}, "instance = \"i\"\nmode = \"teleport\"", "Invalid mode"},
		{NodeMigrate{}, "node = \"n\"\ntarget_node = \"a\"\niallocator = \"hail\"", "Conflicting arguments"},
		{NodeRole{}, "node = \"n\"\nrole = \"nonsense\"", "Invalid role"},
		{NodeRole{}, "node = \"n\"\nrole = \"master\"", "Invalid role"},
		{InstanceShutdown{}, "instance = \"i\"\nshutdown_timeout = 1.5", "Invalid shutdown_timeout"},
		{JobWait{}, `job_id = "16; rm"`, "Invalid job_id"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.Schema().Name+"/"+tt.src, func(t *testing.T) {
			args := decode(t, tt.kind, rapiConn+tt.src)
			resp := tt.kind.Plan(context.Background(), steps.PlanRequest{Args: args})
			if !hasError(resp.Diagnostics, tt.want) {
				t.Errorf("plan diagnostics %v, want %q", resp.Diagnostics, tt.want)
			}
			run := tt.kind.Run(context.Background(), steps.RunRequest{Args: args})
			if !hasError(run.Diagnostics, tt.want) {
				t.Errorf("run diagnostics %v, want %q", run.Diagnostics, tt.want)
			}
		})
	}
}

func TestRapiArgument(t *testing.T) {
	tests := []struct {
		rapi, want string
	}{
		{`{ host = "https://c.example.com" }`, "Invalid RAPI host"},
		{`{ host = "c.example.com:5080" }`, "Invalid RAPI host"},
		{`{ host = "c", port = 70000 }`, "Invalid RAPI port"},
		{`{ host = "c", user = "u" }`, "Incomplete RAPI credentials"},
		{`{ host = "c", pinned_sha256 = "abc" }`, "Invalid pinned_sha256"},
		{`{ host = "c", ca_file = "/ca.pem", insecure_skip_verify = true }`, "Conflicting RAPI trust settings"},
		{`{ host = "c", tls = false, insecure_skip_verify = true }`, "Conflicting RAPI trust settings"},
		{`{ host = "c", ca_file = "ca.pem" }`, "Relative path"},
	}
	for _, tt := range tests {
		t.Run(tt.rapi, func(t *testing.T) {
			resp := Nodes{}.Plan(context.Background(), steps.PlanRequest{Args: decode(t, Nodes{}, "rapi = "+tt.rapi)})
			if !hasError(resp.Diagnostics, tt.want) {
				t.Errorf("diagnostics %v, want %q", resp.Diagnostics, tt.want)
			}
		})
	}
	t.Run("IPv6 host and warning for mode all", func(t *testing.T) {
		resp := NodeEvacuate{}.Plan(context.Background(), steps.PlanRequest{Args: decode(t, NodeEvacuate{}, "rapi = { host = \"::1\", insecure_skip_verify = true }\nnode = \"n\"\nmode = \"all\"")})
		if resp.Diagnostics.HasErrors() || len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != "Ganeti refuses mode all with an iallocator" {
			t.Errorf("diagnostics %v", resp.Diagnostics)
		}
	})
}
