package server

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/rokflow/rokflow/sim/shellwords"
)

// The OpenStore endpoint forms beyond daemons.conf's plain options, and
// how the daemons read them.
//
// Before v0.11 a role was never written; the option said it (the model
// rokflow's internal/openstore follows): openstore-controller, a slave
// connecting to the controller; openstore-master-connect, the OpenStore
// master connecting to a slave that listens; bind-http, the External
// Controller (a slave) listening; listen, the OpenStore master listening.
// A new cluster's appliances carry every one of them:
//
//   - the master's [openstored.0] connects as master to the External
//     Controller of the first slave (openstore-master-connect);
//   - that slave's External Controller takes its listen address on the
//     command line, --bind-http in the ExecStart= of a drop-in of its unit,
//     and more options from a variable of /etc/default/rok that the
//     ExecStart= expands (ROK_EXTERNAL_CONTROLLER_OPTS, with
//     --openstore-controller=… in the --flag=value form);
//   - every other daemon section is as daemonsConf writes it.
//
// The daemons of a release read all of it as systemd and the daemon
// would: unitProblems refuses the old forms on v0.11 and later and the new
// ones before, wherever they are given.

// ecDropIn is the drop-in that gives the External Controller its options.
const ecDropIn = "/etc/systemd/system/rok-external-controller.service.d/override.conf"

// ecOptsVar is the variable of /etc/default/rok holding more External
// Controller options.
const ecOptsVar = "ROK_EXTERNAL_CONTROLLER_OPTS"

// unitPatterns are where the daemons' local units and drop-ins live.
var unitPatterns = []string{"/etc/systemd/system/rok*.service", "/etc/systemd/system/rok*.service.d/*.conf"}

// ecNode is the appliance whose External Controller is configured on its
// command line: the first member that is not the master at creation, or
// the master when it is alone.
func ecNode(st *state) *node {
	for _, m := range st.members() {
		if m.Name != st.Cluster.Master {
			return m
		}
	}
	return st.node(st.Cluster.Master)
}

// addEndpointForms adds the forms above to an appliance's initial files,
// which daemonsConf and envFile wrote.
func addEndpointForms(st *state, n *node, files map[string]string) {
	const conf = "/etc/rok/daemons.conf"
	master, ec := st.node(st.Cluster.Master), ecNode(st)
	if n == master {
		files[conf] = addOption(files[conf], "openstored.0",
			fmt.Sprintf("openstore-master-connect = tcp://%s:9090", ec.Address))
	}
	if n != ec {
		return
	}
	// The listen address moves from daemons.conf to the command line.
	files[conf] = strings.Replace(files[conf], fmt.Sprintf("bind-http = tcp://%s:9090\n", n.Address), "", 1)
	files[ecDropIn] = fmt.Sprintf(`# Local override of rok-external-controller.service: listen on this
# node's address, with the options of /etc/default/rok.
[Service]
EnvironmentFile=/etc/default/rok
ExecStart=
ExecStart=/usr/bin/rok-external-controller --bind-http tcp://%s:9090 \
	--log-level info $%s
`, n.Address, ecOptsVar)
	files["/etc/default/rok"] += fmt.Sprintf(`# More options of the External Controller (its unit's ExecStart= adds them).
%s="--openstore-controller=tcp://%s:8080 --register"
`, ecOptsVar, master.Address)
}

// addOption adds line at the end of section in INI text, or a new section
// with it when there is none.
func addOption(text, section, line string) string {
	head := "[" + section + "]\n"
	i := strings.Index(text, head)
	if i < 0 {
		return text + "\n" + head + line + "\n"
	}
	end := i + len(head)
	for end < len(text) {
		nl := strings.IndexByte(text[end:], '\n')
		if nl < 0 {
			end = len(text)
			break
		}
		l := text[end : end+nl]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "[") {
			break
		}
		end += nl + 1
	}
	return text[:end] + line + "\n" + text[end:]
}

// unitFiles lists the rok units and drop-ins on n's file system, as paths
// on the node.
func (s *Server) unitFiles(n *node) []string {
	root := nodeRoot(s.dir, n.Name)
	var out []string
	for _, p := range unitPatterns {
		matches, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(p)))
		for _, m := range matches {
			rel, err := filepath.Rel(root, m)
			if err == nil && !strings.HasSuffix(m, ".rokflow.bak") {
				out = append(out, "/"+filepath.ToSlash(rel))
			}
		}
	}
	sort.Strings(out)
	return out
}

