package server

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/rokflow/rokflow/sim/internal/release"
)

// upgradeScriptPrefix names the upgrade scripts: rok-cluster-upgrade-v0.11.0.
const upgradeScriptPrefix = "rok-cluster-upgrade-v"

// opGatewayMigrate counts the Gateway's migrate runs per node, beside the
// upgrade script's subcommands (releases.go), the other once-commands.
const opGatewayMigrate = "gateway-migrate"

func rokBuiltins() map[string]builtin {
	return map[string]builtin{
		"rok-cluster-ctl": {run: (*cmd).clusterCtl},
		"rok-config":      {run: (*cmd).rokConfig},
		"rok-gw-manage":   {run: (*cmd).gwManage},
		"dpkg-query":      {run: (*cmd).dpkgQuery},
		"apt-get":         {run: (*cmd).aptGet},
	}
}

// memberJSON is one member in `rok-cluster-ctl member-list --output json`.
type memberJSON struct {
	Name          string `json:"name"`
	Address       string `json:"address"`
	Role          string `json:"role"`
	MasterCapable bool   `json:"master_capable"`
	State         string `json:"state"`
	Version       string `json:"version"`
}

// memberState is a member's state as member-list shows it.
func (st *state) memberState(n *node) string {
	switch {
	case !n.On:
		return "offline"
	case release.CompareSeries(release.SeriesOf(n.Boot), release.SeriesOf(n.NodeState)) > 0:
		return "needs-upgrade"
	case n.Services["rok-daemons"] == svcFailed:
		return "error"
	case n.Services["rok-daemons"] != svcActive:
		return "degraded"
	}
	return "online"
}

