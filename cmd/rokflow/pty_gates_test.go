package main

import (
	"bytes"
	"fmt"
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

// ptyApply is an apply running on a terminal of its own: its prompt is
// real, and Ctrl-C typed on it interrupts it as on a console.
type ptyApply struct {
	tty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan int
	// read is closed once the terminal's output is all read: the process
	// ended and closed its side.
	read chan struct{}
}

func startPTYApply(t *testing.T, args ...string) *ptyApply {
	t.Helper()
	p := &ptyApply{cmd: rokflowCmd(append([]string{"apply"}, args...)...), done: make(chan int, 1), read: make(chan struct{})}
	tty, err := pty.StartWithSize(p.cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	p.tty = tty
	go func() {
		defer close(p.read)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				break
			}
		}
	}()
	go func() { p.done <- exitCode(p.cmd.Wait()) }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill() // the process this test started
		}
		tty.Close()
	})
	return p
}

func (p *ptyApply) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// expect waits until the terminal shows s.
func (p *ptyApply) expect(t *testing.T, s string) {
	t.Helper()
	shown := false
	defer func() {
		if !shown { // timed out: say what it shows instead
			t.Logf("the terminal shows:\n%s", p.text())
		}
	}()
	waitfor.Condition(t, 20*time.Second, fmt.Sprintf("the terminal to show %q", s), func() bool {
		shown = strings.Contains(p.text(), s)
		return shown
	})
}

func (p *ptyApply) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-p.done:
		select {
		case <-p.read:
		case <-time.After(5 * time.Second):
		}
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("apply did not end:\n%s", p.text())
		return -1
	}
}

// TestGatePromptOnTerminal: at the prompt y approves, n declines and
// fails the run, Ctrl-C leaves the gate waiting and stops the run, and an
// approve from another terminal ends the question.
func TestGatePromptOnTerminal(t *testing.T) {
	cases := map[string]struct {
		answer func(t *testing.T, p *ptyApply, dir string)
		code   []int
		want   []string
		never  string
		status string // of step.gate in state show
	}{
		"yes": {
			answer: func(t *testing.T, p *ptyApply, _ string) { p.tty.WriteString("y\n") },
			code:   []int{0},
			want:   []string{"approved by", "(at the prompt)", "the run continues"},
			never:  "declined",
			status: "succeeded",
		},
		"no": {
			answer: func(t *testing.T, p *ptyApply, _ string) { p.tty.WriteString("no\n") },
			code:   []int{1},
			want:   []string{"the run fails", "Gate declined"},
			status: "failed",
		},
		"ctrl-c": {
			answer: func(t *testing.T, p *ptyApply, _ string) { p.tty.WriteString("\x03") },
			code:   []int{1, 130},
			want:   []string{"the gate still waits"},
			never:  "declined",
			status: "waiting",
		},
		"approved elsewhere": {
			answer: func(t *testing.T, p *ptyApply, dir string) {
				if code, out, stderr := run(t, nil, "approve", dir, "step.gate"); code != 0 {
					t.Errorf("approve: exit %d\n%s%s", code, out, stderr)
				}
			},
			code:   []int{0},
			want:   []string{"(rokflow approve)", "the run continues"},
			never:  "declined",
			status: "succeeded",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := writePlaybook(t, strings.Replace(gateWaitPlaybook, "%s", "", 1))
			p := startPTYApply(t, dir, "--yes")
			p.expect(t, "Done? [y/n]: ")
			tc.answer(t, p, dir)
			code := p.exit(t)
			out := p.text()
			okCode := false
			for _, c := range tc.code {
				okCode = okCode || c == code
			}
			if !okCode {
				t.Errorf("exit %d, want one of %v:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the terminal does not show %q:\n%s", w, out)
				}
			}
			if tc.never != "" && strings.Contains(out, tc.never) {
				t.Errorf("the terminal shows %q:\n%s", tc.never, out)
			}
			if got := shownSteps(t, dir)["step.gate"]; got != tc.status {
				t.Errorf("state show: step.gate is %q, want %q", got, tc.status)
			}
		})
	}
}

// TestStrayAnswerDoesNotApprove: a y typed while a step runs, before any
// gate asks, is not the answer to the gate that comes next — whether the
// terminal still holds it or the prompt's reader has already read it.
func TestStrayAnswerDoesNotApprove(t *testing.T) {
	for _, asked := range []bool{false, true} {
		name := "first question"
		if asked {
			name = "after the apply question"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			goOn := filepath.Join(dir, "go-on")
			src := fmt.Sprintf(`
step "before" {
  uses    = "exec"
  command = ["sh", "-c", "while [ ! -e \"$1\" ]; do sleep 0.02; done", "sh", %q]
}
step "gate" {
  uses         = "manual"
  instructions = "Swap the BOOT disk."
  depends_on   = [step.before]
}
`, goOn)
			pb := writePlaybook(t, src)
			args := []string{pb, "--yes"}
			if asked {
				args = []string{pb}
			}
			p := startPTYApply(t, args...)
			if asked {
				p.expect(t, "Apply these changes? [y/N]")
				p.tty.WriteString("y\n")
			}
			p.expect(t, "step.before")
			p.tty.WriteString("y\n")           // stray: nothing is asked
			time.Sleep(200 * time.Millisecond) // let the reader, if any, take it
			if err := os.WriteFile(goOn, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			p.expect(t, "Done? [y/n]: ")
			p.tty.WriteString("n\n")
			if code := p.exit(t); code != 1 {
				t.Errorf("exit %d, want 1 (declined):\n%s", code, p.text())
			}
			out := p.text()
			if strings.Contains(out, "approved by") || !strings.Contains(out, "Gate declined") {
				t.Errorf("the stray y approved the gate:\n%s", out)
			}
		})
	}
}