// legacyFlags are the pre-0.11 endpoint options, current are v0.11's.
var (
	legacyFlags  = []string{"--bind-http", "--openstore-controller", "--openstore-master-connect"}
	currentFlags = []string{"-C", "--connect", "-L", "--listen", "--controller-listen"}
	// v011Endpoint is what a v0.11 daemon takes: [role=R,]http://HOST:PORT.
	v011Endpoint = regexp.MustCompile(`^(role=(master|slave),)?http://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$`)
	// tcpEndpoint is what an older daemon takes.
	tcpEndpoint = regexp.MustCompile(`^tcp://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$`)
)

// unitProblems lists why the daemons of n's release refuse what their
// units give them on the command line: each ExecStart= of the rok units
// and drop-ins, read as systemd reads it (continuation lines joined,
// quotes removed, $NAME split at blanks and ${NAME} kept whole, from the
// unit's Environment= and the EnvironmentFile= /etc/default/rok), and the
// roles daemons.conf and those command lines give (roleProblems).
func (s *Server) unitProblems(n *node, newRelease bool) []string {
	root := nodeRoot(s.dir, n.Name)
	env := readEnvFile(filepath.Join(root, "etc", "default", "rok"))
	var errs []string
	for _, f := range s.unitFiles(n) {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			continue
		}
		// The daemon is named by its unit: rok-X.service or rok-X.service.d/*.conf.
		daemon := strings.TrimSuffix(path.Base(f), ".service")
		if dir := path.Base(path.Dir(f)); strings.HasSuffix(dir, ".service.d") {
			daemon = strings.TrimSuffix(dir, ".service.d")
		}
		unitEnv := copyMap(env)
		for _, d := range unitDirectives(string(data)) {
			where := fmt.Sprintf("%s:%d", f, d.line)
			switch d.key {
			case "Environment":
				words, _ := shellwords.Scan(d.value, shellwords.Options{LiteralGlobs: true, Params: true})
				for _, w := range words {
					if k, v, ok := strings.Cut(w.Text, "="); ok {
						unitEnv[k] = v
					}
				}
			case "ExecStart":
				if strings.TrimSpace(d.value) == "" {
					continue // resets the list
				}
				argv, err := execArgv(d.value, unitEnv)
				if err != nil {
					errs = append(errs, fmt.Sprintf("systemd[1]: %s: invalid ExecStart= (%s): %v", daemon, where, err))
					continue
				}
				errs = append(errs, argvProblems(daemon, where, argv, newRelease)...)
			}
		}
	}
	if newRelease {
		errs = append(errs, s.roleProblems(n)...)
	}
	return errs
}

type directive struct {
	line       int
	key, value string
}

