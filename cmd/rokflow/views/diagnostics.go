package views

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Diagnostics writes diagnostics with source snippets to the error stream
// and returns the number of errors among them.
func Diagnostics(s Streams, files map[string]*hcl.File, diags hcl.Diagnostics) int {
	if len(diags) == 0 {
		return 0
	}
	width := s.Width
	if width <= 0 {
		width = 100
	}
	w := hcl.NewDiagnosticTextWriter(s.Err, files, uint(width), s.Color)
	errs := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		}
		if err := w.WriteDiagnostic(d); err != nil {
			fmt.Fprintf(s.Err, "%s: %s\n", d.Summary, d.Detail)
		}
	}
	return errs
}
