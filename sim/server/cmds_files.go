package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func fileBuiltins() map[string]builtin {
	stdinIfNoFiles := func(args []string) bool {
		_, rest, _ := parseOpts(args, "AbeEnstTuv", "", map[string]bool{})
		return len(rest) == 0 || containsDir(rest, "-")
	}
	always := func([]string) bool { return true }
	return map[string]builtin{
		"cat":      {run: (*cmd).cat, readsStdin: stdinIfNoFiles},
		"stat":     {run: (*cmd).stat},
		"mktemp":   {run: (*cmd).mktemp},
		"chmod":    {run: (*cmd).chmod},
		"chown":    {run: (*cmd).chown},
		"sync":     {run: func(*cmd) int { return 0 }},
		"mv":       {run: (*cmd).mv},
		"rm":       {run: (*cmd).rm},
		"tee":      {run: (*cmd).tee, readsStdin: always},
		"dd":       {run: (*cmd).dd, readsStdin: func(args []string) bool { return !strings.Contains(strings.Join(args, " "), "if=") }},
		"cp":       {run: (*cmd).cp, readsStdin: func(args []string) bool { return containsDir(args, "/dev/stdin") || containsDir(args, "-") }},
		"mkdir":    {run: (*cmd).mkdir},
		"touch":    {run: (*cmd).touch},
		"ls":       {run: (*cmd).ls},
		"readlink": {run: (*cmd).realpath},
		"realpath": {run: (*cmd).realpath},
		"test":     {run: (*cmd).test},
		"[":        {run: (*cmd).test},
		"sh":       {run: (*cmd).sh, readsStdin: shReadsStdin},
	}
}

func (c *cmd) cat() int {
	_, files, bad := parseOpts(c.args, "AbeEnstTuv", "", map[string]bool{})
	if bad != "" {
		return c.badOption(bad)
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	code := 0
	for _, f := range files {
		if f == "-" {
			c.stdout.Write(c.stdin)
			continue
		}
		data, err := os.ReadFile(c.real(f))
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) && errors.Is(pe.Err, syscall.EISDIR) {
				c.errf("cat: %s: Is a directory", f)
			} else {
				c.errf("cat: %s: %s", f, errText(err))
			}
			code = 1
			continue
		}
		c.stdout.Write(data)
	}
	return code
}

// owner returns a path's uid and gid as recorded by chown.
func (c *cmd) owner(vp string) (uid, gid int) {
	if o, ok := c.n.Owners[vp]; ok {
		u, g, _ := strings.Cut(o, ":")
		uid, _ = strconv.Atoi(u)
		gid, _ = strconv.Atoi(g)
	}
	return uid, gid
}

var userNames = map[int]string{0: "root", 1: "daemon", 999: "rok"}

func nameOf(id int) string {
	if n, ok := userNames[id]; ok {
		return n
	}
	return "UNKNOWN"
}

func idOf(name string) (int, bool) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, true
	}
	for id, n := range userNames {
		if n == name {
			return id, true
		}
	}
	return 0, false
}

// rawMode is a file's st_mode.
func rawMode(fi fs.FileInfo) uint32 {
	m := uint32(fi.Mode().Perm())
	if fi.Mode()&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if fi.Mode()&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	switch {
	case fi.IsDir():
		m |= 0o040000
	case fi.Mode()&fs.ModeSymlink != 0:
		m |= 0o120000
	default:
		m |= 0o100000
	}
	return m
}

func fileType(fi fs.FileInfo) string {
	switch {
	case fi.IsDir():
		return "directory"
	case fi.Mode()&fs.ModeSymlink != 0:
		return "symbolic link"
	case fi.Size() == 0:
		return "regular empty file"
	}
	return "regular file"
}

