package local

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// groupGuard kills the process groups of the commands still running when
// rokflow dies, however it dies. A SIGKILLed rokflow runs no code of its
// own, and the parent-death signal (Linux) reaches only the command's own
// process, not the helpers it started; those would run on, and a resumed
// run would start the step again beside them. So a small watcher process,
// started once, reads the groups to guard from a pipe whose only writer is
// rokflow: the kernel closes it when rokflow dies, the watcher reads the
// end of the pipe and kills every group still registered.
//
// A group is registered once its command has started and is taken off once
// the command was waited for, so what a finished command left behind on
// purpose (a daemon that stayed in its group) is not killed later. The
// watcher is in a process group of its own, so that a terminal's Ctrl-C
// (which rokflow handles in two stages) does not end it.
type groupGuard struct {
	once sync.Once
	mu   sync.Mutex
	w    *os.File // nil: no watcher (it could not start, or it died)
}

// guard is this process's watcher: there is one, since what it watches is
// the death of this process.
var guard groupGuard

// guardScript is the watcher. It takes no input but lines "+ PGID" and
// "- PGID" that rokflow writes, and its groups are a space-separated set.
const guardScript = `trap '' HUP INT
groups=' '
while read -r op pgid; do
	case $op in
	+) groups="$groups$pgid " ;;
	-) case $groups in *" $pgid "*) groups="${groups%% $pgid *} ${groups#* $pgid }" ;; esac ;;
	esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done`

func (g *groupGuard) start() {
	r, w, err := os.Pipe() // close-on-exec: commands do not inherit the writer
	if err != nil {
		return
	}
	defer r.Close()
	c := exec.Command("/bin/sh", "-c", guardScript, "rokflow-group-guard")
	c.Stdin = r
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		w.Close()
		return
	}
	// The watcher lives as long as this process; reaping it is not needed
	// before then, but Release frees what the os package holds.
	c.Process.Release()
	g.w = w
}

// add registers the process group pgid.
func (g *groupGuard) add(pgid int) { g.send('+', pgid) }

// remove takes the process group pgid off.
func (g *groupGuard) remove(pgid int) { g.send('-', pgid) }

func (g *groupGuard) send(op byte, pgid int) {
	g.once.Do(g.start)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w == nil {
		return
	}
	if _, err := fmt.Fprintf(g.w, "%c %d\n", op, pgid); err != nil {
		// The watcher is gone; the parent-death signal still covers
		// each command's own process.
		g.w.Close()
		g.w = nil
	}
}
