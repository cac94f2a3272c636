package server

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rokflow/rokflow/sim"

	"github.com/rokflow/rokflow/internal/openstore"
)

// rewriteUnits does to a node's rok units and drop-ins what
// rok.openstore_endpoints does, with rokflow's own rewriter.
func rewriteUnits(t *testing.T, s *Server, node string) {
	t.Helper()
	for _, f := range s.unitFiles(s.st.node(node)) {
		old := must(t, s, node, "cat", f)
		text, changes, err := openstore.RewriteUnit(old)
		if err != nil {
			t.Fatalf("rokflow cannot rewrite %s of %s: %v", f, node, err)
		}
		if len(changes) > 0 {
			writeFile(t, s, node, f, text)
		}
	}
}

// sedEndpoints does what a careless upgrade would: tcp:// becomes http://
// everywhere, and nothing else changes.
func sedEndpoints(t *testing.T, s *Server, node string, files ...string) {
	t.Helper()
	for _, f := range files {
		writeFile(t, s, node, f, strings.ReplaceAll(must(t, s, node, "cat", f), "tcp://", "http://"))
	}
}

func TestNodesCarryEveryEndpointForm(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	conf := map[string]string{}
	for _, n := range []string{"rok1.sim", "rok2.sim", "rok3.sim"} {
		conf[n] = must(t, s, n, "cat", "/etc/rok/daemons.conf")
	}
	for node, want := range map[string][]string{
		"rok1.sim": {"[openstored.0]\nlisten = tcp://10.0.0.11:8080\nopenstore-master-connect = tcp://10.0.0.12:9090\n", "openstore-controller = tcp://10.0.0.11:8080", "bind-http = tcp://10.0.0.11:9090"},
		"rok2.sim": {"openstore-controller = tcp://10.0.0.11:8080"},
		"rok3.sim": {"openstore-controller = tcp://10.0.0.11:8080", "bind-http = tcp://10.0.0.13:9090"},
	} {
		for _, w := range want {
			if !strings.Contains(conf[node], w) {
				t.Errorf("%s daemons.conf lacks %q:\n%s", node, w, conf[node])
			}
		}
	}
	if strings.Contains(conf["rok2.sim"], "bind-http") || strings.Contains(conf["rok3.sim"], "openstore-master-connect") {
		t.Errorf("rok2 keeps bind-http in daemons.conf or a slave connects as master:\n%s\n%s", conf["rok2.sim"], conf["rok3.sim"])
	}
	dropIn := must(t, s, "rok2.sim", "cat", ecDropIn)
	if !strings.Contains(dropIn, "ExecStart=/usr/bin/rok-external-controller --bind-http tcp://10.0.0.12:9090 \\\n") {
		t.Errorf("drop-in:\n%s", dropIn)
	}
	if env := must(t, s, "rok2.sim", "cat", "/etc/default/rok"); !strings.Contains(env, ecOptsVar+`="--openstore-controller=tcp://10.0.0.11:8080 --register"`) {
		t.Errorf("/etc/default/rok:\n%s", env)
	}
	for _, n := range s.Status().Nodes {
		_, has := n.Endpoints[ecDropIn]
		if has != (n.Name == "rok2.sim") || has && n.Endpoints[ecDropIn] != "tcp" {
			t.Errorf("%s status endpoints %v", n.Name, n.Endpoints)
		}
	}
	// The old release takes them all.
	for _, n := range s.Status().Nodes {
		if n.Services["rok-daemons"] != svcActive {
			t.Errorf("%s: rok-daemons %s", n.Name, n.Services["rok-daemons"])
		}
	}
	must(t, s, "rok2.sim", "systemctl", "restart", "rok-daemons")
}

