package main

import (
	"fmt"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"

	"github.com/rokflow/rokflow/cmd/rokflow/views"
	"github.com/rokflow/rokflow/internal/posixsh"
)

// envNotBack names the environment variable that sets how long a gate's
// check may fail before the status area says its node has not come back
// (a Go duration; tests shorten it).
const envNotBack = "ROKFLOW_NOT_BACK_AFTER"

// newStatus returns apply's status view over pv: a live area when stdout
// is a terminal, plain lines otherwise. Gates are approved from another
// terminal with the path and state flags of this apply.
func (a *App) newStatus(pv *views.Progress, sf StateFlags, path string) *views.Status {
	f, isFile := a.Stdout.(*os.File)
	live := isFile && isatty.IsTerminal(f.Fd())
	st := views.NewStatus(a.Stdout, pv, a.Streams.Color, live)
	if live {
		st.Width = func() int {
			w, _, err := term.GetSize(int(f.Fd()))
			if err != nil {
				return 0
			}
			return w
		}
	}
	st.ApproveHint = func(addr string) string {
		return fmt.Sprintf("rokflow approve%s %s %s", sf.hint(), posixsh.Word(path), posixsh.Word(addr))
	}
	if a.Getenv != nil {
		if d, err := time.ParseDuration(a.Getenv(envNotBack)); err == nil && d > 0 {
			st.NotBack = d
		}
	}
	return st
}
