// Command rokflow-sim is the simulated Rok cluster's server (package
// sim/server): SSH servers for the nodes, an embedded etcd, a Ganeti RAPI
// and the control API. People run it through `rokflow sim start` and
// `rokflow test`, which find it beside rokflow, through $ROKFLOW_SIM or in
// PATH; it is a program of its own so that rokflow links no etcd server.
//
//	rokflow-sim serve --dir DIR [--spec JSON]   serve DIR until interrupted or stopped
//	                                           (the spec also comes in $ROKFLOW_SIM_SPEC)
//	rokflow-sim status --dir DIR                the status of the cluster in DIR, as JSON
//	rokflow-sim version
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/server"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one command and returns the exit code: 0, 1 when the
// simulator failed, 2 for a wrong command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: rokflow-sim serve|status|version [flags] (rokflow sim start runs it)")
		return 2
	}
	fs := flag.NewFlagSet("rokflow-sim "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".rokflow/sim", "the directory holding the simulated cluster")
	specJSON := fs.String("spec", "", "the cluster to create when DIR holds none, as a sim.Spec in JSON (rokflow passes it in "+sim.SpecEnv+" instead, which other users cannot read)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		if err == nil {
			fmt.Fprintf(stderr, "rokflow-sim %s: unexpected argument %q\n", args[0], fs.Arg(0))
		}
		return 2
	}
	switch args[0] {
	case "serve":
		var spec sim.Spec
		if *specJSON == "" {
			*specJSON = os.Getenv(sim.SpecEnv)
			os.Unsetenv(sim.SpecEnv)
		}
		if *specJSON != "" {
			if err := json.Unmarshal([]byte(*specJSON), &spec); err != nil {
				fmt.Fprintf(stderr, "rokflow-sim: --spec: %s\n", err)
				return 2
			}
		}
		spec.Log = stderr
		fmt.Fprintf(stderr, "rokflow-sim %s: simulator starting in %s (pid %d)\n", Version, *dir, os.Getpid())
		if err := server.Serve(ctx, *dir, spec); err != nil {
			fmt.Fprintf(stderr, "rokflow-sim: simulator: %s\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "rokflow-sim: simulator in %s stopped\n", *dir)
		return 0
	case "status":
		st, err := server.StatusFromDisk(*dir)
		if err != nil {
			fmt.Fprintf(stderr, "rokflow-sim: %s\n", err)
			return 1
		}
		if err := json.NewEncoder(stdout).Encode(st); err != nil {
			fmt.Fprintf(stderr, "rokflow-sim: %s\n", err)
			return 1
		}
		return 0
	case "version":
		fmt.Fprintf(stdout, "rokflow-sim %s\n", Version)
		return 0
	}
	fmt.Fprintf(stderr, "rokflow-sim: unknown command %q: use serve, status or version\n", args[0])
	return 2
}
