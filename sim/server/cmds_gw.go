package server

import (
	"sort"
	"strings"

	"github.com/rokflow/rokflow/sim/internal/release"
)

// gwManage is the Rok Gateway's Django manage program: migrate and
// showmigrations over the Gateway store's migrations.
func (c *cmd) gwManage() int {
	if len(c.args) == 0 || c.args[0] == "help" || c.args[0] == "--help" || c.args[0] == "-h" {
		c.outf("\nType 'rok-gw-manage help <subcommand>' for help on a specific subcommand.\n\nAvailable subcommands:\n\n[django]\n    check\n    migrate\n    showmigrations\n")
		return 0
	}
	switch c.args[0] {
	case "showmigrations":
		return c.showMigrations(c.args[1:])
	case "migrate":
		return c.migrate(c.args[1:])
	case "check":
		c.outf("System check identified no issues (0 silenced).\n")
		return 0
	}
	c.errf("Unknown command: '%s'\nType 'rok-gw-manage help' for usage.", c.args[0])
	return 1
}

// migrationsByApp groups app.name migrations by app, apps sorted.
func migrationsByApp(ms []string) (apps []string, by map[string][]string) {
	by = map[string][]string{}
	for _, m := range ms {
		app, name, _ := strings.Cut(m, ".")
		if _, ok := by[app]; !ok {
			apps = append(apps, app)
		}
		by[app] = append(by[app], name)
	}
	sort.Strings(apps)
	return apps, by
}

func (c *cmd) showMigrations(args []string) int {
	o, labels, bad := parseOpts(args, "lpv", "", map[string]bool{"list": false, "plan": false, "noinput": false, "no-input": false, "verbosity": true, "database": true})
	if bad != "" {
		c.errf("usage: rok-gw-manage showmigrations [-h] [--database DATABASE] [--list | --plan] [app_label ...]\nrok-gw-manage showmigrations: error: %s", bad)
		return 2
	}
	known := release.KnownMigrations(release.SeriesOf(c.n.Boot))
	applied := map[string]bool{}
	for _, m := range c.st.Cluster.Migrations {
		applied[m] = true
	}
	if o.has("p", "plan") {
		for _, m := range known {
			mark := " "
			if applied[m] {
				mark = "X"
			}
			c.outf("[%s]  %s\n", mark, m)
		}
		return 0
	}
	apps, by := migrationsByApp(known)
	for _, l := range labels {
		if _, ok := by[l]; !ok {
			c.errf("CommandError: No installed app with label '%s'.", l)
			return 1
		}
	}
	for _, app := range apps {
		if len(labels) > 0 && !has(labels, app) {
			continue
		}
		c.outf("%s\n", app)
		for _, name := range by[app] {
			mark := " "
			if applied[app+"."+name] {
				mark = "X"
			}
			c.outf(" [%s] %s\n", mark, name)
		}
	}
	return 0
}

// migrate applies rule 7: the Gateway's gunicorn and the Rok daemons must
// be stopped while its store is migrated.
func (c *cmd) migrate(args []string) int {
	o, rest, bad := parseOpts(args, "hv", "", map[string]bool{"noinput": false, "no-input": false, "help": false, "verbosity": true, "database": true, "plan": false, "fake": false})
	if bad != "" || len(rest) > 2 {
		c.errf("usage: rok-gw-manage migrate [-h] [--noinput] [--plan] [app_label] [migration_name]\nrok-gw-manage migrate: error: %s", bad)
		return 2
	}
	if o.has("h", "help") {
		c.outf("usage: rok-gw-manage migrate [-h] [--noinput] [--plan] [app_label] [migration_name]\n\nUpdates database schema. Manages both apps with migrations and those without.\n")
		return 0
	}
	plan := o.has("plan")
	if !plan {
		c.dirty = true
		c.st.counter(c.n.Name, opGatewayMigrate).Runs++
		var running []string
		for _, svc := range []string{"rok-gw-gunicorn", "rok-daemons"} {
			if c.n.Services[svc] == svcActive {
				running = append(running, svc)
			}
		}
		if len(running) > 0 {
			c.errf("CommandError: The Rok Gateway store cannot be migrated while %s %s running on %s; stop the Gateway's gunicorn and the Rok daemons first.",
				strings.Join(running, " and "), map[bool]string{true: "is", false: "are"}[len(running) == 1], c.n.Hostname)
			c.st.event(c.n.Name, "rok-gw-manage migrate refused: %s running", strings.Join(running, ", "))
			return 1
		}
	}
	known := release.KnownMigrations(release.SeriesOf(c.n.Boot))
	apps, by := migrationsByApp(known)
	applied := map[string]bool{}
	for _, m := range c.st.Cluster.Migrations {
		applied[m] = true
	}
	var want []string
	switch len(rest) {
	case 0:
		want = known
	default:
		app := rest[0]
		if _, ok := by[app]; !ok {
			c.errf("CommandError: No installed app with label '%s'.", app)
			return 1
		}
		for _, name := range by[app] {
			want = append(want, app+"."+name)
			if len(rest) == 2 && name == rest[1] {
				break
			}
		}
		if len(rest) == 2 && !has(by[app], rest[1]) {
			c.errf("CommandError: Cannot find a migration matching '%s' from app '%s'.", rest[1], app)
			return 1
		}
	}
	if plan {
		c.outf("Planned operations:\n")
		n := 0
		for _, m := range want {
			if !applied[m] {
				c.outf("%s\n    Raw Python operation\n", m)
				n++
			}
		}
		if n == 0 {
			c.outf("  No planned migration operations.\n")
		}
		return 0
	}
	c.outf("Operations to perform:\n")
	if len(rest) == 0 {
		c.outf("  Apply all migrations: %s\n", strings.Join(apps, ", "))
	} else {
		c.outf("  Target specific migration: %s, from %s\n", want[len(want)-1], rest[0])
	}
	c.outf("Running migrations:\n")
	n := 0
	for _, m := range want {
		if applied[m] {
			continue
		}
		c.outf("  Applying %s... OK\n", m)
		c.st.Cluster.Migrations = append(c.st.Cluster.Migrations, m)
		n++
	}
	if n == 0 {
		c.outf("  No migrations to apply.\n")
	}
	c.st.counter(c.n.Name, opGatewayMigrate).OK++
	c.st.event(c.n.Name, "rok-gw-manage migrate: %d migrations applied", n)
	return 0
}
