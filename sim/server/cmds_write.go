package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// The programs that change a node's files.

const tempChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// mktemp makes a unique file (or, with -d, directory) from a template, as
// GNU mktemp does.
func (c *cmd) mktemp() int {
	o, rest, bad := parseOpts(c.args, "dqtu", "p", map[string]bool{"directory": false, "quiet": false, "tmpdir": false, "dry-run": false, "suffix": true})
	if bad != "" {
		return c.badOption(bad)
	}
	if len(rest) > 1 {
		c.errf("mktemp: too many templates\nTry 'mktemp --help' for more information.")
		return 1
	}
	template := "tmp.XXXXXXXXXX"
	if len(rest) == 1 {
		template = rest[0]
	}
	dir, useDir := o.get("p", "tmpdir")
	if o.has("t") || (len(rest) == 0 && !useDir) {
		useDir = true
	}
	if useDir {
		if dir == "" {
			dir = "/tmp"
		}
		if strings.Contains(template, "/") && len(rest) == 1 {
			c.errf("mktemp: invalid template, '%s', contains directory separator", template)
			return 1
		}
		template = path.Join(dir, template)
	}
	suffix := o["suffix"]
	n := len(template) - len(strings.TrimRight(template, "X"))
	if n < 3 {
		c.errf("mktemp: too few X's in template '%s'", path.Base(template))
		return 1
	}
	for attempt := 0; attempt < 100; attempt++ {
		rnd := make([]byte, n)
		_, _ = rand.Read(rnd)
		for i := range rnd {
			rnd[i] = tempChars[int(rnd[i])%len(tempChars)]
		}
		name := template[:len(template)-n] + string(rnd) + suffix
		real := c.real(name)
		var err error
		if o.has("d", "directory") {
			err = os.Mkdir(real, 0o700)
		} else {
			var f *os.File
			if f, err = os.OpenFile(real, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
				err = f.Close()
			}
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			if !o.has("q", "quiet") {
				c.errf("mktemp: failed to create %s via template '%s': %s", map[bool]string{true: "directory", false: "file"}[o.has("d", "directory")], template, errText(err))
			}
			return 1
		}
		c.outf("%s\n", name)
		return 0
	}
	c.errf("mktemp: failed to create file via template '%s': File exists", template)
	return 1
}

// parseMode applies an octal or symbolic chmod mode to old.
func parseMode(spec string, old fs.FileMode, isDir bool) (fs.FileMode, bool) {
	if n, err := strconv.ParseUint(spec, 8, 32); err == nil && n <= 0o7777 {
		m := fs.FileMode(n & 0o777)
		if n&0o4000 != 0 {
			m |= fs.ModeSetuid
		}
		if n&0o2000 != 0 {
			m |= fs.ModeSetgid
		}
		if n&0o1000 != 0 {
			m |= fs.ModeSticky
		}
		return m, true
	}
	m := old
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		who := fs.FileMode(0)
		for ; i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0; i++ {
			who |= map[byte]fs.FileMode{'u': 0o700, 'g': 0o070, 'o': 0o007, 'a': 0o777}[clause[i]]
		}
		if who == 0 {
			who = 0o777
		}
		if i >= len(clause) || strings.IndexByte("+-=", clause[i]) < 0 {
			return 0, false
		}
		op := clause[i]
		var bits fs.FileMode
		for _, p := range clause[i+1:] {
			switch p {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x':
				bits |= 0o111
			case 'X':
				if isDir || old&0o111 != 0 {
					bits |= 0o111
				}
			default:
				return 0, false
			}
		}
		bits &= who
		switch op {
		case '+':
			m |= bits
		case '-':
			m &^= bits
		case '=':
			m = m&^who | bits
		}
	}
	return m, true
}

func (c *cmd) chmod() int {
	o, rest, bad := parseOpts(c.args, "Rcfv", "", map[string]bool{"reference": true, "recursive": false})
	if bad != "" && !strings.Contains(bad, "invalid option") {
		return c.badOption(bad)
	}
	if bad != "" { // "-x" style symbolic modes look like options
		o, rest = opts{}, c.args
	}
	ref, hasRef := o["reference"]
	if !hasRef && len(rest) < 2 || hasRef && len(rest) < 1 {
		c.errf("chmod: missing operand\nTry 'chmod --help' for more information.")
		return 1
	}
	spec := ""
	if hasRef {
		fi, err := os.Stat(c.real(ref))
		if err != nil {
			c.errf("chmod: failed to get attributes of '%s': %s", ref, errText(err))
			return 1
		}
		spec = fmt.Sprintf("%o", rawMode(fi)&0o7777)
	} else {
		spec, rest = rest[0], rest[1:]
	}
	code := 0
	for _, f := range rest {
		real := c.real(f)
		fi, err := os.Stat(real)
		if err != nil {
			c.errf("chmod: cannot access '%s': %s", f, errText(err))
			code = 1
			continue
		}
		m, ok := parseMode(spec, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), fi.IsDir())
		if !ok {
			c.errf("chmod: invalid mode: '%s'\nTry 'chmod --help' for more information.", spec)
			return 1
		}
		if err := os.Chmod(real, m); err != nil {
			c.errf("chmod: changing permissions of '%s': %s", f, errText(err))
			code = 1
		}
	}
	return code
}

