package views

import (
	"io"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// Streams are where a command writes, with the color decision made once.
type Streams struct {
	Out, Err io.Writer
	// Color is true when output goes to a terminal and color was not turned
	// off with --no-color or NO_COLOR.
	Color bool
	Width int
}

// WantColor reports whether w is a terminal and color is allowed by the
// flag and the environment.
func WantColor(w io.Writer, noColor bool, getenv func(string) string) bool {
	if noColor || getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// palette holds the colors a view uses; every function is a plain
// Sprint when color is off.
type palette struct {
	bold, dim, green, yellow, red, cyan, magenta func(a ...any) string
}

func newPalette(on bool) palette {
	mk := func(attrs ...color.Attribute) func(a ...any) string {
		c := color.New(attrs...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c.Sprint
	}
	return palette{
		bold:    mk(color.Bold),
		dim:     mk(color.Faint),
		green:   mk(color.FgGreen),
		yellow:  mk(color.FgYellow),
		red:     mk(color.FgRed),
		cyan:    mk(color.FgCyan),
		magenta: mk(color.FgMagenta),
	}
}
