// Command rokflow parses, validates, plans and runs upgrade playbooks.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], Env{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		Environ: os.Environ,
	}))
}