func symbolicMode(fi fs.FileInfo) string {
	m := rawMode(fi)
	b := []byte("----------")
	switch {
	case fi.IsDir():
		b[0] = 'd'
	case fi.Mode()&fs.ModeSymlink != 0:
		b[0] = 'l'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	if m&0o4000 != 0 {
		b[3] = map[bool]byte{true: 's', false: 'S'}[b[3] == 'x']
	}
	if m&0o2000 != 0 {
		b[6] = map[bool]byte{true: 's', false: 'S'}[b[6] == 'x']
	}
	if m&0o1000 != 0 {
		b[9] = map[bool]byte{true: 't', false: 'T'}[b[9] == 'x']
	}
	return string(b)
}

func (c *cmd) stat() int {
	o, files, bad := parseOpts(c.args, "Lft", "c", map[string]bool{"format": true, "printf": true, "dereference": false, "terse": false, "file-system": false})
	if bad != "" {
		return c.badOption(bad)
	}
	if len(files) == 0 {
		c.errf("stat: missing operand\nTry 'stat --help' for more information.")
		return 1
	}
	format, hasFormat := o.get("c", "format")
	printf, isPrintf := o["printf"]
	code := 0
	for _, f := range files {
		fi, err := os.Stat(c.real(f))
		if err != nil {
			c.errf("stat: cannot statx '%s': %s", f, errText(err))
			code = 1
			continue
		}
		switch {
		case isPrintf:
			c.stdout.WriteString(c.statFormat(unescape(printf), f, fi))
		case hasFormat:
			c.stdout.WriteString(c.statFormat(format, f, fi) + "\n")
		default:
			c.stdout.WriteString(c.statDefault(f, fi))
		}
	}
	return code
}

func (c *cmd) statFormat(format, name string, fi fs.FileInfo) string {
	uid, gid := c.owner(c.vpath(name))
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 'a':
			fmt.Fprintf(&b, "%o", rawMode(fi)&0o7777)
		case 'A':
			b.WriteString(symbolicMode(fi))
		case 'b':
			fmt.Fprint(&b, (fi.Size()+511)/512)
		case 'B':
			b.WriteString("512")
		case 'f':
			fmt.Fprintf(&b, "%x", rawMode(fi))
		case 'F':
			b.WriteString(fileType(fi))
		case 'g':
			fmt.Fprint(&b, gid)
		case 'G':
			b.WriteString(nameOf(gid))
		case 'h':
			b.WriteString("1")
		case 'i':
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				fmt.Fprint(&b, st.Ino)
			}
		case 'n':
			b.WriteString(name)
		case 'N':
			b.WriteString("'" + name + "'")
		case 'o':
			b.WriteString("4096")
		case 's':
			fmt.Fprint(&b, fi.Size())
		case 'u':
			fmt.Fprint(&b, uid)
		case 'U':
			b.WriteString(nameOf(uid))
		case 'X', 'Y', 'Z', 'W':
			fmt.Fprint(&b, fi.ModTime().Unix())
		case 'x', 'y', 'z', 'w':
			b.WriteString(fi.ModTime().Format("2006-01-02 15:04:05.000000000 -0700"))
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func (c *cmd) statDefault(name string, fi fs.FileInfo) string {
	uid, gid := c.owner(c.vpath(name))
	t := fi.ModTime().Format("2006-01-02 15:04:05.000000000 -0700")
	ino := uint64(0)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("  File: %s\n  Size: %-10d\tBlocks: %-10d IO Block: 4096   %s\nDevice: 0,0\tInode: %-11d Links: 1\n"+
		"Access: (%04o/%s)  Uid: (%5d/%8s)   Gid: (%5d/%8s)\nAccess: %s\nModify: %s\nChange: %s\n Birth: -\n",
		name, fi.Size(), (fi.Size()+511)/512, fileType(fi), ino, rawMode(fi)&0o7777, symbolicMode(fi),
		uid, nameOf(uid), gid, nameOf(gid), t, t, t)
}

func (c *cmd) ls() int {
	o, rest, bad := parseOpts(c.args, "1adlA", "", map[string]bool{})
	if bad != "" {
		return c.badOption(bad)
	}
	if len(rest) == 0 {
		rest = []string{"."}
	}
	code := 0
	for _, f := range rest {
		fi, err := os.Stat(c.real(f))
		if err != nil {
			c.errf("ls: cannot access '%s': %s", f, errText(err))
			code = 2
			continue
		}
		if !fi.IsDir() || o.has("d") {
			c.outf("%s\n", f)
			continue
		}
		entries, _ := os.ReadDir(c.real(f))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") && !o.has("a", "A") {
				continue
			}
			c.outf("%s\n", e.Name())
		}
	}
	return code
}

func (c *cmd) realpath() int {
	o, rest, bad := parseOpts(c.args, "femnqsvz", "", map[string]bool{"canonicalize": false, "canonicalize-existing": false})
	if bad != "" {
		return c.badOption(bad)
	}
	code := 0
	for _, f := range rest {
		vp := c.vpath(f)
		if _, err := os.Stat(c.real(vp)); err != nil && (o.has("e", "canonicalize-existing") || c.name == "realpath" && !o.has("m")) {
			if !o.has("q") {
				c.errf("%s: %s: %s", c.name, f, errText(err))
			}
			code = 1
			continue
		}
		c.outf("%s\n", vp)
	}
	return code
}

// test implements test(1) and [ for the usual file and string checks.
func (c *cmd) test() int {
	args := c.args
	if c.name == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			c.errf("[: missing ]")
			return 2
		}
		args = args[:len(args)-1]
	}
	neg := false
	if len(args) > 0 && args[0] == "!" {
		neg, args = true, args[1:]
	}
	ok, code := c.testExpr(args)
	if code != 0 {
		return code
	}
	if ok != neg {
		return 0
	}
	return 1
}

func (c *cmd) testExpr(args []string) (bool, int) {
	switch len(args) {
	case 0:
		return false, 0
	case 1:
		return args[0] != "", 0
	case 2:
		fi, err := os.Stat(c.real(args[1]))
		lfi, lerr := os.Lstat(c.real(args[1]))
		switch args[0] {
		case "-e", "-a":
			return err == nil, 0
		case "-f":
			return err == nil && fi.Mode().IsRegular(), 0
		case "-d":
			return err == nil && fi.IsDir(), 0
		case "-s":
			return err == nil && fi.Size() > 0, 0
		case "-r", "-w":
			return err == nil, 0
		case "-x":
			return err == nil && (fi.IsDir() || fi.Mode()&0o111 != 0), 0
		case "-L", "-h":
			return lerr == nil && lfi.Mode()&fs.ModeSymlink != 0, 0
		case "-n":
			return args[1] != "", 0
		case "-z":
			return args[1] == "", 0
		}
	case 3:
		switch args[1] {
		case "=", "==":
			return args[0] == args[2], 0
		case "!=":
			return args[0] != args[2], 0
		case "-eq", "-ne", "-lt", "-le", "-gt", "-ge":
			a, e1 := strconv.Atoi(args[0])
			b, e2 := strconv.Atoi(args[2])
			if e1 != nil || e2 != nil {
				c.errf("%s: Illegal number: %s", c.name, args[0])
				return false, 2
			}
			return map[string]bool{"-eq": a == b, "-ne": a != b, "-lt": a < b, "-le": a <= b, "-gt": a > b, "-ge": a >= b}[args[1]], 0
		}
	}
	c.errf("%s: %s: unexpected operator", c.name, strings.Join(args, " "))
	return false, 2
}

// unescape interprets printf-style backslash escapes.
func unescape(s string) string {
	r := strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`, `\0`, "\x00", `\r`, "\r", `\a`, "\a", `\"`, `"`)
	return r.Replace(s)
}
