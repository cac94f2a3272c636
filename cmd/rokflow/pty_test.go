package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/rokflow/rokflow/internal/waitfor"
)

// terminal is rokflow running on a pseudo-terminal, and what it has
// written to the screen so far.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startOnTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	cmd := rokflowCmd(args...)
	cmd.Env = append(cmd.Env, "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 120, Rows: 40})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	term := &terminal{t: t, cmd: cmd, tty: tty, done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { term.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = tty.Close()
	})
	return term
}

func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the screen shows want after from bytes, and
// returns where it ends.
func (term *terminal) waitFor(from int, want string) int {
	term.t.Helper()
	end := -1
	defer func() {
		if end < 0 { // timed out: say what it shows instead
			term.t.Logf("the terminal shows:\n%s", term.screen())
		}
	}()
	waitfor.Condition(term.t, 30*time.Second, fmt.Sprintf("the terminal to show %q", want), func() bool {
		s := term.screen()
		if i := strings.Index(s[min(from, len(s)):], want); i >= 0 {
			end = from + i + len(want)
		}
		return end >= 0
	})
	return end
}

func (term *terminal) send(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.tty, s); err != nil {
		term.t.Fatal(err)
	}
}

func (term *terminal) exitCode() int {
	term.t.Helper()
	select {
	case err := <-term.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			term.t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		term.t.Fatalf("rokflow did not exit; the terminal shows:\n%s", term.screen())
		return -1
	}
}

// TestApplyOnTerminal runs apply on a pseudo-terminal as an operator
// would: it asks before the first change, draws the status area while a
// gate waits for its check, stops at the first Ctrl-C with the gate still
// waiting, exits 130, and, run again, resumes and ends with the recap.
func TestApplyOnTerminal(t *testing.T) {
	dir := t.TempDir()
	swapped := filepath.Join(dir, "swapped")
	src := `
step "prepare" {
  uses    = "exec"
  command = ["true"]
}
step "swap_disk" {
  uses         = "manual"
  depends_on   = [step.prepare]
  instructions = "Replace the BOOT disk of node1."
  check {
    command  = ["sh", "-c", "test -e \"$1\" || { echo not swapped yet; exit 1; }", "sh", "` + swapped + `"]
    interval = "100ms"
    timeout  = "1h"
  }
}
step "after" {
  uses       = "exec"
  command    = ["true"]
  depends_on = [step.swap_disk]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}

	term := startOnTerminal(t, "apply", dir)
	at := term.waitFor(0, "Apply these changes? [y/N]")
	if strings.Contains(term.screen(), "run ") {
		t.Fatalf("apply started before the answer:\n%s", term.screen())
	}
	term.send("y\n")
	at = term.waitFor(at, "⏸ gate step.swap_disk waits")
	at = term.waitFor(at, "Replace the BOOT disk of node1.")
	at = term.waitFor(at, "last check: not swapped yet")
	at = term.waitFor(at, "approve it from another terminal:")
	at = term.waitFor(at, "rokflow approve "+dir+" step.swap_disk")
	// The area is redrawn in place: erased before each new drawing.
	at = term.waitFor(at, "\x1b[J")
	// The first Ctrl-C ends the wait: a gate's check is not work to let
	// finish. The gate still waits, and the run resumes there.
	term.send("\x03")
	at = term.waitFor(at, "step.swap_disk interrupted: the gate still waits; the run stops")
	term.waitFor(at, "stopped by an interrupt; run apply again to resume")
	if code := term.exitCode(); code != exitInterrupted {
		t.Fatalf("apply interrupted exited %d:\n%s", code, term.screen())
	}

	if err := os.WriteFile(swapped, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Run again, it says what is done already and asks again.
	term = startOnTerminal(t, "apply", dir)
	at = term.waitFor(0, "Resumes run ")
	at = term.waitFor(at, "(it stopped): the step it finished does not run again.")
	at = term.waitFor(at, "Apply these changes? [y/N]")
	term.send("y\n")
	at = term.waitFor(at, "(resuming)")
	at = term.waitFor(at, "✓ step.after")
	term.waitFor(at, "Recap")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("apply resumed exited %d:\n%s", code, term.screen())
	}

	// A finished run is not asked about; --yes never asks.
	for _, args := range [][]string{{"apply", dir}, {"apply", "--yes", "--new-run", dir}} {
		term = startOnTerminal(t, args...)
		if code := term.exitCode(); code != 0 {
			t.Fatalf("%v exited %d:\n%s", args, code, term.screen())
		}
		if strings.Contains(term.screen(), "Apply these changes?") {
			t.Errorf("%v asked:\n%s", args, term.screen())
		}
	}
}

// TestApplyCtrlCTwice: at the first Ctrl-C a running step goes on and the
// terminal says what a second one does; the second cancels it, the step
// says cancelled, and apply exits 130.
func TestApplyCtrlCTwice(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	src := `
step "long" {
  uses   = "shell"
  script = "touch \"$1\"; exec sleep 300"
  args   = ["` + started + `"]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	term := startOnTerminal(t, "apply", dir, "--yes")
	at := term.waitFor(0, "… step.long on local")
	waitfor.Condition(t, 20*time.Second, "the step to start", func() bool {
		_, err := os.Stat(started)
		return err == nil
	})
	term.send("\x03")
	at = term.waitFor(at, "Press Ctrl-C again to cancel them.")
	term.send("\x03")
	term.waitFor(at, "step.long cancelled")
	if code := term.exitCode(); code != exitInterrupted {
		t.Fatalf("apply interrupted twice exited %d:\n%s", code, term.screen())
	}
}
