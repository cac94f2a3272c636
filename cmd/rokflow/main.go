// Command rokflow parses, validates, plans and runs upgrade playbooks.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	tuneGC(os.Args[1:], os.Getenv)
	os.Exit(Main(os.Args[1:], Env{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		Environ: os.Environ,
	}))
}

// gcPercent is the collector's target when GOGC is not set. rokflow's
// commands build one plan and keep most of it to the end, so nearly every
// collection Go's default of 100 would make finds little garbage; a
// larger target lets the heap grow to about four times what is live
// (tens of megabytes for a plan of 20,000 steps) and collects a third as
// often.
const gcPercent = 300

// tuneGC sets the collector's target unless GOGC says otherwise. The
// simulator's daemon (sim serve) runs for hours around an etcd server and
// keeps Go's default.
func tuneGC(args []string, getenv func(string) string) {
	if getenv("GOGC") != "" || (len(args) >= 2 && args[0] == "sim" && args[1] == "serve") {
		return
	}
	debug.SetGCPercent(gcPercent)
}
