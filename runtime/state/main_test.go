package state

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a lock holder in a process of its own: with
// ROKFLOW_STATE_CHILD set it takes the lock of ROKFLOW_STATE_URL, says
// "locked" on stdout and waits until it is killed.
func TestMain(m *testing.M) {
	if os.Getenv("ROKFLOW_STATE_CHILD") != "" {
		os.Exit(holdLock())
	}
	code := m.Run()
	stopSharedEtcd()
	os.Exit(code)
}

func holdLock() int {
	ctx := context.Background()
	var opts Options
	if d, err := time.ParseDuration(os.Getenv("ROKFLOW_STATE_TTL")); err == nil {
		opts.testTTL = d
	}
	b, err := Open(ctx, os.Getenv("ROKFLOW_STATE_URL"), opts)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	host, _ := os.Hostname()
	s, err := b.Lock(ctx, Holder{User: "child", Host: host, PID: os.Getpid(), Operation: "hold"})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if err := s.Append(ctx, Record{Kind: KindRun, Run: "child"}); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin) // until killed
	return 0
}

// holder is a child process that holds a lock.
type holder struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
}

// startHolder starts a child that takes the lock of url, and returns once
// it holds it. The child is killed when the test ends.
func startHolder(t *testing.T, url string, ttl time.Duration) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ROKFLOW_STATE_CHILD=1", "ROKFLOW_STATE_URL="+url, "ROKFLOW_STATE_TTL="+ttl.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(h.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-h.exited
	})
	select {
	case line := <-lines:
		if line != "locked" {
			t.Fatalf("lock holder %d: %q", cmd.Process.Pid, line)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("lock holder %d said nothing in 30 s", cmd.Process.Pid)
	}
	return h
}

// kill sends SIGKILL to the holder by its pid and waits until it is reaped,
// when the kernel has closed its files.
func (h *holder) kill(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(h.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-h.exited
}

func (h *holder) pid() int { return h.cmd.Process.Pid }
