package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/waitfor"
	"github.com/rokflow/rokflow/steps"
)

// parentEnv makes the test binary act as a rokflow running one command;
// see TestParentProcess.
const parentEnv = "ROKFLOW_TEST_PARENT_PROCESS"

// TestParentProcess is not a test: run by TestKilledParentLeavesNoCommands
// as a separate process, it runs a command that starts helpers and prints
// their pids, the shell's last, then waits to be killed.
func TestParentProcess(t *testing.T) {
	if os.Getenv(parentEnv) == "" {
		t.Skip("runs only as the helper process of TestKilledParentLeavesNoCommands")
	}
	cmd := steps.Command{
		Argv: []string{"sh", "-c", "sleep 300 & echo $!; sleep 300 >/dev/null 2>&1 & echo $!; echo $$; wait"},
		Output: func(stream, line string) {
			if stream == "stdout" {
				fmt.Println(line)
			}
		},
	}
	New().Exec(context.Background(), cmd)
	os.Exit(1) // not reached: the test kills this process first
}

// TestKilledParentLeavesNoCommands SIGKILLs a process running a command
// (as an operator's kill -9 or the OOM killer would end rokflow) and
// checks, by pid, that the command and the helpers it started are gone
// too: a resumed run would otherwise start the step again beside them.
func TestKilledParentLeavesNoCommands(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^TestParentProcess$", "-test.v")
	parent.Env = append(os.Environ(), parentEnv+"=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer parent.Process.Kill() // in case the test fails before its kill
	var pids []int
	sc := bufio.NewScanner(out)
	for len(pids) < 3 && sc.Scan() {
		if n, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil {
			pids = append(pids, n)
		}
	}
	if len(pids) < 3 {
		t.Fatalf("the helper process printed pids %v, want 3 (scan: %v)", pids, sc.Err())
	}
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("process %d is not running before the kill", pid)
		}
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	parent.Wait()
	defer func() {
		if t.Failed() {
			syscall.Kill(-pids[2], syscall.SIGKILL) // the shell's group: leave nothing behind
		}
	}()
	waitfor.Condition(t, 10*time.Second, fmt.Sprintf("processes %v to end after their rokflow was killed", pids), func() bool {
		return !slices.ContainsFunc(pids, alive)
	})
}

// alive reports whether pid runs; a zombie (dead, not yet reaped by
// whichever process inherited it) does not.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// TestExecCancelKillsDetachedHelpers cancels a command whose helpers hold
// none of its output pipes, so that Exec's return proves nothing about
// them, and checks by pid that they were killed with the command's group.
func TestExecCancelKillsDetachedHelpers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pids []int
	cmd := steps.Command{
		Argv: []string{"sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!; (sleep 300 >/dev/null 2>&1 &) ; echo $$; wait"},
		Output: func(stream, line string) {
			if n, err := strconv.Atoi(line); err == nil && stream == "stdout" {
				pids = append(pids, n)
				if len(pids) == 2 {
					cancel()
				}
			}
		},
	}
	_, err := New().Exec(ctx, cmd)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(pids) != 2 {
		t.Fatalf("pids %v, want the helper's and the shell's", pids)
	}
	group := pids[1]
	defer syscall.Kill(-group, syscall.SIGKILL) // leave nothing behind should the test fail
	waitfor.Condition(t, 10*time.Second, fmt.Sprintf("processes %v to end after their command was cancelled", pids), func() bool {
		return !slices.ContainsFunc(pids, alive)
	})
	// The group was killed as one; a member the kernel has not finished
	// tearing down may still show for a moment.
	waitfor.Condition(t, 10*time.Second, fmt.Sprintf("the command's group %d to end after it was cancelled", group), func() bool {
		return len(groupMembers(t, group)) == 0
	})
}

// groupMembers returns the live processes in process group pgid.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}
