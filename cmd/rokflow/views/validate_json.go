package views

import (
	"encoding/json"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/rokflow/rokflow/internal/jsondoc"
)

// ValidateDoc is the document validate --json writes: whether the
// playbook is valid, its diagnostics, and when it is, what it plans to.
type ValidateDoc struct {
	jsondoc.Header
	Valid        bool             `json:"valid"`
	ErrorCount   int              `json:"error_count"`
	WarningCount int              `json:"warning_count"`
	Diagnostics  []DiagnosticJSON `json:"diagnostics"`
	// Counts is set for a valid playbook.
	Counts *ValidateCounts `json:"counts,omitempty"`
}

// ValidateCounts says what a valid playbook plans to without inputs.
type ValidateCounts struct {
	// Steps counts the playbook's steps as its modules and groups
	// instantiate them, each for_each element aside.
	Steps int `json:"steps"`
	// Instances counts the step instances known without inputs.
	Instances int `json:"instances"`
	// Templates counts the instances that stand for the elements of a
	// for_each known only at run time ([*] in their address).
	Templates int `json:"templates"`
}

// DiagnosticJSON is one diagnostic in a JSON document.
type DiagnosticJSON struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *RangeJSON `json:"range,omitempty"`
}

// RangeJSON is where in a file a diagnostic points.
type RangeJSON struct {
	Filename string  `json:"filename"`
	Start    PosJSON `json:"start"`
	End      PosJSON `json:"end"`
}

// PosJSON is a position in a file: line and column from 1, byte from 0.
type PosJSON struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// NewValidateDoc builds the document for diags; counts is nil when the
// playbook is not valid.
func NewValidateDoc(diags hcl.Diagnostics, counts *ValidateCounts) *ValidateDoc {
	doc := &ValidateDoc{Header: jsondoc.Validate.Header(), Diagnostics: DiagnosticsJSON(diags)}
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			doc.ErrorCount++
		} else {
			doc.WarningCount++
		}
	}
	doc.Valid = doc.ErrorCount == 0
	if doc.Valid {
		doc.Counts = counts
	}
	return doc
}

// DiagnosticsJSON converts diagnostics for a JSON document; never nil, so
// that none encodes as [].
func DiagnosticsJSON(diags hcl.Diagnostics) []DiagnosticJSON {
	out := make([]DiagnosticJSON, 0, len(diags))
	for _, d := range diags {
		jd := DiagnosticJSON{Severity: "warning", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagError {
			jd.Severity = "error"
		}
		if d.Subject != nil {
			r := *d.Subject
			jd.Range = &RangeJSON{
				Filename: r.Filename,
				Start:    PosJSON{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
				End:      PosJSON{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
			}
		}
		out = append(out, jd)
	}
	return out
}

// ValidateJSON writes the document of validate --json.
func ValidateJSON(w io.Writer, doc *ValidateDoc) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
