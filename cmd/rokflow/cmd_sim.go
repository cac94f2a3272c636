package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rokflow/rokflow/internal/jsondoc"
	"github.com/rokflow/rokflow/sim"
)

// SimCmd runs a simulated Rok cluster on this machine: appliances (or
// Ganeti hosts with RokE appliances) reached over SSH on 127.0.0.1, a
// real etcd and a Ganeti RAPI, so that playbooks/rok-v0.11 can be planned
// and applied with nothing else set up.
type SimCmd struct {
	Start    SimStartCmd    `cmd:"" help:"Start a simulated Rok cluster in the background (or resume the one in --dir)."`
	Stop     SimStopCmd     `cmd:"" help:"Stop the simulator running in --dir."`
	Status   SimStatusCmd   `cmd:"" help:"Show the simulated cluster: members, versions, power, Ganeti, once-command counters."`
	Operator SimOperatorCmd `cmd:"" help:"Act as the field operator: swap a BOOT disk, power a node off or on, repair the cluster."`
	Fault    SimFaultCmd    `cmd:"" help:"Inject or heal faults: a failing upgrade-node, a slow host, a failing Ganeti job, a node that does not come back."`
	Serve    SimServeCmd    `cmd:"" hidden:"" help:"Run the simulator in this process until interrupted (what sim start runs)."`
}

// defaultSimDir is where the simulator keeps its cluster unless --dir says.
const defaultSimDir = ".rokflow/sim"

// SimDirFlag is the --dir flag every sim command takes.
type SimDirFlag struct {
	Dir string `help:"Directory holding the simulated cluster's state, keys and var-file." default:".rokflow/sim" type:"path"`
}

// SimSpecFlags describe the cluster sim start creates.
type SimSpecFlags struct {
	Platform      string        `help:"Where Rok runs: appliance (Rok appliances) or ganeti (RokE on Ganeti hosts)." enum:"appliance,ganeti" default:"appliance"`
	Nodes         int           `help:"Number of Rok appliances (platform appliance)." default:"3"`
	Hosts         int           `help:"Number of Ganeti hosts, each running one RokE appliance (platform ganeti)." default:"3"`
	Guests        int           `help:"Guest instances per Ganeti host (platform ganeti)." default:"2"`
	Cluster       string        `help:"The Rok cluster name (ROK_CLUSTERNAME); members are <hostname>.<cluster>." default:"sim"`
	Release       string        `help:"The Rok release every node runs at first (or its rok-base version)." default:"0.10.2"`
	UpgradeTo     []string      `help:"The releases the cluster can be upgraded to, in order (repeat the flag or separate with commas). Default: 0.11.0, or the next series' first release for a cluster starting at 0.11 or later." name:"upgrade-to" sep:"," placeholder:"RELEASE"`
	AutoOperator  bool          `help:"Demo mode: a simulated field operator swaps a BOOT disk when a gate waits for it." name:"auto-operator"`
	OperatorDelay time.Duration `help:"How long a node stays powered off during a BOOT disk swap." default:"2s" name:"operator-delay"`
	JobDelay      time.Duration `help:"How long each Ganeti opcode takes." default:"300ms" name:"job-delay"`
}

func (f SimSpecFlags) spec() sim.Spec {
	return sim.Spec{
		Platform: f.Platform, Nodes: f.Nodes, Hosts: f.Hosts, Guests: f.Guests, Cluster: f.Cluster,
		FromVersion: f.Release, Upgrades: f.UpgradeTo,
		AutoOperator: f.AutoOperator, OperatorDelay: sim.Duration(f.OperatorDelay), JobDelay: sim.Duration(f.JobDelay),
	}
}

// args renders the flags for the background process.
func (f SimSpecFlags) args() []string {
	args := []string{
		"--platform", f.Platform, "--nodes", strconv.Itoa(f.Nodes), "--hosts", strconv.Itoa(f.Hosts),
		"--guests", strconv.Itoa(f.Guests), "--cluster", f.Cluster, "--release", f.Release,
		"--operator-delay", f.OperatorDelay.String(), "--job-delay", f.JobDelay.String(),
	}
	if len(f.UpgradeTo) > 0 {
		args = append(args, "--upgrade-to", strings.Join(f.UpgradeTo, ","))
	}
	if f.AutoOperator {
		args = append(args, "--auto-operator")
	}
	return args
}