func (st *state) memberList() []memberJSON {
	var out []memberJSON
	for _, m := range st.members() {
		role := "slave"
		if m.Name == st.Cluster.Master {
			role = "master"
		}
		out = append(out, memberJSON{
			Name: m.Name, Address: m.Address, Role: role, MasterCapable: st.masterCapable(m.Name),
			State: st.memberState(m), Version: release.Upstream(m.Boot),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (c *cmd) clusterCtl() int {
	if len(c.args) == 0 || c.args[0] == "-h" || c.args[0] == "--help" {
		c.outf("usage: rok-cluster-ctl [-h] {member-list} ...\n\nManage the members of a Rok cluster.\n\ncommands:\n  member-list  list the members of the cluster, their roles and versions\n")
		if len(c.args) == 0 {
			return 2
		}
		return 0
	}
	if c.args[0] != "member-list" {
		c.errf("usage: rok-cluster-ctl [-h] {member-list} ...\nrok-cluster-ctl: error: argument command: invalid choice: '%s' (choose from 'member-list')", c.args[0])
		return 2
	}
	o, rest, bad := parseOpts(c.args[1:], "h", "o", map[string]bool{"output": true, "help": false})
	if bad != "" || len(rest) > 0 {
		c.errf("usage: rok-cluster-ctl member-list [-h] [-o {table,json}]\nrok-cluster-ctl member-list: error: unrecognized arguments: %s", strings.Join(c.args[1:], " "))
		return 2
	}
	format, _ := o.get("o", "output")
	if format == "" {
		format = "table"
	}
	if c.st.Cluster.Error != "" {
		c.errf("rok-cluster-ctl: warning: the cluster is in an error state: %s", c.st.Cluster.Error)
	}
	members := c.st.memberList()
	switch format {
	case "json":
		doc := map[string]any{
			"cluster":              c.st.Cluster.Name,
			"master":               c.st.Cluster.Master,
			"shared_state_version": c.st.Cluster.SharedState,
			"members":              members,
		}
		if c.st.Cluster.Error != "" {
			doc["error"] = c.st.Cluster.Error
		}
		data, _ := json.MarshalIndent(doc, "", "  ")
		c.stdout.Write(append(data, '\n'))
	case "table":
		tw := tabwriter.NewWriter(&c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tADDRESS\tROLE\tMASTER-CAPABLE\tSTATE\tVERSION")
		for _, m := range members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Address, m.Role, map[bool]string{true: "yes", false: "no"}[m.MasterCapable], m.State, m.Version)
		}
		tw.Flush()
	default:
		c.errf("usage: rok-cluster-ctl member-list [-h] [-o {table,json}]\nrok-cluster-ctl member-list: error: argument -o/--output: invalid choice: '%s' (choose from 'table', 'json')", format)
		return 2
	}
	return 0
}

// readOnlyKeys cannot be set with rok-config.
var readOnlyKeys = map[string]bool{"cluster.name": true, "cluster.shared_state_version": true}

func (c *cmd) rokConfig() int {
	usage := "usage: rok-config [-h] {get,set} ..."
	if len(c.args) == 0 {
		c.errf("%s\nrok-config: error: the following arguments are required: command", usage)
		return 2
	}
	switch c.args[0] {
	case "-h", "--help":
		c.outf("%s\n\nRead and change the Rok cluster configuration.\n\n  get [KEY]          print every key=value, or the value of KEY\n  set KEY=VALUE ...  change keys\n", usage)
		return 0
	case "get":
		cfg := c.st.Cluster.Config
		if len(c.args) == 1 {
			keys := make([]string, 0, len(cfg))
			for k := range cfg {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				c.outf("%s=%s\n", k, cfg[k])
			}
			return 0
		}
		code := 0
		for _, k := range c.args[1:] {
			v, ok := cfg[k]
			if !ok {
				c.errf("rok-config: error: no such key: %s", k)
				code = 1
				continue
			}
			c.outf("%s\n", v)
		}
		return code
	case "set":
		if len(c.args) == 1 {
			c.errf("usage: rok-config set [-h] KEY=VALUE [KEY=VALUE ...]\nrok-config set: error: the following arguments are required: KEY=VALUE")
			return 2
		}
		changes := map[string]string{}
		for _, kv := range c.args[1:] {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				c.errf("rok-config set: error: expected KEY=VALUE, got '%s'", kv)
				return 2
			}
			if readOnlyKeys[k] {
				c.errf("rok-config: error: %s is read-only", k)
				return 1
			}
			if k == "cluster.master_candidates" {
				if msg := c.checkCandidates(v); msg != "" {
					c.errf("rok-config: error: %s", msg)
					return 1
				}
			}
			changes[k] = v
		}
		for k, v := range changes {
			old := c.st.Cluster.Config[k]
			c.st.Cluster.Config[k] = v
			c.st.event(c.n.Name, "rok-config set %s=%s (was %q)", k, v, old)
		}
		if _, ok := changes["cluster.master_candidates"]; ok {
			c.st.elect()
		}
		c.dirty = true
		return 0
	}
	c.errf("%s\nrok-config: error: argument command: invalid choice: '%s' (choose from 'get', 'set')", usage, c.args[0])
	return 2
}

// checkCandidates validates a cluster.master_candidates value.
func (c *cmd) checkCandidates(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	var names []string
	for _, m := range c.st.members() {
		names = append(names, m.Name)
	}
	for _, cand := range strings.Split(v, ",") {
		cand = strings.TrimSpace(cand)
		if !has(names, cand) {
			return fmt.Sprintf("cluster.master_candidates: %q is not a member of cluster %s (members: %s)", cand, c.st.Cluster.Name, strings.Join(names, ", "))
		}
	}
	return ""
}

func (c *cmd) dpkgQuery() int {
	o, pkgs, bad := parseOpts(c.args, "Wls", "f", map[string]bool{"show": false, "showformat": true, "list": false, "status": false})
	if bad != "" {
		c.errf("dpkg-query: error: %s\n\nType dpkg-query --help for help about querying packages.", bad)
		return 2
	}
	if !o.has("W", "show", "s", "status", "l", "list") {
		c.errf("dpkg-query: error: need an action option\n\nType dpkg-query --help for help about querying packages.")
		return 2
	}
	if len(pkgs) == 0 {
		c.errf("dpkg-query: error: --show needs at least one package name argument")
		return 2
	}
	format, ok := o.get("f", "showformat")
	if !ok {
		format = "${binary:Package}\t${Version}\n"
	}
	code := 0
	for _, p := range pkgs {
		ver, installed := c.n.Packages[p]
		if !installed {
			c.errf("dpkg-query: no packages found matching %s", p)
			code = 1
			continue
		}
		if o.has("s", "status") {
			c.outf("Package: %s\nStatus: install ok installed\nVersion: %s\nArchitecture: amd64\n\n", p, ver)
			continue
		}
		r := strings.NewReplacer("${Package}", p, "${binary:Package}", p, "${Version}", ver,
			"${Status}", "install ok installed", "${db:Status-Abbrev}", "ii ", "${Architecture}", "amd64")
		c.stdout.WriteString(r.Replace(unescape(format)))
		if p == "rok-base" && strings.Contains(format, "${Version}") {
			c.s.operatorNotices(c.st, c.n)
			c.dirty = true
		}
	}
	return code
}