func (c *cmd) chown() int {
	o, rest, bad := parseOpts(c.args, "Rchfv", "", map[string]bool{"reference": true, "recursive": false, "no-dereference": false})
	if bad != "" {
		return c.badOption(bad)
	}
	ref, hasRef := o["reference"]
	if !hasRef && len(rest) < 2 || hasRef && len(rest) < 1 {
		c.errf("chown: missing operand\nTry 'chown --help' for more information.")
		return 1
	}
	var uid, gid int
	keepGroup := false
	if hasRef {
		if _, err := os.Stat(c.real(ref)); err != nil {
			c.errf("chown: failed to get attributes of '%s': %s", ref, errText(err))
			return 1
		}
		uid, gid = c.owner(c.vpath(ref))
	} else {
		spec := rest[0]
		rest = rest[1:]
		u, g, hasG := strings.Cut(spec, ":")
		var ok bool
		if uid, ok = idOf(u); !ok {
			c.errf("chown: invalid user: '%s'", spec)
			return 1
		}
		switch {
		case !hasG:
			keepGroup = true
		case g == "":
			gid = uid
		default:
			if gid, ok = idOf(g); !ok {
				c.errf("chown: invalid group: '%s'", spec)
				return 1
			}
		}
	}
	code := 0
	for _, f := range rest {
		if _, err := os.Stat(c.real(f)); err != nil {
			c.errf("chown: cannot access '%s': %s", f, errText(err))
			code = 1
			continue
		}
		vp := c.vpath(f)
		g := gid
		if keepGroup {
			_, g = c.owner(vp)
		}
		if c.n.Owners == nil {
			c.n.Owners = map[string]string{}
		}
		if uid == 0 && g == 0 {
			delete(c.n.Owners, vp)
		} else {
			c.n.Owners[vp] = fmt.Sprintf("%d:%d", uid, g)
		}
		c.dirty = true
	}
	return code
}

// moveOwners renames the ownership records under from to to.
func (c *cmd) moveOwners(from, to string) {
	for p, o := range c.n.Owners {
		if p == from || strings.HasPrefix(p, from+"/") {
			delete(c.n.Owners, p)
			c.n.Owners[to+strings.TrimPrefix(p, from)] = o
			c.dirty = true
		}
	}
}

func (c *cmd) mv() int {
	o, rest, bad := parseOpts(c.args, "fnTvi", "", map[string]bool{"force": false, "no-target-directory": false})
	if bad != "" {
		return c.badOption(bad)
	}
	if len(rest) != 2 {
		c.errf("mv: missing destination file operand after '%s'\nTry 'mv --help' for more information.", strings.Join(rest, " "))
		return 1
	}
	src, dst := c.vpath(rest[0]), c.vpath(rest[1])
	if _, err := os.Lstat(c.real(src)); err != nil {
		c.errf("mv: cannot stat '%s': %s", rest[0], errText(err))
		return 1
	}
	if fi, err := os.Stat(c.real(dst)); err == nil && fi.IsDir() && !o.has("T", "no-target-directory") {
		dst = path.Join(dst, path.Base(src))
	}
	if o.has("n") {
		if _, err := os.Lstat(c.real(dst)); err == nil {
			return 0
		}
	}
	if err := os.Rename(c.real(src), c.real(dst)); err != nil {
		c.errf("mv: cannot move '%s' to '%s': %s", rest[0], rest[1], errText(err))
		return 1
	}
	delete(c.n.Owners, dst)
	c.moveOwners(src, dst)
	c.dirty = true
	return 0
}

func (c *cmd) rm() int {
	o, rest, bad := parseOpts(c.args, "frRvid", "", map[string]bool{"force": false, "recursive": false})
	if bad != "" {
		return c.badOption(bad)
	}
	force := o.has("f", "force")
	if len(rest) == 0 && !force {
		c.errf("rm: missing operand\nTry 'rm --help' for more information.")
		return 1
	}
	code := 0
	for _, f := range rest {
		real := c.real(f)
		fi, err := os.Lstat(real)
		if err != nil {
			if !force {
				c.errf("rm: cannot remove '%s': %s", f, errText(err))
				code = 1
			}
			continue
		}
		vp := c.vpath(f)
		if vp == "/" {
			c.errf("rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe")
			code = 1
			continue
		}
		if fi.IsDir() {
			if !o.has("r", "R", "recursive") {
				c.errf("rm: cannot remove '%s': Is a directory", f)
				code = 1
				continue
			}
			err = os.RemoveAll(real)
		} else {
			err = os.Remove(real)
		}
		if err != nil {
			c.errf("rm: cannot remove '%s': %s", f, errText(err))
			code = 1
			continue
		}
		for p := range c.n.Owners {
			if p == vp || strings.HasPrefix(p, vp+"/") {
				delete(c.n.Owners, p)
			}
		}
		c.dirty = true
	}
	return code
}