// SimStartCmd starts the simulator as a background process.
type SimStartCmd struct {
	SimDirFlag
	SimSpecFlags
	Foreground bool          `help:"Run in this process, logging events, until interrupted."`
	Reset      bool          `help:"Delete the cluster in --dir and create a new one."`
	Timeout    time.Duration `help:"How long to wait for the simulator to be ready." default:"90s"`
}

// Run starts the simulator and returns once it is ready.
func (c *SimStartCmd) Run(a *App) error {
	if cl, err := sim.Dial(c.Dir); err == nil {
		if _, err := cl.Status(a.Ctx); err == nil {
			if c.Reset {
				return usageError("a simulator is running in %s (pid %d); stop it first: rokflow sim stop --dir %s", c.Dir, cl.PID(), c.Dir)
			}
			fmt.Fprintf(a.Stdout, "A simulator is already running in %s (pid %d).\n", c.Dir, cl.PID())
			return c.printReady(a, cl.PID())
		}
	}
	_, err := os.Stat(filepath.Join(c.Dir, "state.json"))
	resume := err == nil && !c.Reset
	if !resume {
		if err := c.spec().Check(); err != nil {
			return usageError("%s", err)
		}
	}
	if c.Reset {
		if err := simResetDir(c.Dir); err != nil {
			return &exitError{code: exitFailed, msg: err.Error()}
		}
	} else if resume {
		fmt.Fprintf(a.Stderr, "rokflow: resuming the simulated cluster in %s as it was left (its creation flags are ignored; --reset starts afresh).\n", c.Dir)
	}
	if c.Foreground {
		return c.runForeground(a)
	}
	pid, err := c.startBackground(a)
	if err != nil {
		return err
	}
	return c.printReady(a, pid)
}

// startBackground runs rokflow-sim serve in a new session, its output in
// DIR/sim.log, and waits until its control API answers.
func (c *SimStartCmd) startBackground(a *App) (int, error) {
	cmd, err := sim.ServeCommand(c.Dir, c.spec())
	if err != nil {
		return 0, &exitError{code: exitFailed, msg: err.Error()}
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return 0, &exitError{code: exitFailed, msg: err.Error()}
	}
	logPath := filepath.Join(c.Dir, "sim.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, &exitError{code: exitFailed, msg: err.Error()}
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, &exitError{code: exitFailed, msg: fmt.Sprintf("cannot start the simulator: %s", err)}
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	switch err := sim.WaitReady(a.Ctx, c.Dir, pid, exited, c.Timeout); {
	case err == nil:
		_ = cmd.Process.Release()
		return pid, nil
	case errors.Is(err, sim.ErrNotReady):
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return 0, &exitError{code: exitFailed, msg: fmt.Sprintf("the simulator (pid %d) was not ready within %s and was stopped; the end of %s:\n%s", pid, c.Timeout, logPath, simTail(logPath, 15))}
	case a.Ctx.Err() != nil:
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return 0, &exitError{code: exitFailed, msg: "interrupted while the simulator was starting; it was stopped"}
	default:
		return 0, &exitError{code: exitFailed, msg: fmt.Sprintf("%s; the end of %s:\n%s", err, logPath, simTail(logPath, 15))}
	}
}

// runForeground runs rokflow-sim serve attached to this terminal, its log
// on stderr, until it is interrupted or stopped.
func (c *SimStartCmd) runForeground(a *App) error {
	cmd, err := sim.ServeCommand(c.Dir, c.spec())
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	cmd.Stdout, cmd.Stderr = a.Stderr, a.Stderr
	if err := cmd.Start(); err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot start the simulator: %s", err)}
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := sim.WaitReady(a.Ctx, c.Dir, pid, exited, c.Timeout); err != nil {
		var ended *sim.ExitError
		if !errors.As(err, &ended) {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-exited
		}
		return &exitError{code: exitFailed, msg: fmt.Sprintf("cannot start the simulator: %s", err)}
	}
	if err := c.printReady(a, pid); err != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		return err
	}
	fmt.Fprintln(a.Stdout, "Running in the foreground; Ctrl-C stops it (the cluster stays in --dir and resumes on the next start).")
	select {
	case <-a.Ctx.Done():
	case <-a.Stop:
	case err := <-exited:
		if err != nil {
			return &exitError{code: exitFailed, msg: fmt.Sprintf("the simulator: %s", err)}
		}
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("stopping the simulator: %s", err)}
	}
	return nil
}

