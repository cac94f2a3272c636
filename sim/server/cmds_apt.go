package server

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rokflow/rokflow/internal/debversion"
)

// conffiles are the configuration files a package owns on a Ganeti host;
// the site changed them (their endpoints), so dpkg asks before replacing.
var conffiles = map[string][]string{"rok-common": {"/etc/ganeti/rok/rok.conf"}}

// maintainerRokConf is the rok.conf rok-common ships: it does not know
// where the site's RokE appliance is.
const maintainerRokConf = `# Rok ExtStorage provider for Ganeti.
# Set openstore_controller to the OpenStore endpoint of this host's RokE appliance.
[rok]
openstore_controller = http://127.0.0.1:8080
timeout = 30
`

// available are the versions of a Rok package the hosts' apt sources
// have, for a pinned install: those of the starting release and of each
// upgrade target.
func (c *cmd) available() []string { return c.st.images() }

// candidate is the version apt-get install gives a Rok package the host
// has at version have: the version of the release the host's RokE
// appliance runs (the hosts' apt sources follow their appliance), never
// older than have. So the host catches up with its appliance once that is
// re-imaged, and a host whose apt-get runs before the re-image stays
// behind, its guests unable to reach their disks after it (rule 8); a
// second run never takes a host past its appliance.
func (c *cmd) candidate(have string) string {
	app := c.st.node(applianceOn(c.st, c.n.Name))
	if app == nil {
		return have
	}
	if cmp, err := debversion.Compare(app.Boot, have); err != nil || cmp < 0 {
		return have
	}
	return app.Boot
}

