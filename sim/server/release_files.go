package server

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/rokflow/rokflow/sim/internal/release"

	"github.com/rokflow/rokflow/internal/openstore"
)

// daemonsConfPath is the Rok daemons' configuration on an appliance.
const daemonsConfPath = "/etc/rok/daemons.conf"

// daemonConfigProblems lists every reason the Rok daemons of the release
// on n's BOOT disk refuse their configuration: its OpenStore endpoints
// (daemonProblems) and its composer map version (mapVersionProblems).
func (s *Server) daemonConfigProblems(n *node) []string {
	return append(s.daemonProblems(n), mapVersionProblems(nodeRoot(s.dir, n.Name), release.SeriesOf(n.Boot))...)
}

// mapVersionProblems applies the map-version rule of a series' daemons to
// the daemons.conf under root. The daemons read and write one composer map
// version (seriesProfile.MapVersion): every map-version key in the file
// must say it, wherever it is (before the first section, in [DEFAULT] or
// in a daemon's own section, where nodes have it: [composerd.0]). A
// series that changed the map format (MapVersionRequired, 0.12) also
// refuses a file without the key, since the daemons cannot guess which
// format the node's maps are in.
func mapVersionProblems(root, ser string) []string {
	p := release.ProfileOf(ser)
	f, err := os.Open(filepath.Join(root, daemonsConfPath))
	if err != nil {
		return nil // daemonProblems says it cannot be read
	}
	defer f.Close()
	var errs []string
	daemon, found := "rok-daemons", false
	sc := bufio.NewScanner(f)
	for num := 1; sc.Scan(); num++ {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if m := sectionLine.FindStringSubmatch(line); m != nil {
			daemon = "rok-" + m[1]
			if m[1] == "DEFAULT" {
				daemon = "rok-daemons"
			}
			continue
		}
		key, val, _ := strings.Cut(t, "=")
		if strings.TrimSpace(key) != "map-version" {
			continue
		}
		found = true
		val = strings.TrimSpace(val)
		if v, err := strconv.Atoi(val); err != nil || v != p.MapVersion {
			errs = append(errs, fmt.Sprintf("%s: error: argument --map-version: invalid choice: '%s' (%s:%d): Rok %s reads and writes composer map version %d only (choose from '%d')",
				daemon, val, daemonsConfPath, num, ser, p.MapVersion, p.MapVersion))
		}
	}
	if !found && p.MapVersionRequired {
		errs = append(errs, fmt.Sprintf("rok-daemons: error: the following arguments are required: --map-version (%s): Rok %s uses composer map version %d; set map-version = %d",
			daemonsConfPath, ser, p.MapVersion, p.MapVersion))
	}
	return errs
}

// daemonFixes says what to change on n, from the errors of its daemons.
func daemonFixes(errs []string, n *node) string {
	ser := release.SeriesOf(n.Boot)
	var mapVersion, other bool
	for _, e := range errs {
		if strings.Contains(e, "--map-version") {
			mapVersion = true
		} else {
			other = true
		}
	}
	var fixes []string
	if other {
		fixes = append(fixes, fmt.Sprintf("rewrite its OpenStore endpoints (%s, /etc/default/rok) for Rok %s", daemonsConfPath, ser))
	}
	if mapVersion {
		fixes = append(fixes, fmt.Sprintf("set map-version = %d in %s", release.ProfileOf(ser).MapVersion, daemonsConfPath))
	}
	return strings.Join(fixes, " and ")
}

// checkStartingConfig makes sure the daemons of a new cluster accept the
// files it was created with, so that a cluster starting at any release
// starts healthy (a failure is the simulator's own inconsistency).
func (s *Server) checkStartingConfig() error {
	for _, n := range s.st.members() {
		if errs := s.daemonConfigProblems(n); len(errs) > 0 {
			return fmt.Errorf("the files of %s for a cluster starting at Rok %s are refused by its own daemons: %s",
				n.Name, release.Upstream(n.Boot), strings.Join(errs, "; "))
		}
	}
	return nil
}

var mapVersionLine = regexp.MustCompile(`(?m)^map-version = [0-9]+$`)

// startingFile adapts a node file, written as a 0.10 node has it, to the
// series a new cluster starts at: the map version its daemons use, and
// from 0.11 on its OpenStore endpoints in the 0.11 forms, as an upgrade
// leaves them. Those are made by rokflow's own rewriters (internal/
// openstore, as the playbook's rok.openstore_endpoints step runs them on
// daemons.conf, the environment files and the rok units), and on a Ganeti
// host by replacing tcp: with http:, as the seed's sed does; the
// daemons' rules still judge the result (checkStartingConfig).
func startingFile(ser, p, content string) (string, error) {
	if release.HTTPEndpoints(ser) {
		var rewrite func(string) (string, []openstore.Change, error)
		switch {
		case p == daemonsConfPath:
			rewrite = openstore.RewriteConfig
		case has(envFiles, p):
			rewrite = openstore.RewriteEnv
		case strings.HasPrefix(p, "/etc/systemd/system/"):
			rewrite = openstore.RewriteUnit
		case has(hostFiles, p):
			content = strings.ReplaceAll(content, "tcp:", "http:")
		}
		if rewrite != nil {
			text, _, err := rewrite(content)
			if err != nil {
				return "", fmt.Errorf("the 0.11 forms of %s for a cluster starting at Rok %s: %w", p, ser, err)
			}
			content = text
		}
	}
	if p == daemonsConfPath {
		content = mapVersionLine.ReplaceAllString(content, fmt.Sprintf("map-version = %d", release.ProfileOf(ser).MapVersion))
	}
	return content, nil
}
