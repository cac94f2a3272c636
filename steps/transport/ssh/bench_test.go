package ssh

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rokflow/rokflow/steps"
)

// BenchmarkSSHTrue runs 1,000 sequential `true` commands through the Pool
// and the same 1,000 through OpenSSH's ssh client multiplexed over a
// ControlMaster connection, in turns, against the same sshd in the same run. ns/op
// and rokflow-ns/cmd are the Pool's time per command, openssh-ns/cmd
// OpenSSH's, and rokflow/openssh their ratio (the bar is ≤ 1).
func BenchmarkSSHTrue(b *testing.B) {
	if _, err := exec.LookPath("ssh"); err != nil {
		b.Skip("the OpenSSH client (ssh) is not installed")
	}
	const commands = 1000
	s := startSSHD(b, serverOpts{})
	_, h := s.host(b, s.config())
	ctx := context.Background()
	cmd := steps.Command{Argv: []string{"true"}}

	control := filepath.Join(s.dir, "cm")
	args := []string{
		"-F", "/dev/null", "-T",
		"-i", s.clientKey, "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + s.knownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "ControlMaster=auto", "-o", "ControlPath=" + control, "-o", "ControlPersist=60",
		"-p", strconv.Itoa(s.port), "-l", s.user, "127.0.0.1",
	}
	openssh := func(command string) error {
		return exec.Command("ssh", append(args, command)...).Run()
	}
	// The first call starts the master connection.
	if err := openssh("true"); err != nil {
		b.Fatalf("ssh: %v\n%s", err, s.log.String())
	}
	b.Cleanup(func() {
		exec.Command("ssh", append([]string{"-O", "exit"}, args...)...).Run()
	})
	if res, err := h.Exec(ctx, cmd); err != nil || res.ExitStatus != 0 {
		b.Fatalf("rokflow: %v %d", err, res.ExitStatus)
	}

	// The two run in turns, command by command, so that a change in the
	// machine's load weighs on both alike.
	var rokflow, ssh time.Duration
	loops := 0
	for b.Loop() {
		loops++
		for range commands {
			start := time.Now()
			res, err := h.Exec(ctx, cmd)
			if err != nil || res.ExitStatus != 0 {
				b.Fatalf("rokflow: %v, exit status %d", err, res.ExitStatus)
			}
			rokflow += time.Since(start)

			start = time.Now()
			if err := openssh("true"); err != nil {
				b.Fatalf("ssh: %v", err)
			}
			ssh += time.Since(start)
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(loops*commands) }
	b.ReportMetric(per(rokflow), "ns/op")
	b.ReportMetric(per(rokflow), "rokflow-ns/cmd")
	b.ReportMetric(per(ssh), "openssh-ns/cmd")
	b.ReportMetric(per(rokflow)/per(ssh), "rokflow/openssh")
}