func TestDaemonsReadTheirCommandLines(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	const node, env = "rok2.sim", "/etc/default/rok"
	operate(t, s, sim.ActionSwap, node)
	// journal returns what the daemons logged since it was last called.
	seen := 0
	journal := func() string {
		j := must(t, s, node, "journalctl", "-u", "rok-daemons", "--no-pager")
		j, seen = j[seen:], len(j)
		return j
	}
	journal()
	// daemons.conf and the environment file rewritten, the drop-in not:
	// the unit's --bind-http and, through $ROK_EXTERNAL_CONTROLLER_OPTS,
	// --openstore-controller are refused.
	for path, rewrite := range map[string]func(string) (string, []openstore.Change, error){
		"/etc/rok/daemons.conf": openstore.RewriteConfig,
		env:                     openstore.RewriteEnv,
	} {
		text, _, err := rewrite(must(t, s, node, "cat", path))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, s, node, path, text)
	}
	refused(t, s, node, "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	j := journal()
	if strings.Count(j, "error:") != 1 {
		t.Errorf("want only the drop-in refused:\n%s", j)
	}
	if !strings.Contains(j, "rok-external-controller: error: unrecognized arguments: --bind-http ("+ecDropIn+":6)") {
		t.Errorf("journal:\n%s", j)
	}
	if strings.Contains(j, "--openstore-controller (") {
		t.Errorf("the rewritten variable is still refused:\n%s", j)
	}

	// A sed of tcp:// to http:// is not enough: the pre-0.11 flag stays.
	sedEndpoints(t, s, node, ecDropIn)
	refused(t, s, node, "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := journal(); !strings.Contains(j, "unrecognized arguments: --bind-http") {
		t.Errorf("journal after sed:\n%s", j)
	}
	// Without the slave role the External Controller does not listen.
	writeFile(t, s, node, ecDropIn, "[Service]\nExecStart=/usr/bin/rok-external-controller --controller-listen http://10.0.0.12:9090\n")
	refused(t, s, node, "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := journal(); !strings.Contains(j, "the External Controller listens as an OpenStore slave; write role=slave,http://10.0.0.12:9090") {
		t.Errorf("journal without a role:\n%s", j)
	}
	// The variable of options is read as the daemon gets it.
	writeFile(t, s, node, ecDropIn, "[Service]\nExecStart=/usr/bin/rok-external-controller '--controller-listen=role=slave,http://10.0.0.12:9090' ${X} $"+ecOptsVar+"\nEnvironment=X=-v\n")
	writeFile(t, s, node, env, ecOptsVar+"='--openstore-controller http://10.0.0.11:8080'\n")
	refused(t, s, node, "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := journal(); !strings.Contains(j, "unrecognized arguments: --openstore-controller ("+ecDropIn+":2)") {
		t.Errorf("journal with a legacy option in the variable:\n%s", j)
	}
	writeFile(t, s, node, env, ecOptsVar+"='--connect role=slave,http://10.0.0.11:8080'\n")
	must(t, s, node, "systemctl", "restart", "rok-daemons")
}

func TestMasterConnectsAsMaster(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	pin(t, s, "rok1.sim")
	operate(t, s, sim.ActionSwap, "rok1.sim")
	conf := must(t, s, "rok1.sim", "cat", "/etc/rok/daemons.conf")
	rewriteEndpoints(t, s, "rok1.sim")
	good := must(t, s, "rok1.sim", "cat", "/etc/rok/daemons.conf")
	// The default role of a connect is slave: the master would dial the
	// listening slave as a slave.
	sed := strings.ReplaceAll(strings.ReplaceAll(conf, "tcp://", "http://"), "openstore-master-connect", "connect")
	text, _, err := openstore.RewriteConfig(strings.ReplaceAll(sed, "openstore-controller = http://", "openstore-controller = tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, s, "rok1.sim", "/etc/rok/daemons.conf", text)
	refused(t, s, "rok1.sim", "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := must(t, s, "rok1.sim", "journalctl", "-u", "rok-daemons"); !strings.Contains(j, "makes the OpenStore master connect as a slave; write role=master,http://10.0.0.12:9090") {
		t.Errorf("journal:\n%s", j)
	}
	// rokflow's rewrite of the original gives the master role.
	if !strings.Contains(good, "connect = role=master,http://10.0.0.12:9090") {
		t.Fatalf("rewritten:\n%s", good)
	}
	writeFile(t, s, "rok1.sim", "/etc/rok/daemons.conf", good)
	must(t, s, "rok1.sim", "systemctl", "restart", "rok-daemons")
}

func TestOldDaemonsRefuseNewCommandLines(t *testing.T) {
	s := newSim(t, sim.Spec{NoEtcd: true})
	rewriteEndpoints(t, s, "rok2.sim")
	refused(t, s, "rok2.sim", "Job for rok-daemons.service failed", "systemctl", "restart", "rok-daemons")
	if j := must(t, s, "rok2.sim", "journalctl", "-u", "rok-daemons"); !strings.Contains(j, "rok-external-controller: error: unrecognized arguments: --controller-listen") ||
		!strings.Contains(j, "unrecognized arguments: --connect") {
		t.Errorf("journal:\n%s", j)
	}
}

func TestExecArgv(t *testing.T) {
	env := map[string]string{"OPTS": " -a  'b c' ", "ONE": "x y"}
	for value, want := range map[string][]string{
		`-/usr/bin/d --e "f g" $OPTS`:  {"/usr/bin/d", "--e", "f g", "-a", "'b", "c'"},
		`/usr/bin/d ${ONE} "--o=$ONE"`: {"/usr/bin/d", "x y", "--o=x y"},
		`/usr/bin/d $MISSING z`:        {"/usr/bin/d", "z"},
	} {
		got, err := execArgv(value, env)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("execArgv(%q) = %q, %v; want %q", value, got, err, want)
		}
	}
}