// printReady says where the simulator is and what to run next.
func (c *SimStartCmd) printReady(a *App, pid int) error {
	st, err := simStatus(a.Ctx, c.Dir)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d Rok appliances", len(st.Nodes))
	if st.Platform == sim.PlatformGaneti {
		what = fmt.Sprintf("%d Ganeti hosts with RokE appliances, %d instances", len(st.Hosts), len(st.Instances))
	}
	rel := relPath(c.Dir)
	vars := filepath.Join(rel, sim.VarsFile)
	fmt.Fprintf(a.Stdout, "Simulated Rok cluster %q (%s, master %s) is running, pid %d, in %s\n", st.Cluster, what, st.Master, pid, c.Dir)
	fmt.Fprintf(a.Stdout, "  var-file: %s\n  secrets:  %s (set -a; . %s; set +a)\n  log:      %s\n\n",
		vars, filepath.Join(rel, sim.EnvFile), filepath.Join(rel, sim.EnvFile), filepath.Join(rel, "sim.log"))
	if st.Platform == sim.PlatformGaneti {
		fmt.Fprintf(a.Stdout, "Next, with the secrets loaded:\n")
	} else {
		fmt.Fprintf(a.Stdout, "Next:\n")
	}
	fmt.Fprintf(a.Stdout, "  rokflow plan playbooks/rok-v0.11 --var-file %s --discover\n", vars)
	fmt.Fprintf(a.Stdout, "  rokflow apply playbooks/rok-v0.11 --var-file %s\n", vars)
	if st.Platform == sim.PlatformGaneti {
		fmt.Fprintf(a.Stdout, "    (each host's confirm_return gate asks for an approval: answer it, or add --auto-approve)\n")
	}
	fmt.Fprintf(a.Stdout, "  rokflow sim status%s\n", simDirArg(c.Dir))
	if st.Platform == sim.PlatformAppliance && !st.AutoOperator {
		fmt.Fprintf(a.Stdout, "  rokflow sim operator swap NODE%s   (when a gate asks for a new BOOT disk)\n", simDirArg(c.Dir))
	}
	return nil
}

// SimServeCmd runs the simulator in the foreground; sim start runs it in
// the background. It is rokflow-sim serve, which it becomes.
type SimServeCmd struct {
	SimDirFlag
	SimSpecFlags
}

// Run replaces this process with rokflow-sim serve.
func (c *SimServeCmd) Run(a *App) error {
	cmd, err := sim.ServeCommand(c.Dir, c.spec())
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	fmt.Fprintf(a.Stderr, "rokflow %s: simulator starting in %s (pid %d)\n", Version, c.Dir, os.Getpid())
	if err := syscall.Exec(cmd.Path, cmd.Args, cmd.Env); err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("simulator: %s", err)}
	}
	return nil
}

// SimStopCmd stops the simulator running in a directory.
type SimStopCmd struct {
	SimDirFlag
	Timeout time.Duration `help:"How long to wait for it to stop before sending SIGTERM." default:"20s"`
}

