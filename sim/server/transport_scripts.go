package server

import "github.com/rokflow/rokflow/internal/shscript"

// The fixed scripts rokflow's SSH transport (steps/transport/ssh) runs as
// `sh -c SCRIPT NAME ARG...` for ReadFile, WriteFile, Glob and the kill of
// a cancelled command. The simulator runs exactly these texts, each
// implemented in Go (shell.go), and refuses every other script.
const (
	tsReadScript   = shscript.Read
	tsWriteScript  = shscript.Write
	tsExistsScript = shscript.Exists
	tsListScript   = shscript.List
	tsKillScript   = shscript.Kill
)

// pidReport is how the transport starts every command line (host.go). The
// simulator answers with the pid it gave the command.
const pidReport = shscript.PIDReport
