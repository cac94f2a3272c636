package server

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rokflow/rokflow/sim/internal/release"
)

// candidates returns the members cluster.master_candidates names, or
// every member when it is empty.
func (st *state) candidates() []string {
	v := strings.TrimSpace(st.Cluster.Config["cluster.master_candidates"])
	if v == "" {
		var all []string
		for _, m := range st.members() {
			all = append(all, m.Name)
		}
		return all
	}
	var out []string
	for _, c := range strings.Split(v, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func (st *state) masterCapable(name string) bool { return has(st.candidates(), name) }

// elect applies rule 1: the master stays while it is online and master
// capable; otherwise the first online master-capable member becomes
// master, or there is none. Then rule 6: a master on an older release
// than a member or than the shared state breaks the cluster.
func (st *state) elect() {
	cur := st.node(st.Cluster.Master)
	if cur == nil || !cur.On || !st.masterCapable(cur.Name) {
		next := ""
		for _, m := range st.members() {
			if m.On && st.masterCapable(m.Name) {
				next = m.Name
				break
			}
		}
		switch {
		case next == "" && cur != nil:
			st.event(cur.Name, "master %s lost; no online master-capable member to take over (candidates: %s): the cluster has no master",
				cur.Name, strings.Join(st.candidates(), ","))
		case next != "" && cur != nil:
			st.event(next, "master failover: %s -> %s (Rok %s)", cur.Name, next, release.Upstream(st.node(next).Boot))
		case next != "":
			st.event(next, "%s elected master (Rok %s)", next, release.Upstream(st.node(next).Boot))
		}
		st.Cluster.Master = next
		st.Cluster.ByFailover = cur != nil && next != ""
	}
	st.checkVersions()
}

// checkVersions applies rule 6: a master that took over by failover and
// runs an older release than an online member, or any master older than
// the shared state, breaks the cluster. (A member swapped before the
// master only waits: its upgrade-node needs the master's upgrade-cluster.)
// The error is sticky: only an operator's repair clears it.
func (st *state) checkVersions() {
	m := st.node(st.Cluster.Master)
	if st.Cluster.Error != "" || m == nil {
		return
	}
	ms := release.SeriesOf(m.Boot)
	for _, o := range st.members() {
		if st.Cluster.ByFailover && o.On && release.CompareSeries(release.SeriesOf(o.Boot), ms) > 0 {
			st.Cluster.Error = fmt.Sprintf("master %s runs Rok %s, older than member %s (Rok %s): the cluster failed over to a node on the old release, "+
				"which cannot manage upgraded members (pin cluster.master_candidates to the master before an upgrade)",
				m.Name, release.Upstream(m.Boot), o.Name, release.Upstream(o.Boot))
			st.event(m.Name, "CLUSTER ERROR: %s", st.Cluster.Error)
			return
		}
	}
	if release.CompareSeries(release.SeriesOf(st.Cluster.SharedState), ms) > 0 {
		st.Cluster.Error = fmt.Sprintf("master %s runs Rok %s, which cannot read the cluster's shared state (%s)",
			m.Name, release.Upstream(m.Boot), st.Cluster.SharedState)
		st.event(m.Name, "CLUSTER ERROR: %s", st.Cluster.Error)
	}
}

// powerOff turns a node off: its services stop, and if it was the
// master, another one is elected.
func (s *Server) powerOff(st *state, n *node, why string) {
	if !n.On {
		return
	}
	n.On = false
	for name := range n.Services {
		n.Services[name] = svcInactive
	}
	s.ssh.Drop(n.Name)
	st.event(n.Name, "powered off (%s)", why)
	st.elect()
}

// powerOn boots a node from its BOOT disk: its services start, the Rok
// daemons only if their configuration suits the release they run (rule 4).
func (s *Server) powerOn(st *state, n *node, why string) {
	if n.On {
		return
	}
	n.On = true
	for name := range n.Services {
		n.Services[name] = svcActive
	}
	st.event(n.Name, "powered on (%s), booting Rok %s", why, release.Upstream(n.Boot))
	if n.Kind == kindAppliance {
		s.startDaemons(st, n)
	}
	st.elect()
}

// startDaemons starts the Rok daemons of an appliance; they fail when an
// OpenStore endpoint is in a form their release does not take, or the map
// version is not theirs.
func (s *Server) startDaemons(st *state, n *node) (ok bool, errs []string) {
	errs = s.daemonConfigProblems(n)
	if len(errs) > 0 {
		n.Services["rok-daemons"] = svcFailed
		for _, e := range errs {
			ident, msg, _ := strings.Cut(e, ": ")
			s.journal(n, "rok-daemons", ident, msg)
		}
		s.journal(n, "rok-daemons", "systemd[1]", "rok-daemons.service: Main process exited, code=exited, status=2/INVALIDARGUMENT")
		s.journal(n, "rok-daemons", "systemd[1]", "rok-daemons.service: Failed with result 'exit-code'.")
		s.journal(n, "rok-daemons", "systemd[1]", "Failed to start rok-daemons.service - Rok daemons.")
		st.event(n.Name, "rok-daemons failed to start: %s", errs[0])
		return false, errs
	}
	n.Services["rok-daemons"] = svcActive
	s.journal(n, "rok-daemons", "systemd[1]", "Started rok-daemons.service - Rok daemons (Rok "+release.Upstream(n.Boot)+").")
	return true, nil
}

// journal records a log line of a unit, as "UNIT\tIDENT\tMESSAGE".
func (s *Server) journal(n *node, unit, ident, msg string) {
	n.Journal = append(n.Journal, unit+"\t"+ident+"\t"+msg)
	if len(n.Journal) > 200 {
		n.Journal = append([]string(nil), n.Journal[len(n.Journal)-200:]...)
	}
}

// envFiles are the environment files of the Rok units on an appliance.
var envFiles = []string{"/etc/default/rok"}

var sectionLine = regexp.MustCompile(`^\s*\[([A-Za-z0-9_-]+)(?:\.\d+)?\]`)

// daemonProblems lists why the Rok daemons of the release on n's BOOT
// disk refuse their configuration: tcp:// endpoints or the pre-0.11
// option names on v0.11, and v0.11 forms on older releases.
func (s *Server) daemonProblems(n *node) []string {
	root := nodeRoot(s.dir, n.Name)
	newRelease := release.HTTPEndpoints(release.SeriesOf(n.Boot))
	var errs []string
	conf := "/etc/rok/daemons.conf"
	f, err := os.Open(filepath.Join(root, conf))
	if err != nil {
		return []string{fmt.Sprintf("rok-daemons: cannot read %s: %s", conf, errText(err))}
	}
	defer f.Close()
	daemon := "rok-daemons"
	sc := bufio.NewScanner(f)
	for num := 1; sc.Scan(); num++ {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if m := sectionLine.FindStringSubmatch(line); m != nil {
			daemon = "rok-" + m[1]
			continue
		}
		key, val, _ := strings.Cut(t, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		where := fmt.Sprintf("%s:%d", conf, num)
		switch {
		case newRelease && strings.Contains(strings.ToLower(val), "tcp://"):
			errs = append(errs, fmt.Sprintf("%s: error: argument --%s: invalid OpenStore endpoint %q (%s): tcp:// endpoints are not supported since Rok v0.11; write [role=master|slave,]http://HOST:PORT",
				daemon, key, val, where))
		case newRelease && (key == "openstore-controller" || key == "bind-http"):
			errs = append(errs, fmt.Sprintf("%s: error: unrecognized arguments: --%s (%s); Rok v0.11 uses -C/--connect and --controller-listen", daemon, key, where))
		case !newRelease && (strings.Contains(val, "http://") || strings.Contains(val, "role=") ||
			key == "connect" || key == "controller-listen"):
			errs = append(errs, fmt.Sprintf("%s: error: argument --%s: invalid endpoint %q (%s): expected tcp://HOST:PORT", daemon, key, val, where))
		}
	}
	for _, env := range envFiles {
		data, err := os.ReadFile(filepath.Join(root, env))
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(data), "\n") {
			t := strings.TrimSpace(line)
			if t == "" || t[0] == '#' {
				continue
			}
			name, val, _ := strings.Cut(strings.TrimPrefix(t, "export "), "=")
			val = strings.Trim(val, `"'`)
			where := fmt.Sprintf("%s:%d", env, i+1)
			switch {
			case newRelease && strings.Contains(strings.ToLower(val), "tcp://"):
				errs = append(errs, fmt.Sprintf("rok-daemons: error: %s=%s (%s): tcp:// endpoints are not supported since Rok v0.11; use http://", name, val, where))
			case !newRelease && strings.HasPrefix(name, "OPENSTORE_") && strings.Contains(val, "http://"):
				errs = append(errs, fmt.Sprintf("rok-daemons: error: %s=%s (%s): expected tcp://HOST:PORT", name, val, where))
			}
		}
	}
	return append(errs, s.unitProblems(n, newRelease)...)
}

// hostFiles are the files on a Ganeti host that hold the OpenStore
// endpoint of its RokE appliance (the seed's sed targets).
var hostFiles = []string{"/etc/ganeti/rok/rok.conf", "/etc/default/snf-image", "/usr/bin/kvm", "/usr/bin/qemu-kvm-rok"}

// hostScheme says which endpoint scheme a host's files use: "tcp",
// "http", or "mixed" (and where tcp: remains).
func (s *Server) hostScheme(h *node) (scheme string, tcpIn []string) {
	root := nodeRoot(s.dir, h.Name)
	nTCP, nHTTP := 0, 0
	for _, f := range hostFiles {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		t := string(data)
		if strings.Contains(t, "tcp:") {
			nTCP++
			tcpIn = append(tcpIn, f)
		}
		if strings.Contains(t, "http:") {
			nHTTP++
		}
	}
	switch {
	case nTCP > 0 && nHTTP > 0:
		return "mixed", tcpIn
	case nTCP > 0:
		return "tcp", tcpIn
	}
	return "http", nil
}

// hostCompatible applies rule 8: a host's guests reach their disks only
// when its RokE appliance runs and serves them, and the host's Rok
// packages and endpoint files match the appliance's release.
func (s *Server) hostCompatible(st *state, h *node) (bool, string) {
	app := st.node(applianceOn(st, h.Name))
	if app == nil {
		return false, "no RokE appliance runs on " + h.Name
	}
	if !app.On {
		return false, fmt.Sprintf("the RokE appliance %s on %s is not running", app.Name, h.Name)
	}
	if app.Services["rok-daemons"] != svcActive {
		return false, fmt.Sprintf("the Rok daemons of the RokE appliance %s are %s", app.Name, app.Services["rok-daemons"])
	}
	as, hs := release.SeriesOf(app.Boot), release.SeriesOf(h.Packages["rok-base"])
	if as != hs {
		return false, fmt.Sprintf("the Rok packages of %s are %s but its RokE appliance %s runs %s",
			h.Name, h.Packages["rok-base"], app.Name, release.Upstream(app.Boot))
	}
	want := "tcp"
	if release.HTTPEndpoints(as) {
		want = "http"
	}
	if scheme, tcpIn := s.hostScheme(h); scheme != want {
		if want == "http" {
			return false, fmt.Sprintf("%s still has tcp: OpenStore endpoints in %s but the RokE appliance %s (Rok %s) serves http://",
				h.Name, strings.Join(tcpIn, ", "), app.Name, release.Upstream(app.Boot))
		}
		return false, fmt.Sprintf("%s has http: OpenStore endpoints but the RokE appliance %s (Rok %s) serves tcp://",
			h.Name, app.Name, release.Upstream(app.Boot))
	}
	return true, ""
}

func errText(err error) string {
	if os.IsNotExist(err) {
		return "No such file or directory"
	}
	if os.IsPermission(err) {
		return "Permission denied"
	}
	return err.Error()
}