// Run asks the simulator to stop and waits for exactly its process to end.
func (c *SimStopCmd) Run(a *App) error {
	rt, err := sim.ReadRuntime(c.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(a.Stderr, "rokflow: no simulator is running in %s.\n", c.Dir)
			return nil
		}
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	if syscall.Kill(rt.PID, 0) != nil {
		_ = os.Remove(filepath.Join(c.Dir, "sim.json"))
		fmt.Fprintf(a.Stderr, "rokflow: the simulator recorded in %s (pid %d) is not running any more; removed its stale sim.json.\n", c.Dir, rt.PID)
		return nil
	}
	// A rokflow-sim serve process ends when its simulator stops; a
	// simulator inside another program only closes.
	own := isSimProcess(rt.PID)
	gone := func() bool {
		if own {
			return syscall.Kill(rt.PID, 0) != nil
		}
		_, err := os.Stat(filepath.Join(c.Dir, "sim.json"))
		return errors.Is(err, os.ErrNotExist)
	}
	stopped := false
	if cl, err := sim.Dial(c.Dir); err == nil {
		ctx, cancel := context.WithTimeout(a.Ctx, 10*time.Second)
		err = cl.Stop(ctx)
		cancel()
		stopped = err == nil
		if err != nil {
			fmt.Fprintf(a.Stderr, "rokflow: the simulator's control API did not take the stop request: %s\n", err)
		}
	}
	if stopped && simWaitUntil(a.Ctx, gone, c.Timeout) {
		fmt.Fprintf(a.Stdout, "Stopped the simulator in %s (pid %d). Its cluster stays there; sim start resumes it.\n", c.Dir, rt.PID)
		return nil
	}
	if own {
		fmt.Fprintf(a.Stderr, "rokflow: sending SIGTERM to the simulator (pid %d).\n", rt.PID)
		_ = syscall.Kill(rt.PID, syscall.SIGTERM)
		if simWaitUntil(a.Ctx, gone, 10*time.Second) {
			fmt.Fprintf(a.Stdout, "Stopped the simulator in %s (pid %d, after SIGTERM).\n", c.Dir, rt.PID)
			return nil
		}
	}
	return &exitError{code: exitFailed, msg: fmt.Sprintf("the simulator (pid %d) did not stop; check it with: ps -p %d", rt.PID, rt.PID)}
}

// isSimProcess reports whether pid is a live rokflow-sim serve (or, from
// an older rokflow, `rokflow sim serve` or `rokflow sim start
// --foreground`), so that a recycled pid is never signalled.
func isSimProcess(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	if len(args) >= 2 && filepath.Base(args[0]) == sim.Program && args[1] == "serve" {
		return true
	}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "sim" && (args[i+1] == "serve" || args[i+1] == "start" && slices.Contains(args, "--foreground")) {
			return true
		}
	}
	return false
}

// simWaitUntil polls cond until it holds (true) or d passes (false).
func simWaitUntil(ctx context.Context, cond func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// SimStatusCmd shows the simulated cluster.
type SimStatusCmd struct {
	SimDirFlag
	JSON bool `help:"Print the status as JSON." name:"json"`
}

// Run prints the status of the running simulator, or of the one on disk.
func (c *SimStatusCmd) Run(a *App) error {
	st, err := simStatus(a.Ctx, c.Dir)
	if err != nil {
		return err
	}
	if c.JSON {
		return jsondoc.SimStatus.Write(a.Stdout, simStatusJSON{jsondoc.SimStatus.Header(), st})
	}
	return st.WriteText(a.Stdout)
}

// simStatusJSON is what sim status --json prints (docs/json.md).
type simStatusJSON struct {
	jsondoc.Header
	*sim.Status
}

// simFaultsJSON is what sim fault --json prints (docs/json.md).
type simFaultsJSON struct {
	jsondoc.Header
	sim.Faults
}

// simStatus asks the running simulator, or reads the state on disk.
func simStatus(ctx context.Context, dir string) (*sim.Status, error) {
	if cl, err := sim.Dial(dir); err == nil {
		if st, err := cl.Status(ctx); err == nil {
			return st, nil
		}
	}
	st, err := sim.StatusOnDisk(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &exitError{code: exitFailed, msg: fmt.Sprintf("there is no simulated cluster in %s; create one with: rokflow sim start%s", dir, simDirArg(dir))}
		}
		return nil, &exitError{code: exitFailed, msg: err.Error()}
	}
	return st, nil
}

// SimOperatorCmd acts as the field operator.
type SimOperatorCmd struct {
	SimDirFlag
	Action  string `arg:"" enum:"swap,power-off,power-on,replace-disk,repair" help:"swap (power off, new BOOT disk, power on), power-off, power-on, replace-disk (the node must be off), repair (clear a cluster error)."`
	Node    string `arg:"" optional:"" help:"The member, e.g. rok1.sim (not for repair)."`
	Version string `help:"The rok-base version of the new BOOT disk (default: that of the cluster's lowest upgrade target newer than the node's BOOT disk)." name:"boot-version" placeholder:"VERSION"`
	Now     bool   `help:"Swap at once, without the operator's delays."`
}

