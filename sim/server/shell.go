package server

import (
	"errors"

	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// shScript is a fixed script `sh -c` may run, implemented in Go: the
// simulator never interprets shell code.
type shScript struct {
	run        func(c *cmd, args []string) int
	readsStdin bool
}

// fixedScripts maps the exact script texts to their implementations.
var fixedScripts = map[string]shScript{
	tsReadScript:   {run: (*cmd).readScript},
	tsWriteScript:  {run: (*cmd).writeScript, readsStdin: true},
	tsExistsScript: {run: (*cmd).existsScript},
	tsListScript:   {run: (*cmd).listScript},
	tsKillScript:   {run: (*cmd).killScript},
}

func shReadsStdin(args []string) bool {
	if len(args) >= 2 && args[0] == "-c" {
		return fixedScripts[args[1]].readsStdin
	}
	return false
}

// sh runs `sh -c SCRIPT [NAME [ARG...]]` for the fixed scripts only.
func (c *cmd) sh() int {
	if len(c.args) < 2 || c.args[0] != "-c" {
		c.errf("rok-sim: sh: only `sh -c SCRIPT NAME ARG...` with one of the fixed scripts of rokflow's SSH transport runs here; refusing an interactive or script-file shell")
		return 127
	}
	script, ok := fixedScripts[c.args[1]]
	if !ok {
		c.errf("rok-sim: sh: refusing to run a script that is not one of the fixed scripts of rokflow's SSH transport: %s", oneLine(c.args[1]))
		return 127
	}
	var args []string
	if len(c.args) > 3 {
		args = c.args[3:] // $1... after $0
	}
	return script.run(c, args)
}

// notFoundStatus is what the transport's scripts exit with for a missing
// path (EX_NOINPUT).
const notFoundStatus = 66

// chk is the scripts' chk function: it stats p, following links; a missing
// path exits 66, another failure prints stat's message and exits 1.
func (c *cmd) chk(p string) (fs.FileInfo, int) {
	fi, err := os.Stat(c.real(p))
	switch {
	case err == nil:
		return fi, 0
	case errors.Is(err, fs.ErrNotExist):
		return nil, notFoundStatus
	}
	c.errf("stat: cannot statx '%s': %s", p, errText(err))
	return nil, 1
}

// readScript prints the octal mode of $1 on a line, then its contents.
func (c *cmd) readScript(args []string) int {
	if len(args) < 1 {
		return notFoundStatus
	}
	fi, code := c.chk(args[0])
	if code != 0 {
		return code
	}
	c.outf("%o\n", rawMode(fi)&0o7777)
	data, err := os.ReadFile(c.real(args[0]))
	if err != nil {
		if fi.IsDir() {
			c.errf("cat: %s: Is a directory", args[0])
		} else {
			c.errf("cat: %s: %s", args[0], errText(err))
		}
		return 1
	}
	c.stdout.Write(data)
	return 0
}

// writeScript replaces $1 with standard input atomically: a temporary
// file beside it, the old file's owner and mode (or mode $2 for a new
// file), then a rename.
func (c *cmd) writeScript(args []string) int {
	if len(args) < 2 {
		c.errf("chmod: missing operand")
		return 1
	}
	p := args[0]
	d := "."
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		d = p[:i]
		if d == "" {
			d = "/"
		}
	}
	base := path.Base(p)
	if _, code := c.chk(d); code != 0 {
		return code
	}
	old, err := os.Stat(c.real(p))
	exists := err == nil
	if exists && !old.Mode().IsRegular() {
		c.errf("%s: not a regular file", p)
		return 1
	}
	f, err := os.CreateTemp(c.real(d), "."+base+".rokflow-tmp-*")
	if err != nil {
		c.errf("mktemp: failed to create file via template '%s/.%s.rokflow-tmp-XXXXXXXX': %s", d, base, errText(err))
		return 1
	}
	tmp := f.Name()
	fail := func() int {
		f.Close()
		os.Remove(tmp)
		return 1
	}
	if _, err := f.Write(c.stdin); err != nil {
		c.errf("sh: 1: cannot create %s: %s", tmp, errText(err))
		return fail()
	}
	if len(args) >= 3 {
		// The size the transport sent: a connection that dropped while
		// sending ends the input early.
		if want, err := strconv.Atoi(args[2]); err != nil || want != len(c.stdin) {
			c.errf("%s: %d of %s bytes arrived; the file is left as it was", p, len(c.stdin), args[2])
			return fail()
		}
	}
	var mode fs.FileMode
	if exists {
		mode = old.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	} else {
		m, ok := parseMode(args[1], 0, false)
		if !ok {
			c.errf("chmod: invalid mode: '%s'\nTry 'chmod --help' for more information.", args[1])
			return fail()
		}
		mode = m
	}
	if err := f.Chmod(mode); err != nil {
		c.errf("chmod: changing permissions of '%s': %s", tmp, errText(err))
		return fail()
	}
	if err := f.Sync(); err != nil {
		return fail()
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return 1
	}
	if err := os.Rename(tmp, c.real(p)); err != nil {
		os.Remove(tmp)
		c.errf("mv: cannot move '%s' to '%s': %s", tmp, p, errText(err))
		return 1
	}
	c.dirty = true
	c.st.event(c.n.Name, "file %s written (%d bytes)", c.vpath(p), len(c.stdin))
	return 0
}

// existsScript succeeds when $1 exists.
func (c *cmd) existsScript(args []string) int {
	if len(args) < 1 {
		return 1
	}
	if _, err := os.Lstat(c.real(args[0])); err != nil {
		return 1
	}
	return 0
}

// listScript prints the names in each directory given, each followed by
// NUL, and "/" NUL after each directory.
func (c *cmd) listScript(args []string) int {
	for _, d := range args {
		entries, err := os.ReadDir(c.real(d))
		if err == nil {
			names := make([]string, 0, len(entries))
			for _, e := range entries {
				names = append(names, e.Name())
			}
			sort.Strings(names)
			for _, n := range names {
				c.stdout.WriteString(n + "\x00")
			}
		}
		c.stdout.WriteString("/\x00")
	}
	return 0
}

// killScript kills the process group -$1: a command of this simulator.
func (c *cmd) killScript(args []string) int {
	if len(args) != 1 {
		c.errf("sh: 1: kill: Usage: kill [-s sigspec | -signum | -sigspec] [pid | job]...")
		return 2
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 0 {
		c.errf("sh: 1: kill: Illegal number: -%s", args[0])
		return 2
	}
	if !c.s.killPID(pid) {
		c.errf("sh: 1: kill: No such process")
		return 1
	}
	return 0
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
