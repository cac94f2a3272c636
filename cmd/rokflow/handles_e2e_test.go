package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rokflow/rokflow/sim"
)

// undoPairPlaybook shuts a RokE appliance down (undone by starting it),
// reinstalls it and starts it: the reinstall-with-compensation shape.
const undoPairPlaybook = `
locals {
  rapi = {
    host          = var.ganeti.rapi_host
    port          = var.ganeti.rapi_port
    user          = var.ganeti.rapi_user
    password      = var.rapi_password
    ca_file       = var.ganeti.ca_file
    pinned_sha256 = var.ganeti.pinned_sha256
  }
}

step "shutdown" {
  uses     = "ganeti.instance_shutdown"
  rapi     = local.rapi
  instance = "roke2.gnt.sim"
  undo     = step.startup
}

step "reinstall" {
  uses       = "ganeti.instance_reinstall"
  rapi       = local.rapi
  instance   = "roke2.gnt.sim"
  os         = "snf-image+default"
  start      = false
  depends_on = [step.shutdown]
  osparams = {
    img_id     = "rok-0.11"
    img_format = "diskdump"
    img_passwd = var.roke_password
  }
}

step "startup" {
  uses       = "ganeti.instance_startup"
  rapi       = local.rapi
  instance   = "roke2.gnt.sim"
  depends_on = [step.reinstall]
}
`

// TestE2EUndoneStepSubmitsNewJobs: after a failed reinstall whose shutdown
// was undone by a startup, a new apply submits a new shutdown job (it does
// not re-attach to the old one and report work it did not do), and the
// instance ends running.
func TestE2EUndoneStepSubmitsNewJobs(t *testing.T) {
	e := startSim(t, sim.Spec{Platform: sim.PlatformGaneti, Hosts: 3, Guests: 1, JobDelay: sim.Duration(10 * time.Millisecond),
		Faults: sim.Faults{FailJobs: []sim.JobFault{{Op: "reinstall", Target: "roke2.gnt.sim"}}}})
	dir := t.TempDir()
	vars, err := os.ReadFile(filepath.Join(e2ePlaybooks, "rok-v0.11", "variables.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"variables.hcl": string(vars), "main.hcl": undoPairPlaybook} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	instance := func() string {
		for _, i := range e.srv.Status().Instances {
			if i.Name == "roke2.gnt.sim" {
				return i.Status
			}
		}
		t.Fatal("no instance roke2.gnt.sim")
		return ""
	}
	// jobs counts the jobs that did op and nothing else (a reinstall job
	// also shuts the instance down).
	jobs := func(op string) int {
		n := 0
		for _, j := range e.srv.Status().Jobs {
			if len(j.Summary) == 1 && j.Summary[0] == op+"(roke2.gnt.sim)" {
				n++
			}
		}
		return n
	}
	apply := func() (int, string) {
		code, out, stderr := runChild(t, e.rokflow("apply", dir, "--var-file", e.vars, "--state", e.state), time.Minute)
		return code, out + stderr
	}
	if code, out := apply(); code != 1 || !strings.Contains(out, "compensating step.shutdown") {
		t.Fatalf("first apply exited %d, want 1 with compensation:\n%s", code, out)
	}
	if got := instance(); got != "running" {
		t.Fatalf("after compensation the instance is %s, want running", got)
	}
	if err := e.srv.SetFaults(sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	if code, out := apply(); code != 0 || strings.Contains(out, "re-attach") {
		t.Fatalf("second apply exited %d (or re-attached to an old job):\n%s", code, out)
	}
	if got := instance(); got != "running" {
		t.Errorf("after the run the instance is %s, want running", got)
	}
	for op, want := range map[string]int{"INSTANCE_SHUTDOWN": 2, "INSTANCE_STARTUP": 2} {
		if got := jobs(op); got != want {
			t.Errorf("%d %s jobs submitted, want %d (one per attempt)", got, op, want)
		}
	}
}