// unitDirectives reads KEY=VALUE lines of a unit file, a line ending in a
// backslash continuing on the next (the backslash becomes a blank).
func unitDirectives(text string) []directive {
	var out []directive
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		first := i
		l := strings.TrimRight(lines[i], "\r")
		t := strings.TrimSpace(l)
		if t == "" || t[0] == '#' || t[0] == ';' || t[0] == '[' {
			continue
		}
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
			i++
			l = l[:len(l)-1] + " " + strings.TrimRight(lines[i], "\r")
		}
		k, v, ok := strings.Cut(l, "=")
		if ok {
			out = append(out, directive{first + 1, strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out
}

// readEnvFile reads NAME=VALUE assignments the way a shell would.
func readEnvFile(p string) map[string]string {
	env := map[string]string{}
	data, err := os.ReadFile(p)
	if err != nil {
		return env
	}
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimPrefix(strings.TrimSpace(line), "export ")
		name, val, ok := strings.Cut(t, "=")
		if !ok || strings.HasPrefix(t, "#") || strings.ContainsAny(name, " \t") {
			continue
		}
		words, err := shellwords.Scan(val, shellwords.Options{Params: true, Comments: true, LiteralGlobs: true})
		if err == nil && len(words) == 1 {
			val = words[0].Text
		}
		env[name] = val
	}
	return env
}

// execArgv builds the argv systemd gives a daemon from an ExecStart= value.
func execArgv(value string, env map[string]string) ([]string, error) {
	words, err := shellwords.Scan(value, shellwords.Options{LiteralGlobs: true, Params: true})
	if err != nil {
		return nil, err
	}
	var argv []string
	for _, w := range words {
		if !w.Expands {
			argv = append(argv, w.Text)
			continue
		}
		if len(w.Parts) == 1 && !strings.HasPrefix(w.Text, "${") {
			argv = append(argv, strings.Fields(env[w.Text[1:]])...)
			continue
		}
		var b strings.Builder
		for _, p := range w.Parts {
			if p.Quote == '$' {
				b.WriteString(env[strings.Trim(p.Text, "${}")])
			} else {
				b.WriteString(p.Text)
			}
		}
		argv = append(argv, b.String())
	}
	if len(argv) > 0 {
		argv[0] = strings.TrimLeft(argv[0], "-@:+!")
	}
	return argv, nil
}

// endpointOption splits an argument that gives an endpoint option: its
// flag, its value and whether the value is the next argument.
func endpointOption(a string) (flag, value string, next, ok bool) {
	for _, f := range append(slices.Clone(legacyFlags), currentFlags...) {
		switch {
		case a == f:
			return f, "", true, true
		case strings.HasPrefix(f, "--") && strings.HasPrefix(a, f+"="):
			return f, a[len(f)+1:], false, true
		case !strings.HasPrefix(f, "--") && strings.HasPrefix(a, f):
			return f, a[len(f):], false, true
		}
	}
	return "", "", false, false
}

// argvProblems checks a daemon's command line against its release.
func argvProblems(daemon, where string, argv []string, newRelease bool) []string {
	var errs []string
	add := func(format string, args ...any) {
		errs = append(errs, daemon+": error: "+fmt.Sprintf(format, args...))
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		flag, value, next, ok := endpointOption(a)
		if !ok {
			if newRelease && strings.Contains(strings.ToLower(a), "tcp://") {
				add("unrecognized arguments: %s (%s)", a, where)
			}
			continue
		}
		if next {
			if i+1 >= len(argv) {
				add("argument %s: expected one argument (%s)", flag, where)
				continue
			}
			i++
			value = argv[i]
		}
		legacy := slices.Contains(legacyFlags, flag)
		switch {
		case newRelease && legacy:
			add("unrecognized arguments: %s (%s); Rok v0.11 uses -C/--connect, -L/--listen and --controller-listen with [role=master|slave,]http://HOST:PORT", flag, where)
		case newRelease && !v011Endpoint.MatchString(value):
			add("argument %s: invalid OpenStore endpoint %q (%s): write [role=master|slave,]http://HOST:PORT (tcp:// endpoints are not supported since Rok v0.11)", flag, value, where)
		case newRelease && flag == "--controller-listen" && !strings.HasPrefix(value, "role=slave,"):
			add("argument --controller-listen: the External Controller listens as an OpenStore slave; write role=slave,%s (%s)", strings.TrimPrefix(strings.TrimPrefix(value, "role=master,"), "role=slave,"), where)
		case !newRelease && !legacy:
			add("unrecognized arguments: %s (%s)", flag, where)
		case !newRelease && !tcpEndpoint.MatchString(value):
			add("argument %s: invalid endpoint %q (%s): expected tcp://HOST:PORT", flag, value, where)
		}
	}
	return errs
}

// roleProblems checks, on v0.11, daemons.conf's openstore-master-connect
// (the pre-0.11 option daemonProblems does not know) and that each end of a control connection
// takes the role its daemon has (the model of the comment at the top):
// the OpenStore daemon is the master end of every connection it makes, so
// its connect needs role=master; the External Controller listens as a
// slave. A connect without role=master from openstored would be a slave
// dialling a slave, which never forms a connection.
func (s *Server) roleProblems(n *node) []string {
	const conf = "/etc/rok/daemons.conf"
	data, err := os.ReadFile(filepath.Join(nodeRoot(s.dir, n.Name), conf))
	if err != nil {
		return nil
	}
	var errs []string
	section := ""
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if m := sectionLine.FindStringSubmatch(line); m != nil {
			section = m[1]
			continue
		}
		key, val, ok := strings.Cut(t, "=")
		if !ok || t[0] == '#' || t[0] == ';' {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		where := fmt.Sprintf("%s:%d", conf, i+1)
		switch {
		case key == "openstore-master-connect":
			// rules.go knows the other pre-0.11 options.
			errs = append(errs, fmt.Sprintf("rok-%s: error: unrecognized arguments: --%s (%s); Rok v0.11 uses -C/--connect role=master,http://HOST:PORT", section, key, where))
		case section == "openstored" && key == "connect" && !strings.HasPrefix(val, "role=master,"):
			errs = append(errs, fmt.Sprintf("rok-openstored: error: argument --connect: %s (%s) makes the OpenStore master connect as a slave; write role=master,%s",
				val, where, strings.TrimPrefix(val, "role=slave,")))
		case section == "external-controller" && key == "controller-listen" && !strings.HasPrefix(val, "role=slave,"):
			errs = append(errs, fmt.Sprintf("rok-external-controller: error: argument --controller-listen: the External Controller listens as an OpenStore slave; write role=slave,… (%s)", where))
		}
	}
	return errs
}
