package server

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

func systemBuiltins() map[string]builtin {
	return map[string]builtin{
		"true":       {run: func(*cmd) int { return 0 }},
		"false":      {run: func(*cmd) int { return 1 }},
		"echo":       {run: (*cmd).echo},
		"printf":     {run: (*cmd).printf},
		"hostname":   {run: (*cmd).hostname},
		"id":         {run: (*cmd).id},
		"whoami":     {run: func(c *cmd) int { c.outf("root\n"); return 0 }},
		"uname":      {run: (*cmd).uname},
		"env":        {run: (*cmd).printEnv},
		"systemctl":  {run: (*cmd).systemctl},
		"service":    {run: (*cmd).service},
		"journalctl": {run: (*cmd).journalctl},
	}
}

func (c *cmd) echo() int {
	args := c.args
	nl := true
	if len(args) > 0 && args[0] == "-n" {
		nl, args = false, args[1:]
	}
	c.stdout.WriteString(strings.Join(args, " "))
	if nl {
		c.stdout.WriteByte('\n')
	}
	return 0
}

// printf implements the POSIX printf utility's %s, %b, %d, %i, %u, %x,
// %o, %c and %% conversions (with flags and widths), reusing the format
// while arguments remain.
func (c *cmd) printf() int {
	if len(c.args) == 0 {
		c.errf("printf: usage: printf format [arguments]")
		return 2
	}
	format, args := c.args[0], c.args[1:]
	code := 0
	for first := true; first || len(args) > 0; first = false {
		used := 0
		for i := 0; i < len(format); i++ {
			ch := format[i]
			switch {
			case ch == '\\' && i+1 < len(format):
				i++
				c.stdout.WriteString(unescape(`\` + string(format[i])))
			case ch == '%' && i+1 < len(format) && format[i+1] == '%':
				i++
				c.stdout.WriteByte('%')
			case ch == '%':
				j := i + 1
				for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
					j++
				}
				if j >= len(format) {
					c.stdout.WriteString(format[i:])
					i = j
					continue
				}
				spec, conv := format[i+1:j], format[j]
				i = j
				arg := ""
				if used < len(args) {
					arg = args[used]
				}
				used++
				switch conv {
				case 's':
					fmt.Fprintf(&c.stdout, "%"+spec+"s", arg)
				case 'b':
					fmt.Fprintf(&c.stdout, "%"+spec+"s", unescape(arg))
				case 'c':
					if arg != "" {
						c.stdout.WriteByte(arg[0])
					}
				case 'd', 'i', 'u', 'x', 'X', 'o':
					n, err := strconv.ParseInt(arg, 0, 64)
					if err != nil && arg != "" {
						c.errf("printf: %s: expected numeric value", arg)
						code = 1
					}
					v := map[byte]string{'i': "d", 'u': "d"}[conv]
					if v == "" {
						v = string(conv)
					}
					fmt.Fprintf(&c.stdout, "%"+spec+v, n)
				default:
					c.errf("printf: %%%c: invalid directive", conv)
					return 1
				}
			default:
				c.stdout.WriteByte(ch)
			}
		}
		if used == 0 {
			break
		}
		if used < len(args) {
			args = args[used:]
		} else {
			args = nil
		}
	}
	return code
}

func (c *cmd) hostname() int {
	switch {
	case len(c.args) == 0 || c.args[0] == "-s" || c.args[0] == "--short":
		c.outf("%s\n", c.n.Hostname)
	case c.args[0] == "-f" || c.args[0] == "--fqdn":
		c.outf("%s\n", c.n.Name)
	case c.args[0] == "-I" || c.args[0] == "-i":
		c.outf("%s\n", c.n.Address)
	default:
		c.errf("hostname: you must be root to change the host name")
		return 1
	}
	return 0
}

func (c *cmd) id() int {
	switch {
	case len(c.args) == 0:
		c.outf("uid=0(root) gid=0(root) groups=0(root)\n")
	case c.args[0] == "-u" || c.args[0] == "-g":
		c.outf("0\n")
	case c.args[0] == "-un" || c.args[0] == "-nu":
		c.outf("root\n")
	default:
		c.outf("root\n")
	}
	return 0
}

func (c *cmd) uname() int {
	if len(c.args) > 0 && c.args[0] == "-a" {
		c.outf("Linux %s 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 x86_64 GNU/Linux\n", c.n.Hostname)
		return 0
	}
	c.outf("Linux\n")
	return 0
}

func (c *cmd) printEnv() int {
	base := map[string]string{"HOME": "/root", "LOGNAME": "root", "USER": "root", "SHELL": "/bin/bash",
		"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PWD": c.cwd}
	for k, v := range c.env {
		base[k] = v
	}
	for _, a := range c.args {
		if k, v, ok := strings.Cut(a, "="); ok {
			base[k] = v
		}
	}
	keys := make([]string, 0, len(base))
	for k := range base {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.outf("%s=%s\n", k, base[k])
	}
	return 0
}

// unit resolves a unit name ("rok-daemons" or "rok-daemons.service").
func (c *cmd) unit(name string) (string, bool) {
	base := strings.TrimSuffix(name, ".service")
	_, ok := c.n.Services[base]
	return base, ok
}

func (c *cmd) systemctl() int {
	var args []string
	for _, a := range c.args {
		if a == "--no-pager" || a == "-q" || a == "--quiet" || a == "--no-block" || a == "--system" {
			continue
		}
		args = append(args, a)
	}
	if len(args) < 2 {
		if len(args) == 1 && args[0] == "daemon-reload" {
			return 0
		}
		c.errf("Too few arguments.")
		return 1
	}
	verb := args[0]
	code := 0
	for _, name := range args[1:] {
		base, ok := c.unit(name)
		full := base + ".service"
		switch verb {
		case "is-active":
			st := svcInactive
			if ok {
				st = c.n.Services[base]
			}
			c.outf("%s\n", st)
			if st != svcActive {
				code = 3
			}
		case "status":
			if !ok {
				c.errf("Unit %s could not be found.", full)
				code = 4
				continue
			}
			st := c.n.Services[base]
			c.outf("● %s\n     Loaded: loaded (/lib/systemd/system/%s; enabled; preset: enabled)\n     Active: %s\n", full, full, st)
			if st != svcActive {
				code = 3
			}
		case "is-enabled":
			if ok {
				c.outf("enabled\n")
			} else {
				c.errf("Failed to get unit file state for %s: No such file or directory", full)
				code = 1
			}
		case "start", "stop", "restart":
			if !ok {
				word := map[string]string{"start": "start", "stop": "stop", "restart": "restart"}[verb]
				c.errf("Failed to %s %s: Unit %s not found.", word, full, full)
				code = 5
				continue
			}
			code = max(code, c.serviceAction(base, verb))
		default:
			c.errf("Unknown command verb '%s'.", verb)
			return 1
		}
	}
	return code
}

// serviceAction starts, stops or restarts a service on the node.
func (c *cmd) serviceAction(base, verb string) int {
	c.dirty = true
	if verb == "stop" || verb == "restart" {
		if c.n.Services[base] == svcActive {
			c.s.journal(c.n, base, "systemd[1]", "Stopping "+base+".service...")
			c.s.journal(c.n, base, "systemd[1]", "Stopped "+base+".service.")
		}
		c.n.Services[base] = svcInactive
		c.st.event(c.n.Name, "%s stopped", base)
	}
	if verb == "stop" {
		return 0
	}
	if base == "rok-daemons" && c.n.Kind == kindAppliance {
		if ok, _ := c.s.startDaemons(c.st, c.n); !ok {
			c.errf("Job for %s.service failed because the control process exited with error code.\n"+
				"See \"systemctl status %s.service\" and \"journalctl -xeu %s.service\" for details.", base, base, base)
			return 1
		}
	} else {
		c.n.Services[base] = svcActive
		c.s.journal(c.n, base, "systemd[1]", "Started "+base+".service.")
	}
	c.st.event(c.n.Name, "%s started", base)
	return 0
}

// service is the LSB `service NAME ACTION` front end.
func (c *cmd) service() int {
	if len(c.args) < 2 {
		c.errf("Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]")
		return 1
	}
	base, ok := c.unit(c.args[0])
	if !ok {
		c.errf("%s: unrecognized service", c.args[0])
		return 1
	}
	switch c.args[1] {
	case "status":
		if c.n.Services[base] == svcActive {
			c.outf("%s is running.\n", base)
			return 0
		}
		c.outf("%s is not running.\n", base)
		return 3
	case "start", "stop", "restart":
		return c.serviceAction(base, c.args[1])
	}
	c.errf("Usage: /etc/init.d/%s {start|stop|restart|status}", base)
	return 1
}

func (c *cmd) journalctl() int {
	o, _, bad := parseOpts(c.args, "xeqab", "un", map[string]bool{"unit": true, "no-pager": false, "lines": true})
	if bad != "" {
		return c.badOption(bad)
	}
	unit, _ := o.get("u", "unit")
	unit = strings.TrimSuffix(unit, ".service")
	var lines []string
	for _, e := range c.n.Journal {
		u, rest, _ := strings.Cut(e, "\t")
		ident, msg, _ := strings.Cut(rest, "\t")
		if unit == "" || u == unit {
			lines = append(lines, ident+": "+msg)
		}
	}
	if nStr, ok := o.get("n", "lines"); ok {
		if n, err := strconv.Atoi(nStr); err == nil && n < len(lines) {
			lines = lines[len(lines)-n:]
		}
	}
	if len(lines) == 0 {
		c.outf("-- No entries --\n")
	}
	for _, l := range lines {
		c.outf("%s %s\n", c.n.Hostname, l)
	}
	return 0
}
