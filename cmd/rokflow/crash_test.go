package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rokflow/rokflow/internal/etcdtest"
)

// childEnv makes the test binary act as rokflow itself, so crash tests can
// SIGKILL a real rokflow process.
const childEnv = "ROKFLOW_TEST_CHILD_MAIN"

func init() {
	if os.Getenv(childEnv) == "1" {
		tuneGC(os.Args[1:], os.Getenv)
		os.Exit(Main(os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ}))
	}
}

// rokflowCmd runs the test binary as rokflow with args.
func rokflowCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "NO_COLOR=1")
	return cmd
}

// writeCrashPlaybook writes n once-steps in a rolling group of n/10
// elements with 10 chained steps each; every step appends its own line to
// the ledger, so a step that ran twice shows as a duplicate line.
func writeCrashPlaybook(t *testing.T, dir string, elements int) string {
	ledger := filepath.Join(dir, "ledger")
	var b strings.Builder
	fmt.Fprintf(&b, "group \"g\" {\n  for_each = [%s]\n  rolling {\n    batch = 4\n  }\n", quotedRange(elements))
	for i := range 10 {
		fmt.Fprintf(&b, "  step \"s%d\" {\n    uses   = \"shell\"\n    once   = true\n    script = \"exec 9<%s.lock; flock -s 9; sleep 0.1; echo \\\"$1\\\" >> %s\"\n    args   = [\"${each.key}-s%d\"]\n", i, ledger, ledger, i)
		if i > 0 {
			fmt.Fprintf(&b, "    depends_on = [step.s%d]\n", i-1)
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ledger+".lock", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return ledger
}

func quotedRange(n int) string {
	parts := make([]string, n)
	for i := range n {
		parts[i] = fmt.Sprintf("%q", fmt.Sprintf("e%02d", i))
	}
	return strings.Join(parts, ", ")
}

// crashTorture kills rokflow apply at random instants, resumes each time
// (resolving in-doubt steps as an operator would, by looking at the
// ledger), and checks that every side effect happened exactly once.
func crashTorture(t *testing.T, stateArgs []string, afterKill func()) {
	dir := t.TempDir()
	const elements = 20 // 200 step instances
	ledger := writeCrashPlaybook(t, dir, elements)
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	kills, finished := 0, false
	for round := 0; round < 400 && !finished; round++ {
		cmd := rokflowCmd(append([]string{"apply", dir, "--parallelism", "4"}, stateArgs...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		if kills < 50 {
			select {
			case err = <-done:
			case <-time.After(time.Duration(rng.IntN(250)) * time.Millisecond):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-done
				kills++
				if afterKill != nil {
					afterKill()
				}
				resolveInDoubt(t, dir, ledger, stateArgs)
				continue
			}
		} else {
			err = <-done
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		switch code {
		case 0:
			finished = true
		case 3:
			resolveInDoubt(t, dir, ledger, stateArgs)
		default:
			t.Fatalf("apply exited %d:\n%s", code, out.String())
		}
	}
	if !finished {
		t.Fatal("the run never finished")
	}
	if kills < 50 {
		t.Logf("the run finished after %d kills; fewer instants than hoped, the playbook ran fast", kills)
	}
	b, err := os.ReadFile(ledger)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range strings.Fields(string(b)) {
		seen[l]++
	}
	for e := range elements {
		for s := range 10 {
			key := fmt.Sprintf("e%02d-s%d", e, s)
			if seen[key] != 1 {
				t.Errorf("%s happened %d times", key, seen[key])
			}
		}
	}
	t.Logf("%d kills, %d ledger lines", kills, len(seen))
}

// resolveInDoubt does what an operator does with steps in doubt: look at
// the target (here the ledger) and say whether each one acted.
func resolveInDoubt(t *testing.T, dir, ledger string, stateArgs []string) {
	out, err := rokflowCmd(append([]string{"state", "show", dir, "--json"}, stateArgs...)...).Output()
	if err != nil {
		return // no run yet
	}
	// A killed rokflow leaves its step's command running; wait for every
	// such command to finish (each holds the ledger lock shared) before
	// looking, as an operator checks a node is quiet.
	waitQuiet(t, ledger+".lock")
	b, _ := os.ReadFile(ledger)
	var doc struct {
		Steps []struct {
			Address, Status string
		}
	}
	if err := jsonUnmarshal(out, &doc); err != nil {
		t.Fatalf("state show --json: %v\n%s", err, out)
	}
	for _, s := range doc.Steps {
		if s.Status != "in_doubt" && s.Status != "running" {
			continue
		}
		// group.g["e03"].step.s4 wrote the line e03-s4.
		key := strings.TrimPrefix(s.Address, `group.g["`)
		key = strings.Replace(key, `"].step.`, "-", 1)
		how := "--retry"
		if bytes.Contains(b, []byte(key+"\n")) {
			how = "--done"
		}
		if s.Status == "running" {
			// Not yet marked in doubt: the next apply will.
			continue
		}
		if out, err := rokflowCmd(append([]string{"resolve", dir, s.Address, how}, stateArgs...)...).CombinedOutput(); err != nil {
			t.Fatalf("resolve %s %s: %v\n%s", s.Address, how, err, out)
		}
	}
}

func TestCrashTortureFile(t *testing.T) {
	if testing.Short() {
		t.Skip("crash torture takes a while")
	}
	crashTorture(t, nil, nil)
}

func TestCrashTortureEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("crash torture takes a while")
	}
	srv := etcdtest.Start(t)
	args := []string{"--state", "etcd://" + srv.Endpoint + "/rokflow/crash"}
	crashTorture(t, args, func() {
		// The killed holder's lease lives on until its TTL; an operator who
		// knows it is dead breaks the lock.
		out, err := rokflowCmd(append([]string{"unlock", ".", "--force"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("unlock: %v\n%s", err, out)
		}
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func waitQuiet(t *testing.T, lock string) {
	f, err := os.Open(lock)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