// aptGet is apt-get install (and update) on a Ganeti host.
func (c *cmd) aptGet() int {
	var dpkgOpts []string
	var words []string
	yes, downgrades := false, false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-o" && i+1 < len(c.args):
			i++
			if v, ok := strings.CutPrefix(c.args[i], "Dpkg::Options::="); ok {
				dpkgOpts = append(dpkgOpts, v)
			}
		case strings.HasPrefix(a, "-o"):
			if v, ok := strings.CutPrefix(a[2:], "Dpkg::Options::="); ok {
				dpkgOpts = append(dpkgOpts, v)
			}
		case a == "-y" || a == "--yes" || a == "--assume-yes" || a == "-qq" || a == "-q":
			yes = yes || !strings.HasPrefix(a, "-q")
		case a == "--allow-downgrades":
			downgrades = true
		case a == "--no-install-recommends" || a == "--quiet" || a == "-f":
		case strings.HasPrefix(a, "-"):
			c.errf("E: Command line option '%s' is not understood in combination with the other options", a)
			return 100
		default:
			words = append(words, a)
		}
	}
	if len(words) == 0 {
		c.errf("E: Invalid operation %s", strings.Join(c.args, " "))
		return 100
	}
	if c.n.Kind != kindHost {
		c.errf("E: Could not open lock file /var/lib/dpkg/lock-frontend - open (30: Read-only file system)\n" +
			"E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend): a Rok appliance is upgraded by replacing its BOOT disk, not with apt")
		return 100
	}
	switch words[0] {
	case "update":
		c.outf("Hit:1 http://deb.debian.org/debian bookworm InRelease\nHit:2 http://apt.arrikto.com/rok bookworm InRelease\nReading package lists...\n")
		return 0
	case "install":
	default:
		c.errf("E: Invalid operation %s", words[0])
		return 100
	}
	type upgrade struct{ pkg, from, to string }
	var ups []upgrade
	var current []string
	for _, p := range words[1:] {
		name, pin, pinned := strings.Cut(p, "=")
		if name != "rok-base" && name != "rok-common" {
			c.outf("Reading package lists...\nBuilding dependency tree...\nReading state information...\n")
			c.errf("E: Unable to locate package %s", name)
			return 100
		}
		avail := c.candidate(c.n.Packages[name])
		if pinned {
			if !has(c.available(), pin) {
				c.outf("Reading package lists...\nBuilding dependency tree...\nReading state information...\n")
				c.errf("E: Version '%s' for '%s' was not found", pin, name)
				return 100
			}
			if cmp, _ := debversion.Compare(pin, c.n.Packages[name]); cmp < 0 && !downgrades {
				c.outf("Reading package lists...\nBuilding dependency tree...\nReading state information...\n")
				c.errf("E: Packages were downgraded and -y was used without --allow-downgrades.")
				return 100
			}
			avail = pin
		}
		if have := c.n.Packages[name]; have == avail {
			current = append(current, fmt.Sprintf("%s is already the newest version (%s).", name, have))
		} else {
			ups = append(ups, upgrade{name, have, avail})
		}
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].pkg < ups[j].pkg })
	c.outf("Reading package lists...\nBuilding dependency tree...\nReading state information...\n")
	for _, l := range current {
		c.outf("%s\n", l)
	}
	if len(ups) == 0 {
		c.outf("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
		return 0
	}
	names := make([]string, len(ups))
	for i, u := range ups {
		names[i] = u.pkg
	}
	c.outf("The following packages will be upgraded:\n  %s\n%d upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n", strings.Join(names, " "), len(ups))
	c.outf("Need to get %d kB of archives.\nAfter this operation, 12.3 kB of additional disk space will be used.\n", 2143*len(ups))
	if !yes {
		c.outf("Do you want to continue? [Y/n] Abort.\n")
		return 1
	}
	for i, u := range ups {
		c.outf("Get:%d http://apt.arrikto.com/rok bookworm/main amd64 %s amd64 %s [2143 kB]\n", i+1, u.pkg, u.to)
	}
	c.outf("Fetched %d kB in 0s (41.2 MB/s)\n(Reading database ... 48213 files and directories currently installed.)\n", 2143*len(ups))
	for _, u := range ups {
		c.outf("Preparing to unpack .../%s_%s_amd64.deb ...\nUnpacking %s (%s) over (%s) ...\n", u.pkg, u.to, u.pkg, u.to, u.from)
	}
	keep := containsDir(dpkgOpts, "--force-confold") || containsDir(dpkgOpts, "--force-confdef")
	replace := containsDir(dpkgOpts, "--force-confnew")
	for _, u := range ups {
		c.outf("Setting up %s (%s) ...\n", u.pkg, u.to)
		for _, cf := range conffiles[u.pkg] {
			c.outf("\nConfiguration file '%s'\n ==> Modified (by you or by a script) since installation.\n ==> Package distributor has shipped an updated version.\n", cf)
			switch {
			case keep:
				c.outf(" ==> Keeping old config file as default.\n")
			case replace:
				c.outf(" ==> Using new config file as default.\n ==> Installing new version of config file %s ...\n", cf)
				if err := c.writeFile(cf, []byte(maintainerRokConf), false); err != nil {
					c.errf("dpkg: error processing package %s (--configure):\n unable to install new version of '%s': %s", u.pkg, cf, errText(err))
					return 100
				}
			default:
				c.outf("   What would you like to do about it ?  Your options are:\n    Y or I  : install the package maintainer's version\n    N or O  : keep your currently-installed version\n      D     : show the differences between the versions\n      Z     : start a shell to examine the situation\n The default action is to keep your current version.\n*** %s (Y/I/N/O/D/Z) [default=N] ? ", cf[strings.LastIndex(cf, "/")+1:])
				c.errf("dpkg: error processing package %s (--configure):\n end of file on stdin at conffile prompt\nErrors were encountered while processing:\n %s\nE: Sub-process /usr/bin/dpkg returned an error code (1)", u.pkg, u.pkg)
				c.st.event(c.n.Name, "apt-get install failed at the conffile prompt of %s (no --force-confold/--force-confdef)", cf)
				return 100
			}
		}
	}
	for _, u := range ups {
		c.n.Packages[u.pkg] = u.to
		c.st.event(c.n.Name, "package %s upgraded %s -> %s", u.pkg, u.from, u.to)
	}
	c.dirty = true
	return 0
}