// writeFile writes a node file as a program would (mode 0644 when new).
func (c *cmd) writeFile(p string, data []byte, appendTo bool) error {
	flag := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flag = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(c.real(p), flag, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	c.dirty = true
	return f.Close()
}

func (c *cmd) tee() int {
	o, files, bad := parseOpts(c.args, "aip", "", map[string]bool{"append": false, "ignore-interrupts": false})
	if bad != "" {
		return c.badOption(bad)
	}
	code := 0
	for _, f := range files {
		if err := c.writeFile(f, c.stdin, o.has("a", "append")); err != nil {
			c.errf("tee: %s: %s", f, errText(err))
			code = 1
		}
	}
	c.stdout.Write(c.stdin)
	return code
}

func (c *cmd) dd() int {
	var in, out string
	status := ""
	for _, a := range c.args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			c.errf("dd: unrecognized operand '%s'\nTry 'dd --help' for more information.", a)
			return 1
		}
		switch k {
		case "if":
			in = v
		case "of":
			out = v
		case "status":
			status = v
		case "bs", "ibs", "obs", "conv", "iflag", "oflag", "count":
		default:
			c.errf("dd: unrecognized operand '%s'\nTry 'dd --help' for more information.", a)
			return 1
		}
	}
	data := c.stdin
	if in != "" && in != "/dev/stdin" {
		var err error
		if data, err = os.ReadFile(c.real(in)); err != nil {
			c.errf("dd: failed to open '%s': %s", in, errText(err))
			return 1
		}
	}
	if out == "" || out == "/dev/stdout" {
		c.stdout.Write(data)
	} else if err := c.writeFile(out, data, false); err != nil {
		c.errf("dd: failed to open '%s': %s", out, errText(err))
		return 1
	}
	if status != "none" {
		c.errf("%d+%d records in\n%d+%d records out\n%d bytes copied, 0.000123 s, 0 B/s",
			len(data)/512, min(1, len(data)%512), len(data)/512, min(1, len(data)%512), len(data))
	}
	return 0
}

func (c *cmd) cp() int {
	o, rest, bad := parseOpts(c.args, "fpaT", "", map[string]bool{"preserve": true, "no-target-directory": false})
	if bad != "" {
		return c.badOption(bad)
	}
	if len(rest) != 2 {
		c.errf("cp: missing destination file operand\nTry 'cp --help' for more information.")
		return 1
	}
	var data []byte
	mode := fs.FileMode(0o644)
	if rest[0] == "/dev/stdin" || rest[0] == "-" {
		data = c.stdin
	} else {
		fi, err := os.Stat(c.real(rest[0]))
		if err != nil {
			c.errf("cp: cannot stat '%s': %s", rest[0], errText(err))
			return 1
		}
		if fi.IsDir() {
			c.errf("cp: -r not specified; omitting directory '%s'", rest[0])
			return 1
		}
		data, _ = os.ReadFile(c.real(rest[0]))
		mode = fi.Mode().Perm()
	}
	dst := rest[1]
	if fi, err := os.Stat(c.real(dst)); err == nil && fi.IsDir() && !o.has("T") {
		dst = path.Join(c.vpath(dst), path.Base(rest[0]))
	}
	_, existed := os.Stat(c.real(dst))
	if err := c.writeFile(dst, data, false); err != nil {
		c.errf("cp: cannot create regular file '%s': %s", rest[1], errText(err))
		return 1
	}
	if existed != nil || o.has("p", "a") {
		_ = os.Chmod(c.real(dst), mode)
	}
	return 0
}

func (c *cmd) mkdir() int {
	o, rest, bad := parseOpts(c.args, "pv", "m", map[string]bool{"parents": false, "mode": true})
	if bad != "" {
		return c.badOption(bad)
	}
	code := 0
	for _, d := range rest {
		var err error
		if o.has("p", "parents") {
			err = os.MkdirAll(c.real(d), 0o755)
		} else {
			err = os.Mkdir(c.real(d), 0o755)
		}
		if err != nil {
			c.errf("mkdir: cannot create directory '%s': %s", d, errText(err))
			code = 1
		}
		c.dirty = true
	}
	return code
}

func (c *cmd) touch() int {
	_, rest, bad := parseOpts(c.args, "acm", "", map[string]bool{})
	if bad != "" {
		return c.badOption(bad)
	}
	now := time.Now()
	for _, f := range rest {
		real := c.real(f)
		if _, err := os.Stat(real); err != nil {
			if err := os.WriteFile(real, nil, 0o644); err != nil {
				c.errf("touch: cannot touch '%s': %s", f, errText(err))
				return 1
			}
		}
		_ = os.Chtimes(real, now, now)
		c.dirty = true
	}
	return 0
}
