package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/sim"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run runs rokflow in-process with a clean environment and returns its
// exit code and output.
func run(t testing.TB, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	environ := func() []string {
		var kv []string
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	code := Main(args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: getenv, Environ: environ})
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/rokflow -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	Version = "test"
	os.Setenv("ROKFLOW_SSH_CONFIG", "none") // never the ssh_config of whoever runs the tests
	os.Exit(runWithSimProgram(m))
}

// runWithSimProgram builds rokflow-sim for the tests that start the
// simulator as a process (sim start, rokflow test) and points
// ROKFLOW_SIM at it, unless it is set already; then runs the tests.
func runWithSimProgram(m *testing.M) int {
	if os.Getenv(childEnv) == "1" || os.Getenv(sim.ProgramEnv) != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "rokflow-sim-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, sim.Program)
	if out, err := exec.Command("go", "build", "-o", bin, "../rokflow-sim").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building rokflow-sim: %v\n%s", err, out)
		return 1
	}
	os.Setenv(sim.ProgramEnv, bin)
	return m.Run()
}

func TestExitCodes(t *testing.T) {
	tests := map[string]struct {
		args []string
		code int
		err  string
	}{
		"version":          {[]string{"version"}, 0, ""},
		"help":             {[]string{"--help"}, 0, ""},
		"unknown command":  {[]string{"frobnicate"}, 2, "unexpected argument"},
		"unknown flag":     {[]string{"plan", "--frob", "../../examples/01-variables"}, 2, "unknown flag"},
		"missing argument": {[]string{"plan"}, 2, "expected"},
		"missing path":     {[]string{"validate", "does-not-exist"}, 1, "Cannot read playbook"},
		"bad playbook":     {[]string{"validate", "../../runtime/testdata/errors/cycle.hcl"}, 1, "Dependency cycle"},
		"bad var":          {[]string{"plan", "../../examples/01-variables", "--var", "environment=moon"}, 1, "The environment must be production or staging."},
		"undeclared var":   {[]string{"plan", "../../examples/01-variables", "--var", "enviroment=staging"}, 1, `Did you mean "environment"?`},
		"malformed var":    {[]string{"plan", "../../examples/01-variables", "--var", "nonsense"}, 1, "NAME=VALUE"},
		"unknown kind doc": {[]string{"steps", "exce"}, 1, `Did you mean "exec"?`},
		"valid example":    {[]string{"validate", "../../examples/02-rolling"}, 0, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if tc.err != "" && !strings.Contains(stderr, tc.err) {
				t.Errorf("stderr does not mention %q:\n%s", tc.err, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
				t.Errorf("stderr shows a Go stack trace:\n%s", stderr)
			}
		})
	}
}

func TestPlanGoldenExamples(t *testing.T) {
	examples, _ := filepath.Glob("../../examples/0*")
	if len(examples) < 4 {
		t.Fatalf("want at least four examples, found %d", len(examples))
	}
	for _, ex := range examples {
		name := filepath.Base(ex)
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, nil, "plan", ex)
			if code != 0 {
				t.Fatalf("plan exited %d:\n%s", code, stderr)
			}
			golden(t, "plan-"+name+".txt", out)
		})
	}
}

func TestPlanJSON(t *testing.T) {
	code, out, stderr := run(t, nil, "plan", "--json", "../../examples/02-rolling")
	if code != 0 {
		t.Fatalf("plan --json exited %d:\n%s", code, stderr)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Instances     []map[string]any
		Groups        []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not one JSON document: %v", err)
	}
	if doc.FormatVersion != jsondoc.Plan.Version.String() || len(doc.Instances) != 21 || len(doc.Groups) != 1 {
		t.Fatalf("format %q, %d instances, %d groups", doc.FormatVersion, len(doc.Instances), len(doc.Groups))
	}
	for _, inst := range doc.Instances {
		for _, field := range []string{"address", "kind", "target", "depends_on", "read_only", "once", "args"} {
			if _, ok := inst[field]; !ok {
				t.Errorf("instance %v has no %q", inst["address"], field)
			}
		}
	}
	golden(t, "plan-02-rolling.json", out)
}