// Run sends the operator's action to the simulator.
func (c *SimOperatorCmd) Run(a *App) error {
	if c.Action != sim.ActionRepair && c.Node == "" {
		return usageError("sim operator %s needs a NODE, such as rok1.sim", c.Action)
	}
	cl, err := sim.Dial(c.Dir)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	req := sim.OperatorRequest{Action: c.Action, Node: c.Node, Version: c.Version, Wait: c.Now}
	if err := cl.Operator(a.Ctx, req); err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	switch {
	case c.Action == sim.ActionSwap && !c.Now:
		fmt.Fprintf(a.Stdout, "The operator is on the way: %s will be powered off, get its new BOOT disk and be powered on again (see rokflow sim status).\n", c.Node)
	case c.Action == sim.ActionRepair:
		fmt.Fprintln(a.Stdout, "The cluster was repaired.")
	default:
		fmt.Fprintf(a.Stdout, "Done: %s %s.\n", c.Action, c.Node)
	}
	return nil
}

// SimFaultCmd injects or heals faults.
type SimFaultCmd struct {
	SimDirFlag
	Kind    string        `arg:"" enum:"list,fail-upgrade-node,slow,fail-job,no-power-on,clear" help:"list, fail-upgrade-node NODE, slow NODE|HOST, fail-job [TARGET], no-power-on NODE, or clear (heal every fault)."`
	Target  string        `arg:"" optional:"" help:"The member, Ganeti host, or (fail-job) the instance or node the job acts on; empty for any."`
	Heal    bool          `help:"Remove this fault instead of adding it."`
	Latency time.Duration `help:"The latency a slow node or host adds to each command and Ganeti job." default:"2s"`
	Op      string        `help:"The Ganeti opcode that fails (fail-job): reinstall, migrate, evacuate, node-migrate, shutdown, startup, role, or OP_*." default:"reinstall"`
	Times   int           `help:"How many times the job fails (fail-job; 0: until healed)."`
	JSON    bool          `help:"Print the faults as JSON." name:"json"`
}

// Run changes the faults and prints them.
func (c *SimFaultCmd) Run(a *App) error {
	cl, err := sim.Dial(c.Dir)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	f, err := cl.Faults(a.Ctx)
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	needTarget := c.Kind == "fail-upgrade-node" || c.Kind == "slow" || c.Kind == "no-power-on"
	if needTarget && c.Target == "" {
		return usageError("sim fault %s needs a TARGET node", c.Kind)
	}
	toggle := func(list []string) []string {
		var out []string
		for _, n := range list {
			if n != c.Target {
				out = append(out, n)
			}
		}
		if !c.Heal {
			out = append(out, c.Target)
		}
		return out
	}
	switch c.Kind {
	case "list":
	case "clear":
		f = sim.Faults{}
	case "fail-upgrade-node":
		f.FailUpgradeNode = toggle(f.FailUpgradeNode)
	case "no-power-on":
		f.NoPowerOn = toggle(f.NoPowerOn)
	case "slow":
		if f.Slow == nil {
			f.Slow = map[string]sim.Duration{}
		}
		delete(f.Slow, c.Target)
		if !c.Heal {
			f.Slow[c.Target] = sim.Duration(c.Latency)
		}
	case "fail-job":
		var kept []sim.JobFault
		for _, j := range f.FailJobs {
			if j.Op != c.Op || j.Target != c.Target {
				kept = append(kept, j)
			}
		}
		if !c.Heal {
			kept = append(kept, sim.JobFault{Op: c.Op, Target: c.Target, Times: c.Times})
		}
		f.FailJobs = kept
	}
	if c.Kind != "list" {
		if err := cl.SetFaults(a.Ctx, f); err != nil {
			return &exitError{code: exitFailed, msg: err.Error()}
		}
	}
	if c.JSON {
		return jsondoc.SimFaults.Write(a.Stdout, simFaultsJSON{jsondoc.SimFaults.Header(), f})
	}
	fmt.Fprintf(a.Stdout, "Faults: %s\n", f.String())
	return nil
}

// simResetDir deletes a simulator directory, refusing anything that does
// not look like one.
func simResetDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		return fmt.Errorf("%s is not a simulator directory (no state.json); not deleting it", dir)
	}
	return os.RemoveAll(dir)
}

// simTail returns the last n lines of a file.
func simTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// simDirArg is the --dir argument to repeat in suggested commands.
func simDirArg(dir string) string {
	if abs, err := filepath.Abs(defaultSimDir); err == nil && abs == dir {
		return ""
	}
	return " --dir " + relPath(dir)
}