func TestSensitiveNeverShown(t *testing.T) {
	const secret = "s3cr3t-canary-4711"
	env := map[string]string{"ROKFLOW_VAR_api_token": secret}
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	for _, args := range [][]string{
		{"plan", "../../examples/01-variables"},
		{"plan", "--json", "../../examples/01-variables"},
		{"plan", "--out", planFile, "../../examples/01-variables"},
		{"graph", "../../examples/01-variables"},
	} {
		code, out, stderr := run(t, env, args...)
		if code != 0 {
			t.Fatalf("%v exited %d:\n%s", args, code, stderr)
		}
		if strings.Contains(out+stderr, secret) {
			t.Errorf("%v shows the secret", args)
		}
	}
	b, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(secret)) {
		t.Error("the saved plan holds the secret")
	}
	if !bytes.Contains(b, []byte("(sensitive)")) {
		t.Error("the saved plan does not show the masked argument")
	}
}

func TestNoColorWhenPiped(t *testing.T) {
	_, out, _ := run(t, nil, "plan", "../../examples/04-gates")
	if strings.Contains(out, "\x1b[") {
		t.Error("plan output to a pipe has color escapes")
	}
}

func TestStepsDocs(t *testing.T) {
	code, out, _ := run(t, nil, "steps")
	if code != 0 || !strings.Contains(out, "file.replace") {
		t.Fatalf("steps listing: %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "steps", "exec")
	if code != 0 || !strings.Contains(out, "command") || !strings.Contains(out, "Outputs") || !strings.Contains(out, "every output but exit_status is sensitive") {
		t.Fatalf("steps exec: %d\n%s", code, out)
	}
	// wait's bound is the step's timeout, not an argument of its own.
	code, out, _ = run(t, nil, "steps", "wait")
	if code != 0 || !strings.Contains(out, "Timeout: the step's `timeout`; 10m when the step sets none") || strings.Contains(out, "\n  timeout ") {
		t.Fatalf("steps wait: %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "steps", "--json")
	var doc struct {
		Kinds []struct {
			Name string
			Args struct {
				Attributes map[string]struct{ Description string }
			}
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Kinds) < 10 {
		t.Fatalf("steps --json: %d, %d kinds", code, len(doc.Kinds))
	}
	for _, k := range doc.Kinds {
		for name, a := range k.Args.Attributes {
			if a.Description == "" {
				t.Errorf("%s.%s has no description", k.Name, name)
			}
		}
	}
}

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	messy := "step \"a\" {\nuses=\"exec\"\n    command = [\"true\"]\n}\n"
	path := filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(path, []byte(messy), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, nil, "fmt", "--check", dir); code != 1 || !strings.Contains(out, "main.hcl") {
		t.Fatalf("fmt --check on a messy file: exit %d, %q", code, out)
	}
	if code, _, stderr := run(t, nil, "fmt", dir); code != 0 {
		t.Fatalf("fmt: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(path)
	want := "step \"a\" {\n  uses    = \"exec\"\n  command = [\"true\"]\n}\n"
	if string(got) != want {
		t.Fatalf("formatted:\n%s\nwant:\n%s", got, want)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("fmt changed the file mode to %v", info.Mode().Perm())
	}
	if code, _, _ := run(t, nil, "fmt", "--check", dir); code != 0 {
		t.Fatalf("fmt --check after fmt: exit %d", code)
	}
	if code, _, _ := run(t, nil, "fmt", "--check", "../../examples", "../../playbooks"); code != 0 {
		t.Errorf("the shipped playbooks and examples are not formatted")
	}
}

func TestGraph(t *testing.T) {
	code, out, _ := run(t, nil, "graph", "../../examples/02-rolling")
	if code != 0 || !strings.HasPrefix(out, "digraph ") || !strings.Contains(out, `"step.preflight[\"node1\"]" -> "group.upgrade[\"node1\"].step.drain"`) {
		t.Fatalf("graph: %d\n%s", code, out)
	}
}

func TestPlanGoldenRokV011(t *testing.T) {
	const pb = "../../playbooks/rok-v0.11"
	vars := pb + "/example.vars.hcl"
	tests := map[string][]string{
		"plan-rok-v0.11-appliance.txt":  {"plan", pb, "--var-file", vars},
		"plan-rok-v0.11-ganeti.txt":     {"plan", pb, "--var-file", vars, "--var", "platform=ganeti"},
		"plan-rok-v0.11-appliance.json": {"plan", "--json", pb, "--var-file", vars},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := run(t, map[string]string{"ROKFLOW_VAR_rapi_password": "gnt-rapi-pass", "ROKFLOW_VAR_roke_password": "roke-root-pass"}, args...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			for _, secret := range []string{"gnt-rapi-pass", "roke-root-pass"} {
				if strings.Contains(out+stderr, secret) {
					t.Fatalf("the output shows the secret %q", secret)
				}
			}
			golden(t, name, out)
		})
	}
}

// TestRokV011Order checks the order the issue asks for: discovery, the
// pin, the BOOT disk gate, upgrade-cluster, upgrade-node on the master,
// the rolling slaves, then enable-etcd-auth; and on Ganeti the evacuate,
// reinstall, confirm, packages, endpoint rewrite and migrate-back chain.
func TestRokV011Order(t *testing.T) {
	const pb = "../../playbooks/rok-v0.11"
	vars := pb + "/example.vars.hcl"
	order := func(args ...string) map[string]int {
		code, out, stderr := run(t, nil, args...)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		var doc struct {
			Instances []struct {
				Address, Action string
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		pos := map[string]int{}
		for i, inst := range doc.Instances {
			if inst.Action != "skip" {
				pos[inst.Address] = i
			}
		}
		return pos
	}
	check := func(pos map[string]int, addrs ...string) {
		t.Helper()
		for i, a := range addrs {
			p, ok := pos[a]
			if !ok {
				t.Fatalf("%s is not planned to run", a)
			}
			if i > 0 && p <= pos[addrs[i-1]] {
				t.Errorf("%s comes before %s", a, addrs[i-1])
			}
		}
	}
	check(order("plan", "--json", pb, "--var-file", vars),
		"step.members", "step.pin_master", "module.master.step.swap_boot_disk",
		"module.master.hook.after_boot.step.openstore_endpoints",
		"module.master.step.upgrade_cluster", "module.master.step.upgrade_node",
		"group.slaves[*].module.node.step.swap_boot_disk", "group.slaves[*].module.node.hook.after_boot.step.openstore_endpoints",
		"group.slaves[*].module.node.step.upgrade_node",
		"step.enable_etcd_auth", "step.check_etcd_auth", "step.restore_candidates")
	check(order("plan", "--json", pb, "--var-file", vars, "--var", "platform=ganeti"),
		"step.members", "step.pin_master", "module.master_ganeti.step.evacuate[*]", "module.master_ganeti.step.reinstall",
		"module.master_ganeti.step.wait_reinstalled", "module.master_ganeti.hook.after_boot.step.openstore_endpoints",
		"module.master_ganeti.step.upgrade_cluster", "module.master_ganeti.step.upgrade_node",
		"module.master_ganeti.step.packages", "module.master_ganeti.hook.after_host_packages.step.host_endpoints",
		"module.master_ganeti.step.confirm_return", "module.master_ganeti.step.migrate_back[*]",
		"group.slaves_ganeti[*].module.host.step.evacuate[*]", "group.slaves_ganeti[*].module.host.step.migrate_back[*]",
		"step.enable_etcd_auth")
}

// TestRokV012Order checks the test-only next release built from the lib
// (playbooks/testdata/rok-v0.12), with the v0.11 example's var-file: the
// 0.12 map-version rewrite and daemon restart sit in every node's
// after_boot hook, between its BOOT disk and its upgrade; finalize comes
// once every node is upgraded; nothing runs enable-etcd-auth, and the
// scripts are 0.12.0's.
func TestRokV012Order(t *testing.T) {
	const pb = "../../playbooks/testdata/rok-v0.12"
	vars := "../../playbooks/rok-v0.11/example.vars.hcl"
	if code, _, stderr := run(t, nil, "validate", pb); code != 0 {
		t.Fatalf("validate exited %d:\n%s", code, stderr)
	}
	for _, platform := range []string{"appliance", "ganeti"} {
		code, out, stderr := run(t, nil, "plan", "--json", pb, "--var-file", vars, "--var", "platform="+platform)
		if code != 0 {
			t.Fatalf("plan (%s) exited %d:\n%s", platform, code, stderr)
		}
		var doc struct {
			Instances []struct {
				Address, Action, Kind string
				Command               []string
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		pos := map[string]int{}
		for i, inst := range doc.Instances {
			if inst.Action == "skip" {
				continue
			}
			pos[inst.Address] = i
			if inst.Kind == "rok.enable_etcd_auth" {
				t.Errorf("%s: %s runs enable-etcd-auth", platform, inst.Address)
			}
			if c := strings.Join(inst.Command, " "); strings.HasPrefix(c, "rok-cluster-upgrade-v") && !strings.HasPrefix(c, "rok-cluster-upgrade-v0.12.0 ") {
				t.Errorf("%s: %s runs %s", platform, inst.Address, c)
			}
		}
		order := map[string][]string{
			"appliance": {"step.members", "step.pin_master", "module.master.step.swap_boot_disk",
				"module.master.hook.after_boot.step.map_version", "module.master.hook.after_boot.step.restart_daemons",
				"module.master.step.upgrade_cluster", "module.master.step.upgrade_node", "module.gateway.step.migrate",
				"group.slaves[*].module.node.step.swap_boot_disk", "group.slaves[*].module.node.hook.after_boot.step.map_version",
				"group.slaves[*].module.node.hook.after_boot.step.restart_daemons", "group.slaves[*].module.node.step.upgrade_node",
				"step.finalize", "step.check_finalized", "step.restore_candidates"},
			"ganeti": {"step.members", "step.pin_master", "module.master_ganeti.step.reinstall",
				"module.master_ganeti.hook.after_boot.step.map_version", "module.master_ganeti.hook.after_boot.step.restart_daemons",
				"module.master_ganeti.step.upgrade_cluster", "module.master_ganeti.step.upgrade_node",
				"module.master_ganeti.step.migrate_back[*]", "module.gateway.step.migrate",
				"group.slaves_ganeti[*].module.host.hook.after_boot.step.map_version", "group.slaves_ganeti[*].module.host.step.upgrade_node",
				"step.finalize", "step.restore_candidates"},
		}[platform]
		for i, a := range order {
			p, ok := pos[a]
			if !ok {
				t.Fatalf("%s: %s is not planned to run", platform, a)
			}
			if i > 0 && p <= pos[order[i-1]] {
				t.Errorf("%s: %s comes before %s", platform, a, order[i-1])
			}
		}
	}
}

// TestSeedCommandsCarriedOut checks that every command of the Rok v0.11
// upgrade note is carried out by a step of the shipped playbook: the plans
// of both platforms, taken together, run each of them.
func TestSeedCommandsCarriedOut(t *testing.T) {
	seed, err := os.ReadFile("../../../shared/seed/rok-v0.11-upgrade.txt")
	if err != nil {
		t.Fatalf("the upgrade note is expected beside the repository: %v", err)
	}
	const pb = "../../playbooks/rok-v0.11"
	vars := pb + "/example.vars.hcl"
	var plans strings.Builder
	for _, extra := range [][]string{nil, {"--var", "platform=ganeti"}} {
		code, out, stderr := run(t, nil, append([]string{"plan", "--json", pb, "--var-file", vars}, extra...)...)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		var doc struct {
			Instances []struct {
				Command []string
				Request string
				Summary string
				Args    map[string]struct{ Value json.RawMessage }
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		for _, inst := range doc.Instances {
			plans.WriteString(strings.Join(inst.Command, " ") + "\n" + inst.Request + "\n" + inst.Summary + "\n")
			for _, a := range inst.Args {
				plans.Write(a.Value)
				plans.WriteString("\n")
			}
		}
	}
	carried := plans.String()
	// What each command of the note must look like in a plan.
	want := map[string][]string{
		"rok-gw-manage migrate":                           {"rok-gw-manage migrate"},
		"rok-gw-manage showmigrations":                    {"rok-gw-manage showmigrations"},
		"rok-cluster-ctl member-list":                     {"rok-cluster-ctl member-list"},
		"rok-config set cluster.master_candidates":        {"rok-config set cluster.master_candidates="},
		"rok-cluster-upgrade-v0.11.0 upgrade-cluster":     {"rok-cluster-upgrade-v0.11.0 upgrade-cluster"},
		"rok-cluster-upgrade-v0.11.0 upgrade-node":        {"rok-cluster-upgrade-v0.11.0 upgrade-node"},
		"rok-cluster-upgrade-v0.11.0 enable-etcd-auth":    {"rok-cluster-upgrade-v0.11.0 enable-etcd-auth"},
		"apt-get -o Dpkg::Options::=\"--force-confdef\"":  {"apt-get -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install -y rok-common rok-base"},
		"sed -i 's/tcp:/http:/g' /usr/bin/*kvm*":          {`"tcp:"`, `"http:"`, "/usr/bin/*kvm*", "/etc/ganeti/rok/rok.conf", "/etc/default/snf-image"},
		"env ROKE_PASSWORD=roke-root-pass RAPI_PASSWORD=": {"/reinstall", "/migrate", "GET /2/instances"},
	}
	found := 0
	for _, line := range strings.Split(string(seed), "\n") {
		cmd := strings.TrimSpace(line)
		if !strings.HasPrefix(cmd, "$ ") && !strings.HasPrefix(cmd, "# ") {
			continue
		}
		cmd = strings.TrimSpace(cmd[2:])
		matched := false
		for prefix, needles := range want {
			if !strings.HasPrefix(cmd, prefix) {
				continue
			}
			matched = true
			found++
			for _, n := range needles {
				if !strings.Contains(carried, n) {
					t.Errorf("the note's %q is not carried out: no plan has %q", cmd, n)
				}
			}
		}
		if !matched {
			t.Errorf("the note's command %q is not mapped to a step", cmd)
		}
	}
	if found < len(want) {
		t.Errorf("found %d of the note's commands, want at least %d", found, len(want))
	}
}

// TestApplySavedPlanChecksFacts saves a plan whose discovery read a fact
// (an HTTP endpoint naming the master), changes the fact, and checks apply
// refuses to go on, naming the change; and that a changed playbook makes
// the saved plan unusable.
func TestApplySavedPlanChecksFacts(t *testing.T) {
	var mu sync.Mutex
	master := "rok1"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(w, master)
	}))
	defer srv.Close()
	dir := t.TempDir()
	src := fmt.Sprintf(`
step "discover" {
  uses = "http.get"
  url  = %q
}
step "act" {
  uses    = "exec"
  command = ["echo", "master is", step.discover.outputs.body]
}
`, srv.URL)
	pb := filepath.Join(dir, "pb")
	if err := os.MkdirAll(pb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pb, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(dir, "plan.json")
	if code, out, stderr := run(t, nil, "plan", pb, "--discover", "--out", planFile); code != 0 || !strings.Contains(out, `found:   body = "rok1"`) {
		t.Fatalf("plan --discover: %d\n%s%s", code, out, stderr)
	}
	mu.Lock()
	master = "rok2"
	mu.Unlock()
	code, out, stderr := run(t, nil, "apply", planFile)
	if code != 1 || !strings.Contains(stderr, "The cluster changed since the plan") || !strings.Contains(stderr, `"rok1" → "rok2"`) {
		t.Fatalf("apply of a stale plan: exit %d\n%s%s", code, out, stderr)
	}
	if strings.Contains(out, "step.act") {
		t.Fatal("a step that depends on the stale fact ran")
	}
	// A changed playbook: the plan no longer applies at all.
	if err := os.WriteFile(filepath.Join(pb, "main.hcl"), []byte(src+"\n# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, nil, "apply", planFile, "--new-run")
	if code != 1 || !strings.Contains(stderr, "was made for another version of the playbook") {
		t.Fatalf("apply of a plan for an edited playbook: exit %d\n%s", code, stderr)
	}
}
